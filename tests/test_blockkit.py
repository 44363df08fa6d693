"""tests.blockkit catches each Slack limit and lets a valid message through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.slack import cards, modals
from runner.examples import send_customer_email
from storage.records import RequirementKind, RequirementRecord, RequirementStatus, RunRecord, RunStatus
from tests.blockkit import truncate, validate_message, validate_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hi", **kw: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **kw}


def button(text: str = "Approve", value: str = "v", action_id: str = "approve") -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "value": value, "action_id": action_id}


def actions(*elements: dict[str, Any], block_id: str = "acts") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def text_input(**kw: Any) -> dict[str, Any]:
    return {"type": "plain_text_input", "action_id": "text", **kw}


def input_block(element: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": "in", "label": plain("Reason")}
    block["element"] = element or text_input()
    block.update(kw)
    return block


def option(text: str = "one", value: str = "1") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def modal(**kw: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "reject",
        "title": plain("Reject"),
        "submit": plain("Reject"),
        "close": plain("Cancel"),
        "private_metadata": "{}",
        "blocks": [input_block()],
    }
    view.update(kw)
    return view


def approval_card() -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": plain("Approval needed: process_refund")},
        section("*finance* wants to run `process_refund`", block_id="why"),
        {
            "type": "section",
            "block_id": "args",
            "fields": [mrkdwn("*customer_id*\n42"), mrkdwn("*amount*\n120.0")],
        },
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn("requested by <@U_ALICE>")]},
        actions(
            {**button("Approve", "r1", "approve"), "style": "primary"},
            {**button("Reject", "r1", "reject"), "style": "danger"},
            button("Edit & approve", "r1", "edit"),
        ),
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "note"}]}
            ],
        },
        {"type": "image", "image_url": "https://example.com/x.png", "alt_text": "chart"},
        section(
            "pick one",
            block_id="pick",
            accessory={
                "type": "static_select",
                "action_id": "choose",
                "placeholder": plain("Choose"),
                "options": [option("a", "a"), option("b", "b")],
            },
        ),
    ]


def test_valid_message_passes() -> None:
    assert validate_message(approval_card(), text="Approval needed") == []


def test_valid_modal_passes() -> None:
    assert validate_view(modal()) == []


def assert_problem(problems: list[str], *fragments: str) -> None:
    assert problems, "expected a problem"
    joined = "\n".join(problems)
    for fragment in fragments:
        assert fragment in joined, joined


@pytest.mark.parametrize(
    ("blocks", "text", "fragments"),
    [
        ([section()] * 51, None, ("/blocks", "at most 50 blocks")),
        (None, "x" * 40_001, ("/text", "40000")),
        ([section("x" * 3001)], None, ("/blocks/0/text/text", "3000", "3001")),
        ([section("")], None, ("/blocks/0/text/text", "more than 0")),
        ([{"type": "section"}], None, ("text or fields",)),
        ([{"type": "section", "fields": [mrkdwn("f")] * 11}], None, ("/blocks/0/fields", "10")),
        ([{"type": "section", "fields": [mrkdwn("f" * 2001)]}], None, ("/fields/0/text", "2000")),
        ([{"type": "header", "text": plain("h" * 151)}], None, ("/blocks/0/text/text", "150")),
        ([{"type": "header", "text": mrkdwn("h")}], None, ("/blocks/0/text/type", "plain_text")),
        ([{"type": "context", "elements": [mrkdwn("c")] * 11}], None, ("/elements", "10")),
        ([actions(*[button(action_id=f"a{i}") for i in range(26)])], None, ("/elements", "25")),
        ([actions(button("b" * 76))], None, ("/elements/0/text/text", "75")),
        ([actions({**button(), "text": mrkdwn("Go")})], None, ("/elements/0/text/type",)),
        ([actions(button(value="v" * 2001))], None, ("/elements/0/value", "2000")),
        ([actions(button(action_id="a" * 256))], None, ("/elements/0/action_id", "255")),
        ([section(block_id="b" * 256)], None, ("/blocks/0/block_id", "255")),
        ([actions(button(action_id="x"), button(action_id="x"))], None, ("duplicate action_id",)),
        ([section(block_id="s"), section(block_id="s")], None, ("duplicate block_id", "/blocks/1")),
        ([{"type": "input", "element": text_input()}], None, ("/blocks/0/label", "required")),
        ([{"type": "input", "label": plain("L")}], None, ("/blocks/0/element", "required")),
        ([input_block(label=plain("l" * 2001))], None, ("/blocks/0/label/text", "2000")),
        ([input_block(text_input(max_length=3001))], None, ("/element/max_length", "3000")),
        ([input_block(text_input(initial_value="i" * 3001))], None, ("/initial_value", "3000")),
        (
            [
                input_block(
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option(value=str(i)) for i in range(101)],
                    }
                )
            ],
            None,
            ("/element/options", "100"),
        ),
        (
            [
                input_block(
                    {"type": "static_select", "action_id": "s", "options": [option(text="o" * 76)]}
                )
            ],
            None,
            ("/element/options/0/text/text", "75"),
        ),
        (
            [
                input_block(
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option(value="v" * 151)],
                    }
                )
            ],
            None,
            ("/element/options/0/value", "150"),
        ),
        ([{"type": "video"}], None, ("/blocks/0/type", "unknown block type 'video'")),
        ([actions({"type": "flying_carpet", "action_id": "x"})], None, ("unknown element",)),
    ],
)
def test_each_message_limit_is_caught(
    blocks: list[dict[str, Any]] | None, text: str | None, fragments: tuple[str, ...]
) -> None:
    assert_problem(validate_message(blocks, text=text), *fragments)


def test_limits_are_inclusive() -> None:
    blocks = [
        section("x" * 3000, block_id="a" * 255),
        {"type": "header", "text": plain("h" * 150)},
        actions(*[button("b" * 75, "v" * 2000, f"a{i}") for i in range(25)]),
        {"type": "section", "fields": [mrkdwn("f" * 2000)] * 10},
    ] + [{"type": "divider"}] * 46
    assert len(blocks) == 50
    assert validate_message(blocks, text="t" * 40_000) == []


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"title": plain("t" * 25)}, ("/view/title/text", "24")),
        ({"title": mrkdwn("t")}, ("/view/title/type",)),
        ({"submit": plain("s" * 25)}, ("/view/submit/text", "24")),
        ({"close": plain("c" * 25)}, ("/view/close/text", "24")),
        ({"private_metadata": "m" * 3001}, ("/view/private_metadata", "3000")),
        ({"callback_id": "c" * 256}, ("/view/callback_id", "255")),
        ({"blocks": [{"type": "divider"}] * 101}, ("/view/blocks", "at most 100")),
        ({"submit": None}, ("/view/submit", "input block")),
        ({"type": "popup"}, ("/view/type",)),
        ({"blocks": [input_block(), input_block()]}, ("duplicate block_id",)),
        ({"blocks": [input_block(label=plain(""))]}, ("/view/blocks/0/label/text",)),
    ],
)
def test_each_view_limit_is_caught(changes: dict[str, Any], fragments: tuple[str, ...]) -> None:
    assert_problem(validate_view(modal(**changes)), *fragments)


def test_modal_accepts_100_blocks() -> None:
    blocks = [input_block()] + [{"type": "divider"}] * 99
    assert validate_view(modal(blocks=blocks)) == []
    assert validate_message(blocks) != []  # but a message does not


def test_many_problems_are_all_reported() -> None:
    problems = validate_message([section("x" * 3001), actions(button("b" * 76))])
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("hello", 10, "hello"),
        ("hello", 5, "hello"),
        ("hello world", 8, "hello w…"),
        ("hello", 1, "…"),
        ("hello", 0, ""),
        ("hello", -3, ""),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def test_truncate_never_exceeds_limit() -> None:
    for limit in range(0, 12):
        for marker in ("", "…", "... (truncated)"):
            out = truncate("abcdefghijklmnopqrstuvwxyz", limit, marker)
            assert len(out) <= limit
    assert truncate("a" * 5000, 3000, "… (truncated)").endswith("… (truncated)")
    assert validate_message([section(truncate("x" * 9000, 3000))]) == []


# -- the builders stay within the limits whatever the text expands to -----------------------------

EXPANDING = ["&" * 5000, "\u202e" * 5000, "<" * 3000 + "\u27e6" * 3000, "`" * 4000, ("a\u200b&\n" * 3000)]


@pytest.mark.parametrize("evil", EXPANDING, ids=["amp", "bidi", "lt-marker", "backticks", "mixed"])
def test_cards_and_modals_within_limits_when_escaping_expands_the_text(evil: str) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    run = RunRecord(
        id="run1", kind="agent", target_id="a", target_name=evil, status=RunStatus.PAUSED, version=1, round=1,
        requester="U_A", requester_name=evil, input=evil, content=evil, error=evil, error_kind=evil, state={},
        channel="C", thread_ts="1.2", created_at=now, updated_at=now,
    )  # fmt: skip
    req = RequirementRecord(
        id="req1", run_id="run1", round=1, call_key="k", tool_call_id="c", kind=RequirementKind.CONFIRMATION,
        tool_name="send_customer_email", tool_args={"customer_id": evil, "subject": evil[:200], "body": evil},
        args_hash="h" * 64, member_agent_name=evil, approval_type="required", user_input_schema=[], message=evil,
        status=RequirementStatus.PENDING, resolution={}, resolved_by=None, resolved_by_name=None, resolved_at=None,
        requester="U_A", approvers=[], quorum=2, created_at=now, expires_at=None, sensitive_fields=[],
    )  # fmt: skip
    done = RequirementRecord(
        **{
            **req.__dict__,
            "status": RequirementStatus.APPROVED,
            "resolution": {"edited_args": req.tool_args, "note": evil, "values": {"x": evil}, "result": evil},
        }
    )
    for text, blocks in (
        cards.requirement_card(run, req, votes=1),
        cards.decided_card(run, done),
        cards.approvals_message([(req, run, "https://x")] * 60),
        cards.answer_message(run),
        cards.failure_message(run),
        cards.status_message(run, [req] * 30),
        cards.root_with_run("U_A", evil, evil, "run1"),
    ):
        assert validate_message(blocks, text) == []
        assert len(text) <= cards.TEXT_FALLBACK_CHARS
    meta = modals.Metadata("req1", "C", "1.2", "h" * 64)
    views = [modals.edit_modal(req, send_customer_email.parameters, meta), modals.reject_modal(req, meta)]
    views += [modals.full_arguments(req, meta, page=p) for p in (1, 2, 3)]
    for view in views:
        assert validate_view(view) == []
        View(**view).validate_json()
