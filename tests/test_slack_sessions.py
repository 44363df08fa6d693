"""A Slack thread is a session: a reply that answers no question goes on with the conversation.

Signed requests to the real web app, a real RQ worker, the Slack and model stand-ins.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.slack import cards
from bot.slack.thread_replies import thread_session
from storage.records import RunStatus
from tests.fakes import signing
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import Bot, bot, bot_factory, slack, wait_until  # noqa: F401

pytestmark = [pytest.mark.redis]


def reply(bot: Bot, words: str, thread_ts: str, user: str = "U_ALICE", event_id: str | None = None) -> str:
    posted = bot.slack.add_message("C_OPS", words, user=user, thread_ts=thread_ts)
    bot.event(signing.message_event(words, user_id=user, ts=posted["ts"], thread_ts=thread_ts), event_id=event_id)
    return str(posted["ts"])


def test_a_reply_in_a_finished_thread_is_the_next_run_of_the_same_conversation(bot: Bot) -> None:
    bot.openai.script(text("Customer 42 has a balance of $0.00; last payment $120."))
    first = bot.start("finance What is the balance of customer 42?")
    assert first.status is RunStatus.COMPLETED and first.thread_ts
    assert first.session_id == thread_session("C_OPS", first.thread_ts)

    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), text("Refunded $50."))
    ts = reply(bot, "Refund $50 of that last payment", first.thread_ts, event_id="Ev_NEXT")
    bot.slack.wait_for("reactions.add", lambda c: c.args.get("timestamp") == ts)
    bot.drain()
    runs = [r for r in bot.deps.db.list_runs() if r.thread_ts == first.thread_ts]
    second = next(r for r in runs if r.id != first.id)
    assert second.session_id == first.session_id and second.requester == "U_ALICE"
    sent = bot.openai.requests[-1]["messages"]
    said = json.dumps(sent)
    assert "What is the balance of customer 42?" in said and "balance of $0.00" in said, "the model saw the thread"

    (req,) = bot.pending(second)
    card = bot.card(req)
    assert card["thread_ts"] == first.thread_ts, "the next run's card is in the same thread"
    bot.click(cards.APPROVE, cards.approve_value(req), "U_ALICE", card)
    bot.wait_card_update(card, "Approved")
    bot.drain()
    assert bot.deps.db.get_run(second.id).status is RunStatus.COMPLETED
    assert "Refunded $50." in bot.thread(first)[-1]["text"]

    reply(bot, "Refund $50 of that last payment", first.thread_ts, event_id="Ev_NEXT")  # Slack's retry
    assert len([r for r in bot.deps.db.list_runs() if r.thread_ts == first.thread_ts]) == 2


def test_a_reply_while_the_run_waits_for_a_decision_starts_nothing(bot: Bot) -> None:
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}))
    run = bot.start("finance Refund $50 to customer 42")
    assert run.status is RunStatus.PAUSED and run.thread_ts
    reply(bot, "hurry up please", run.thread_ts)
    bot.ephemeral_for("U_ALICE", "still going")
    assert len(bot.deps.db.list_runs()) == 1 and bot.deps.queue.count == 0


def test_the_next_run_keeps_the_start_limits(bot_factory: Callable[..., Bot]) -> None:
    limited = bot_factory(signoff_runs_per_minute=1)
    limited.openai.script(text("Balance: $0."))
    first = limited.start("finance What is the balance of customer 42?")
    assert first.thread_ts
    reply(limited, "And of customer 43?", first.thread_ts)
    limited.ephemeral_for("U_ALICE", "try again in")
    wait_until(lambda: any(e.action == "run.rate_limited" for e in limited.deps.db.audit_events()))
    assert len(limited.deps.db.list_runs()) == 1
