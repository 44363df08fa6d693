"""The App Home tab as an inbox: a pure builder, records in, a ``home`` view out.

What waits for the viewer as an approver or decider (``DecisionService.pending_for``: the exact
total, the soonest to expire and the newest first), each with the *same* buttons as its card (the
actions block of ``cards.requirement_card``, so a click from Home carries the same action ids and
the same ``id|hash`` Approve value, and goes through the same listeners and the decision service),
then the viewer's recent runs as a requester, and a link to the web console.

Everything a model or a person wrote is escaped through ``bot.slack.mrkdwn`` and every argument
is masked through ``storage.redaction`` (``cards.shown_args``). The view never exceeds Slack's
100 blocks: the runs are bounded, and the pending list is cut to the blocks left, saying so.
Publishing (``views.publish``) and reading SQL happen in ``bot.slack.home_sync``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack import cards
from bot.slack.limits import MAX_BUTTON_URL, MAX_HEADER_TEXT, MAX_SECTION_TEXT, MAX_VIEW_BLOCKS, truncate
from bot.slack.mrkdwn import bold, code, cut, escape
from storage.records import RequirementKind, RequirementRecord, RunRecord

CONSOLE_PATH = "/console"
CALLBACK_ID = "signoff_home"

Blocks = list[dict[str, Any]]

_KIND_WORDS = {
    RequirementKind.CONFIRMATION: "Confirmation",
    RequirementKind.STEP_CONFIRMATION: "Step confirmation",
    RequirementKind.USER_INPUT: "Input",
    RequirementKind.STEP_USER_INPUT: "Input for a step",
    RequirementKind.STEP_OUTPUT_REVIEW: "Output review",
    RequirementKind.STEP_ROUTE_SELECTION: "Route choice",
    RequirementKind.EXTERNAL_EXECUTION: "Hand-off",
}



@dataclass(frozen=True)
class PendingItem:
    """One decision waiting for the viewer, with what its card needs (``notifier.card_options``)."""

    requirement: RequirementRecord
    run: RunRecord
    declared: list[str] | None
    """The sensitive fields (None: unknown, every value is masked)."""
    editable: bool = False
    votes: int | None = None
    thread_link: str | None = None


@dataclass(frozen=True)
class RecentRun:
    """One of the viewer's own runs, with its thread's permalink when it has one."""

    run: RunRecord
    thread_link: str | None = None
    waiting: int = 0
    """How many of its requests are still pending (a paused run waits for someone)."""


def console_url(public_url: str | None) -> str | None:
    """``{SIGNOFF_PUBLIC_URL}/console``, or None when the base is not an http(s) URL Slack would take."""
    base = (public_url or "").strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or any(c.isspace() for c in base):
        return None
    url = base + CONSOLE_PATH
    return url if len(url) <= MAX_BUTTON_URL else None


def age(now: datetime, moment: datetime) -> str:
    """``45s``, ``12m``, ``3h``, ``2d``: how long ago, roughly (never negative)."""
    seconds = max(0, int((now - moment).total_seconds()))
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _section(text: str, block_id: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": block_id[:255],
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }


def _context(text: str, block_id: str) -> dict[str, Any]:
    return {
        "type": "context",
        "block_id": block_id[:255],
        "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)}],
    }


def _header(text: str, block_id: str) -> dict[str, Any]:
    return {
        "type": "header",
        "block_id": block_id,
        "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER_TEXT), "emoji": True},
    }


def _link_button(text: str, value: str, url: str) -> dict[str, Any]:
    """A link button with the cards' link action id (bolt acks the click Slack still sends)."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": cards.OPEN_LINK,
        "value": value[: cards.MAX_ID_CHARS],
        "url": url,
    }


def card_actions(item: PendingItem) -> dict[str, Any] | None:
    """The actions block of the item's card: the very buttons (ids and values) the card shows."""
    _, blocks = cards.requirement_card(
        item.run,
        item.requirement,
        editable=item.editable,
        declared=item.declared,
        thread_link=item.thread_link,
        votes=item.votes,
    )
    return next((b for b in blocks if b.get("type") == "actions"), None)


def pending_summary(item: PendingItem, now: datetime) -> str:
    """Agent, tool call (masked, as code), why, who asked, quorum and expiry, in a few lines."""
    req, run = item.requirement, item.run
    agent = bold(run.target_name)
    if req.member_agent_name and req.member_agent_name != run.target_name:
        agent += f" / {bold(req.member_agent_name)}"
    tag = " :lock:" if req.approval_type == "required" else ""
    what = code(cards.call_text(req.tool_name, cards.shown_args(req, item.declared), 150), 400)
    requester = cards.mention(run.requester, run.requester_name) if run.requester else "an API caller"
    lines = [f"{agent}{tag}: {what}"]
    if req.message:
        lines.append("> " + escape(truncate(" ".join(req.message.split()), 200)))
    kind = _KIND_WORDS.get(req.kind, req.kind.value.replace("_", " ").capitalize())
    facts = [kind, f"requested by {requester}", f"{age(now, req.created_at)} ago"]
    if item.votes is not None and req.quorum > 1:
        facts.append(f"{item.votes} of {req.quorum} approvals")
    if req.expires_at is not None:
        facts.append(f"expires {cards.when(req.expires_at)}")
    facts.append(f"run {code(run.id, 80)}")
    lines.append(" · ".join(facts))
    return "\n".join(lines)


def run_line(recent: RecentRun, now: datetime) -> str:
    run = recent.run
    status = f"*{escape(str(run.status))}*"
    if recent.waiting:
        status += f" (waiting on {recent.waiting} decision{'s' if recent.waiting != 1 else ''})"
    prompt = escape(truncate(" ".join(run.input.split()), 150))
    return (
        f"{cards.RUN_EMOJI.get(run.status, '')} {bold(run.target_name)} · {status} · {age(now, run.created_at)} ago\n"
        f"{prompt}\nrun {code(run.id, 80)}"
    )


def home_view(
    *,
    pending_total: int,
    pending: Sequence[PendingItem],
    runs: Sequence[RecentRun],
    console: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The Home tab for one viewer. ``pending`` is already in the order to show (soonest, newest)."""
    blocks: Blocks = [_header("Your signoff inbox", "home:title")]
    if console:
        blocks.append(
            {
                "type": "actions",
                "block_id": "home:console",
                "elements": [_link_button("Open the web console", "console", console)],
            }
        )
    run_blocks = _run_blocks(runs, now)
    count = max(pending_total, len(pending))
    head = (
        f"*{count} decision{'s' if count != 1 else ''} waiting for you*"
        if count
        else (":sparkles: Nothing is waiting for you.")
    )
    blocks.append({"type": "divider", "block_id": "home:div1"})
    blocks.append(_section(head, "home:pending"))
    # Each decision takes two blocks (summary, buttons); leave room for the notes and the runs.
    room = MAX_VIEW_BLOCKS - len(blocks) - len(run_blocks) - 2
    shown = max(0, min(len(pending), room // 2))
    if count > shown:
        blocks.append(
            _context(
                f"Showing {shown} of {count}: the soonest to expire first, then the newest. "
                "`/approvals` lists them too; the console shows all.",
                "home:showing",
            )
        )
    for item in pending[:shown]:
        req = item.requirement
        blocks.append(_section(pending_summary(item, now), f"home:req:{req.id}"))
        actions = card_actions(item)
        if actions is not None:
            blocks.append(actions)
    blocks.extend(run_blocks)
    return {
        "type": "home",
        "callback_id": CALLBACK_ID,
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def _run_blocks(runs: Sequence[RecentRun], now: datetime) -> Blocks:
    blocks: Blocks = [
        {"type": "divider", "block_id": "home:div2"},
        _section("*Your recent runs*", "home:runs"),
    ]
    if not runs:
        hint = "You have not started a run yet: `/agent &lt;agent&gt; &lt;prompt&gt;` starts one."
        blocks.append(_context(hint, "home:noruns"))
        return blocks
    for recent in runs:
        section = _section(run_line(recent, now), f"home:run:{recent.run.id}")
        if recent.thread_link and len(recent.thread_link) <= MAX_BUTTON_URL:
            section["accessory"] = _link_button("Open thread", recent.run.id, recent.thread_link)
        blocks.append(section)
    return blocks
