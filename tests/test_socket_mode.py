"""Socket Mode end to end: the web app dials out to a local Slack, which pushes envelopes over a WebSocket.

``create_app(deps)`` under a real uvicorn with its lifespan on and ``SLACK_APP_TOKEN`` set: at
start-up it calls ``apps.connections.open`` on the Web API stand-in with the app token and connects
to the returned WebSocket (``tests/fakes/socket_mode.py``). Slash commands, clicks, modal
submissions and events then arrive as Socket Mode envelopes built from the same payloads as the
signed HTTP requests; every envelope must be acked. Jobs run in process, as in
``tests/test_slack_e2e.py``. HTTP mode keeps working alongside, signature checks included.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import build_deps
from bot.slack import cards, modals
from bot.slack.socket_mode import SocketMode, SocketModeUnavailable
from bot.web.app import create_app
from storage.records import RunRecord, RunStatus
from tests.conftest import migrated
from tests.fakes import signing
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.socket_mode import Envelope, SocketModeServer, SocketModeSlack
from tests.slack_harness import SECRET, Bot, audit_actions, free_port, make_settings, wait_until

pytestmark = [pytest.mark.redis]

SOCKET_LOG = "bot.slack.socket_mode"


class LifespanServer:
    """``create_app``'s app under a real uvicorn with the lifespan on (start-up connects Socket Mode)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn-socket-mode")
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> LifespanServer:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=15, what="uvicorn to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "uvicorn did not shut down"


class SocketBot(Bot):
    """The harness's Bot (HTTP requests, drain, cards, threads) plus the Socket Mode side."""

    server: LifespanServer
    socket: SocketModeServer

    def command_over_socket(self, text_: str, user: str = "U_ALICE", command: str = "/agent") -> Any:
        envelope = self.socket.slash_command(command, text_, user_id=user)
        ack = self.socket.wait_ack(envelope)
        return ack.payload

    def click_over_socket(self, action_id: str, value: str, user: str, message: dict[str, Any]) -> Envelope:
        envelope = self.socket.block_action(
            action_id,
            value,
            user,
            message["channel"],
            message["ts"],
            message=message,
            thread_ts=message.get("thread_ts"),
        )
        ack = self.socket.wait_ack(envelope)
        assert ack.payload is None  # a click is acked with its envelope id alone
        return envelope

    def start_over_socket(self, text_: str, user: str = "U_ALICE") -> RunRecord:
        before = len(self.slack.calls_to("chat.postMessage"))
        reply = self.command_over_socket(text_, user=user)
        assert reply["response_type"] == "ephemeral" and reply["text"].startswith("Starting"), reply
        wait_until(lambda: len(self.slack.calls_to("chat.postMessage")) > before, what="the root message")
        self.drain()
        runs = self.deps.db.list_runs(limit=1)
        assert runs, "no run was created"
        return runs[0]


@pytest.fixture
def slack() -> Iterator[SocketModeSlack]:
    with SocketModeSlack() as fake:
        yield fake


@pytest.fixture
def socket_bot_factory(
    sqlite_url: str,
    slack: SocketModeSlack,
    fake_openai: FakeOpenAI,
    queue_name: str,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Callable[..., SocketBot]]:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    made: list[SocketBot] = []

    def make(app_token: str | None = None, db_url: str | None = None, **extra: Any) -> SocketBot:
        settings = make_settings(
            db_url or sqlite_url, slack, fake_openai, queue_name, slack_app_token=app_token or slack.app_token, **extra
        )
        deps = build_deps(settings, db=migrated(settings.database_url))
        server = LifespanServer(create_app(deps)).start()
        bot = SocketBot(slack, fake_openai, deps, httpx.Client(base_url=server.url, timeout=10))
        bot.server, bot.socket = server, slack.socket
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.http.close()
        if bot.server.thread.is_alive():
            bot.server.stop()
        bot.deps.queue.empty()
        bot.deps.close()
        bot.deps.db.dispose()


@pytest.fixture
def socket_bot(socket_bot_factory: Callable[..., SocketBot]) -> SocketBot:
    return socket_bot_factory()


def socket_records(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[logging.LogRecord]:
    """What ``bot.slack.socket_mode`` logged (start-up runs in the fixture: the setup phase's records too)."""
    records = caplog.get_records("setup") + caplog.records
    return [r for r in records if r.name == SOCKET_LOG and r.levelno >= level]


# --------------------------------------------------------------------------- the main path


def test_main_path_over_socket_mode(socket_bot: SocketBot, caplog: pytest.LogCaptureFixture) -> None:
    main_path(socket_bot, caplog)


@pytest.mark.postgres
def test_main_path_over_socket_mode_on_postgres(
    socket_bot_factory: Callable[..., SocketBot], pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    main_path(socket_bot_factory(db_url=pg_url), caplog)


def main_path(bot: SocketBot, caplog: pytest.LogCaptureFixture) -> None:
    """``tests/test_slack_e2e.py``'s main path with every Slack request arriving over the socket."""
    (opened,) = bot.slack.calls_to("apps.connections.open")
    assert opened.token == "xapp-test" and opened.ok and opened.response["url"].startswith("ws://127.0.0.1:")
    assert bot.socket.open_connections == 1
    assert [r.getMessage() for r in socket_records(caplog)] == ["connected to Slack over Socket Mode"]

    bot.openai.script(
        tool_call("process_refund", {"customer_id": "42", "amount": 50}),
        text("Refunded $50 to customer 42."),
    )
    run = bot.start_over_socket("finance Refund $50 to customer 42")
    root = bot.slack.calls_to("chat.postMessage")[0]
    assert root.args["channel"] == "C_OPS" and "thread_ts" not in root.args
    assert root.args["text"].startswith("<@U_ALICE> started *Finance*: Refund $50 to customer 42")
    assert run.status is RunStatus.PAUSED and run.requester == "U_ALICE"
    assert (run.channel, run.thread_ts) == ("C_OPS", root.response["ts"])

    (req,) = bot.pending(run)
    card = bot.card(req)
    assert card["thread_ts"] == run.thread_ts
    assert "process_refund" in json.dumps(card["blocks"])

    bot.click_over_socket(cards.APPROVE, req.id, "U_ALICE", card)
    updated = bot.wait_card_update(card, "Approved")
    assert cards.APPROVE not in json.dumps(updated["blocks"])

    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert "Refunded $50 to customer 42." in bot.thread(run)[-1]["text"]
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert "Refund of $50.00 processed" in tool_message["content"]
    approved = next(e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "requirement.approved")
    assert approved.actor_id == "U_ALICE" and approved.details["via"] == "slack"
    assert [a for a, _, _ in audit_actions(bot, run)][-1] == "run.completed"

    # every envelope acked, once, and nothing came in over HTTP
    assert [e.type for e in bot.socket.envelopes] == ["slash_commands", "interactive"]
    assert bot.socket.unacked() == []
    assert all(bot.socket.ack_count(e.envelope_id) == 1 for e in bot.socket.envelopes)


def test_modal_and_thread_reply_over_socket_mode(socket_bot: SocketBot) -> None:
    """A reject reason typed in a modal (an ``interactive`` view_submission) and an answer given
    as a thread reply (an ``events_api`` envelope, then Slack's retry of it)."""
    bot = socket_bot
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 80}), text("OK, not refunded."))
    run = bot.start_over_socket("finance Refund $80 to customer 42")
    (req,) = bot.pending(run)
    card = bot.card(req)
    bot.click_over_socket(cards.REJECT, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.REJECT_VIEW)
    state = {"reason": {modals.VALUE: "Wrong customer, it is 43"}}
    submitted = bot.socket.view_submission(
        view["callback_id"], view["private_metadata"], state, "U_ALICE", blocks=view.get("blocks")
    )
    assert submitted.accepts_response_payload
    assert bot.socket.wait_ack(submitted).payload is None  # accepted: no response_action (errors) back
    assert "Wrong customer, it is 43" in json.dumps(bot.wait_card_update(card, "Rejected")["blocks"])
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED

    bot.openai.script(tool_call("book_hotel", {"city": "Bergen"}), text("Booked."))
    run = bot.start_over_socket("travel Book a hotel in Bergen")
    (req,) = bot.pending(run)
    card = bot.card(req)
    assert run.channel and run.thread_ts
    reply = bot.slack.add_message("C_OPS", "nights: 4", thread_ts=run.thread_ts)
    event = signing.message_event("nights: 4", ts=reply["ts"], thread_ts=run.thread_ts)
    first = bot.socket.event(event, event_id="Ev_SOCKET_REPLY")
    bot.socket.wait_ack(first)
    bot.wait_card_update(card, "Answered")
    bot.slack.wait_for("reactions.add", lambda c: c.args.get("timestamp") == reply["ts"])
    retry = bot.socket.event(event, event_id="Ev_SOCKET_REPLY", retry_attempt=1, retry_reason="timeout")
    bot.socket.wait_ack(retry)  # a retry is acked too, and handled once
    bot.drain()
    time.sleep(0.2)
    assert len(bot.slack.calls_to("reactions.add")) == 1
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert tool_message["content"] == "Booked 4 nights in Bergen."
    assert bot.socket.unacked() == []


# --------------------------------------------------------------------------- HTTP alongside, reconnects, shutdown


def test_http_route_still_verified_with_socket_mode_on(socket_bot: SocketBot) -> None:
    bot = socket_bot
    assert bot.socket.open_connections == 1
    reply = bot.command("help")  # signed: answered over HTTP as before
    assert "Usage of `/agent`" in reply["text"]
    body = signing.slash_command_body("/agent", "help")
    forged = bot.http.post("/slack/events", content=body, headers=signing.sign("not-the-secret", body))
    assert forged.status_code == 401
    unsigned = bot.http.post("/slack/events", content=body, headers={"Content-Type": signing.FORM})
    assert unsigned.status_code == 401
    assert bot.socket.envelopes == []  # none of that went over the socket
    # ...and the socket answers the same command the same way
    assert "Usage of `/agent`" in bot.command_over_socket("help")["text"]


def test_disconnect_refresh_reconnects_and_shutdown_closes(socket_bot: SocketBot) -> None:
    bot = socket_bot
    bot.socket.disconnect("refresh_requested")  # Slack rotates connections every few hours
    bot.socket.wait_connections(opened=2)
    assert len(bot.slack.calls_to("apps.connections.open")) == 2  # a fresh URL for the new connection
    wait_until(lambda: bot.socket.open_connections == 1, what="the old connection to close")
    assert "Usage of `/agent`" in bot.command_over_socket("help")["text"]

    bot.server.stop()  # lifespan shutdown closes the Socket Mode connection
    wait_until(lambda: bot.socket.open_connections == 0, what="the connection to close on shutdown")
    assert bot.socket.refused_handshakes == 0


# --------------------------------------------------------------------------- a token Slack refuses


def test_refused_app_token_is_one_clear_line_and_http_goes_on(
    socket_bot_factory: Callable[..., SocketBot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = socket_bot_factory(app_token="xapp-revoked")
    time.sleep(0.5)  # no retry loop: still one call after a while
    (call,) = bot.slack.calls_to("apps.connections.open")
    assert call.error == "invalid_auth"
    assert bot.socket.connections_opened == 0
    (line,) = socket_records(caplog)
    assert line.levelno == logging.ERROR and line.exc_info is None
    message = line.getMessage()
    assert "SLACK_APP_TOKEN" in message and "invalid_auth" in message and "connections:write" in message
    everything = caplog.get_records("setup") + caplog.records
    assert not [r for r in everything if r.exc_info or "Traceback" in r.getMessage()]
    assert "Usage of `/agent`" in bot.command("help")["text"]  # HTTP mode still serves


@pytest.mark.parametrize(
    ("token", "variable", "says"),
    [
        ("xapp-wrong", "SLACK_APP_TOKEN", "invalid_auth"),
        ("xoxb-test-token", "SLACK_APP_TOKEN", "not_allowed_token_type"),  # the bot token by mistake
        ("", "SLACK_APP_TOKEN", "not_authed"),
    ],
)
async def test_start_raises_a_config_error_naming_the_variable(
    slack: SocketModeSlack, token: str, variable: str, says: str
) -> None:
    connection = SocketMode(_bolt(slack), token, slack.base_url)
    with pytest.raises(SocketModeUnavailable) as raised:
        await connection.start()
    assert raised.value.variable == variable and says in raised.value.message
    assert connection.handler is None and slack.socket.connections_opened == 0


async def test_unreachable_slack_names_slack_api_url(slack: SocketModeSlack) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"
    connection = SocketMode(_bolt(slack), slack.app_token, url, connect_timeout=2)
    with pytest.raises(SocketModeUnavailable) as raised:
        await connection.start()
    assert raised.value.variable == "SLACK_API_URL" and url in raised.value.message


async def test_a_websocket_that_does_not_open_is_one_error(
    slack: SocketModeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    slack.socket.stop()  # apps.connections.open still hands out URLs, but nothing listens there
    connection = SocketMode(_bolt(slack), slack.app_token, slack.base_url, connect_timeout=1)
    with pytest.raises(SocketModeUnavailable) as raised:
        await connection.start()
    assert raised.value.variable == "SLACK_API_URL" and "did not open within 1 s" in raised.value.message
    assert "ticket" not in raised.value.message  # the one-off ticket is not logged
    assert connection.handler is None
    # the SDK's own retry says what failed in one line, without a traceback
    sdk = [r for r in caplog.records if r.name == f"{SOCKET_LOG}.client" and r.levelno >= logging.ERROR]
    assert sdk and all(r.exc_info is None and "Connect call failed" in r.getMessage() for r in sdk)
    assert "Traceback" not in caplog.text


async def test_start_and_stop_directly(slack: SocketModeSlack) -> None:
    connection = SocketMode(_bolt(slack), slack.app_token, slack.base_url)
    await connection.start()
    slack.socket.wait_connections()
    await connection.stop()
    wait_until(lambda: slack.socket.open_connections == 0, what="the connection to close")
    await connection.stop()  # idempotent


def _bolt(slack: SocketModeSlack) -> AsyncApp:
    return AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url), signing_secret=SECRET)
