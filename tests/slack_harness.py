"""The Slack end-to-end harness: a real uvicorn, a local Slack, a fake OpenAI, real Redis and RQ.

Shared by ``tests/test_slack_e2e.py`` and ``tests/test_slack_e2e_layers.py``. Every request to
``/slack/events`` is signed with Slack's v0 scheme (verification is never turned off). Jobs are
run by an in-process ``SimpleWorker`` with the real ``SlackNotifier`` installed. A test module
imports the fixtures it uses (``slack``, ``bot_factory``, ``bot``) by name.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bot.deps import Deps, build_deps
from bot.settings import Settings
from bot.slack import modals
from bot.slack.app import mount_slack
from bot.worker import make_worker
from storage.records import RequirementRecord, RequirementStatus, RunRecord
from tests.conftest import REDIS_URL, migrated
from tests.fakes import signing
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack

SECRET = "e2e-signing-secret"
ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """The FastAPI app under a real uvicorn, on a free port, in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn-e2e")
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_until(lambda: self.server.started, what="uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Bot:
    slack: FakeSlack
    openai: FakeOpenAI
    deps: Deps
    http: httpx.Client

    # -- requests as Slack sends them ---------------------------------------------------------

    def post(self, body: str) -> httpx.Response:
        return self.http.post("/slack/events", content=body, headers=signing.sign(SECRET, body))

    def command(self, text_: str, user: str = "U_ALICE", command: str = "/agent", channel: str = "C_OPS") -> Any:
        response = self.post(signing.slash_command_body(command, text_, user_id=user, channel_id=channel))
        assert response.status_code == 200, response.text
        return response.json() if response.content else None

    def click(self, action_id: str, value: str, user: str, message: dict[str, Any]) -> httpx.Response:
        body = signing.block_action_body(
            action_id,
            value,
            user,
            message["channel"],
            message["ts"],
            message=message,
            thread_ts=message.get("thread_ts"),
        )
        response = self.post(body)
        assert response.status_code == 200, response.text
        return response

    def submit(self, view: dict[str, Any], values: dict[str, Any], user: str) -> httpx.Response:
        """``values``: block id -> a plain_text_input's text, or the element state dict."""
        state = {block_id: {modals.VALUE: value} for block_id, value in values.items()}
        body = signing.view_submission_body(
            view["callback_id"], view["private_metadata"], state, user, blocks=view.get("blocks")
        )
        response = self.post(body)
        assert response.status_code == 200, response.text
        return response

    def event(self, event: dict[str, Any], event_id: str | None = None) -> httpx.Response:
        response = self.post(signing.event_callback_body(event, event_id=event_id))
        assert response.status_code == 200, response.text
        return response

    # -- the worker ----------------------------------------------------------------------------

    def drain(self, expect_jobs: bool = True) -> None:
        """Run every queued job in this process, with the Slack listener installed."""
        if expect_jobs:
            wait_until(lambda: self.deps.queue.count > 0, what="a job on the queue")
        make_worker(self.deps, forking=False).work(burst=True, logging_level="WARNING")

    # -- looking things up ---------------------------------------------------------------------

    def start(self, text_: str, user: str = "U_ALICE", before_drain: Callable[[], None] | None = None) -> RunRecord:
        """``/agent ...``, then run the start job: returns the run (paused or finished)."""
        before = len(self.slack.calls_to("chat.postMessage"))
        reply = self.command(text_, user=user)
        assert reply["response_type"] == "ephemeral" and reply["text"].startswith("Starting")
        wait_until(lambda: len(self.slack.calls_to("chat.postMessage")) > before, what="the root message")
        if before_drain is not None:
            before_drain()
        self.drain()
        runs = self.deps.db.list_runs(limit=1)
        assert runs, "no run was created"
        return runs[0]

    def pending(self, run: RunRecord) -> list[RequirementRecord]:
        return self.deps.db.requirements_for_run(run.id, status=RequirementStatus.PENDING)

    def card(self, req: RequirementRecord, purpose: str = "card") -> dict[str, Any]:
        found = [m for m in self.deps.db.slack_messages(requirement_id=req.id) if m.purpose == purpose]
        assert found, f"no {purpose} for {req.id}"
        message = self.slack.message(found[0].channel, found[0].ts)
        message["channel"] = found[0].channel
        return message

    def wait_card_update(self, card: dict[str, Any], contains: str) -> dict[str, Any]:
        self.slack.wait_for(
            "chat.update", lambda c: c.args.get("ts") == card["ts"] and contains in json.dumps(c.args.get("blocks"))
        )
        return self.slack.message(card["channel"], card["ts"])

    def ephemeral_for(self, user: str, contains: str) -> dict[str, Any]:
        return wait_until(
            lambda: next((e for e in self.slack.ephemerals if e["user"] == user and contains in e["text"]), None),
            what=f"an ephemeral for {user} containing {contains!r}",
        )

    def opened_view(self, callback_id: str) -> dict[str, Any]:
        call = self.slack.wait_for("views.open", lambda c: c.args["view"].get("callback_id") == callback_id)
        return dict(call.args["view"])

    def thread(self, run: RunRecord) -> list[dict[str, Any]]:
        assert run.channel and run.thread_ts
        return self.slack.thread(run.channel, run.thread_ts)


def make_settings(db_url: str, slack: FakeSlack, openai: FakeOpenAI, queue: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        redis_url=REDIS_URL,
        slack_bot_token=slack.bot_token,  # type: ignore[arg-type]
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_api_url=slack.base_url,
        openai_base_url=openai.base_url,
        openai_api_key="sk-test-fake",  # type: ignore[arg-type]
        signoff_agents="tests.slack_agents",
        signoff_approvers=["S_ADMINS"],
        signoff_queue=queue,
        **extra,
    )


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot_factory(
    sqlite_url: str, slack: FakeSlack, fake_openai: FakeOpenAI, queue_name: str
) -> Iterator[Callable[..., Bot]]:
    stack: list[Any] = []

    def make(db_url: str | None = None, **extra: Any) -> Bot:
        settings = make_settings(db_url or sqlite_url, slack, fake_openai, queue_name, **extra)
        deps = build_deps(settings, db=migrated(settings.database_url))
        app = FastAPI()
        mount_slack(app, deps)
        server = ServerThread(app).__enter__()
        http = httpx.Client(base_url=server.url, timeout=10)
        stack.append((server, http, deps))
        return Bot(slack, fake_openai, deps, http)

    yield make
    for server, http, deps in stack:
        http.close()
        server.__exit__()
        deps.queue.empty()
        deps.close()
        deps.db.dispose()


@pytest.fixture
def bot(bot_factory: Callable[..., Bot]) -> Bot:
    return bot_factory()


def audit_actions(bot: Bot, run: RunRecord) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.actor_id, e.outcome) for e in bot.deps.db.audit_events(run_id=run.id)]
