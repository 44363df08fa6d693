"""Block Kit for messages: pure functions, records in, ``(text, blocks)`` out.

Every builder keeps within Slack's limits (see ``bot.blockkit``): long values are truncated on
the card and the full arguments stay reachable through the "View full arguments" button, which
opens a modal built by ``bot.modals.full_arguments``. Buttons carry the requirement (or run) id
and nothing else; the click handler loads the truth from SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.blockkit import (
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_FIELD_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    truncate,
)
from storage.records import RequirementKind, RequirementRecord, RequirementStatus, RunRecord, RunStatus

# action ids (bot.slack_app routes them to bot.interactions)
APPROVE = "signoff_approve"
REJECT = "signoff_reject"
EDIT = "signoff_edit"
INPUT = "signoff_input"
DONE = "signoff_done"
VIEW_ARGS = "signoff_view_args"
RETRY = "signoff_retry"
OPEN_LINK = "signoff_open"  # link buttons (Slack still sends a block_actions for them)

ARG_PREVIEW_CHARS = 300
"""How much of one argument value a card shows; the rest is behind "View full arguments"."""
MAX_ARG_FIELDS = 2 * MAX_SECTION_FIELDS
STEP_OUTPUT_PREVIEW_CHARS = 1500
"""How much of the previous step's output a step card shows; the whole of it goes in the thread."""
PREVIOUS_OUTPUT = "previous_output"
"""The argument of a workflow step requirement that holds the previous step's output."""
STEP_KINDS = (RequirementKind.STEP_CONFIRMATION, RequirementKind.STEP_USER_INPUT)
TEXT_FALLBACK_CHARS = 3000
MASK = "••••••"

Blocks = list[dict[str, Any]]

_KIND_TITLE = {
    RequirementKind.CONFIRMATION: "Confirmation needed",
    RequirementKind.STEP_CONFIRMATION: "Step needs confirmation",
    RequirementKind.USER_INPUT: "Input needed",
    RequirementKind.STEP_USER_INPUT: "Input needed for a step",
    RequirementKind.EXTERNAL_EXECUTION: "Hand-off: do this and report back",
}

_STATUS_WORDS = {
    RequirementStatus.APPROVED: (":white_check_mark:", "Approved"),
    RequirementStatus.REJECTED: (":no_entry_sign:", "Rejected"),
    RequirementStatus.ANSWERED: (":speech_balloon:", "Answered"),
    RequirementStatus.DONE_EXTERNALLY: (":ballot_box_with_check:", "Marked done"),
    RequirementStatus.EXPIRED: (":hourglass:", "Expired"),
    RequirementStatus.CANCELLED: (":heavy_multiplication_x:", "Cancelled"),
    RequirementStatus.PENDING: (":hourglass_flowing_sand:", "Pending"),
}


# ----------------------------------------------------------------------------- helpers


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str | None, fallback: str | None = None) -> str:
    if user_id and user_id[:1] in ("U", "W") and user_id.replace("_", "").isalnum():
        return f"<@{user_id}>"
    return escape(fallback or user_id or "someone")


def when(moment: datetime | None) -> str:
    """A date Slack renders in each reader's own time zone, with an ISO fallback."""
    if moment is None:
        return "just now"
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{moment.isoformat(timespec='seconds')}>"


def render_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _code(value: str, limit: int) -> str:
    """``value`` as inline code (or a code block when multi-line), never over ``limit`` chars."""
    value = escape(value)
    if "\n" in value or "`" in value:
        return "```" + truncate(value.replace("```", "'''"), limit - 6) + "```"
    return "`" + truncate(value, limit - 2) + "`"


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(t, MAX_SECTION_TEXT)} for t in texts]}


def _button(text: str, action_id: str, value: str, style: str | None = None, url: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True},
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    return button


def masked(args: Mapping[str, Any], sensitive: Iterable[str] = ()) -> dict[str, Any]:
    hidden = set(sensitive)
    return {k: (MASK if k in hidden else v) for k, v in args.items()}


def argument_blocks(args: Mapping[str, Any], sensitive: Iterable[str] = ()) -> tuple[Blocks, bool]:
    """Sections of ``*name*`` / value fields; True when something was cut (show the full-args button)."""
    shown = masked(args, sensitive)
    if not shown:
        return [_context("_No arguments._")], False
    cut = len(shown) > MAX_ARG_FIELDS
    fields: list[dict[str, Any]] = []
    for name, value in list(shown.items())[:MAX_ARG_FIELDS]:
        rendered = render_value(value)
        if len(rendered) > ARG_PREVIEW_CHARS:
            cut = True
        label = f"*{escape(truncate(str(name), 100))}*\n"
        body = _code(truncate(rendered, ARG_PREVIEW_CHARS), MAX_SECTION_FIELD_TEXT - len(label))
        fields.append({"type": "mrkdwn", "text": label + body})
    blocks = [
        {"type": "section", "fields": fields[i : i + MAX_SECTION_FIELDS]}
        for i in range(0, len(fields), MAX_SECTION_FIELDS)
    ]
    if len(shown) > MAX_ARG_FIELDS:
        blocks.append(_context(f"…and {len(shown) - MAX_ARG_FIELDS} more arguments."))
    return blocks, cut


def call_text(tool_name: str | None, args: Mapping[str, Any], limit: int = 200) -> str:
    """``tool(a=1, b="x")`` for notification text, shortened."""
    inner = ", ".join(f"{k}={render_value(v)}" for k, v in args.items())
    return truncate(f"{tool_name or 'step'}({inner})", limit)


def _who_asked(run: RunRecord, req: RequirementRecord) -> str:
    agent = f"*{escape(run.target_name)}*"
    if req.member_agent_name:
        agent += f" / *{escape(req.member_agent_name)}*"
    requester = mention(run.requester, run.requester_name) if run.requester else "an API caller"
    line = f"{agent} · requested by {requester}"
    if req.member_agent_name and req.member_agent_name != run.target_name:
        member = f"*{escape(req.member_agent_name)}*"
        line += {
            "team": f"\nAsked by team member {member}",
            "workflow": f"\nAsked by {member}, inside a workflow step",
        }.get(run.kind, f"\nAsked by {member}")
    return line


def is_step(req: RequirementRecord) -> bool:
    """A workflow checkpoint (its ``tool_name`` is the step's name, not a tool)."""
    return req.kind in STEP_KINDS


def previous_output(req: RequirementRecord) -> str | None:
    """The previous step's output a step checkpoint shows, or None for any other requirement."""
    if not is_step(req):
        return None
    value = req.tool_args.get(PREVIOUS_OUTPUT)
    return None if value is None else render_value(value)


def _output_preview(output: str) -> tuple[str, bool]:
    """The start of an output as a code block for a card, and whether it was cut."""
    escaped = escape(output.strip() or "(empty)").replace("```", "'''")
    cut = len(escaped) > STEP_OUTPUT_PREVIEW_CHARS
    return "```" + truncate(escaped, STEP_OUTPUT_PREVIEW_CHARS) + "```", cut


def step_output_is_cut(req: RequirementRecord) -> bool:
    """True when the card shows only the start of the previous output (the rest is in the thread)."""
    output = previous_output(req)
    return output is not None and _output_preview(output)[1]


def _title(req: RequirementRecord) -> str:
    if req.approval_type == "required":
        return ":lock: Approval required"
    return {
        RequirementKind.CONFIRMATION: ":raising_hand: ",
        RequirementKind.STEP_CONFIRMATION: ":raising_hand: ",
        RequirementKind.USER_INPUT: ":question: ",
        RequirementKind.STEP_USER_INPUT: ":question: ",
        RequirementKind.EXTERNAL_EXECUTION: ":handshake: ",
    }[req.kind] + _KIND_TITLE[req.kind]


def _step_blocks(req: RequirementRecord) -> tuple[Blocks, bool]:
    """A checkpoint: the step, its message, and the previous step's output (a preview when long)."""
    step = f"`{escape(req.tool_name)}`" if req.tool_name else "_the next step_"
    blocks: Blocks = [_section(f"*Step:* {step}")]
    if req.message:
        quoted = "\n".join(f"> {line}" for line in escape(truncate(req.message, 2000)).splitlines())
        blocks.append(_section(quoted))
    output = previous_output(req)
    cut = False
    if output is not None:
        body, cut = _output_preview(output)
        blocks.append(_section("*Output of the previous step:*\n" + body, block_id=f"output:{req.id}"))
        if cut:
            blocks.append(
                _context(
                    f"Showing the first {STEP_OUTPUT_PREVIEW_CHARS:,} of {len(output):,} characters. "
                    "The full output is in this thread and behind *View full output*."
                )
            )
    others = {k: v for k, v in req.tool_args.items() if k != PREVIOUS_OUTPUT}
    if others:
        more, more_cut = argument_blocks(others)
        blocks.extend(more)
        cut = cut or more_cut
    return blocks, cut


def _summary_blocks(run: RunRecord, req: RequirementRecord, sensitive: Iterable[str]) -> tuple[Blocks, bool]:
    head = _section(f"*{_title(req)}*\n{_who_asked(run, req)}", block_id=f"head:{req.id}")
    if is_step(req):
        blocks, cut = _step_blocks(req)
        blocks.insert(0, head)
    else:
        tool = f"`{escape(req.tool_name)}`" if req.tool_name else "_a workflow step_"
        why = escape(req.message or "")
        blocks = [head, _section(f"*Tool:* {tool}" + (f"\n*Why:* {why}" if why else ""))]
        args_blocks, cut = argument_blocks(req.tool_args, sensitive)
        blocks.extend(args_blocks)
    if req.kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT) and req.user_input_schema:
        wanted = ", ".join(
            f"`{escape(str(f.get('name')))}` ({escape(str(f.get('field_type', 'str')))})"
            + ("" if f.get("required", True) else " _optional_")
            for f in req.user_input_schema
        )
        blocks.append(_section(truncate(f"*Needs:* {wanted}", MAX_SECTION_TEXT)))
    return blocks, cut


def _footer(run: RunRecord, req: RequirementRecord) -> dict[str, Any]:
    parts = [f"run `{run.id}`", f"request `{req.id}`"]
    if req.expires_at is not None and req.is_pending:
        parts.append(f"expires {when(req.expires_at)}")
    if req.approval_type == "required":
        parts.append("approvers only; the requester cannot approve")
    return _context(" · ".join(parts))


# ----------------------------------------------------------------------------- run messages


def root_message(requester: str, agent_name: str, prompt: str) -> tuple[str, Blocks]:
    """The channel message that starts a run; everything else goes in its thread."""
    text = truncate(f"<@{requester}> started *{escape(agent_name)}*: {escape(prompt)}", MAX_SECTION_TEXT)
    return text, [_section(text, block_id="root")]


def root_with_run(requester: str, agent_name: str, prompt: str, run_id: str) -> tuple[str, Blocks]:
    text, blocks = root_message(requester, agent_name, prompt)
    return text, [*blocks, _context(f"run `{run_id}` · decisions and the answer follow in this thread")]


# ----------------------------------------------------------------------------- requirement cards


def requirement_card(
    run: RunRecord,
    req: RequirementRecord,
    *,
    editable: bool = True,
    sensitive: Iterable[str] = (),
    thread_link: str | None = None,
) -> tuple[str, Blocks]:
    """The interactive card for one pending requirement, with the buttons its kind allows."""
    sensitive = list(sensitive)
    blocks, cut = _summary_blocks(run, req, sensitive)
    buttons: list[dict[str, Any]] = []
    if req.kind in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION):
        buttons.append(_button("Approve", APPROVE, req.id, "primary"))
        buttons.append(_button("Reject", REJECT, req.id, "danger"))
        if req.kind is RequirementKind.CONFIRMATION and editable and req.tool_name:
            buttons.append(_button("Edit & approve", EDIT, req.id))
    elif req.kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT):
        buttons.append(_button("Provide input", INPUT, req.id, "primary"))
    else:
        buttons.append(_button("Mark done", DONE, req.id, "primary"))
    if cut or sensitive:
        buttons.append(_button(_view_label(req), VIEW_ARGS, req.id))
    if thread_link:
        buttons.append(_button("Open the run's thread", OPEN_LINK, req.id, url=thread_link))
    blocks.append({"type": "actions", "block_id": f"actions:{req.id}", "elements": buttons})
    if req.kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT):
        blocks.append(_context("You can also reply in this thread: the value alone, or `field: value` lines."))
    blocks.append(_footer(run, req))
    verb = "needs approval" if req.approval_type == "required" else _KIND_TITLE[req.kind].lower()
    text = f"{run.target_name} {verb}: {_what(req, sensitive)}"
    return truncate(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def _view_label(req: RequirementRecord) -> str:
    return "View full output" if previous_output(req) is not None else "View full arguments"


def _what(req: RequirementRecord, sensitive: Iterable[str] = ()) -> str:
    """The notification text's subject: ``tool(args)``, or the step and its message."""
    if is_step(req):
        step = f"step '{req.tool_name}'" if req.tool_name else "the next step"
        return truncate(f"{step}. {req.message}" if req.message else step, 300)
    return call_text(req.tool_name, masked(req.tool_args, sensitive))


def step_output_message(run: RunRecord, req: RequirementRecord) -> tuple[str, Blocks] | None:
    """The previous step's whole output, for the thread, when the checkpoint card shows only its start.

    None when the card already shows all of it. As many 3000-character sections as a message
    holds; beyond that the message says where the rest is (the card's *View full output*).
    """
    output = previous_output(req)
    if output is None or not step_output_is_cut(req):
        return None
    step = f"*{escape(req.tool_name)}*" if req.tool_name else "the next step"
    intro = f":page_facing_up: Output of the previous step, for review before {step} ({len(output):,} characters):"
    sections, complete = _split_sections(output, max_sections=MAX_MESSAGE_BLOCKS - 3, what="output")
    blocks: Blocks = [_section(intro, block_id=f"output:{req.id}"), *sections]
    if not complete:
        blocks.append(_context("The output is longer than one message holds: *View full output* on the card has more."))
    blocks.append(_context(f"run `{run.id}` · request `{req.id}`"))
    text = f"Output of the previous step before {req.tool_name or 'the next step'}: {output}"
    return truncate(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def decision_line(req: RequirementRecord, sensitive: Iterable[str] = ()) -> str:
    """ "<emoji> Approved by @bob at <date>. Reason: ...", plus edits/answers/results."""
    emoji, word = _STATUS_WORDS[req.status]
    who = mention(req.resolved_by, req.resolved_by_name) if req.resolved_by else "signoff"
    if req.status is RequirementStatus.EXPIRED:
        who = "nobody in time"
    line = f"{emoji} *{word}* by {who} {when(req.resolved_at)}."
    res = req.resolution or {}
    if res.get("edited_args") is not None:
        edited = masked(res["edited_args"], sensitive)
        line += "\n*With edited arguments:* " + _code(
            truncate(render_value(edited), ARG_PREVIEW_CHARS * 2), ARG_PREVIEW_CHARS * 2 + 8
        )
    if res.get("values"):
        values = masked(res["values"], sensitive)
        line += "\n*Answer:* " + _code(truncate(render_value(values), ARG_PREVIEW_CHARS * 2), ARG_PREVIEW_CHARS * 2 + 8)
    if res.get("result") is not None:
        line += "\n*Result:* " + _code(
            truncate(render_value(res["result"]), ARG_PREVIEW_CHARS * 2), ARG_PREVIEW_CHARS * 2 + 8
        )
    if res.get("note"):
        line += f"\n*Reason:* {escape(truncate(str(res['note']), 1000))}"
    return truncate(line, MAX_SECTION_TEXT)


def decided_card(run: RunRecord, req: RequirementRecord, *, sensitive: Iterable[str] = ()) -> tuple[str, Blocks]:
    """The same card after the decision: no buttons, who decided what, when and why."""
    sensitive = list(sensitive)
    blocks, cut = _summary_blocks(run, req, sensitive)
    blocks.append(_section(decision_line(req, sensitive), block_id=f"decision:{req.id}"))
    if cut:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"actions:{req.id}",
                "elements": [_button(_view_label(req), VIEW_ARGS, req.id)],
            }
        )
    blocks.append(_footer(run, req))
    _, word = _STATUS_WORDS[req.status]
    text = f"{word}: {_what(req, sensitive)}"
    return truncate(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def vote_line(votes: int, quorum: int, voter: str) -> tuple[str, Blocks]:
    text = f":ballot_box_with_check: {mention(voter)} approved ({votes} of {quorum} approvals needed)."
    return text, [_context(text)]


# ----------------------------------------------------------------------------- outcomes


def _long_text_sections(text: str, max_sections: int = 20) -> Blocks:
    """Split a long answer into sections of at most 3000 characters, at line breaks when possible."""
    return _split_sections(text, max_sections)[0]


def _split_sections(text: str, max_sections: int = 20, what: str = "answer") -> tuple[Blocks, bool]:
    """Sections of at most 3000 characters, split at line breaks when possible; False when cut."""
    text = escape(text.strip()) or f"_(empty {what})_"
    chunks: list[str] = []
    while text and len(chunks) < max_sections:
        if len(text) <= MAX_SECTION_TEXT:
            chunks.append(text)
            text = ""
            break
        cut = text.rfind("\n", 0, MAX_SECTION_TEXT)
        if cut < MAX_SECTION_TEXT // 2:
            cut = MAX_SECTION_TEXT
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    complete = not text
    if not complete:
        chunks[-1] = truncate(chunks[-1], MAX_SECTION_TEXT - 40) + f"\n_({what} truncated)_"
    return [_section(c) for c in chunks], complete


def answer_message(run: RunRecord) -> tuple[str, Blocks]:
    content = run.content or ""
    blocks = [_section(f":white_check_mark: *{escape(run.target_name)}* finished.")]
    blocks.extend(_long_text_sections(content))
    blocks.append(_context(f"run `{run.id}`"))
    return truncate(content or f"{run.target_name} finished.", TEXT_FALLBACK_CHARS), blocks


def failure_message(run: RunRecord) -> tuple[str, Blocks]:
    why = run.error or "unknown error"
    kind = f" ({escape(run.error_kind)})" if run.error_kind else ""
    text = truncate(f"{run.target_name} failed: {why}", TEXT_FALLBACK_CHARS)
    blocks = [
        _section(f":x: *{escape(run.target_name)}* failed{kind}.\n" + _code(truncate(why, 2500), 2600)),
        _context(
            "The run's state is kept: Retry continues from the last checkpoint, tools already run do not run again."
        ),
        {
            "type": "actions",
            "block_id": f"retry:{run.id}",
            "elements": [_button("Retry", RETRY, run.id, "primary")],
        },
    ]
    return text, blocks


def retried_message(run: RunRecord, user_id: str) -> tuple[str, Blocks]:
    text = f":repeat: {mention(user_id)} asked to retry *{escape(run.target_name)}*."
    return text, [_section(f":x: The run failed: {escape(truncate(run.error or '', 2000))}"), _context(text)]


def cancelled_message(run: RunRecord) -> tuple[str, Blocks]:
    text = f":heavy_multiplication_x: *{escape(run.target_name)}* was cancelled."
    if run.content and run.content != "Cancelled.":
        text += f" {escape(truncate(run.content, 1000))}"
    return text, [_section(text), _context(f"run `{run.id}`")]


# ----------------------------------------------------------------------------- slash command replies


def status_message(run: RunRecord, requirements: Sequence[RequirementRecord]) -> tuple[str, Blocks]:
    emoji = {
        RunStatus.QUEUED: ":inbox_tray:",
        RunStatus.RUNNING: ":gear:",
        RunStatus.PAUSED: ":double_vertical_bar:",
        RunStatus.COMPLETED: ":white_check_mark:",
        RunStatus.FAILED: ":x:",
        RunStatus.CANCELLED: ":heavy_multiplication_x:",
    }[run.status]
    requester = mention(run.requester, run.requester_name) if run.requester else "an API caller"
    head = (
        f"{emoji} Run `{run.id}` of *{escape(run.target_name)}* is *{run.status}*.\n"
        f"Started by {requester} {when(run.created_at)}: {escape(truncate(run.input, 500))}"
    )
    blocks: Blocks = [_section(head)]
    pending = [r for r in requirements if r.is_pending]
    for req in pending[:20]:
        blocks.append(
            _section(f"• waiting: {_KIND_TITLE[req.kind].lower()} for `{escape(call_text(req.tool_name, {}, 80))}`")
        )
    if len(pending) > 20:
        blocks.append(_context(f"…and {len(pending) - 20} more waiting."))
    if run.status is RunStatus.FAILED and run.error:
        blocks.append(_section("*Error:* " + _code(truncate(run.error, 2000), 2100)))
    if run.status is RunStatus.COMPLETED and run.content:
        blocks.append(_section("*Answer:* " + escape(truncate(run.content, 2500))))
    return truncate(f"Run {run.id} is {run.status}", TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def targets_message(targets: Iterable[tuple[str, str, str]]) -> tuple[str, Blocks]:
    """``(id, kind, one-line description)`` for each agent, team and workflow."""
    lines = [f"• `{escape(tid)}` ({escape(kind)}): {escape(desc)}" for tid, kind, desc in targets]
    if not lines:
        return "No agents are configured.", [_section("No agents are configured (see SIGNOFF_AGENTS).")]
    blocks: Blocks = [_section("*What you can run* with `/agent <id> <prompt>`:")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION_TEXT - 10:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(truncate(line, 1000))
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return "Agents: " + ", ".join(t.split("`")[1] for t in lines)[:2000], blocks[:MAX_MESSAGE_BLOCKS]


def approvals_message(items: Sequence[tuple[RequirementRecord, RunRecord, str | None]]) -> tuple[str, Blocks]:
    """The caller's pending decisions, each with a link to its card (``permalink`` may be None)."""
    if not items:
        text = ":sparkles: Nothing is waiting for you."
        return text, [_section(text)]
    limit = MAX_MESSAGE_BLOCKS - 2
    blocks: Blocks = [_section(f"*{len(items)} decision{'s' if len(items) != 1 else ''} waiting for you*")]
    for req, run, link in items[:limit]:
        what = escape(call_text(req.tool_name, req.tool_args, 150))
        tag = " :lock:" if req.approval_type == "required" else ""
        line = f"• *{escape(run.target_name)}*{tag}: `{what}`\n   {_KIND_TITLE[req.kind]} · run `{run.id}`"
        section = _section(line)
        if link:
            section["accessory"] = _button("Open card", OPEN_LINK, req.id, url=link)
        blocks.append(section)
    if len(items) > limit:
        blocks.append(_context(f"…and {len(items) - limit} more."))
    return f"{len(items)} decisions waiting for you", blocks


def notice(text: str) -> tuple[str, Blocks]:
    """A one-section ephemeral message."""
    text = truncate(text, MAX_SECTION_TEXT)
    return text, [_section(text)]
