"""The approval boundary, attacked through Slack: signed requests to the real web app, an RQ
worker, SQLite and PostgreSQL (findings 1, 2 and 9 of the approval-boundary issue).

- An edit cannot walk past a required approval: the requester who edits a small refund into a
  large one only sends it to the approvers.
- A vote counts only for the arguments it saw: an edit restarts the quorum, the earlier voter is
  told, and a click on a card drawn before the edit is refused.
- Starting runs is rate-limited per person and capped per agent, and ``/approvals`` states the
  exact count, showing the soonest to expire and the newest first.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.slack import cards, modals
from storage.records import NewRequirement, RequirementKind, RequirementStatus, RunStatus
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    bot,
    bot_factory,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]


def button_value(card: dict[str, Any], action_id: str) -> str:
    for block in card["blocks"]:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button on the card")


def refunds_ran(bot: Bot) -> list[dict[str, Any]]:
    return [
        e.details for e in bot.deps.db.audit_events() if e.action == "tool.executed" and e.tool_name == "process_refund"
    ]


def edit_refund(bot: Bot) -> None:
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), text("Refunded."))
    run = bot.start("finance Refund $50 to customer 42")
    (req,) = bot.pending(run)
    assert req.approval_type is None  # $50: only the requester confirms
    card = bot.card(req)
    bot.click(cards.EDIT, button_value(card, cards.EDIT), "U_ALICE", card)
    view = bot.opened_view(modals.EDIT_VIEW)
    bot.submit(view, {"arg:customer_id": "42", "arg:amount": {"type": "number_input", "value": "250000"}}, "U_ALICE")
    bot.ephemeral_for("U_ALICE", "approval policy")

    escalated = bot.deps.db.get_requirement(req.id)
    assert escalated.is_pending and escalated.approval_type == "required"
    assert escalated.proposed_args == {"customer_id": "42", "amount": 250000.0, "reason": ""}
    approval = bot.deps.db.approval_for_requirement(req.id)
    assert approval is not None and approval.status == "pending" and approval.tool_args["amount"] == 250000.0
    assert bot.deps.queue.count == 0 and refunds_ran(bot) == []
    actions = [e.action for e in bot.deps.db.audit_events(run_id=run.id)]
    assert "requirement.escalated" in actions and "requirement.approved" not in actions

    redrawn = bot.wait_card_update(card, "250000")
    bot.click(cards.APPROVE, button_value(redrawn, cards.APPROVE), "U_ALICE", redrawn)
    bot.ephemeral_for("U_ALICE", "cannot approve it yourself")
    assert bot.deps.db.get_requirement(req.id).is_pending

    bot.click(cards.APPROVE, button_value(redrawn, cards.APPROVE), "U_BOB", redrawn)
    bot.wait_card_update(card, "Approved")
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    decided = bot.deps.db.get_requirement(req.id)
    assert decided.resolved_by == "U_BOB" and decided.resolution["edited_args"]["amount"] == 250000.0
    assert [d["approval"] for d in refunds_ran(bot)] == ["required"]


def test_an_edit_cannot_walk_past_a_required_approval(bot: Bot) -> None:
    edit_refund(bot)


@pytest.mark.postgres
def test_an_edit_cannot_walk_past_a_required_approval_on_postgres(
    bot_factory: Callable[..., Bot], pg_url: str
) -> None:
    edit_refund(bot_factory(db_url=pg_url))


def quorum_edit(bot: Bot) -> None:
    bot.openai.script(tool_call("wire_money", {"account": "DE89 3704", "amount": 1000}), text("Wired."))
    run = bot.start("treasury Wire $1000 to DE89 3704")
    (req,) = bot.pending(run)
    card = bot.card(req)
    old_approve = button_value(card, cards.APPROVE)
    bot.click(cards.APPROVE, old_approve, "U_BOB", card)
    bot.ephemeral_for("U_BOB", "1 of 2 approvals")

    bot.click(cards.EDIT, button_value(card, cards.EDIT), "U_CAROL", card)
    view = bot.opened_view(modals.EDIT_VIEW)
    bot.submit(
        view,
        {"arg:account": "MALLORY 0001", "arg:amount": {"type": "number_input", "value": "999999"}},
        "U_CAROL",
    )
    bot.ephemeral_for("U_CAROL", "1 of 2 approvals")
    now = bot.deps.db.get_requirement(req.id)
    assert now.is_pending, "the edit restarted the count: U_BOB's vote was for other arguments"
    assert now.proposed_args == {"account": "MALLORY 0001", "amount": 999999.0}
    told = bot.slack.wait_for("chat.postMessage", lambda c: "no longer counts" in str(c.args.get("text")))
    assert "<@U_BOB>" in told.args["text"]

    bot.click(cards.APPROVE, old_approve, "U_BOB", card)  # the card as it was before the edit
    bot.ephemeral_for("U_BOB", "The arguments changed since they were shown to you")
    assert bot.deps.db.get_requirement(req.id).is_pending and bot.deps.queue.count == 0

    redrawn = bot.wait_card_update(card, "MALLORY 0001")
    bot.click(cards.APPROVE, button_value(redrawn, cards.APPROVE), "U_BOB", redrawn)
    bot.wait_card_update(card, "Approved")
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert "Wired $999999.00 to MALLORY 0001" in tool_message["content"]
    votes = [(e.actor_id, e.details["args_hash"]) for e in bot.deps.db.audit_events(run_id=run.id)
             if e.action == "approval.vote"]
    assert [v for v, _ in votes] == ["U_BOB", "U_CAROL"] and votes[0][1] != votes[1][1]


def test_an_edit_restarts_a_quorum_and_a_stale_card_is_refused(bot: Bot) -> None:
    quorum_edit(bot)


@pytest.mark.postgres
def test_an_edit_restarts_a_quorum_on_postgres(bot_factory: Callable[..., Bot], pg_url: str) -> None:
    quorum_edit(bot_factory(db_url=pg_url))


def test_starting_runs_is_rate_limited_per_person(bot_factory: Callable[..., Bot]) -> None:
    bot = bot_factory(signoff_runs_per_minute=3)
    for i in range(3):
        reply = bot.command(f"finance Check the balance of customer {i}")
        assert reply["text"].startswith("Starting")
    wait_until(lambda: len(bot.deps.db.list_runs()) == 3, what="three runs")
    roots = len(bot.slack.calls_to("chat.postMessage"))
    bot.command("finance Check the balance of customer 99")
    refusal = bot.ephemeral_for("U_ALICE", "try again in")
    assert "3 runs in the last 60 seconds" in refusal["text"]
    assert len(bot.deps.db.list_runs()) == 3 and len(bot.slack.calls_to("chat.postMessage")) == roots
    limited = [e for e in bot.deps.db.audit_events() if e.action == "run.rate_limited"]
    assert [(e.actor_id, e.outcome) for e in limited] == [("U_ALICE", "per_user")]
    other = bot.command("finance Check the balance of customer 7", user="U_BOB")
    assert other["text"].startswith("Starting")  # the limit is per person


def test_queued_runs_are_capped_per_agent(bot_factory: Callable[..., Bot]) -> None:
    bot = bot_factory(signoff_max_queued_per_agent=2)
    for user in ("U_ALICE", "U_BOB"):
        bot.command("finance Check the balance of customer 1", user=user)
    wait_until(lambda: len(bot.deps.db.list_runs()) == 2, what="two queued runs")
    bot.command("finance Check the balance of customer 2", user="U_CAROL")
    bot.ephemeral_for("U_CAROL", "runs waiting for a worker")
    assert len(bot.deps.db.list_runs()) == 2


def test_approvals_states_the_exact_count_soonest_and_newest_first(bot: Bot) -> None:
    db = bot.deps.db
    run = db.create_run(kind="agent", target_id="finance", target_name="Finance", input="x", state={"v": 1},
                        requester="U_ALICE")
    specs = [
        NewRequirement(call_key=f"t1:c{i}", kind=RequirementKind.CONFIRMATION, tool_name="process_refund",
                       tool_args={"customer_id": f"cust-{i}", "amount": 500 + i}, approval_type="required",
                       expires_in_s=86400 + 60 * i)
        for i in range(60)
    ]
    specs.insert(0, NewRequirement(call_key="t1:urgent", kind=RequirementKind.CONFIRMATION, tool_name="process_refund",
                                tool_args={"customer_id": "URGENT", "amount": 1}, approval_type="required",
                                expires_in_s=120))
    for spec in specs:  # one at a time: each gets its own creation time
        db.create_requirements(run.id, 1, [spec], requester="U_ALICE")
    bot.command("", user="U_BOB", command="/approvals")
    listing = bot.ephemeral_for("U_BOB", "61 decisions waiting")
    shown = json.dumps(listing["blocks"])
    assert "URGENT" in shown, "the soonest to expire is listed, though it is the oldest"
    assert "cust-59" in shown, "the newest is listed"
    assert "Showing" in shown and "of 61" in shown
    assert len(listing["blocks"]) <= 50
    statuses = {r.status for r in db.requirements_for_run(run.id)}
    assert statuses == {RequirementStatus.PENDING}
