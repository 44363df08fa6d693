"""Workflow checkpoints in Slack end to end: output review (approve, edit, reject), a Router a person
steers (modal and thread reply), and a step agent's tool confirmation (an executor pause).

The harness of ``tests/slack_harness.py``: signed requests to a real uvicorn, a local Slack, real
Redis and an in-process RQ worker with the real notifier. The workflows are those of
``tests/workflow_slack_agents.py``, registered in the bot's registry; their executors record what
they were given, so each test says what flowed on after a person decided. The attacks: a forged
``private_metadata`` (another request, another hash), a stale edit, a replayed click, a forged
select value, an Edit forced on an output no input can hold, and a person the policy does not allow.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack import cards, modals
from bot.slack.notifier import CARD, STEP_OUTPUT
from storage.records import RequirementKind, RequirementRecord, RequirementStatus, RunRecord, RunStatus
from tests import workflow_slack_agents as flows
from tests.fakes import signing
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    audit_actions,
    bot,
    bot_factory,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]


@pytest.fixture
def wf(bot: Bot) -> Bot:
    """The bot, with this module's workflows registered beside the usual agents."""
    for workflow in flows.workflows:
        bot.deps.registry.targets[workflow.id] = workflow
    flows.SEEN.clear()
    return bot


def body_of(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"])


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def unescape(text_: str) -> str:
    return text_.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def views_opened(bot: Bot, callback_id: str, count: int) -> dict[str, Any]:
    """The ``count``-th view with ``callback_id`` opened so far (waiting for it)."""
    calls = wait_until(
        lambda: (found := [c for c in bot.slack.calls_to("views.open") if c.args["view"].get("callback_id")
                           == callback_id])[count - 1:] and found,
        what=f"views.open #{count} of {callback_id}",
    )
    return dict(calls[count - 1].args["view"])


def forged(view: dict[str, Any], **meta: str) -> dict[str, Any]:
    """The same view with its ``private_metadata`` rewritten (``r``: requirement id, ``h``: hash)."""
    data = json.loads(view["private_metadata"]) | meta
    return view | {"private_metadata": json.dumps(data)}


def start_review(bot: Bot, prompt: str, target: str = "review-flow") -> tuple[RunRecord, RequirementRecord,
                                                                                 dict[str, Any]]:
    run = bot.start(f"{target} {prompt}")
    assert run.status is RunStatus.PAUSED and run.kind == "workflow"
    (req,) = bot.pending(run)
    assert req.kind is RequirementKind.STEP_OUTPUT_REVIEW and req.tool_name == "Draft"
    card = bot.card(req)
    assert card["thread_ts"] == run.thread_ts  # in the run's thread
    return run, req, card


def sent(bot: Bot, run: RunRecord) -> str:
    """What the Send step got (after the run finished)."""
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    return next(got for step, got in flows.SEEN if step == "Send")


# --------------------------------------------------------------------------- output review


def test_output_review_card_approve_resumes_with_the_output(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers")
    output = flows.draft("Q3 numbers")
    assert req.tool_args == {"output": output}
    body = body_of(card)
    assert ":mag: Review a step's output" in body and "*Step:* `Draft`" in body
    assert "> Check the draft before it is sent." in body and "*Output to review:*" in body
    assert "Draft summary of &lt;Q3 numbers&gt;: revenue up 4% &amp; costs flat." in body
    assert list(buttons(card)) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    assert buttons(card)[cards.APPROVE]["value"] == f"{req.id}|{req.current_hash}"
    assert {m.purpose for m in wf.deps.db.slack_messages(requirement_id=req.id)} == {CARD}  # short: no thread copy

    wf.click(cards.APPROVE, buttons(card)[cards.APPROVE]["value"], "U_ALICE", card)
    updated = wf.wait_card_update(card, "Approved")
    assert cards.APPROVE not in body_of(updated) and "<@U_ALICE>" in body_of(updated)
    assert sent(wf, run) == output  # the next step got the output as it was
    assert ("requirement.approved", "U_ALICE", "approved") in audit_actions(wf, run)

    # A replayed click after the decision changes nothing and says so.
    wf.click(cards.APPROVE, buttons(card)[cards.APPROVE]["value"], "U_ALICE", card)
    wf.ephemeral_for("U_ALICE", "Already decided by")
    assert wf.deps.queue.count == 0 and [s for s, _ in flows.SEEN].count("Send") == 1


def test_output_review_edit_in_a_modal(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers")
    wf.click(cards.EDIT, req.id, "U_BOB", card)  # an approver (S_ADMINS) may decide it too
    view = wf.opened_view(modals.EDIT_VIEW)
    assert view["title"]["text"] == "Edit the output"
    box = next(b for b in view["blocks"] if b.get("block_id") == "arg:output")["element"]
    assert box["multiline"] is True and box["initial_value"] == req.tool_args["output"]  # whole
    assert modals.Metadata.load(view["private_metadata"]).args_hash == req.current_hash

    edited = "Edited summary:\n  revenue up 5% <rounded>."
    wf.submit(view, {"arg:output": edited, "reason": "rounding"}, "U_BOB")
    updated = wf.wait_card_update(card, "Edited and approved")
    shown = body_of(updated)
    assert "<@U_BOB>" in shown and "*Edited output:*" in shown and "revenue up 5% &lt;rounded&gt;" in shown
    assert "*Note:* `rounding`" in shown
    assert sent(wf, run) == edited  # exactly what was submitted flows on
    row = next(e for e in wf.deps.db.audit_events(run_id=run.id) if e.action == "requirement.edited")
    assert row.actor_id == "U_BOB" and row.arguments == {"before": {"output": req.tool_args["output"]},
                                                          "after": {"output": edited}}
    decided = wf.deps.db.get_requirement(req.id)
    assert decided.status is RequirementStatus.APPROVED and decided.resolution["edited_args"] == {"output": edited}


def test_output_review_reject_cancels_with_the_reason(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers")
    wf.click(cards.REJECT, req.id, "U_ALICE", card)
    view = wf.opened_view(modals.REJECT_VIEW)
    wf.submit(view, {"reason": "too vague"}, "U_ALICE")
    updated = wf.wait_card_update(card, "Rejected")
    assert "*Note:* `too vague`" in body_of(updated)
    wf.drain()
    done = wf.deps.db.get_run(run.id)
    assert done.status is RunStatus.CANCELLED and "too vague" in (done.content or "")
    assert "Send" not in [s for s, _ in flows.SEEN]
    assert "was cancelled" in wf.thread(run)[-1]["text"]


def test_output_review_reject_retries_the_step_with_the_note(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers", target="review-retry-flow")
    wf.click(cards.REJECT, req.id, "U_ALICE", card)
    wf.submit(wf.opened_view(modals.REJECT_VIEW), {"reason": "add the regions"}, "U_ALICE")
    wf.wait_card_update(card, "Rejected")
    wf.drain()
    drafts = [got for step, got in flows.SEEN if step == "Draft"]
    assert len(drafts) == 2 and "add the regions" in drafts[1]  # the step ran again, with the note
    (again,) = wf.pending(run)
    assert again.kind is RequirementKind.STEP_OUTPUT_REVIEW and again.id != req.id
    second = wf.card(again)
    assert second["thread_ts"] == run.thread_ts and cards.EDIT in buttons(second)
    wf.click(cards.APPROVE, buttons(second)[cards.APPROVE]["value"], "U_ALICE", second)
    wf.wait_card_update(second, "Approved")
    assert sent(wf, run) == again.tool_args["output"]


def test_long_output_is_cut_on_the_card_whole_in_the_thread_and_not_editable(wf: Bot) -> None:
    run, req, card = start_review(wf, "long report please")
    output = req.tool_args["output"]
    assert len(output) == flows.LONG_OUTPUT_CHARS
    body = body_of(card)
    assert "of 10,000 characters" in body and len(body) < 8000 and "row 0000" in body
    assert list(buttons(card)) == [cards.APPROVE, cards.REJECT, cards.VIEW_ARGS]  # no Edit
    assert "cannot be edited in Slack" in body

    posted = {m.purpose: m for m in wf.deps.db.slack_messages(requirement_id=req.id)}
    assert set(posted) == {STEP_OUTPUT, CARD}
    full = wf.slack.message(posted[STEP_OUTPUT].channel, posted[STEP_OUTPUT].ts)
    assert full["thread_ts"] == run.thread_ts and "Output of *Draft*, for review" in body_of(full)
    sections = [b["text"]["text"] for b in full["blocks"][1:] if b["type"] == "section"]
    assert unescape("\n".join(t[3:-3] for t in sections)) == output  # whole (split at line ends)
    wf.click(cards.VIEW_ARGS, req.id, "U_ALICE", card)  # ...and behind "View full output", as it is
    view = wf.opened_view(modals.ARGS_VIEW)
    assert view["title"]["text"] == "Full output"
    paged = [b["text"]["text"][3:-3] for b in view["blocks"] if b["type"] == "section"]
    assert unescape("".join(paged)) == output

    # Edit forced anyway (a click on a button the card never had): refused, no modal.
    wf.click(cards.EDIT, req.id, "U_ALICE", card)
    wf.ephemeral_for("U_ALICE", "cannot be edited in Slack")
    assert not [c for c in wf.slack.calls_to("views.open") if c.args["view"]["callback_id"] == modals.EDIT_VIEW]
    # ...and a forged edit submission cannot replace the output either: the field is not offered.
    wf.click(cards.REJECT, req.id, "U_ALICE", card)
    reject_view = wf.opened_view(modals.REJECT_VIEW)
    forged_edit = reject_view | {"callback_id": modals.EDIT_VIEW}
    wf.submit(forged_edit, {"arg:output": "short and wrong"}, "U_ALICE")
    wf.ephemeral_for("U_ALICE", "needs the edited arguments")
    assert wf.deps.db.get_requirement(req.id).is_pending

    wf.click(cards.APPROVE, buttons(card)[cards.APPROVE]["value"], "U_ALICE", card)
    wf.wait_card_update(card, "Approved")
    assert sent(wf, run) == output


# --------------------------------------------------------------------------- attacks on the edit modal


def test_edit_modal_forged_metadata_and_a_stale_edit(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers")
    other_run, other, _ = start_review(wf, "Q4 numbers")
    wf.click(cards.EDIT, req.id, "U_ALICE", card)
    alice_view = views_opened(wf, modals.EDIT_VIEW, 1)

    # Another request's id in private_metadata, with the hash this modal saw: refused as stale.
    wf.submit(forged(alice_view, r=other.id), {"arg:output": "hijacked"}, "U_ALICE")
    wf.ephemeral_for("U_ALICE", "The arguments changed since they were shown to you")
    # An id that does not exist, and a hash nobody saw.
    wf.submit(forged(alice_view, r="req_nope"), {"arg:output": "hijacked"}, "U_ALICE")
    wf.ephemeral_for("U_ALICE", "I cannot find that")
    wf.submit(forged(alice_view, h="0" * 64), {"arg:output": "hijacked"}, "U_ALICE")
    wait_until(lambda: len([e for e in wf.slack.ephemerals if "arguments changed" in e["text"]]) == 2,
               what="the second stale refusal")
    assert wf.deps.db.get_requirement(other.id).is_pending and wf.deps.db.get_requirement(req.id).is_pending

    # Bob edits first; Alice's modal, opened before, is then stale and changes nothing.
    wf.click(cards.EDIT, req.id, "U_BOB", card)
    bob_view = views_opened(wf, modals.EDIT_VIEW, 2)
    wf.submit(bob_view, {"arg:output": "Bob's version"}, "U_BOB")
    wf.wait_card_update(card, "Edited and approved")
    wf.submit(alice_view, {"arg:output": "Alice's version"}, "U_ALICE")
    wf.ephemeral_for("U_ALICE", "Already decided by")
    assert sent(wf, run) == "Bob's version"
    assert wf.deps.db.get_requirement(other.id).is_pending and other_run.status is RunStatus.PAUSED
    edits = [e for e in wf.deps.db.audit_events(run_id=run.id) if e.action == "requirement.edited"]
    assert [e.actor_id for e in edits] == ["U_BOB"]


def test_a_person_the_policy_does_not_allow_is_refused(wf: Bot) -> None:
    run, req, card = start_review(wf, "Q3 numbers")
    wf.click(cards.EDIT, req.id, "U_DAVE", card)  # neither the requester nor in S_ADMINS
    wf.ephemeral_for("U_DAVE", "not allowed")
    assert not wf.slack.calls_to("views.open")
    wf.click(cards.EDIT, req.id, "U_ALICE", card)
    view = wf.opened_view(modals.EDIT_VIEW)
    wf.submit(view, {"arg:output": "Dave's version"}, "U_DAVE")  # Alice's modal, submitted as Dave
    wait_until(lambda: len([e for e in wf.slack.ephemerals if e["user"] == "U_DAVE"]) == 2, what="2nd refusal")
    wf.click(cards.APPROVE, buttons(card)[cards.APPROVE]["value"], "U_DAVE", card)
    wait_until(lambda: len([e for e in wf.slack.ephemerals if e["user"] == "U_DAVE"]) == 3, what="3rd refusal")
    assert wf.deps.db.get_requirement(req.id).is_pending
    refused = [a for a in audit_actions(wf, run) if a[0] == "decision.refused"]
    assert refused and all(a[1:] == ("U_DAVE", "NotAnApprover") for a in refused)


# --------------------------------------------------------------------------- route selection


def start_route(bot: Bot, target: str = "route-flow") -> tuple[RunRecord, RequirementRecord, dict[str, Any]]:
    run = bot.start(f"{target} the export is slow")
    assert run.status is RunStatus.PAUSED
    (req,) = bot.pending(run)
    assert req.kind is RequirementKind.STEP_ROUTE_SELECTION and req.tool_name == "Analysis router"
    card = bot.card(req)
    assert card["thread_ts"] == run.thread_ts
    body = body_of(card)
    assert ":twisted_rightwards_arrows: Choose a route" in body and "*Step:* `Analysis router`" in body
    assert "> Which analysis should run on this ticket?" in body and "Ticket: the export is slow" in body
    assert "`quick_analysis`, `deep_analysis`, `escalate`" in body
    assert [(k, v["text"]["text"]) for k, v in buttons(card).items()] == [(cards.INPUT, "Choose")]
    return run, req, card


def ran_routes() -> list[str]:
    return [s for s, _ in flows.SEEN if s in ("quick_analysis", "deep_analysis", "escalate")]


def test_route_selection_in_a_modal(wf: Bot) -> None:
    run, req, card = start_route(wf)
    wf.click(cards.INPUT, req.id, "U_ALICE", card)
    view = wf.opened_view(modals.INPUT_VIEW)
    select = next(b for b in view["blocks"] if b.get("block_id") == "field:route")["element"]
    assert select["type"] == "static_select"
    options = {o["value"]: o for o in select["options"]}
    assert list(options) == ["quick_analysis", "deep_analysis", "escalate"]

    # A value that is not among the choices (a forged submission): refused, nothing applied.
    evil = {"text": {"type": "plain_text", "text": "x"}, "value": "drop_tables"}
    wf.submit(view, {"field:route": {"type": "static_select", "selected_option": evil}}, "U_ALICE")
    refusal = wf.ephemeral_for("U_ALICE", "is not a choice")
    assert "quick_analysis, deep_analysis, escalate" in refusal["text"]
    assert wf.deps.db.get_requirement(req.id).is_pending and wf.deps.queue.count == 0

    wf.submit(view, {"field:route": {"type": "static_select", "selected_option": options["deep_analysis"]}},
              "U_ALICE")
    updated = wf.wait_card_update(card, "Answered")
    assert "deep_analysis" in body_of(updated)
    wf.drain()
    assert wf.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert ran_routes() == ["deep_analysis"] and ("deep_analysis", "Ticket: the export is slow") in flows.SEEN


def test_route_selection_by_thread_reply(wf: Bot) -> None:
    run, req, card = start_route(wf, "route-multi-flow")
    assert "(one or more)" in body_of(card) and "separated by commas" in body_of(card)
    assert run.thread_ts
    unknown = wf.slack.add_message("C_OPS", "banana", thread_ts=run.thread_ts)
    wf.event(signing.message_event("banana", ts=unknown["ts"], thread_ts=run.thread_ts))
    refusal = wf.ephemeral_for("U_ALICE", "is not a choice")
    assert "quick_analysis, deep_analysis, escalate" in refusal["text"]
    assert wf.deps.db.get_requirement(req.id).is_pending

    reply = wf.slack.add_message("C_OPS", "escalate, deep_analysis", thread_ts=run.thread_ts)
    wf.event(signing.message_event("escalate, deep_analysis", ts=reply["ts"], thread_ts=run.thread_ts))
    wf.wait_card_update(card, "Answered")
    wf.drain()
    assert wf.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert ran_routes() == ["escalate", "deep_analysis"]  # in the order chosen
    assert wf.deps.db.get_requirement(req.id).resolution["values"] == {"route": ["escalate", "deep_analysis"]}


def test_route_selection_multi_select_in_a_modal(wf: Bot) -> None:
    run, req, card = start_route(wf, "route-multi-flow")
    wf.click(cards.INPUT, req.id, "U_BOB", card)
    view = wf.opened_view(modals.INPUT_VIEW)
    select = next(b for b in view["blocks"] if b.get("block_id") == "field:route")["element"]
    assert select["type"] == "multi_static_select"
    picked = [o for o in select["options"] if o["value"] in ("quick_analysis", "escalate")]
    wf.submit(view, {"field:route": {"type": "multi_static_select", "selected_options": picked}}, "U_BOB")
    wf.wait_card_update(card, "Answered")
    wf.drain()
    assert wf.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert ran_routes() == ["quick_analysis", "escalate"]


# --------------------------------------------------------------------------- executor pause


def test_a_step_agents_tool_confirmation_is_a_tool_card(wf: Bot) -> None:
    wf.openai.script(tool_call("close_ticket", {"ticket_id": "77"}), text("Closed ticket 77."))
    run = wf.start("executor-pause-flow please close ticket 77")
    (req,) = wf.pending(run)
    assert req.kind is RequirementKind.CONFIRMATION and req.member_agent_name == "Closer"
    card = wf.card(req)
    assert card["thread_ts"] == run.thread_ts
    body = body_of(card)
    assert "*Tool:* `close_ticket`" in body and "Asked by *Closer*, inside a workflow step" in body
    assert list(buttons(card)) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    wf.click(cards.APPROVE, buttons(card)[cards.APPROVE]["value"], "U_ALICE", card)
    wf.wait_card_update(card, "Approved")
    assert sent(wf, run) == "Closed ticket 77."


# --------------------------------------------------------------------------- Condition and Loop pauses


def test_a_condition_confirmation_is_a_step_card(wf: Bot) -> None:
    run = wf.start("condition-flow the export is slow")
    (req,) = wf.pending(run)
    assert req.kind is RequirementKind.STEP_CONFIRMATION and req.tool_name == "Deep check"
    card = wf.card(req)
    body = body_of(card)
    assert ":raising_hand: Step needs confirmation" in body and "*Step:* `Deep check`" in body
    assert "> Run the deep check on this ticket?" in body and "Ticket: the export is slow" in body
    assert list(buttons(card)) == [cards.APPROVE, cards.REJECT]
    wf.click(cards.REJECT, req.id, "U_ALICE", card)
    wf.submit(wf.opened_view(modals.REJECT_VIEW), {"reason": "not worth it"}, "U_ALICE")
    wf.wait_card_update(card, "Rejected")
    wf.drain()
    assert wf.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert ran_routes() == ["quick_analysis"]  # a rejection runs the else branch


def test_a_loop_iteration_review_is_an_output_review_card(wf: Bot) -> None:
    run = wf.start("loop-flow first draft")
    (gate,) = wf.pending(run)
    assert gate.kind is RequirementKind.STEP_CONFIRMATION and gate.tool_name == "Refine"
    gate_card = wf.card(gate)
    assert list(buttons(gate_card)) == [cards.APPROVE, cards.REJECT]
    # An Edit forced on a confirmation (the Loop has an edit Function for its reviews): no modal.
    wf.click(cards.EDIT, gate.id, "U_ALICE", gate_card)
    wf.ephemeral_for("U_ALICE", "cannot be edited here")
    assert not wf.slack.calls_to("views.open")
    wf.click(cards.APPROVE, buttons(gate_card)[cards.APPROVE]["value"], "U_ALICE", gate_card)
    wf.wait_card_update(gate_card, "Approved")
    wf.drain()
    (first,) = wf.pending(run)
    assert first.kind is RequirementKind.STEP_OUTPUT_REVIEW and first.tool_name == "Refine"
    card = wf.card(first)
    assert "> Good enough to publish?" in body_of(card) and "Polished: first draft (pass 1)" in body_of(card)
    assert list(buttons(card)) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    wf.click(cards.REJECT, first.id, "U_ALICE", card)
    wf.submit(wf.opened_view(modals.REJECT_VIEW), {"reason": "more detail"}, "U_ALICE")
    wf.wait_card_update(card, "Rejected")
    wf.drain()
    (second,) = wf.pending(run)
    assert "more detail" in [got for step, got in flows.SEEN if step == "Polish"][1]  # the note went in
    again = wf.card(second)
    wf.click(cards.EDIT, second.id, "U_ALICE", again)
    view = wf.opened_view(modals.EDIT_VIEW)
    wf.submit(view, {"arg:output": "The final, reviewed text."}, "U_ALICE")
    wf.wait_card_update(again, "Edited and approved")
    wf.drain()
    done = wf.deps.db.get_run(run.id)
    assert done.status is RunStatus.COMPLETED and done.content == "The final, reviewed text."
