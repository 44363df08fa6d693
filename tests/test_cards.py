"""Block Kit builders (cards, modals) are pure and every payload passes Slack's limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View

from bot.slack import cards, modals, mrkdwn, notifier
from bot.slack.base import refusal_text
from bot.slack.thread_replies import match_reply, parse_field_lines
from runner.examples import process_refund, send_customer_email
from runner.tools import tool
from runner.workflow import Step, Workflow
from storage.errors import AlreadyDecided, InvalidDecision, NotAnApprover, NotFound, SelfApproval
from storage.records import RequirementKind, RequirementRecord, RequirementStatus, RunRecord, RunStatus
from storage.redaction import MASK
from storage.timeouts import MAX_REQUEST_BODY_BYTES
from tests.blockkit import validate_message, validate_view

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HUGE = "x" * 50_000


def unrender(text: str) -> str:
    """The inverse of ``mrkdwn.code_text``: what the reader of a code block is shown, as characters."""
    text = text.replace(mrkdwn.BACKTICK_LOOKALIKE, "`")
    text = re.sub("\u27e6U\\+([0-9A-F]{4,6})\u27e7", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def page_sections(view: dict[str, Any]) -> list[str]:
    """The code of each section of a full-arguments page (without the ``` fences)."""
    out = []
    for block in view["blocks"]:
        if block["type"] == "section":
            text = block["text"]["text"]
            assert text.startswith("```") and text.endswith("```") and len(text) <= 3000
            out.append(text[3:-3])
    return out


def nav_values(view: dict[str, Any]) -> dict[str, str]:
    """Previous / Next: button text -> value."""
    return {
        e["text"]["text"]: e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == cards.ARGS_PAGE
    }


def read_all_pages(req: RequirementRecord, declared: list[str] | None = None) -> str:
    """Page through "View full arguments" with Next as a person would; every page passes Slack's limits."""
    shown: list[str] = []
    page, seen_pages = 1, 0
    while True:
        view = modals.full_arguments(req, modals.Metadata(req.id, "C_OPS", "1.2"), declared, page)
        assert not validate_view(view), validate_view(view)
        View(**view).validate_json()  # slack_sdk's own model agrees
        seen_pages += 1
        info = view["blocks"][0]["elements"][1]["text"]
        assert f"SHA-256 of the arguments: `{req.current_hash}`" in info
        shown.extend(page_sections(view))
        nav = nav_values(view)
        if "Next \u203a" not in nav:
            break
        next_id, page = cards.parse_page_value(nav["Next \u203a"])
        assert next_id == req.id
    pages = modals.full_pages(modals.full_rendering(req, declared)[1])
    assert seen_pages == len(pages)
    return "".join(shown)


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
        "sensitive_fields": [],
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
    buttons = {e["action_id"]: e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    # ids only, nothing to trust; Approve also names the arguments the card showed
    assert buttons == {cards.APPROVE: "req1|h", cards.REJECT: "req1", cards.EDIT: "req1"}
    assert cards.parse_action_value(buttons[cards.APPROVE]) == ("req1", "h")
    assert "`process_refund(customer_id=42" in text


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
    # every character, across the pages, exactly once and in order
    assert unrender(read_all_pages(req)) == json.dumps(args, indent=2, ensure_ascii=False)


def test_sensitive_arguments_are_masked() -> None:
    req = make_req(tool_args={"customer_id": "42", "card_number": "4111111111111111"})
    text, blocks = cards.requirement_card(make_run(), req, declared=["card_number"])
    ok(text, blocks)
    assert "4111" not in all_text(blocks) + text and MASK in all_text(blocks) and MASK in text
    view = modals.full_arguments(req, modals.Metadata("req1"), ["card_number"])
    assert "4111" not in json.dumps(view) and MASK in json.dumps(view)


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
    assert text.startswith("*Data pipeline* step needs confirmation: step `Publish`. Review the report")
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
    assert all(t.startswith("```") and t.endswith("```") for t in sections if "truncated" not in t)
    joined = "\n".join(t[3:-3] if t.startswith("```") else t for t in sections).replace("&amp;", "&")
    if size <= 20_000:
        assert joined == output.strip()  # every character, in order
    else:
        assert "_(output truncated)_" in joined and "View full output" in all_text(thread[1])

    view = modals.full_arguments(req, modals.Metadata("req1", "C_OPS", "1.2"))
    assert not validate_view(view), validate_view(view)
    assert view["title"]["text"].startswith("Full output")
    assert unrender(read_all_pages(req)) == output  # plain text, not a JSON string, every character

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
    assert text.startswith("Rejected: step `Publish`")


# --------------------------------------------------------------------------- decided cards


@pytest.mark.parametrize(
    ("status", "resolution", "expect"),
    [
        (RequirementStatus.APPROVED, {}, "Approved"),
        (RequirementStatus.REJECTED, {"note": "too much"}, "Reason:* `too much`"),
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


# --------------------------------------------------------------------------- the approval boundary on Slack

FORGED_APPROVAL = "*:white_check_mark: Approved by admin*"
PAYLOADS = [
    "<!channel> urgent",
    "ping <@U999>",
    "<https://evil.example|click here>",
    f"x` {FORGED_APPROVAL} `y",
    f"a\n```\n{FORGED_APPROVAL}\n```\nb",
    "invoice\u202efdp.exe",
    "zero\u200bwidth\u2066joiner\u2069",
]


TEXT_TYPES = ("mrkdwn", "plain_text")


def _walk(obj: Any, mrkdwn_only: bool) -> list[str]:
    """Every text a person is shown (``mrkdwn`` only, or ``plain_text`` and pre-filled inputs too)."""
    out: list[str] = []
    if isinstance(obj, dict):
        if isinstance(obj.get("text"), str) and obj.get("type") in (("mrkdwn",) if mrkdwn_only else TEXT_TYPES):
            out.append(obj["text"])
        if not mrkdwn_only and isinstance(obj.get("initial_value"), str):
            out.append(obj["initial_value"])
        for value in obj.values():
            out.extend(_walk(value, mrkdwn_only))
    elif isinstance(obj, list):
        for value in obj:
            out.extend(_walk(value, mrkdwn_only))
    return out


def outside_code(text: str) -> str:
    """What Slack would format in ``text``: everything but its code blocks and code spans."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", " ", text)


def assert_inert(text: str | None, payload: Any) -> None:
    """Neither a mention, a link, formatting outside code, nor an invisible character, anywhere."""
    formatted = [text] if text is not None else []
    formatted += _walk(payload, mrkdwn_only=True)
    for value in formatted:
        assert "<!channel>" not in value and "<@U999>" not in value and "<https://evil" not in value, value
        assert FORGED_APPROVAL not in outside_code(value), value
    everything = [*formatted, *_walk(payload, mrkdwn_only=False)]
    for value in everything:
        for invisible in ("\u202e", "\u200b", "\u2066", "\u2069"):
            assert invisible not in value, repr(value)


def decided(**changes: Any) -> RequirementRecord:
    values: dict[str, Any] = {
        "status": RequirementStatus.REJECTED,
        "resolved_by": "U_BOB",
        "resolved_by_name": "bob",
        "resolved_at": NOW,
    }
    return make_req(**(values | changes))


@pytest.mark.parametrize("evil", PAYLOADS)
def test_model_and_user_strings_are_inert_in_text_and_blocks(evil: str) -> None:
    # in a tool argument (its value and its name), and in the model's reason
    req = make_req(tool_args={"customer_id": evil, evil: "v", "reason": evil * 3}, message=evil)
    run = make_run(target_name=evil, requester_name=evil)
    for text, blocks in (cards.requirement_card(run, req), cards.decided_card(run, decided(tool_args=req.tool_args))):
        ok(text, blocks)
        assert_inert(text, blocks)
    text, blocks = cards.approvals_message([(req, run, "https://x/p")])
    assert_inert(text, ok(text, blocks))
    view = modals.full_arguments(req, meta())
    assert_inert(None, view)
    assert unrender(read_all_pages(req)) == json.dumps(req.tool_args, indent=2, ensure_ascii=False)
    for view in (modals.reject_modal(req, meta()), modals.done_modal(req, meta())):
        assert_inert(None, view)
    # the team member, the reject note, the answer, the edited arguments, the result
    member = make_req(member_agent_name=evil, tool_args={"q": "1"})
    assert_inert(*cards.requirement_card(make_run(kind="team"), member))
    for resolution in (
        {"note": evil},
        {"values": {"city": evil}},
        {"edited_args": {"customer_id": evil}, "note": evil},
        {"result": evil},
    ):
        text, blocks = cards.decided_card(run, decided(resolution=resolution))
        assert_inert(text, ok(text, blocks))
    # a workflow checkpoint's output and step name, the run's answer, failure, prompt and cancellation
    step = step_req(evil * 500, tool_name=evil)
    flow = make_run(**WORKFLOW_RUN)
    assert_inert(*cards.requirement_card(flow, step))
    thread = cards.step_output_message(flow, step)
    assert thread is not None
    assert_inert(*thread)
    assert_inert(None, modals.full_arguments(step, meta()))
    for text, blocks in (
        cards.answer_message(make_run(target_name=evil, content=evil)),
        cards.failure_message(make_run(target_name=evil, error=evil, error_kind=evil)),
        cards.root_with_run("U_ALICE", evil, evil, "run1"),
        cards.cancelled_message(make_run(target_name=evil, content=evil)),
        cards.retried_message(make_run(target_name=evil, error=evil), "U_BOB"),
        cards.status_message(make_run(target_name=evil, input=evil, content=evil, status=RunStatus.COMPLETED), []),
        cards.targets_message([(evil, "agent", evil)]),
    ):
        assert_inert(text, ok(text, blocks))
    # an input request's message and field names; refusals quoting a name or an id
    schema = [{"name": evil, "field_type": "str", "description": evil}]
    ask = make_req(kind=RequirementKind.USER_INPUT, tool_args={}, user_input_schema=schema, message=evil)
    assert_inert(*cards.requirement_card(run, ask))
    assert_inert(None, modals.input_modal(ask, meta()))
    assert_inert(refusal_text(AlreadyDecided("r", "approved", evil, NOW)), [])
    assert_inert(refusal_text(NotFound("run", evil)), [])
    assert_inert(refusal_text(InvalidDecision(evil)), [])


def test_a_backtick_cannot_close_the_code_span_of_the_approvals_list() -> None:
    req = make_req(tool_args={"q": f"x` {FORGED_APPROVAL} `y"})
    _, blocks = cards.approvals_message([(req, make_run(), None)])
    line = blocks[1]["text"]["text"]
    assert FORGED_APPROVAL not in outside_code(line)
    assert "`process_refund(q=x\u02cb *:white_check_mark: Approved by admin* \u02cby)`" in line


def test_invisible_characters_are_shown_visibly() -> None:
    req = make_req(tool_args={"file": "invoice\u202efdp.exe", "name": "ad\u200bmin"})
    text, blocks = cards.requirement_card(make_run(), req)
    body = json.dumps(blocks, ensure_ascii=False)
    assert "invoice\u27e6U+202E\u27e7fdp.exe" in body and "ad\u27e6U+200B\u27e7min" in body
    assert "invoice\u27e6U+202E\u27e7fdp.exe" in text


# --------------------------------------------------------------------------- masking on every surface

SECRET_VALUES = ("4111111111111111", "hunter2", "sk-live-123")


def assert_masked(*things: Any) -> None:
    dumped = json.dumps(things, ensure_ascii=False)
    for secret in SECRET_VALUES:
        assert secret not in dumped
    assert MASK in dumped


@tool(requires_confirmation=True, sensitive_fields=["card_number"])
def charge(customer_id: str, card_number: str, amount: float, password: str = "", note: str = "") -> str:
    """Charge a card."""
    return "ok"


def secret_req(**changes: Any) -> RequirementRecord:
    args = {"customer_id": "42", "card_number": "4111111111111111", "amount": 5.0, "password": "hunter2"}
    values: dict[str, Any] = {"tool_name": "charge", "tool_args": args, "sensitive_fields": ["card_number"]}
    return make_req(**(values | changes))


def test_declared_and_secret_looking_fields_are_masked_everywhere() -> None:
    req = secret_req()
    text, blocks = cards.requirement_card(make_run(), req)  # the declared set stored with the request
    assert_masked(text, ok(text, blocks))
    assert "`42`" in all_text(blocks)  # the rest is shown
    edited = {"edited_args": dict(req.tool_args) | {"password": "sk-live-123"}, "original_args": req.tool_args}
    text, blocks = cards.decided_card(make_run(), decided(tool_args=req.tool_args, resolution=edited))
    assert_masked(text, ok(text, blocks))
    assert_masked(*cards.approvals_message([(req, make_run(), None)]))
    assert_masked(read_all_pages(req))
    # undeclared in the request, declared by the tool now: still masked
    fresh = secret_req(sensitive_fields=[])
    options = notifier.card_options(fresh, charge)
    assert options["declared"] == ["card_number"] and options["editable"] is True
    text, blocks = cards.requirement_card(make_run(), fresh, **options)
    assert_masked(text, blocks)
    assert_masked(read_all_pages(fresh, options["declared"]))


def test_password_like_names_are_masked_even_when_not_declared() -> None:
    req = make_req(tool_args={"user": "bob", "password": "hunter2", "api_key": "sk-live-123", "auth": {"x": 1}})
    text, blocks = cards.requirement_card(make_run(), req)
    assert_masked(text, blocks)
    assert_masked(read_all_pages(req))
    assert "`bob`" in all_text(blocks)


def test_unknown_sensitivity_and_no_tool_masks_every_value() -> None:
    req = make_req(sensitive_fields=None, tool_args={"customer_id": "ZZ-42", "amount": 120.5, "reason": "ZZ-late"})
    assert notifier.card_options(req, None) == {"editable": False, "declared": None}
    text, blocks = cards.requirement_card(make_run(), req, editable=False)
    shown = json.dumps([text, blocks, read_all_pages(req), cards.approvals_message([(req, make_run(), None)])])
    assert "ZZ-42" not in shown and "120.5" not in shown and "ZZ-late" not in shown
    assert "customer_id" in shown and MASK in shown  # the names stay, so a person sees what there is
    assert cards.EDIT not in action_ids(blocks)
    done = decided(sensitive_fields=None, tool_args=req.tool_args, resolution={"values": {"pin": "ZZ-42"}})
    assert "ZZ-42" not in json.dumps(cards.decided_card(make_run(), done))
    # a workflow checkpoint has no tool to declare anything: its output is shown
    step = step_req("the report", sensitive_fields=None)
    assert "the report" in all_text(cards.requirement_card(make_run(**WORKFLOW_RUN), step)[1])


def test_the_edit_modal_never_prefills_a_sensitive_value() -> None:
    req = secret_req(tool_args=secret_req().tool_args | {"note": {"token": "sk-live-123", "x": 1}})
    view = modals.edit_modal(req, charge.parameters, meta(), charge.sensitive_fields)
    assert not validate_view(view), validate_view(view)
    assert_masked(view["blocks"]) if MASK in json.dumps(view) else None
    for secret in SECRET_VALUES:
        assert secret not in json.dumps(view)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    for name in ("card_number", "password", "note"):  # declared, secret-looking, holding a secret
        block = inputs[f"arg:{name}"]
        assert "initial_value" not in block["element"] and block["optional"] is True
        assert block["hint"]["text"] == modals.SENSITIVE_HINT
    assert inputs["arg:customer_id"]["element"]["initial_value"] == "42"
    state = {
        "arg:customer_id": {"value": {"type": "plain_text_input", "value": "43"}},
        "arg:card_number": {"value": {"type": "plain_text_input", "value": None}},
        "arg:password": {"value": {"type": "plain_text_input", "value": ""}},
        "arg:amount": {"value": {"type": "number_input", "value": "5"}},
    }
    edited = modals.parse_edit(state, charge.parameters, modals.editable_fields(req, charge.parameters))
    assert edited == {"customer_id": "43", "amount": 5.0}  # the empty sensitive fields keep their values
    state["arg:password"] = {"value": {"type": "plain_text_input", "value": "new-pass"}}
    assert modals.parse_edit(state, charge.parameters)["password"] == "new-pass"  # a new one can be typed


# --------------------------------------------------------------------------- what you approve is what you saw

BIG = 400_000


def big_body() -> str:
    # every kind of character that is escaped, marked or replaced, spread over the whole value
    unit = "line & <b>`tick`</b> \u202e \u200b \u02cb \u27e6 \u00e9\n"
    return (unit * (BIG // len(unit) + 1))[:BIG]


def test_a_400000_character_argument_can_be_read_whole_across_the_pages() -> None:
    args = {"customer_id": "42", "subject": "Hi", "body": big_body()}
    req = make_req(tool_name="send_customer_email", tool_args=args)
    title, full = modals.full_rendering(req)
    assert title == "Full arguments"
    pages = modals.full_pages(full)
    assert len(pages) > 1 and sum(len(s) for p in pages for s in p) == len(full)
    read = read_all_pages(req)
    assert read == full  # every character of the escaped, masked JSON, once, in order
    assert unrender(read) == json.dumps(args, indent=2, ensure_ascii=False)
    first = modals.full_arguments(req, meta())
    assert "Page 1 of" in first["blocks"][0]["elements"][1]["text"]
    assert f"of {len(full):,}" in first["blocks"][0]["elements"][1]["text"]
    assert list(nav_values(first)) == ["Next \u203a"] and first["title"]["text"].startswith("Full arguments 1/")
    last = modals.full_arguments(req, meta(), page=99)  # clamped
    assert list(nav_values(last)) == ["\u2039 Previous"] and f"Page {len(pages)} of" in json.dumps(last)
    assert modals.full_arguments(req, meta(), page=-3)["blocks"] == first["blocks"]
    # the card says it is cut and offers the full view; the edit modal does not offer the value
    text, blocks = cards.requirement_card(make_run(), req)
    assert cards.VIEW_ARGS in action_ids(ok(text, blocks))
    view = modals.edit_modal(req, send_customer_email.parameters, meta())
    assert not validate_view(view), validate_view(view)
    View(**view).validate_json()
    assert "arg:body" not in elements(view) and elements(view)["arg:subject"]["initial_value"] == "Hi"
    assert "`body` is 400,000 characters, too long to edit here: it is kept exactly as is" in json.dumps(view)
    assert all(len(e.get("initial_value", "")) <= 3000 for e in elements(view).values())
    state = {
        "arg:subject": {"value": {"type": "plain_text_input", "value": "Hello"}},
        "arg:body": {"value": {"type": "plain_text_input", "value": "forged, never offered"}},
    }
    offered = modals.editable_fields(req, send_customer_email.parameters)
    assert offered == ["customer_id", "subject"]
    assert modals.parse_edit(state, send_customer_email.parameters, offered) == {"subject": "Hello"}


def test_no_edit_button_when_nothing_can_be_edited() -> None:
    @tool(requires_confirmation=True)
    def publish(body: str) -> str:
        """Publish a document."""
        return "ok"

    long = make_req(tool_name="publish", tool_args={"body": "x" * 3001})
    options = notifier.card_options(long, publish)
    assert options == {"editable": False, "declared": []}
    assert cards.EDIT not in action_ids(cards.requirement_card(make_run(), long, **options)[1])
    hidden = make_req(tool_name="publish", tool_args={"body": "pay \u202e evil"})  # an input would hide it
    assert notifier.card_options(hidden, publish)["editable"] is False
    assert "invisible or control characters" in json.dumps(modals.edit_modal(hidden, publish.parameters, meta()))
    short = make_req(tool_name="publish", tool_args={"body": "x" * 3000})
    assert notifier.card_options(short, publish)["editable"] is True
    assert elements(modals.edit_modal(short, publish.parameters, meta()))["arg:body"]["initial_value"] == "x" * 3000


def test_button_values_bind_a_click_to_the_arguments_shown() -> None:
    assert cards.parse_action_value("req1|abc") == ("req1", "abc")
    assert cards.parse_action_value("req1") == ("req1", None)
    assert cards.parse_action_value("req1|") == ("req1", None)
    assert cards.parse_action_value(None) == ("", None)
    assert cards.parse_action_value(12) == ("12", None)
    ident, seen = cards.parse_action_value("r" * 5000 + "|" + "h" * 5000)
    assert len(ident) <= 64 and seen is None  # the separator was beyond what is read
    ident, seen = cards.parse_action_value("r" * 100 + "|" + "h" * 100)
    assert (len(ident), len(seen or "")) == (64, 64)
    assert cards.parse_page_value("req1|3") == ("req1", 3)
    for bad in ("req1|x", "req1|-4", "req1", "", "req1|0"):
        assert cards.parse_page_value(bad)[1] == 1
    assert cards.parse_page_value("req1|99999999999") == ("req1", 1_000_000)


def test_metadata_carries_the_hash_the_modal_was_opened_on() -> None:
    with_hash = modals.Metadata("req1", "C_OPS", "1.2", "a" * 64)
    assert modals.Metadata.load(with_hash.dump()) == with_hash
    assert modals.Metadata.load('{"r": "req1"}').args_hash is None  # an older modal
    assert modals.Metadata.load('{"r": "req1", "h": 5}').args_hash is None


def test_a_proposed_edit_is_what_the_card_shows_and_binds() -> None:
    proposed = {"customer_id": "42", "amount": 90.0, "reason": "partial"}
    req = make_req(approval_type="required", quorum=2, proposed_args=proposed, proposed_hash="p" * 64)
    text, blocks = cards.requirement_card(make_run(), req, votes=1)
    ok(text, blocks)
    body = all_text(blocks)
    assert "`90.0`" in body and "`120.0`" not in body and "amount=90.0" in text
    assert cards.EDITED_BY_REVIEWER in body and "1 of 2 approvals for these arguments" in body
    buttons = {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert cards.parse_action_value(buttons[cards.APPROVE]["value"]) == ("req1", "p" * 64)
    assert "amount&quot;" not in read_all_pages(req) and '"amount": 90.0' in unrender(read_all_pages(req))
    view = modals.edit_modal(req, process_refund.parameters, meta())
    assert elements(view)["arg:amount"]["initial_value"] == "90.0"
    assert cards.EDITED_BY_REVIEWER[:20] in json.dumps(view)


@pytest.mark.parametrize("unit", ['"', "\U0001f600", "\u4e2d", "&", "\u202e", "x"])
def test_a_click_on_any_page_fits_in_a_request(unit: str) -> None:
    """Slack sends the whole view back with a Previous / Next click: it must pass the body limit."""
    req = make_req(tool_args={"body": unit * 100_000})
    pages = modals.full_pages(modals.full_rendering(req)[1])
    for page in range(1, len(pages) + 1):
        view = modals.full_arguments(req, meta(), page=page)
        assert not validate_view(view), validate_view(view)
        body = urlencode({"payload": json.dumps({"type": "block_actions", "view": view})})
        assert len(body) < MAX_REQUEST_BODY_BYTES
    assert unrender(read_all_pages(req)) == json.dumps({"body": unit * 100_000}, indent=2, ensure_ascii=False)


def test_the_approvals_list_says_how_many_it_shows() -> None:
    items = [(make_req(id=f"r{i}"), make_run(), None) for i in range(60)]
    text, blocks = cards.approvals_message(items, total=61)
    ok(text, blocks)
    listed = [b for b in blocks if b["type"] == "section" and "process_refund" in b["text"]["text"]]
    assert len(blocks) <= 50 and text == "61 decisions waiting for you"
    assert f"Showing {len(listed)} of 61" in all_text(blocks) and f"and {61 - len(listed)} more" in all_text(blocks)
    text, blocks = cards.approvals_message(items[:3], total=3)
    assert "Showing" not in all_text(blocks) and "more" not in all_text(blocks)


# --------------------------------------------------------------------------- workflow output review and routes


def _summarize(text: str) -> str:
    return text


REVIEW_FLOW = Workflow(id="review-flow", steps=[Step(name="Summarize", executor=_summarize,
                                                      requires_output_review=True)])
REVIEW_FN = REVIEW_FLOW.lookup(None, "Summarize")


def review_req(output: str, **changes: Any) -> RequirementRecord:
    values: dict[str, Any] = {
        "kind": RequirementKind.STEP_OUTPUT_REVIEW,
        "tool_name": "Summarize",
        "tool_call_id": None,
        "tool_args": {"output": output},
        "message": "Check the summary before it is sent.",
    }
    return make_req(**(values | changes))


def review_card(req: RequirementRecord) -> tuple[str, list[dict[str, Any]]]:
    """The card as the notifier builds it: editable as the review's Function says."""
    run = make_run(**WORKFLOW_RUN)
    text, blocks = cards.requirement_card(run, req, **notifier.card_options(req, REVIEW_FN))
    return text, ok(text, blocks)


def test_output_review_card_has_approve_reject_edit() -> None:
    assert REVIEW_FN is not None
    req = review_req("Revenue rose 4% <b>&</b> costs fell.")
    text, blocks = review_card(req)
    body = all_text(blocks)
    assert ":mag: Review a step's output" in body and "*Step:* `Summarize`" in body
    assert "> Check the summary before it is sent." in body
    assert "*Output to review:*" in body and "&lt;b&gt;&amp;&lt;/b&gt;" in body
    buttons = {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert list(buttons) == [cards.APPROVE, cards.REJECT, cards.EDIT]  # short: nothing more to view
    assert buttons[cards.APPROVE]["value"] == f"req1|{req.current_hash}"
    assert buttons[cards.EDIT]["text"]["text"] == "Edit" and buttons[cards.EDIT]["value"] == "req1"
    assert text.startswith("*Data pipeline* asks for a review: the output of step `Summarize`.")
    assert cards.step_output_message(make_run(**WORKFLOW_RUN), req) is None


def test_output_review_edit_modal_holds_the_whole_output() -> None:
    assert REVIEW_FN is not None
    output = "Line one\n" + "word " * 500  # 2,509 characters: one input holds it whole
    req = review_req(output)
    view = modals.edit_modal(req, REVIEW_FN.parameters, modals.Metadata("req1", "C_OPS", "1.2", req.current_hash))
    assert not validate_view(view), validate_view(view)
    View(**view).validate_json()
    assert view["title"]["text"] == "Edit the output" and view["submit"]["text"] == "Approve"
    box = elements(view)["arg:output"]
    assert box["type"] == "plain_text_input" and box["multiline"] is True
    assert box["initial_value"] == output  # every character
    assert "exactly what flows on" in all_text(view["blocks"])
    assert modals.Metadata.load(view["private_metadata"]).args_hash == req.current_hash
    edited = "  A shorter summary.\n"
    state = {"arg:output": {modals.VALUE: {"type": "plain_text_input", "value": edited}}}
    offered = modals.editable_fields(req, REVIEW_FN.parameters, [])
    assert modals.parse_edit(state, REVIEW_FN.parameters, offered) == {"output": edited}  # kept exactly


@pytest.mark.parametrize("output", ["x" * 10_000, "ok\u200b hidden"], ids=["10000-chars", "invisible"])
def test_output_review_not_editable_when_an_input_cannot_hold_it(output: str) -> None:
    assert REVIEW_FN is not None
    req = review_req(output)
    assert not notifier.card_options(req, REVIEW_FN)["editable"]
    _, blocks = review_card(req)
    assert cards.EDIT not in action_ids(blocks)  # never offers a value it cannot hold whole
    assert cards.NOT_EDITABLE_OUTPUT[:40] in all_text(blocks)
    if len(output) > cards.STEP_OUTPUT_PREVIEW_CHARS:
        body = all_text(blocks)
        assert "of 10,000 characters" in body and len(body) < 6000
        assert action_ids(blocks) == [cards.APPROVE, cards.REJECT, cards.VIEW_ARGS]
        thread = cards.step_output_message(make_run(**WORKFLOW_RUN), req)
        assert thread is not None
        ok(*thread)
        assert "Output of *Summarize*, for review" in thread[1][0]["text"]["text"]
        code = "".join(b["text"]["text"][3:-3] for b in thread[1][1:] if b["type"] == "section")
        assert code == output  # whole in the thread
        assert unrender(read_all_pages(req)) == output  # and behind "View full output"


def test_output_review_decided_cards() -> None:
    run = make_run(**WORKFLOW_RUN)
    edited = review_req(
        "draft", status=RequirementStatus.APPROVED, resolved_by="U_BOB", resolved_by_name="bob", resolved_at=NOW,
        resolution={"edited_args": {"output": "final <text>"}, "original_args": {"output": "draft"}},
    )
    text, blocks = cards.decided_card(run, edited)
    ok(text, blocks)
    assert "Edited and approved* by <@U_BOB>" in all_text(blocks) and "*Edited output:* `final &lt;text&gt;`" in \
        all_text(blocks)
    assert text.startswith("Edited and approved: the output of step `Summarize`")
    rejected = review_req("draft", status=RequirementStatus.REJECTED, resolved_by="U_BOB", resolved_at=NOW,
                          resolution={"note": "too vague"})
    text, blocks = cards.decided_card(run, rejected)
    ok(text, blocks)
    assert "*Rejected* by <@U_BOB>" in all_text(blocks) and "*Note:* `too vague`" in all_text(blocks)


ROUTES = ["quick_analysis", "deep_analysis", "escalate_to_a_human"]


def route_req(choices: list[str], field_type: str = "str", **changes: Any) -> RequirementRecord:
    values: dict[str, Any] = {
        "kind": RequirementKind.STEP_ROUTE_SELECTION,
        "tool_name": "Analysis router",
        "tool_call_id": None,
        "tool_args": {"previous_output": "Ticket 77: the export is slow."},
        "message": "Which analysis should run?",
        "user_input_schema": [{"name": "route", "field_type": field_type, "description": "The route to take",
                               "required": True, "choices": choices, "value": None}],
    }
    return make_req(**(values | changes))


def test_route_selection_card_lists_the_choices() -> None:
    run = make_run(**WORKFLOW_RUN)
    text, blocks = cards.requirement_card(run, route_req(ROUTES))
    ok(text, blocks)
    body = all_text(blocks)
    assert ":twisted_rightwards_arrows: Choose a route" in body and "*Step:* `Analysis router`" in body
    assert "> Which analysis should run?" in body and "Ticket 77: the export is slow." in body
    assert "*Choices for `route`* (pick one): `quick_analysis`, `deep_analysis`, `escalate_to_a_human`" in body
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["text"]["text"]) for e in buttons] == [(cards.INPUT, "Choose")]
    assert "reply in this thread with the name of your choice" in body
    assert text.startswith("*Data pipeline* asks which route to take: step `Analysis router`.")
    _, several = cards.requirement_card(run, route_req(ROUTES, "list"))
    assert "(one or more)" in all_text(several) and "separated by commas" in all_text(several)


def test_route_selection_modal_selects_exact_values() -> None:
    long_route = "route_" + "x" * 120  # display text cut to 75, the value exact
    req = route_req([*ROUTES, long_route])
    view = modals.input_modal(req, meta())
    assert not validate_view(view), validate_view(view)
    View(**view).validate_json()
    assert view["title"]["text"] == "Choose"
    select = elements(view)["field:route"]
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == [*ROUTES, long_route]
    assert len(select["options"][-1]["text"]["text"]) == 75
    state = {"field:route": {modals.VALUE: {"type": "static_select", "selected_option": select["options"][-1]}}}
    assert modals.parse_input(state, req.user_input_schema) == {"route": long_route}

    several = route_req(ROUTES, "list", user_input_schema=[
        route_req(ROUTES, "list").user_input_schema[0] | {"value": ["deep_analysis"]}])
    view = modals.input_modal(several, meta())
    assert not validate_view(view), validate_view(view)
    View(**view).validate_json()
    multi = elements(view)["field:route"]
    assert multi["type"] == "multi_static_select" and multi["initial_options"][0]["value"] == "deep_analysis"
    picked = [multi["options"][0], multi["options"][2]]
    state = {"field:route": {modals.VALUE: {"type": "multi_static_select", "selected_options": picked}}}
    assert modals.parse_input(state, several.user_input_schema) == {"route": ["quick_analysis", "escalate_to_a_human"]}


def test_more_choices_than_a_menu_holds() -> None:
    many = [f"region_{i:03d}" for i in range(150)]
    req = route_req(many, "list")
    text, blocks = cards.requirement_card(make_run(**WORKFLOW_RUN), req)
    ok(text, blocks)
    body = all_text(blocks)
    assert "150 choices, more than a menu holds: reply in this thread" in body
    assert "`region_000`" in body and "`region_149`" in body  # all listed
    view = modals.input_modal(req, meta())
    assert not validate_view(view), validate_view(view)
    box = elements(view)["field:route"]
    assert box["type"] == "plain_text_input" and "type names separated by commas" in \
        next(b for b in view["blocks"] if b.get("block_id") == "field:route")["hint"]["text"]
    state = {"field:route": {modals.VALUE: {"type": "plain_text_input", "value": " region_001, region_149 "}}}
    assert modals.parse_input(state, req.user_input_schema) == {"route": ["region_001", "region_149"]}
    huge = route_req([f"choice_{i}_" + "y" * 150 for i in range(100)])  # each too long for an option value
    text, blocks = cards.requirement_card(make_run(**WORKFLOW_RUN), huge)
    ok(text, blocks)
    sections = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert re.search(r"…and \d+ more\.", sections) and cards.INPUT in action_ids(blocks)
    assert "100 choices, more than a menu holds" in all_text(blocks)


def test_any_input_field_with_choices_is_a_select() -> None:
    req = make_req(kind=RequirementKind.USER_INPUT, user_input_schema=[
        {"name": "city", "field_type": "str"},
        {"name": "tier", "field_type": "str", "choices": ["gold", "silver"], "value": "silver"},
    ])
    view = modals.input_modal(req, meta())
    assert not validate_view(view), validate_view(view)
    els = elements(view)
    assert els["field:city"]["type"] == "plain_text_input"
    assert els["field:tier"]["type"] == "static_select" and els["field:tier"]["initial_option"]["value"] == "silver"


def test_thread_reply_for_a_choice() -> None:
    one = route_req(ROUTES, id="a")
    assert match_reply([one], "deep_analysis") == ("a", {"route": "deep_analysis"})
    assert match_reply([one], "route: quick_analysis") == ("a", {"route": "quick_analysis"})
    several = route_req(ROUTES, "list", id="b")
    assert match_reply([several], "quick_analysis, deep_analysis") == ("b", {"route": ["quick_analysis",
                                                                                       "deep_analysis"]})


def test_step_error_card_offers_its_choices() -> None:
    req = make_req(
        kind=RequirementKind.STEP_ERROR, tool_name="Load", tool_call_id=None,
        tool_args={"error": "connection reset <by peer>", "error_type": "ConnectionError"},
        message="Step 'Load' failed: connection reset. Retry it, or skip it and go on?",
        user_input_schema=[{"name": "decision", "field_type": "str", "choices": ["retry", "skip"],
                            "description": "retry the step, or skip it and go on", "required": True}],
    )
    text, blocks = cards.requirement_card(make_run(**WORKFLOW_RUN), req)
    ok(text, blocks)
    body = all_text(blocks)
    assert ":x: A step failed: retry or skip" in body and "*Step:* `Load`" in body
    assert "connection reset &lt;by peer&gt;" in body and "*Choices for `decision`* (pick one): `retry`, `skip`" in body
    assert action_ids(blocks) == [cards.INPUT]
    assert match_reply([req], "retry") == ("req1", {"decision": "retry"})
    view = modals.input_modal(req, meta())
    assert not validate_view(view), validate_view(view)
    assert [o["value"] for o in elements(view)["field:decision"]["options"]] == ["retry", "skip"]


@pytest.mark.parametrize("kind", list(RequirementKind))
def test_every_kind_of_request_has_a_card(kind: RequirementKind) -> None:
    """A kind the cards do not know would fail to post (a KeyError in the worker): none is left out."""
    req = make_req(kind=kind, user_input_schema=[{"name": "value", "field_type": "str"}])
    run = make_run(**WORKFLOW_RUN)
    ok(*cards.requirement_card(run, req))
    decided = make_req(kind=kind, status=RequirementStatus.REJECTED, resolved_by="U_BOB", resolved_at=NOW)
    ok(*cards.decided_card(run, decided))
    ok(*cards.status_message(run, [req]))
    ok(*cards.approvals_message([(req, run, None)]))
