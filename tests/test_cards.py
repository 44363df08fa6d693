"""Block Kit builders (cards, modals) are pure and every payload passes Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import cards, modals
from bot.blockkit import validate_message, validate_view
from bot.handler_base import refusal_text
from bot.thread_replies import match_reply, parse_field_lines
from runner.examples import process_refund, send_customer_email
from runner.tools import tool
from storage.errors import AlreadyDecided, NotAnApprover, SelfApproval
from storage.records import RequirementKind, RequirementRecord, RequirementStatus, RunRecord, RunStatus

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HUGE = "x" * 50_000


def make_run(**changes: Any) -> RunRecord:
    values: dict[str, Any] = {
        "id": "run1",
        "kind": "agent",
        "target_id": "finance",
        "target_name": "Finance",
        "status": RunStatus.PAUSED,
        "version": 3,
        "round": 1,
        "requester": "U_ALICE",
        "requester_name": "alice",
        "input": "Refund $120 to customer 42",
        "content": None,
        "error": None,
        "error_kind": None,
        "state": {},
        "channel": "C_OPS",
        "thread_ts": "1700000000.000100",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return RunRecord(**values)


def make_req(**changes: Any) -> RequirementRecord:
    values: dict[str, Any] = {
        "id": "req1",
        "run_id": "run1",
        "round": 1,
        "call_key": "k1",
        "tool_call_id": "call_1",
        "kind": RequirementKind.CONFIRMATION,
        "tool_name": "process_refund",
        "tool_args": {"customer_id": "42", "amount": 120.0, "reason": "late delivery"},
        "args_hash": "h",
        "member_agent_name": None,
        "approval_type": None,
        "user_input_schema": [],
        "message": "process_refund needs confirmation before it runs",
        "status": RequirementStatus.PENDING,
        "resolution": {},
        "resolved_by": None,
        "resolved_by_name": None,
        "resolved_at": None,
        "requester": "U_ALICE",
        "approvers": [],
        "quorum": 1,
        "created_at": NOW,
        "expires_at": NOW + timedelta(hours=24),
    }
    values.update(changes)
    return RequirementRecord(**values)


def ok(text: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = validate_message(blocks, text)
    assert not problems, problems
    return blocks


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


# --------------------------------------------------------------------------- requirement cards


def test_confirmation_card_has_approve_reject_edit() -> None:
    text, blocks = cards.requirement_card(make_run(), make_req())
    ok(text, blocks)
    assert action_ids(blocks) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    body = all_text(blocks)
    assert "<@U_ALICE>" in body and "*Finance*" in body and "`process_refund`" in body
    assert "needs confirmation" in body and "`120.0`" in body
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert {b["value"] for b in buttons} == {"req1"}  # ids only, nothing to trust
    assert "process_refund(customer_id=42" in text


def test_required_card_says_so() -> None:
    text, blocks = cards.requirement_card(make_run(), make_req(approval_type="required"), editable=False)
    ok(text, blocks)
    assert action_ids(blocks) == [cards.APPROVE, cards.REJECT]
    assert "Approval required" in all_text(blocks) and "requester cannot approve" in all_text(blocks)


def test_input_card() -> None:
    schema = [
        {"name": "city", "field_type": "str", "description": "Which city", "required": True},
        {"name": "nights", "field_type": "int", "required": False},
    ]
    req = make_req(kind=RequirementKind.USER_INPUT, tool_name="book_hotel", tool_args={}, user_input_schema=schema)
    text, blocks = cards.requirement_card(make_run(), req)
    ok(text, blocks)
    assert action_ids(blocks) == [cards.INPUT]
    assert "reply in this thread" in all_text(blocks)
    assert "`city` (str)" in all_text(blocks) and "_optional_" in all_text(blocks)


def test_external_and_step_cards() -> None:
    ext = make_req(kind=RequirementKind.EXTERNAL_EXECUTION, tool_name="rotate_database_credentials")
    assert action_ids(ok(*cards.requirement_card(make_run(), ext))) == [cards.DONE]
    step = make_req(kind=RequirementKind.STEP_CONFIRMATION, tool_name=None, tool_args={})
    assert action_ids(ok(*cards.requirement_card(make_run(), step))) == [cards.APPROVE, cards.REJECT]


@pytest.mark.parametrize(
    "args",
    [
        {"body": HUGE},
        {"body": HUGE, "subject": "s" * 5000, "nested": {"deep": ["y" * 4000] * 20}},
        {f"arg{i}": f"value {i} " * 100 for i in range(60)},
        {"x" * 400: "key too long", "multi": "line1\nline2```\n" * 500, "ticks": "`" * 3000},
        {"html": "<script>&amp;</script>" * 400},
    ],
)
def test_long_arguments_are_truncated_and_reachable(args: dict[str, Any]) -> None:
    req = make_req(tool_args=args)
    text, blocks = cards.requirement_card(make_run(), req)
    ok(text, blocks)
    assert cards.VIEW_ARGS in action_ids(blocks)
    decided = make_req(
        tool_args=args,
        status=RequirementStatus.APPROVED,
        resolved_by="U_BOB",
        resolved_by_name="bob",
        resolved_at=NOW,
        resolution={"edited_args": args, "note": "n" * 5000},
    )
    ok(*cards.decided_card(make_run(), decided))
    view = modals.full_arguments(req, modals.Metadata("req1", "C_OPS", "1.2"))
    assert not validate_view(view), validate_view(view)
    if len(json.dumps(args)) < 200_000:
        shown = "".join(b["text"]["text"][3:-3] for b in view["blocks"] if b["type"] == "section")
        assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == json.dumps(
            args, indent=2, ensure_ascii=False
        )


def test_sensitive_arguments_are_masked() -> None:
    req = make_req(tool_args={"customer_id": "42", "card_number": "4111111111111111"})
    text, blocks = cards.requirement_card(make_run(), req, sensitive=["card_number"])
    ok(text, blocks)
    assert "4111" not in all_text(blocks) + text
    assert cards.VIEW_ARGS in action_ids(blocks)
    view = modals.full_arguments(req, modals.Metadata("req1"), ["card_number"])
    assert "4111" not in json.dumps(view)


def test_mrkdwn_is_escaped() -> None:
    run = make_run(target_name="<!channel> & co")
    req = make_req(tool_args={"q": "<!here> ping"})
    _, blocks = cards.requirement_card(run, req)
    body = all_text(blocks)
    assert "<!channel>" not in body and "<!here>" not in body
    assert "&lt;!channel&gt; &amp; co" in body


def test_team_member_is_shown() -> None:
    _, blocks = cards.requirement_card(make_run(), make_req(member_agent_name="Refunds"))
    assert "*Finance* / *Refunds*" in all_text(blocks)
    team_run = make_run(kind="team", target_id="support", target_name="Support")
    text, blocks = cards.requirement_card(team_run, make_req(member_agent_name="Finance"))
    ok(text, blocks)
    assert "*Support* / *Finance*" in all_text(blocks) and "Asked by team member *Finance*" in all_text(blocks)
    flow_run = make_run(kind="workflow", target_id="data-pipeline", target_name="Data pipeline")
    text, blocks = cards.requirement_card(flow_run, make_req(member_agent_name="Transformer"))
    ok(text, blocks)
    assert "Asked by *Transformer*, inside a workflow step" in all_text(blocks) and "*Tool:*" in all_text(blocks)


def step_req(output: str, **changes: Any) -> RequirementRecord:
    values: dict[str, Any] = {
        "kind": RequirementKind.STEP_CONFIRMATION,
        "tool_name": "Publish",
        "tool_call_id": None,
        "tool_args": {"previous_output": output},
        "message": "Review the report above before it is published.",
    }
    return make_req(**(values | changes))


WORKFLOW_RUN = {"kind": "workflow", "target_id": "data-pipeline", "target_name": "Data pipeline"}


def test_step_card_shows_the_message_and_the_previous_output() -> None:
    run = make_run(**WORKFLOW_RUN)
    text, blocks = cards.requirement_card(run, step_req("north: 3746.50\nsouth: 935.00 <flagged>"))
    ok(text, blocks)
    body = all_text(blocks)
    assert "*Step:* `Publish`" in body and "> Review the report above before it is published." in body
    assert "Output of the previous step" in body and "north: 3746.50" in body and "&lt;flagged&gt;" in body
    assert "*Tool:*" not in body
    assert action_ids(blocks) == [cards.APPROVE, cards.REJECT]  # short: nothing more to view
    assert text.startswith("Data pipeline step needs confirmation: step 'Publish'. Review the report")
    assert cards.step_output_message(run, step_req("short")) is None  # the card shows it all
    ampersands = step_req("&" * 1000)  # short, but five times longer once escaped for mrkdwn
    text, blocks = cards.requirement_card(run, ampersands)
    ok(text, blocks)
    assert cards.VIEW_ARGS in action_ids(blocks) and cards.step_output_message(run, ampersands) is not None


@pytest.mark.parametrize("size", [cards.STEP_OUTPUT_PREVIEW_CHARS + 1, 20_000, 400_000])
def test_long_step_output_is_cut_on_the_card_and_whole_in_the_thread(size: int) -> None:
    output = "".join(f"row {i}: total {i * 7} & more\n" for i in range(size // 20))[:size]
    run = make_run(**WORKFLOW_RUN)
    req = step_req(output)
    text, blocks = cards.requirement_card(run, req)
    ok(text, blocks)
    body = all_text(blocks)
    assert len(body) < 6000 and "row 0: total 0" in body
    assert f"of {len(output):,} characters" in body and "full output is in this thread" in body
    buttons = {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert buttons[cards.VIEW_ARGS]["text"]["text"] == "View full output"

    thread = cards.step_output_message(run, req)
    assert thread is not None
    ok(*thread)
    sections = [b["text"]["text"] for b in thread[1][1:] if b["type"] == "section"]
    joined = "\n".join(sections).replace("&amp;", "&")
    if size <= 20_000:
        assert joined == output.strip()  # every character, in order
    else:
        assert "_(output truncated)_" in joined and "View full output" in all_text(thread[1])

    view = modals.full_arguments(req, modals.Metadata("req1", "C_OPS", "1.2"))
    assert not validate_view(view), validate_view(view)
    assert view["title"]["text"] == "Full output"
    shown = "".join(b["text"]["text"][3:-3] for b in view["blocks"] if b["type"] == "section")
    if size <= 200_000:
        assert shown.replace("&amp;", "&") == output  # plain text, not a JSON string

    decided = step_req(
        output,
        status=RequirementStatus.REJECTED,
        resolved_by="U_BOB",
        resolved_by_name="bob",
        resolved_at=NOW,
        resolution={"note": "numbers look off"},
    )
    text, blocks = cards.decided_card(run, decided)
    ok(text, blocks)
    assert "numbers look off" in all_text(blocks) and cards.VIEW_ARGS in action_ids(blocks)
    assert text.startswith("Rejected: step 'Publish'")


# --------------------------------------------------------------------------- decided cards


@pytest.mark.parametrize(
    ("status", "resolution", "expect"),
    [
        (RequirementStatus.APPROVED, {}, "Approved"),
        (RequirementStatus.REJECTED, {"note": "too much"}, "Reason:* too much"),
        (RequirementStatus.APPROVED, {"edited_args": {"amount": 90}, "original_args": {}}, "edited arguments"),
        (RequirementStatus.ANSWERED, {"values": {"city": "Oslo"}}, "Oslo"),
        (RequirementStatus.DONE_EXTERNALLY, {"result": "rotated at 10:00"}, "rotated at 10:00"),
        (RequirementStatus.EXPIRED, {}, "Expired"),
        (RequirementStatus.CANCELLED, {}, "Cancelled"),
    ],
)
def test_decided_card(status: RequirementStatus, resolution: dict[str, Any], expect: str) -> None:
    req = make_req(status=status, resolution=resolution, resolved_by="U_BOB", resolved_by_name="bob", resolved_at=NOW)
    text, blocks = cards.decided_card(make_run(), req)
    ok(text, blocks)
    assert not {cards.APPROVE, cards.REJECT, cards.EDIT} & set(action_ids(blocks))
    body = all_text(blocks)
    assert expect in body
    if status is not RequirementStatus.EXPIRED:
        assert "<@U_BOB>" in body
    assert f"<!date^{int(NOW.timestamp())}^" in body


# --------------------------------------------------------------------------- run messages


def test_root_answer_failure_cancel_status() -> None:
    ok(*cards.root_message("U_ALICE", "Finance", "Refund $120 " + HUGE))
    text, blocks = cards.root_with_run("U_ALICE", "Finance", "Refund $120", "run1")
    assert text.startswith("<@U_ALICE> started *Finance*: Refund $120")
    ok(text, blocks)
    text, blocks = cards.answer_message(make_run(status=RunStatus.COMPLETED, content="Done.\n" + "line\n" * 20_000))
    ok(text, blocks)
    text, blocks = cards.failure_message(make_run(status=RunStatus.FAILED, error="Boom " * 5000, error_kind="internal"))
    ok(text, blocks)
    assert action_ids(blocks) == [cards.RETRY]
    assert ok(*cards.retried_message(make_run(error="x" * 9000), "U_BOB"))
    ok(*cards.cancelled_message(make_run(status=RunStatus.CANCELLED, content="Cancelled by <@U_BOB>.")))
    reqs = [make_req(id=f"r{i}") for i in range(30)]
    ok(*cards.status_message(make_run(content="a" * 9000, error="e" * 9000), reqs))


def test_targets_and_approvals_lists() -> None:
    ok(*cards.targets_message([(f"agent-{i}", "agent", "does things " * 30) for i in range(200)]))
    ok(*cards.targets_message([]))
    items = [(make_req(id=f"r{i}", tool_args={"body": HUGE}), make_run(), f"https://x/p{i}") for i in range(120)]
    text, blocks = cards.approvals_message(items)
    ok(text, blocks)
    assert "120 decisions" in text and "more" in all_text(blocks)
    ok(*cards.approvals_message([]))
    ok(*cards.vote_line(1, 2, "U_BOB"))


# --------------------------------------------------------------------------- modals


def meta() -> modals.Metadata:
    return modals.Metadata("req1", "C_OPS", "1700000000.000200")


def test_metadata_round_trip_and_rejects_foreign() -> None:
    assert modals.Metadata.load(meta().dump()) == meta()
    for bad in ("", "{}", "[1]", '{"r": 3}', "not json"):
        with pytest.raises(ValueError):
            modals.Metadata.load(bad)


def test_reject_and_done_modals() -> None:
    for view in (modals.reject_modal(make_req(), meta()), modals.done_modal(make_req(), meta())):
        assert not validate_view(view), validate_view(view)
        assert modals.Metadata.load(view["private_metadata"]).requirement_id == "req1"


@tool
def typed_tool(name: str, count: int, ratio: float, urgent: bool, tags: list[str], level: str = "low") -> str:
    """A tool with every kind of parameter."""
    return "ok"


def elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def test_edit_modal_is_built_from_the_schema() -> None:
    req = make_req(
        tool_name="typed_tool", tool_args={"name": "n", "count": 3, "ratio": 0.5, "urgent": True, "tags": ["a"]}
    )
    view = modals.edit_modal(req, typed_tool.parameters, meta())
    assert not validate_view(view), validate_view(view)
    els = elements(view)
    assert els["arg:name"]["type"] == "plain_text_input" and els["arg:name"]["initial_value"] == "n"
    assert els["arg:count"] == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "initial_value": "3",
    }
    assert els["arg:ratio"]["type"] == "number_input" and els["arg:ratio"]["is_decimal_allowed"] is True
    assert els["arg:urgent"]["type"] == "static_select" and els["arg:urgent"]["initial_option"]["value"] == "true"
    assert els["arg:tags"]["initial_value"] == '["a"]'
    assert els["arg:level"]["initial_value"] == "low"
    optional = {b["block_id"]: b["optional"] for b in view["blocks"] if b["type"] == "input"}
    assert optional["arg:level"] is True and optional["arg:name"] is False

    state = {
        "arg:name": {"value": {"type": "plain_text_input", "value": "m"}},
        "arg:count": {"value": {"type": "number_input", "value": "7"}},
        "arg:ratio": {"value": {"type": "number_input", "value": "0.25"}},
        "arg:urgent": {"value": {"type": "static_select", "selected_option": {"value": "false"}}},
        "arg:tags": {"value": {"type": "plain_text_input", "value": '["x", "y"]'}},
        "arg:level": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert modals.parse_edit(state, typed_tool.parameters) == {
        "name": "m",
        "count": 7,
        "ratio": 0.25,
        "urgent": False,
        "tags": ["x", "y"],
    }
    state["arg:count"] = {"value": {"type": "number_input", "value": "seven"}}
    state["arg:tags"] = {"value": {"type": "plain_text_input", "value": "{"}}
    with pytest.raises(modals.FormErrors) as info:
        modals.parse_edit(state, typed_tool.parameters)
    assert set(info.value.errors) == {"arg:count", "arg:tags"}


def test_edit_modal_for_the_bundled_tools() -> None:
    for fn, args in ((process_refund, {"customer_id": "42", "amount": 120.0}), (send_customer_email, {"body": HUGE})):
        view = modals.edit_modal(make_req(tool_name=fn.name, tool_args=args), fn.parameters, meta())
        assert not validate_view(view), validate_view(view)


def test_edit_modal_with_enum_and_many_params() -> None:
    params = {
        "type": "object",
        "properties": {"colour": {"type": "string", "enum": ["red", "green"]}}
        | {f"p{i}": {"type": "string"} for i in range(150)},
        "required": ["colour"],
    }
    view = modals.edit_modal(make_req(tool_args={"colour": "green"}), params, meta())
    assert not validate_view(view), validate_view(view)
    colour = elements(view)["arg:colour"]
    assert colour["type"] == "static_select" and colour["initial_option"]["value"] == '"green"'
    state = {"arg:colour": {"value": {"type": "static_select", "selected_option": {"value": '"red"'}}}}
    assert modals.parse_edit(state, params) == {"colour": "red"}


def test_input_modal_has_one_typed_field_per_value() -> None:
    schema = [
        {"name": "city", "field_type": "str", "description": "Which city?"},
        {"name": "nights", "field_type": "int"},
        {"name": "budget", "field_type": "float", "required": False},
        {"name": "breakfast", "field_type": "bool"},
    ]
    req = make_req(kind=RequirementKind.USER_INPUT, user_input_schema=schema)
    view = modals.input_modal(req, meta())
    assert not validate_view(view), validate_view(view)
    els = elements(view)
    assert [els[f"field:{n}"]["type"] for n in ("city", "nights", "budget", "breakfast")] == [
        "plain_text_input",
        "number_input",
        "number_input",
        "static_select",
    ]
    state = {
        "field:city": {"value": {"type": "plain_text_input", "value": "Oslo"}},
        "field:nights": {"value": {"type": "number_input", "value": "3"}},
        "field:breakfast": {"value": {"type": "static_select", "selected_option": {"value": "true"}}},
    }
    assert modals.parse_input(state, schema) == {"city": "Oslo", "nights": 3, "breakfast": True}


# --------------------------------------------------------------------------- replies and refusals


def test_thread_reply_matching() -> None:
    one = make_req(id="a", kind=RequirementKind.USER_INPUT, user_input_schema=[{"name": "city"}])
    two = make_req(id="b", kind=RequirementKind.USER_INPUT, user_input_schema=[{"name": "x"}, {"name": "y"}])
    assert match_reply([one], "Oslo, Norway") == ("a", {"city": "Oslo, Norway"})
    assert match_reply([one], "city: Bergen") == ("a", {"city": "Bergen"})
    assert match_reply([one, two], "x: 1\ny = 2") == ("b", {"x": "1", "y": "2"})
    assert isinstance(match_reply([one, two], "just text"), str)
    assert isinstance(match_reply([two], "1 and 2"), str)
    assert parse_field_lines("a: 1\n\nb: two words") == {"a": "1", "b": "two words"}
    assert parse_field_lines("no colon here") is None


def test_refusal_texts() -> None:
    assert "Already decided by bob" in refusal_text(AlreadyDecided("r", "approved", "bob", NOW))
    assert "cannot approve it yourself" in refusal_text(SelfApproval("U_ALICE", "r"))
    text = refusal_text(NotAnApprover("U_DAVE", "r", ["U_ALICE", "S_ADMINS"]))
    assert "not allowed" in text and "<@U_ALICE>" in text and "<!subteam^S_ADMINS>" in text
