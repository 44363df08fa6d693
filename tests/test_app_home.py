"""The App Home tab as an inbox (``bot.slack.home``, ``bot.slack.home_sync``).

The builder is checked alone (masking, escaping, Slack's limits, slack_sdk's ``View`` model), and
end to end through the signed harness: ``app_home_opened`` publishes the viewer's Home; a click on
Approve *from the Home* (a ``block_actions`` whose container is the view, with no message)
decides through the service; a decision made elsewhere republishes the Homes it concerns,
debounced on an injected clock.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View

from bot.slack import cards, home
from bot.slack.home_sync import HomeRefresher
from bot.slack.limits import MAX_VIEW_BLOCKS
from runner.decisions import Action
from storage.records import (
    Principal,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
    Surface,
)
from storage.redaction import MASK
from storage.timeouts import HOME_REFRESH_DEBOUNCE_S
from tests.blockkit import validate_view
from tests.fakes import signing
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    bot,
    bot_factory,
    slack,
    wait_until,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHANNEL_PING = "<!channel> pay now"


def make_run(**changes: Any) -> RunRecord:
    values: dict[str, Any] = {
        "id": "run1",
        "kind": "agent",
        "target_id": "finance",
        "target_name": "Finance <!here>",
        "status": RunStatus.PAUSED,
        "version": 3,
        "round": 1,
        "requester": "U_ALICE",
        "requester_name": "alice",
        "input": "Refund $120 to customer 42 <!channel>",
        "content": None,
        "error": None,
        "error_kind": None,
        "state": {},
        "channel": "C_OPS",
        "thread_ts": "1700000000.000100",
        "created_at": NOW - timedelta(minutes=5),
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
        "tool_args": {"customer_id": "42", "amount": 120.0, "reason": CHANNEL_PING, "api_token": "sk-live-123"},
        "args_hash": "h",
        "member_agent_name": None,
        "approval_type": "required",
        "user_input_schema": [],
        "message": "needs an admin <@U_EVIL>",
        "status": RequirementStatus.PENDING,
        "resolution": {},
        "resolved_by": None,
        "resolved_by_name": None,
        "resolved_at": None,
        "requester": "U_ALICE",
        "approvers": [],
        "quorum": 1,
        "created_at": NOW - timedelta(minutes=4),
        "expires_at": NOW + timedelta(hours=24),
        "sensitive_fields": ["customer_id"],
    }
    values.update(changes)
    return RequirementRecord(**values)


def checked(view: dict[str, Any]) -> dict[str, Any]:
    """A Home Slack would take: our validator, slack_sdk's model, the block limit, unique block ids."""
    assert view["type"] == "home"
    problems = validate_view(view)
    assert not problems, problems
    View(**view).validate_json()
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids)), "block ids must be unique in a view"
    return view


def buttons(view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """action id -> the buttons with it, anywhere in the view (actions blocks and accessories)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for block in view["blocks"]:
        elements = list(block.get("elements") or []) if block["type"] == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            out.setdefault(element["action_id"], []).append(element)
    return out


def rendered(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


# --------------------------------------------------------------------------- the builder alone


def test_home_view_masks_escapes_and_uses_the_card_buttons() -> None:
    run, req = make_run(), make_req()
    item = home.PendingItem(req, run, ["customer_id"], editable=True, thread_link="https://test.slack.com/x")
    recent = home.RecentRun(make_run(id="run2", status=RunStatus.COMPLETED), "https://test.slack.com/t", 0)
    view = checked(
        home.home_view(pending_total=1, pending=[item], runs=[recent], console="http://127.0.0.1:3000/console", now=NOW)
    )
    blob = rendered(view)
    assert "sk-live-123" not in blob  # a secret-looking name
    assert f"customer_id={MASK}" in blob and f"api_token={MASK}" in blob  # declared, and secret-looking
    assert "<!channel>" not in blob and "<!here>" not in blob and "<@U_EVIL>" not in blob
    assert "&lt;!channel&gt;" in blob
    found = buttons(view)
    (approve,) = found[cards.APPROVE]
    assert approve["value"] == cards.approve_value(req) == f"{req.id}|{req.current_hash}"
    assert [b["value"] for b in found[cards.REJECT]] == [req.id]
    assert [b["value"] for b in found[cards.EDIT]] == [req.id]
    # the same actions block as the card itself
    _, card_blocks = cards.requirement_card(
        run, req, editable=True, declared=["customer_id"], thread_link="https://test.slack.com/x"
    )
    assert next(b for b in card_blocks if b["type"] == "actions") in view["blocks"]
    links = {b["url"] for b in found[cards.OPEN_LINK]}
    assert links == {"http://127.0.0.1:3000/console", "https://test.slack.com/x", "https://test.slack.com/t"}
    assert "1 decision waiting for you" in blob and "4m ago" in blob


def test_home_view_stays_within_100_blocks_and_says_the_exact_total() -> None:
    run = make_run()
    items = [
        home.PendingItem(make_req(id=f"req{i}", tool_args={"note": "x" * 5000}), run, [], editable=False)
        for i in range(60)
    ]
    runs = [home.RecentRun(make_run(id=f"r{i}", input="y" * 10_000), "https://test.slack.com/t") for i in range(10)]
    view = checked(
        home.home_view(
            pending_total=137, pending=items, runs=runs, console="https://signoff.example.com/console", now=NOW
        )
    )
    blob = rendered(view)
    assert "137 decisions waiting for you" in blob
    shown = len(buttons(view)[cards.APPROVE])
    assert 0 < shown < 60 and f"Showing {shown} of 137" in blob
    assert all(f"home:run:r{i}" in blob for i in range(10))  # the runs always fit


def test_nothing_pending_means_no_buttons_and_a_bad_console_url_is_left_out() -> None:
    view = checked(
        home.home_view(pending_total=0, pending=[], runs=[], console=home.console_url("javascript:x"), now=NOW)
    )
    found = buttons(view)
    assert not (set(found) & {cards.APPROVE, cards.REJECT, cards.EDIT, cards.INPUT, cards.DONE})
    assert "Nothing is waiting for you" in rendered(view)
    assert home.console_url("https://signoff.example.com/") == "https://signoff.example.com/console"
    assert home.console_url(None) is None


# --------------------------------------------------------------------------- end to end


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def manual(bot: Bot) -> tuple[HomeRefresher, FakeClock]:
    """The process's refresher, driven by hand: no timer thread, an injected clock."""
    refresher = bot.deps.home_refresher
    assert refresher is not None
    clock = FakeClock()
    refresher.background = False
    refresher.clock = clock
    return refresher, clock


def publishes(bot: Bot) -> Counter[str]:
    return Counter(str(c.args.get("user_id")) for c in bot.slack.calls_to("views.publish") if c.ok)


def start_required(bot: Bot, amount: int = 500, reason: str = CHANNEL_PING) -> tuple[RunRecord, RequirementRecord]:
    """A refund over $100: a ``required`` approval for SIGNOFF_APPROVERS (S_ADMINS: Bob, Carol)."""
    assert bot.openai.remaining() == 0, "an earlier run's answer is still scripted"
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": amount, "reason": reason}))
    seen = {r.id for r in bot.deps.db.list_runs(limit=100)}
    bot.start(f"finance Refund ${amount} to customer 42")
    (run,) = [r for r in bot.deps.db.list_runs(limit=100) if r.id not in seen]
    (req,) = bot.pending(run)
    assert req.approval_type == "required"
    return run, req


def open_home(bot: Bot, user: str) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.publish"))
    bot.event(
        {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D_{user}",
            "tab": "home",
            "event_ts": "1700000000.000100",
        }
    )
    call = bot.slack.wait_for(
        "views.publish", lambda c: c.args.get("user_id") == user and bot.slack.calls.index(c) >= before
    )
    assert call.ok, call.response
    return checked(dict(call.args["view"]))


def click_from_home(bot: Bot, action_id: str, value: str, user: str) -> None:
    """A click on a button of the user's published Home, as Slack sends it: no message, no channel."""
    view = bot.slack.home(user)
    assert view is not None
    payload = {
        "type": "block_actions",
        "user": {
            "id": user,
            "username": signing.user_name(user),
            "name": signing.user_name(user),
            "team_id": signing.TEAM_ID,
        },
        "api_app_id": signing.API_APP_ID,
        "token": signing.VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": signing.new_trigger_id(),
        "team": {"id": signing.TEAM_ID, "domain": signing.TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"actions:{value.split('|')[0]}",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": value,
                "action_ts": "1700000000.000200",
            }
        ],
    }
    response = bot.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text


pytestmark = [pytest.mark.redis]


def test_app_home_opened_publishes_the_viewers_inbox(bot: Bot) -> None:
    manual(bot)
    run, req = start_required(bot)

    bob = open_home(bot, "U_BOB")  # an admin (S_ADMINS through the directory)
    found = buttons(bob)
    assert [b["value"] for b in found[cards.APPROVE]] == [f"{req.id}|{req.current_hash}"]
    assert [b["value"] for b in found[cards.REJECT]] == [req.id] and cards.EDIT in found
    blob = rendered(bob)
    assert "1 decision waiting for you" in blob and "process_refund" in blob and "<@U_ALICE>" in blob
    assert "<!channel>" not in blob and "&lt;!channel&gt;" in blob  # the model's argument is inert
    assert "http://127.0.0.1:3000/console" in {b["url"] for b in found[cards.OPEN_LINK]}
    card_link = bot.slack.calls_to("chat.getPermalink")
    assert card_link and any("archives/C_OPS" in b["url"] for b in found[cards.OPEN_LINK])

    alice = open_home(bot, "U_ALICE")  # the requester of a required approval: her run, no buttons
    assert not {cards.APPROVE, cards.REJECT, cards.EDIT} & set(buttons(alice))
    assert f"home:run:{run.id}" in rendered(alice) and "waiting on 1 decision" in rendered(alice)
    assert "Nothing is waiting for you" in rendered(alice)

    dave = open_home(bot, "U_DAVE")  # neither approver nor requester
    assert not {cards.APPROVE, cards.REJECT, cards.EDIT} & set(buttons(dave))
    assert "Nothing is waiting for you" in rendered(dave) and "You have not started a run yet" in rendered(dave)

    # the Messages tab is not the Home: nothing is published for it
    before = len(bot.slack.calls_to("views.publish"))
    bot.event({"type": "app_home_opened", "user": "U_BOB", "channel": "D_U_BOB", "tab": "messages"})
    assert len(bot.slack.calls_to("views.publish")) == before


def test_a_click_on_approve_in_the_home_decides_and_a_stale_one_is_refused(bot: Bot) -> None:
    manual(bot)
    run, req = start_required(bot)
    open_home(bot, "U_BOB")

    # stale: arguments the Home never showed
    click_from_home(bot, cards.APPROVE, f"{req.id}|{'0' * 64}", "U_BOB")
    told = wait_until(
        lambda: next((c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == "U_BOB"), None),
        what="a DM to Bob",
    )
    assert "arguments changed" in told.args["text"]
    assert bot.deps.db.get_requirement(req.id).status is RequirementStatus.PENDING
    refused = [e for e in bot.deps.db.audit_events(run_id=run.id) if e.actor_id == "U_BOB"]
    assert refused and all(e.outcome for e in refused)  # recorded as a refusal

    # a user who may not decide: refused, recorded, nothing decided
    open_home(bot, "U_DAVE")
    click_from_home(bot, cards.APPROVE, f"{req.id}|{req.current_hash}", "U_DAVE")
    wait_until(
        lambda: any(c.args.get("channel") == "U_DAVE" for c in bot.slack.calls_to("chat.postMessage")),
        what="a DM to Dave",
    )
    assert bot.deps.db.get_requirement(req.id).status is RequirementStatus.PENDING

    # the real one: decided through the service, the card changes, the run resumes
    click_from_home(bot, cards.APPROVE, f"{req.id}|{req.current_hash}", "U_BOB")
    wait_until(lambda: bot.deps.db.get_requirement(req.id).status is RequirementStatus.APPROVED, what="approval")
    approved = next(e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "requirement.approved")
    assert approved.actor_id == "U_BOB" and approved.details["via"] == "slack"
    bot.wait_card_update(bot.card(req), "Approved")
    bot.openai.script(text("Refunded $500."))
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED


def test_homes_refresh_after_a_decision_elsewhere(bot: Bot) -> None:
    """With the real timer thread: an API decision republishes the approver's and the requester's Homes."""
    run, req = start_required(bot)
    bot.slack.wait_for("views.publish", lambda c: c.args.get("user_id") == "U_BOB")  # the pause did
    before = len(bot.slack.calls)
    bot.deps.service.decide(req.id, Principal("U_BOB"), Action.APPROVE, surface=Surface.API)
    for user in ("U_BOB", "U_CAROL", "U_ALICE"):
        # A publish already under way for the pause may land after the decision; what matters is
        # that a publish after the decision shows it decided (no Approve button left).
        call = bot.slack.wait_for(
            "views.publish",
            lambda c, u=user: c.args.get("user_id") == u
            and bot.slack.calls.index(c) >= before
            and cards.APPROVE not in json.dumps(c.args["view"]),
        )
        assert call.ok, call.response
    alice = bot.slack.home("U_ALICE")
    assert alice is not None and f"home:run:{run.id}" in rendered(alice)


def test_refreshes_are_debounced_per_person(bot: Bot) -> None:
    refresher, clock = manual(bot)
    reqs = [start_required(bot, amount=200 + i)[1] for i in range(3)]
    assert publishes(bot) == Counter()  # nothing until the window's flush
    assert set(refresher.flush()) == {"U_ALICE", "U_BOB", "U_CAROL"}  # the pauses, coalesced
    assert publishes(bot) == Counter({"U_ALICE": 1, "U_BOB": 1, "U_CAROL": 1})

    # a burst of decisions inside the window: nothing now, one publish each at the window's end
    for req in reqs:
        bot.deps.service.decide(req.id, Principal("U_CAROL"), Action.APPROVE, surface=Surface.API)
    clock.now += HOME_REFRESH_DEBOUNCE_S / 2
    assert refresher.flush() == []
    clock.now += HOME_REFRESH_DEBOUNCE_S / 2
    assert set(refresher.flush()) == {"U_ALICE", "U_BOB", "U_CAROL"}
    assert publishes(bot) == Counter({"U_ALICE": 2, "U_BOB": 2, "U_CAROL": 2})
    bob = bot.slack.home("U_BOB")
    assert bob is not None and cards.APPROVE not in json.dumps(bob) and "Nothing is waiting for you" in rendered(bob)
    assert refresher.flush() == []  # nothing left

    # a quiet person's first change publishes at the next flush, without waiting a window
    clock.now += 10 * HOME_REFRESH_DEBOUNCE_S
    refresher.touch(["U_DAVE"])
    assert refresher.flush() == ["U_DAVE"]
