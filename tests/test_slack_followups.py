# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)
"""What happens after a Slack ack, kept off the acks' way: the card-update queue (order per run,
coalesced redraws, back-pressure), the notifier skipping a ``chat.update`` that changes nothing,
the follow-up gate (an ack never waits for a turn), and bolt's keep-alive client session."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack.app import FollowUpGate, KeepAliveAsyncWebClient
from bot.slack.base import HandlerBase
from bot.slack.cards_sync import CardQueue
from bot.slack.notifier import SlackNotifier
from storage.database import Database
from storage.records import SlackMessage
from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import Bot, bot, bot_factory, slack  # noqa: F401  (fixtures are used by name)


def test_one_runs_work_runs_in_order_and_a_waiting_redraw_absorbs_the_next() -> None:
    queue = CardQueue(threads=2)
    gate = threading.Event()
    done: list[str] = []
    try:
        queue.submit("run-1", gate.wait)  # holds run-1's turn until released
        for name in ("post", "redraw-a", "tell", "redraw-a-again", "redraw-b"):
            redraw = name.split("-")[1] if name.startswith("redraw") else None
            queue.submit("run-1", lambda name=name: done.append(name), redraw=redraw)
        queue.submit("run-2", lambda: done.append("other run"))
        deadline = time.monotonic() + 5
        while "other run" not in done and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done == ["other run"], "another run's cards do not wait for a busy run"
        gate.set()
        assert queue.drain(5)
        assert done == ["other run", "post", "redraw-a", "tell", "redraw-b"]
        assert queue.coalesced == 1
    finally:
        gate.set()
        queue.close()


def test_a_redraw_already_running_does_not_absorb_a_later_one() -> None:
    queue = CardQueue(threads=1)
    started, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def first() -> None:
        started.set()
        release.wait(5)
        seen.append("first")

    try:
        queue.submit("run", first, redraw="req")
        assert started.wait(5)
        queue.submit("run", lambda: seen.append("second"), redraw="req")  # the first may have read SQL already
        release.set()
        assert queue.drain(5)
        assert seen == ["first", "second"]
    finally:
        release.set()
        queue.close()


def test_past_the_limit_the_deciding_thread_updates_its_own_cards() -> None:
    queue = CardQueue(threads=1, limit=1)
    started, release = threading.Event(), threading.Event()
    where: list[str] = []

    def busy() -> None:
        started.set()
        release.wait(5)

    try:
        queue.submit("busy", busy)
        assert started.wait(5)
        queue.submit("waiting", lambda: where.append(threading.current_thread().name))
        queue.submit("third", lambda: where.append(threading.current_thread().name))
        assert where == [threading.current_thread().name], "the third run's work ran in the caller"
        release.set()
        assert queue.drain(5)
        assert where[1].startswith("signoff-cards-")
    finally:
        release.set()
        queue.close()


def test_a_failing_update_is_logged_and_the_queue_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    queue = CardQueue(threads=1)
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("Slack is down")

    try:
        queue.submit("run", broken)
        queue.submit("run", lambda: seen.append("next"))
        assert queue.drain(5)
        assert seen == ["next"]
        assert "a card update failed" in caplog.text
    finally:
        queue.close()


def test_after_close_work_runs_in_the_caller() -> None:
    queue = CardQueue(threads=1)
    queue.close()
    seen: list[str] = []
    queue.submit("run", lambda: seen.append(threading.current_thread().name))
    assert seen == [threading.current_thread().name]


def test_the_notifier_skips_an_update_that_changes_nothing_but_retries_a_failed_one(
    slack: FakeSlack, tmp_path: Path
) -> None:
    client = WebClient(token=slack.bot_token, base_url=slack.base_url)
    notifier = SlackNotifier(client, Database(f"sqlite:///{tmp_path / 'unused.db'}"), Settings.model_construct())
    cards = [SlackMessage("run", "req", "card", "C_OPS", str(client.chat_postMessage(channel="C_OPS", text="x")["ts"]))
             for _ in range(2)]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved by alice"}}]
    notifier._update(cards[0], "Approved", blocks)
    notifier._update(cards[0], "Approved", blocks)
    assert len(slack.calls_to("chat.update")) == 1, "the same content again: no call"
    notifier._update(cards[0], "Rejected", blocks)
    assert len(slack.calls_to("chat.update")) == 2
    slack.fail("chat.update", "message_not_found")
    notifier._update(cards[1], "Approved", blocks)
    notifier._update(cards[1], "Approved", blocks)
    updated = [c.args["ts"] for c in slack.calls_to("chat.update") if c.ok]
    assert updated == [cards[0].ts, cards[0].ts, cards[1].ts], "a failed update is not remembered"


async def test_an_ack_never_waits_for_a_turn_and_the_work_after_it_does() -> None:
    gate = FollowUpGate(limit=1, wait_s=5)
    release = asyncio.Event()
    acked: list[str] = []
    after: list[str] = []

    async def listener(ack: Any, name: str) -> None:
        await ack()
        after.append(name)
        if name == "first":
            await release.wait()

    def ack_for(name: str) -> Any:
        async def ack() -> None:
            acked.append(name)

        return ack

    wrapped = gate.wrap(listener)
    first = asyncio.create_task(wrapped(ack=ack_for("first"), name="first"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(wrapped(ack=ack_for("second"), name="second"))
    await asyncio.sleep(0.05)
    assert acked == ["first", "second"], "both acked at once"
    assert after == ["first"], "the second's after-ack work waits for the first's"
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert after == ["first", "second"]


async def test_a_turn_is_waited_for_at_most_wait_s() -> None:
    gate = FollowUpGate(limit=1, wait_s=0.1)
    release = asyncio.Event()
    after: list[str] = []

    async def listener(ack: Any, name: str) -> None:
        await ack()
        after.append(name)
        if name == "slow":
            await release.wait()

    async def ack() -> None:
        return None

    wrapped = gate.wrap(listener)
    slow = asyncio.create_task(wrapped(ack=ack, name="slow"))
    await asyncio.sleep(0.02)
    started = time.monotonic()
    await asyncio.wait_for(wrapped(ack=ack, name="late"), 5)
    assert after == ["slow", "late"] and time.monotonic() - started < 2
    release.set()
    await slow
    # the late one went ahead without a turn: giving one back now would be one too many
    wrapped_again = asyncio.create_task(wrapped(ack=ack, name="again"))
    await asyncio.wait_for(wrapped_again, 5)
    assert after[-1] == "again"


async def test_a_listener_without_ack_takes_a_turn_for_its_whole_body() -> None:
    gate = FollowUpGate(limit=1, wait_s=5)
    seen: list[str] = []

    async def event_listener(event: dict[str, Any]) -> None:
        seen.append(event["id"])

    await gate.wrap(event_listener)(event={"id": "e1"})
    await gate.wrap(event_listener)(event={"id": "e2"})
    assert seen == ["e1", "e2"]


async def test_bolts_client_keeps_one_session_per_loop() -> None:
    client = KeepAliveAsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/")
    first = client.session
    assert first is not None and client.session is first
    await client.aclose()
    assert first.closed
    again = client.session
    assert again is not None and again is not first and not again.closed
    await client.aclose()


async def test_a_cards_permalink_is_asked_of_slack_once(bot: Bot, slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    handler = HandlerBase(bot.deps, client)
    posted = await client.chat_postMessage(channel="C_OPS", text="a card")
    links = [await handler.permalink("C_OPS", str(posted["ts"])) for _ in range(3)]
    assert links[0] and links == [links[0]] * 3
    assert len(slack.calls_to("chat.getPermalink")) == 1
    slack.fail("chat.getPermalink", "channel_not_found")
    assert await handler.permalink("C_OTHER", "1.0") is None  # a failure is not remembered
    assert await handler.permalink("C_OPS", str(posted["ts"])) == links[0]
