"""Bounded input at the HTTP edge of the real web process (uvicorn + FastAPI + bolt).

In order: a body over the limit is refused with 413 before anything parses it (declared or
streamed, signed or not, and without buffering it); a request whose Slack signature is missing or
wrong gets 401 before bolt parses its body; a signed but malformed body gets 400, never 500; a
prompt or a thread reply carrying a control character is refused before anything is posted,
created or decided (also on PostgreSQL, which cannot store NUL).
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.web.app import create_app
from bot.web.limits import BodyLimit, install_limits
from storage.records import RequirementStatus
from storage.timeouts import MAX_PROMPT_CHARS, MAX_REQUEST_BODY_BYTES
from tests.fakes import signing
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    SECRET,
    Bot,
    bot,
    bot_factory,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]

TOO_LARGE = {"detail": "request body too large: the limit is 1 MiB"}
UNSIGNED = {"detail": "invalid or missing Slack signature"}
MIB = 1024 * 1024


def _post_raw(bot: Bot, body: bytes | Iterator[bytes], headers: dict[str, str]) -> httpx.Response:
    return bot.http.post("/slack/events", content=body, headers=headers)


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    chunk = b"x" * size
    sent = 0
    while sent < total:
        yield chunk
        sent += size


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


class _PeakRss:
    """Samples this process's resident set while a block runs (the server runs in-process)."""

    def __init__(self) -> None:
        self.peak = self.start = _rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_kib())
            self._stop.wait(0.002)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kib())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 1024


# --------------------------------------------------------------------------- the body limit


def test_limit_is_one_mib() -> None:
    assert MAX_REQUEST_BODY_BYTES == MIB


def test_declared_oversized_body_is_refused_signed_or_not(bot: Bot) -> None:
    body = b"text=" + b"x" * (2 * MIB)
    unsigned = _post_raw(bot, body, {"Content-Type": signing.FORM})
    assert unsigned.status_code == 413
    assert unsigned.json() == TOO_LARGE
    signed = _post_raw(bot, body, signing.sign(SECRET, body))
    assert signed.status_code == 413
    assert signed.json() == TOO_LARGE
    assert not bot.slack.calls


def test_streamed_oversized_body_is_refused(bot: Bot) -> None:
    response = _post_raw(bot, _chunks(2 * MIB), {"Content-Type": signing.FORM})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_streamed_huge_body_is_not_buffered(bot: Bot) -> None:
    started = time.monotonic()
    with _PeakRss() as rss:
        response = _post_raw(bot, _chunks(100 * MIB), {"Content-Type": signing.JSON})
    assert rss.growth_mib < 50, f"the web process grew by {rss.growth_mib:.0f} MiB"
    assert response.status_code == 413
    assert time.monotonic() - started < 5


def test_body_under_the_limit_still_reaches_bolt(bot: Bot) -> None:
    """A signed body just under 1 MiB is handled (here: a prompt over its own, smaller bound)."""
    prompt = "x" * (MAX_REQUEST_BODY_BYTES - 2000)
    body = signing.slash_command_body("/agent", "finance " + prompt)
    assert len(body) < MAX_REQUEST_BODY_BYTES
    response = bot.post(body)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert f"{MAX_PROMPT_CHARS}" in reply["text"]
    assert not bot.slack.calls_to("chat.postMessage")
    assert bot.deps.db.list_runs() == []


def test_the_web_process_has_the_limit_once(bot: Bot) -> None:
    app = create_app(bot.deps)
    layers = [m.cls for m in app.user_middleware]
    assert layers.count(BodyLimit) == 1 and layers[0] is BodyLimit, "once, and the outermost layer"
    with TestClient(app) as client:
        big = client.post("/slack/events", content=b"x" * (2 * MIB), headers={"Content-Type": signing.FORM})
        assert big.status_code == 413 and big.json() == TOO_LARGE
        assert client.post("/slack/events", content=b"payload=%7Bnot").status_code == 401


def test_limit_applies_to_the_whole_app_and_installs_once() -> None:
    app = FastAPI()

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, str]:
        return payload

    install_limits(app)
    install_limits(app)
    assert len(app.user_middleware) == 1
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": "b"}).json() == {"a": "b"}
        big = client.post("/echo", content=b"{" + b" " * (2 * MIB) + b"}", headers={"Content-Type": signing.JSON})
        assert big.status_code == 413 and big.json() == TOO_LARGE
        streamed = client.post("/echo", content=_chunks(2 * MIB), headers={"Content-Type": signing.JSON})
        assert streamed.status_code == 413 and streamed.json() == TOO_LARGE


# --------------------------------------------------------------------------- signature first, then parsing


FORM_WITH_BAD_PAYLOAD = b"payload=%7Bnot"
FORM_AS_JSON = signing.slash_command_body("/agent", "list").encode()
NOT_UTF8 = b"command=%2Fagent&text=" + b"\xff\xfe\xfd"


def _unsigned_cases() -> list[tuple[bytes, dict[str, str]]]:
    now = str(int(time.time()))
    return [
        (FORM_WITH_BAD_PAYLOAD, {"Content-Type": signing.FORM}),
        (FORM_AS_JSON, {"Content-Type": signing.JSON}),
        (NOT_UTF8, {"Content-Type": signing.FORM}),
        (b"", {"Content-Type": signing.FORM}),
        (FORM_AS_JSON, {"Content-Type": signing.FORM, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=00"}),
        (
            FORM_AS_JSON,
            {"Content-Type": signing.FORM, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=1"},
        ),
        (FORM_AS_JSON, {"Content-Type": signing.FORM, "X-Slack-Request-Timestamp": now}),
        # a signature computed with another secret, and a correct one that is too old
        (FORM_AS_JSON, signing.sign("another-secret", FORM_AS_JSON)),
        (FORM_AS_JSON, signing.sign(SECRET, FORM_AS_JSON, ts=int(time.time()) - 301)),
        (FORM_WITH_BAD_PAYLOAD, signing.sign(SECRET, FORM_WITH_BAD_PAYLOAD, ts=int(time.time()) - 301)),
    ]


def test_unsigned_or_malformed_unsigned_requests_get_401(bot: Bot) -> None:
    for body, headers in _unsigned_cases():
        response = _post_raw(bot, body, headers)
        assert response.status_code == 401, (body[:40], headers, response.text)
        assert response.json() == UNSIGNED
    # a signature header that is not even ASCII
    raw = bot.http.post(
        "/slack/events",
        content=FORM_AS_JSON,
        headers=[
            (b"Content-Type", signing.FORM.encode()),
            (b"X-Slack-Request-Timestamp", str(int(time.time())).encode()),
            (b"X-Slack-Signature", b"v0=\xe9\xe9"),
        ],
    )
    assert raw.status_code == 401 and raw.json() == UNSIGNED
    assert not bot.slack.calls


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (FORM_WITH_BAD_PAYLOAD, signing.FORM, "payload"),
        (FORM_AS_JSON, signing.JSON, "JSON"),
        (NOT_UTF8, signing.FORM, "UTF-8"),
        (b"[1, 2]", signing.JSON, "object"),
        (b"payload=null", signing.FORM, "object"),
        (b"payload=%5B%22x%22%5D", signing.FORM, "object"),
    ],
)
def test_signed_malformed_bodies_get_400(bot: Bot, body: bytes, content_type: str, reason: str) -> None:
    headers = signing.sign(SECRET, body) | {"Content-Type": content_type}
    response = _post_raw(bot, body, headers)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert reason in detail
    assert len(detail) < 200 and "Traceback" not in response.text
    assert not bot.slack.calls


def test_slacks_unsigned_ssl_check_is_answered_and_does_nothing(bot: Bot) -> None:
    """Slack does not sign its certificate probe; bolt answers it before verifying, and so do we."""
    response = _post_raw(bot, b"ssl_check=1&token=xyz", {"Content-Type": signing.FORM})
    assert response.status_code == 200 and response.content == b""
    assert _post_raw(bot, b"ssl_check=0&token=xyz", {"Content-Type": signing.FORM}).status_code == 401
    assert _post_raw(bot, b'{"ssl_check": "1"}', {"Content-Type": signing.JSON}).status_code == 401
    assert not bot.slack.calls


def test_signed_requests_still_work(bot: Bot) -> None:
    """The gate in front of bolt lets Slack's real requests through (bolt verifies them again)."""
    reply = bot.command("help")
    assert reply["response_type"] == "ephemeral" and "/agent" in reply["text"]
    challenge = bot.post(signing.url_verification_body("abc123"))
    assert challenge.status_code == 200 and challenge.json()["challenge"] == "abc123"


# --------------------------------------------------------------------------- control characters


def _refuses_nul_prompt(bot: Bot) -> None:
    reply = bot.command("finance Refund\x00 $5")
    assert reply["response_type"] == "ephemeral"
    assert "U+0000" in reply["text"]
    assert "remove" in reply["text"].lower()
    time.sleep(0.2)
    assert not bot.slack.calls_to("chat.postMessage")
    assert bot.deps.db.list_runs() == []
    assert bot.deps.queue.count == 0


def test_control_character_in_prompt_is_refused(bot: Bot) -> None:
    _refuses_nul_prompt(bot)
    for char, code in (("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085")):
        reply = bot.command(f"finance Refund {char}$5")
        assert code in reply["text"]
    assert not bot.slack.calls_to("chat.postMessage")


@pytest.mark.postgres
def test_control_character_in_prompt_is_refused_on_postgres(bot_factory: Callable[..., Bot], pg_url: str) -> None:
    _refuses_nul_prompt(bot_factory(db_url=pg_url))


def test_overlong_prompt_is_refused(bot: Bot) -> None:
    reply = bot.command("finance " + "y" * (MAX_PROMPT_CHARS + 1))
    assert f"{MAX_PROMPT_CHARS}" in reply["text"] and f"{MAX_PROMPT_CHARS + 1}" in reply["text"]
    assert not bot.slack.calls_to("chat.postMessage")
    assert bot.deps.db.list_runs() == []


def _nul_thread_reply_is_refused(bot: Bot) -> None:
    bot.openai.script(tool_call("book_hotel", {"city": "Bergen"}), text("Booked."))
    run = bot.start("travel Book a hotel in Bergen")
    (req,) = bot.pending(run)
    assert run.thread_ts
    reply = bot.slack.add_message("C_OPS", "nights: 4\x00", thread_ts=run.thread_ts)
    bot.event(signing.message_event("nights: 4\x00", ts=reply["ts"], thread_ts=run.thread_ts))
    hint = bot.ephemeral_for("U_ALICE", "U+0000")
    assert hint["thread_ts"] == run.thread_ts
    assert "\x00" not in hint["text"]
    time.sleep(0.2)
    assert not bot.slack.calls_to("reactions.add")
    (still,) = bot.pending(run)
    assert still.id == req.id and still.status is RequirementStatus.PENDING
    # a clean reply afterwards still answers the question
    clean = bot.slack.add_message("C_OPS", "nights: 4", thread_ts=run.thread_ts)
    bot.event(signing.message_event("nights: 4", ts=clean["ts"], thread_ts=run.thread_ts))
    bot.slack.wait_for("reactions.add", lambda c: c.args.get("timestamp") == clean["ts"])
    wait_until(lambda: not bot.pending(run), what="the question to be answered")


def test_control_character_in_thread_reply_is_refused(bot: Bot) -> None:
    _nul_thread_reply_is_refused(bot)


@pytest.mark.postgres
def test_control_character_in_thread_reply_is_refused_on_postgres(bot_factory: Callable[..., Bot], pg_url: str) -> None:
    _nul_thread_reply_is_refused(bot_factory(db_url=pg_url))
