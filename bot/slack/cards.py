"""Block Kit for messages: pure functions, records in, ``(text, blocks)`` out.

Every builder keeps within Slack's limits (``bot.slack.limits``): long values are truncated on
the card and the full arguments stay readable, every character of them, through the "View full
arguments" button, which opens the paged modal built by ``bot.slack.modals.full_arguments``.

What a card shows is what the approver decides on: the arguments on the table now
(``req.current_args``, an edit's proposal while a quorum votes), masked through
``storage.redaction`` (declared sensitive fields, secret-looking names, everything when the
declared set is unknown), and every model- or user-controlled string escaped through
``bot.slack.mrkdwn``, in the blocks and in the notification ``text`` alike. The Approve button carries
``<requirement id>|<sha256 of the arguments shown>`` (see :func:`parse_action_value`) so a click
approves what the card showed, never arguments that changed since; the click handler loads
everything else from SQL.

Workflow checkpoints are cards too: a step's confirmation or input shows the previous step's
output, an output review the output under review (Approve, Reject, and Edit when one input can
hold it whole), a Router's route selection its choices; a long output is cut on the card and
posted whole in the thread (:func:`step_output_message`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.slack.limits import (
    MAX_BUTTON_VALUE,
    MAX_MESSAGE_BLOCKS,
    MAX_OPTION_VALUE,
    MAX_SECTION_FIELD_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    MAX_SELECT_OPTIONS,
    truncate,
)
from bot.slack.mrkdwn import bold, code, code_block, code_text, cut, escape, safe_cut
from storage import redaction
from storage.records import (
    ANSWER_KINDS,
    EDIT_KINDS,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
)
from storage.redaction import redact

# action ids (bot.slack.app routes them to bot.slack.interactions)
APPROVE = "signoff_approve"
REJECT = "signoff_reject"
EDIT = "signoff_edit"
INPUT = "signoff_input"
DONE = "signoff_done"
VIEW_ARGS = "signoff_view_args"
ARGS_PAGE = "signoff_args_page"
"""Previous / Next in the full-arguments modal; value ``<requirement id>|<page>``."""
RETRY = "signoff_retry"
RAN = "signoff_ran"  # an in-doubt call: it ran (opens the result modal)
NOT_RUN = "signoff_not_run"  # an in-doubt call: it did not run, run it now
FAIL_RUN = "signoff_fail_run"  # an in-doubt call: fail the run
OPEN_LINK = "signoff_open"  # link buttons (Slack still sends a block_actions for them)

ARG_PREVIEW_CHARS = 300
"""How much of one argument value a card shows; the rest is behind "View full arguments"."""
MAX_ARG_FIELDS = 2 * MAX_SECTION_FIELDS
STEP_OUTPUT_PREVIEW_CHARS = 1500
"""How much of a step's output a step card shows; the whole of it goes in the thread."""
PREVIOUS_OUTPUT = "previous_output"
"""The argument of a workflow step requirement that holds the previous step's output."""
REVIEWED_OUTPUT = "output"
"""The argument of an output review that holds the output under review (an edit replaces it)."""
STEP_KINDS = (
    RequirementKind.STEP_CONFIRMATION,
    RequirementKind.STEP_USER_INPUT,
    RequirementKind.STEP_OUTPUT_REVIEW,
    RequirementKind.STEP_ROUTE_SELECTION,
    RequirementKind.STEP_ERROR,
)
INPUT_KINDS = tuple(sorted(ANSWER_KINDS))
"""Requests a person answers with values (the modal, or a thread reply)."""
EDITABLE_KINDS = EDIT_KINDS
MAX_CHOICE_SECTIONS = 4
"""Sections a card spends listing a field's choices (the rest are named by the refusal of a wrong one)."""
TEXT_FALLBACK_CHARS = 3000
MAX_ID_CHARS = 64
"""Requirement and run ids, and argument hashes, are never longer (a button value is clipped to it)."""
EDITED_BY_REVIEWER = "Edited by a reviewer: these are the arguments being voted on."
NOT_EDITABLE_OUTPUT = (
    "This output cannot be edited in Slack: an edit box holds 3,000 visible characters at most and "
    "is never pre-filled with a cut, masked or invisible-character copy. Approve it as it is, or "
    "reject it with a note."
)

Blocks = list[dict[str, Any]]
Declared = Collection[str] | None

_KIND_TITLE = {
    RequirementKind.CONFIRMATION: "Confirmation needed",
    RequirementKind.STEP_CONFIRMATION: "Step needs confirmation",
    RequirementKind.USER_INPUT: "Input needed",
    RequirementKind.STEP_USER_INPUT: "Input needed for a step",
    RequirementKind.STEP_OUTPUT_REVIEW: "Review a step's output",
    RequirementKind.STEP_ROUTE_SELECTION: "Choose a route",
    RequirementKind.STEP_ERROR: "A step failed: retry or skip",
    RequirementKind.EXTERNAL_EXECUTION: "Hand-off: do this and report back",
    RequirementKind.IN_DOUBT: "Did this call happen?",
}

_ASKS = {
    RequirementKind.IN_DOUBT: "asks whether a call happened",
    RequirementKind.STEP_OUTPUT_REVIEW: "asks for a review",
    RequirementKind.STEP_ROUTE_SELECTION: "asks which route to take",
    RequirementKind.STEP_ERROR: "asks whether to retry or skip",
}
"""How a card's notification text words what a request asks, where its title does not read as one."""

_STATUS_WORDS = {
    RequirementStatus.APPROVED: (":white_check_mark:", "Approved"),
    RequirementStatus.REJECTED: (":no_entry_sign:", "Rejected"),
    RequirementStatus.ANSWERED: (":speech_balloon:", "Answered"),
    RequirementStatus.DONE_EXTERNALLY: (":ballot_box_with_check:", "Marked done"),
    RequirementStatus.EXPIRED: (":hourglass:", "Expired"),
    RequirementStatus.CANCELLED: (":heavy_multiplication_x:", "Cancelled"),
    RequirementStatus.PENDING: (":hourglass_flowing_sand:", "Pending"),
}


_DOUBT_WORDS = {
    "ran": (":ballot_box_with_check:", "It ran: confirmed"),
    "not_run": (":arrow_forward:", "It did not run: running it now, said"),
    "fail_run": (":x:", "Run failed"),
}


# ----------------------------------------------------------------------------- button values


def approve_value(req: RequirementRecord) -> str:
    """``<requirement id>|<sha256 of the arguments the card shows>``: a click approves those."""
    return f"{req.id}|{req.current_hash}"


def parse_action_value(value: Any) -> tuple[str, str | None]:
    """``(requirement or run id, the arguments hash the card showed)`` from a button value.

    The hash is None for a button without one (older cards, the buttons that need none).
    Lengths are clipped; never raises.
    """
    raw = str(value or "")[:MAX_BUTTON_VALUE]
    ident, sep, seen = raw.partition("|")
    seen_hash = seen.strip()[:MAX_ID_CHARS] if sep else ""
    return ident.strip()[:MAX_ID_CHARS], seen_hash or None


def page_value(requirement_id: str, page: int) -> str:
    return f"{requirement_id}|{page}"


def parse_page_value(value: Any) -> tuple[str, int]:
    """``(requirement id, page)`` from a Previous / Next button; page 1 when unreadable. Never raises."""
    ident, seen = parse_action_value(value)
    try:
        page = int(seen or 1)
    except ValueError:
        page = 1
    return ident, max(1, min(page, 1_000_000))


# ----------------------------------------------------------------------------- helpers


def mention(user_id: str | None, fallback: str | None = None) -> str:
    if user_id and user_id[:1] in ("U", "W") and len(user_id) <= MAX_ID_CHARS and user_id.replace("_", "").isalnum():
        return f"<@{user_id}>"
    return escape(truncate(fallback or user_id or "someone", 100))


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


def declared_for(req: RequirementRecord, declared: Declared = None) -> list[str] | None:
    """The sensitive fields known for ``req`` (``storage.redaction.declared_for``)."""
    return redaction.declared_for(req, declared)


def shown_args(req: RequirementRecord, declared: Declared = None) -> dict[str, Any]:
    """The arguments on the table now (an edit's proposal while pending), masked."""
    return redact(req.current_args, declared_for(req, declared)) or {}


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(t, MAX_SECTION_TEXT)} for t in texts]}


def _button(text: str, action_id: str, value: str, style: str | None = None, url: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True},
        "action_id": action_id,
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    return button


def argument_blocks(args: Mapping[str, Any], declared: Declared = ()) -> tuple[Blocks, bool]:
    """Sections of ``*name*`` / value fields; True when something was cut (show the full-args button).

    ``args`` are masked here with ``declared`` (None: every value); pass the raw arguments.
    """
    shown = redact(args, declared) or {}
    if not shown:
        return [_context("_No arguments._")], False
    cut_off = len(shown) > MAX_ARG_FIELDS
    fields: list[dict[str, Any]] = []
    for name, value in list(shown.items())[:MAX_ARG_FIELDS]:
        rendered = render_value(value)
        if len(rendered) > ARG_PREVIEW_CHARS or len(code_text(rendered)) > ARG_PREVIEW_CHARS * 2:
            cut_off = True
        label = bold(str(name), 100) + "\n"
        body = code(truncate(rendered, ARG_PREVIEW_CHARS), MAX_SECTION_FIELD_TEXT - len(label))
        fields.append({"type": "mrkdwn", "text": label + body})
    blocks = [
        {"type": "section", "fields": fields[i : i + MAX_SECTION_FIELDS]}
        for i in range(0, len(fields), MAX_SECTION_FIELDS)
    ]
    if len(shown) > MAX_ARG_FIELDS:
        blocks.append(_context(f"…and {len(shown) - MAX_ARG_FIELDS} more arguments."))
    return blocks, cut_off


def call_text(tool_name: str | None, args: Mapping[str, Any], limit: int = 200) -> str:
    """``tool(a=1, b="x")``, shortened: raw text, to be masked before and escaped after (see :func:`code`)."""
    inner = ", ".join(f"{k}={render_value(v)}" for k, v in args.items())
    return truncate(f"{tool_name or 'step'}({inner})", limit)


def _who_asked(run: RunRecord, req: RequirementRecord) -> str:
    agent = bold(run.target_name)
    if req.member_agent_name:
        agent += f" / {bold(req.member_agent_name)}"
    requester = mention(run.requester, run.requester_name) if run.requester else "an API caller"
    line = f"{agent} · requested by {requester}"
    if req.member_agent_name and req.member_agent_name != run.target_name:
        member = bold(req.member_agent_name)
        line += {
            "team": f"\nAsked by team member {member}",
            "workflow": f"\nAsked by {member}, inside a workflow step",
        }.get(run.kind, f"\nAsked by {member}")
    return line


def is_step(req: RequirementRecord) -> bool:
    """A workflow checkpoint (its ``tool_name`` is the step's name, not a tool)."""
    return req.kind in STEP_KINDS


def is_review(req: RequirementRecord) -> bool:
    """An output review: a person approves, rejects or edits the output a step produced."""
    return req.kind is RequirementKind.STEP_OUTPUT_REVIEW


def output_key(req: RequirementRecord) -> str:
    """The argument holding the output a step card shows: the one under review, or the previous step's."""
    return REVIEWED_OUTPUT if is_review(req) else PREVIOUS_OUTPUT


def step_output(req: RequirementRecord, declared: Declared = None) -> str | None:
    """The output a step card shows (masked like any argument), or None when it shows none."""
    key = output_key(req)
    if not is_step(req) or key not in req.current_args:
        return None
    value = shown_args(req, declared).get(key)
    return None if value is None else render_value(value)


def _output_preview(output: str) -> tuple[str, bool]:
    """The start of an output as a code block for a card, and whether it was cut."""
    rendered = code_text(output.strip() or "(empty)")
    cut_off = len(rendered) > STEP_OUTPUT_PREVIEW_CHARS
    return "```" + cut(rendered, STEP_OUTPUT_PREVIEW_CHARS) + "```", cut_off


def step_output_is_cut(req: RequirementRecord, declared: Declared = None) -> bool:
    """True when the card shows only the start of the step's output (the rest is in the thread)."""
    output = step_output(req, declared)
    return output is not None and _output_preview(output)[1]


def choices_of(spec: Mapping[str, Any]) -> list[str] | None:
    """A user-input field's choices (each once, in order), or None when it takes any value."""
    choices = spec.get("choices")
    return None if choices is None else list(dict.fromkeys(str(c) for c in choices))


def choices_fit_select(choices: Sequence[str]) -> bool:
    """True when a select can offer every choice with its exact value (at most 100 options, each
    value 1 to 150 characters); otherwise the person types the choice and it is checked the same."""
    return 0 < len(choices) <= MAX_SELECT_OPTIONS and all(0 < len(c) <= MAX_OPTION_VALUE for c in choices)


def _title(req: RequirementRecord) -> str:
    if req.approval_type == "required" and req.kind is not RequirementKind.IN_DOUBT:
        return ":lock: Approval required"
    return {
        RequirementKind.CONFIRMATION: ":raising_hand: ",
        RequirementKind.STEP_CONFIRMATION: ":raising_hand: ",
        RequirementKind.USER_INPUT: ":question: ",
        RequirementKind.STEP_USER_INPUT: ":question: ",
        RequirementKind.STEP_OUTPUT_REVIEW: ":mag: ",
        RequirementKind.STEP_ROUTE_SELECTION: ":twisted_rightwards_arrows: ",
        RequirementKind.STEP_ERROR: ":x: ",
        RequirementKind.EXTERNAL_EXECUTION: ":handshake: ",
        RequirementKind.IN_DOUBT: ":warning: ",
    }[req.kind] + _KIND_TITLE[req.kind]


def _quoted(text: str, limit: int = 2000) -> str:
    return "\n".join(f"> {line}" for line in escape(truncate(text, limit)).splitlines())


def _step_blocks(req: RequirementRecord, declared: Declared) -> tuple[Blocks, bool]:
    """A checkpoint: the step, its message, and the previous step's output (a preview when long)."""
    step = code(req.tool_name, 300) if req.tool_name else "_the next step_"
    blocks: Blocks = [_section(f"*Step:* {step}")]
    if req.message:
        blocks.append(_section(_quoted(req.message)))
    output = step_output(req, declared)
    cut_off = False
    if output is not None:
        body, cut_off = _output_preview(output)
        label = "Output to review" if is_review(req) else "Output of the previous step"
        blocks.append(_section(f"*{label}:*\n" + body, block_id=f"output:{req.id}"))
        if cut_off:
            blocks.append(
                _context(
                    f"Showing the first {STEP_OUTPUT_PREVIEW_CHARS:,} of {len(output):,} characters. "
                    "The full output is in this thread and behind *View full output*."
                )
            )
    others = {k: v for k, v in req.current_args.items() if k != output_key(req)}
    if others:
        more, more_cut = argument_blocks(others, declared)
        blocks.extend(more)
        cut_off = cut_off or more_cut
    return blocks, cut_off


def _summary_blocks(
    run: RunRecord, req: RequirementRecord, declared: Declared, votes: int | None = None
) -> tuple[Blocks, bool]:
    head = _section(f"*{_title(req)}*\n{_who_asked(run, req)}", block_id=f"head:{req.id}")
    if is_step(req):
        blocks, cut_off = _step_blocks(req, declared)
        blocks.insert(0, head)
    else:
        tool = code(req.tool_name, 300) if req.tool_name else "_a workflow step_"
        why = escape(truncate(req.message or "", 2000))
        if req.kind is RequirementKind.IN_DOUBT:
            # "`tool(args)` may have run when its worker died at 10:02. Did it happen?"
            call = code(call_text(req.tool_name, redact(req.current_args, declared) or {}), 400)
            blocks = [head, _section(f"{call} {why}")]
        else:
            blocks = [head, _section(f"*Tool:* {tool}" + (f"\n*Why:* {why}" if why else ""))]
        if req.proposed_args is not None and req.is_pending:
            blocks.append(_context(":pencil2: " + EDITED_BY_REVIEWER))
        args_blocks, cut_off = argument_blocks(req.current_args, declared)
        blocks.extend(args_blocks)
    if req.is_pending and req.approval_type == "required" and req.quorum > 1 and votes is not None:
        blocks.append(_context(f":ballot_box_with_check: {votes} of {req.quorum} approvals for these arguments."))
    if req.kind in INPUT_KINDS and req.user_input_schema:
        wanted = ", ".join(
            f"{code(str(f.get('name')), 100)} ({escape(truncate(str(f.get('field_type', 'str')), 40))})"
            + ("" if f.get("required", True) else " _optional_")
            for f in req.user_input_schema
        )
        blocks.append(_section(f"*Needs:* {wanted}"))
        for spec in req.user_input_schema:
            blocks.extend(_choice_blocks(spec))
    return blocks, cut_off


def has_choices(req: RequirementRecord) -> bool:
    """Some field of the request takes only given values (a Router's routes, retry or skip)."""
    return any(spec.get("choices") is not None for spec in req.user_input_schema)


def _choice_blocks(spec: Mapping[str, Any]) -> Blocks:
    """The choices of one field, listed (as many as ``MAX_CHOICE_SECTIONS`` sections hold)."""
    choices = choices_of(spec)
    if choices is None:
        return []
    several = str(spec.get("field_type")) == "list"
    head = f"*Choices for {code(str(spec.get('name')), 100)}* ({'one or more' if several else 'pick one'}):"
    names = [code(c, 200) for c in choices]
    sections = [head]
    shown = 0
    for i, name in enumerate(names):
        sep = " " if i == 0 else ", "
        if len(sections[-1]) + len(sep) + len(name) > MAX_SECTION_TEXT - 60:
            if len(sections) >= MAX_CHOICE_SECTIONS:
                break
            sections.append(name)
        else:
            sections[-1] += sep + name
        shown += 1
    if shown < len(names):
        sections[-1] += f" …and {len(names) - shown:,} more."
    blocks = [_section(text) for text in sections]
    if not choices_fit_select(choices):
        how = "the names separated by commas" if several else "its name"
        blocks.append(_context(f"{len(choices):,} choices, more than a menu holds: reply in this thread with {how}."))
    return blocks


def _footer(run: RunRecord, req: RequirementRecord) -> dict[str, Any]:
    parts = [f"run {code(run.id, 80)}", f"request {code(req.id, 80)}"]
    if req.expires_at is not None and req.is_pending:
        parts.append(f"expires {when(req.expires_at)}")
    if req.approval_type == "required":
        parts.append("approvers only; the requester cannot " + ("answer" if req.kind is RequirementKind.IN_DOUBT
                                                                  else "approve"))
    return _context(" · ".join(parts))


# ----------------------------------------------------------------------------- run messages


def root_message(requester: str, agent_name: str, prompt: str) -> tuple[str, Blocks]:
    """The channel message that starts a run; everything else goes in its thread."""
    text = cut(f"{mention(requester)} started {bold(agent_name)}: {escape(truncate(prompt, 2900))}", MAX_SECTION_TEXT)
    return text, [_section(text, block_id="root")]


def root_with_run(requester: str, agent_name: str, prompt: str, run_id: str) -> tuple[str, Blocks]:
    text, blocks = root_message(requester, agent_name, prompt)
    return text, [*blocks, _context(f"run {code(run_id, 80)} · decisions and the answer follow in this thread")]


# ----------------------------------------------------------------------------- requirement cards


def requirement_card(
    run: RunRecord,
    req: RequirementRecord,
    *,
    editable: bool = True,
    declared: Declared = None,
    thread_link: str | None = None,
    votes: int | None = None,
) -> tuple[str, Blocks]:
    """The interactive card for one pending requirement, with the buttons its kind allows.

    ``declared``: the tool's sensitive fields as the registry knows them now, added to those stored
    with the requirement (values are masked with both; everything when neither is known).
    ``editable``: offer *Edit & approve* (False when no argument could be edited in the modal).
    ``votes``: for a quorum approval, the approvals already given for the arguments shown.
    """
    known = declared_for(req, declared)
    blocks, cut_off = _summary_blocks(run, req, known, votes)
    buttons: list[dict[str, Any]] = []
    if req.kind in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION):
        buttons.append(_button("Approve", APPROVE, approve_value(req), "primary"))
        buttons.append(_button("Reject", REJECT, req.id, "danger"))
        if req.kind is RequirementKind.CONFIRMATION and editable and req.tool_name:
            buttons.append(_button("Edit & approve", EDIT, req.id))
    elif is_review(req):
        buttons.append(_button("Approve", APPROVE, approve_value(req), "primary"))
        buttons.append(_button("Reject", REJECT, req.id, "danger"))
        if editable:
            buttons.append(_button("Edit", EDIT, req.id))
    elif req.kind in INPUT_KINDS:
        buttons.append(_button("Choose" if has_choices(req) else "Provide input", INPUT, req.id, "primary"))
    elif req.kind is RequirementKind.IN_DOUBT:
        buttons.append(_button("It ran (enter the result)", RAN, req.id, "primary"))
        buttons.append(_button("It did not run (run it now)", NOT_RUN, approve_value(req)))
        buttons.append(_button("Fail the run", FAIL_RUN, approve_value(req), "danger"))
    else:
        buttons.append(_button("Mark done", DONE, req.id, "primary"))
    if cut_off:
        buttons.append(_button(_view_label(req), VIEW_ARGS, req.id))
    if thread_link:
        buttons.append(_button("Open the run's thread", OPEN_LINK, req.id, url=thread_link))
    blocks.append({"type": "actions", "block_id": f"actions:{req.id}", "elements": buttons})
    if req.kind in INPUT_KINDS:
        blocks.append(_context(_reply_hint(req)))
    if is_review(req) and not editable:
        blocks.append(_context(NOT_EDITABLE_OUTPUT))
    blocks.append(_footer(run, req))
    verb = "needs approval" if req.approval_type == "required" else _KIND_TITLE[req.kind].lower()
    verb = _ASKS.get(req.kind, verb)
    text = f"{bold(run.target_name)} {verb}: {_what(req, known)}"
    return cut(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def _reply_hint(req: RequirementRecord) -> str:
    """How to answer by replying in the thread."""
    fields = req.user_input_schema
    if len(fields) == 1 and fields[0].get("choices") is not None:
        several = str(fields[0].get("field_type")) == "list"
        return "You can also reply in this thread with " + (
            "the names of your choices, separated by commas." if several else "the name of your choice."
        )
    return "You can also reply in this thread: the value alone, or `field: value` lines."


def _view_label(req: RequirementRecord) -> str:
    return "View full output" if is_step(req) and output_key(req) in req.current_args else "View full arguments"


def _what(req: RequirementRecord, known: Declared) -> str:
    """The notification text's subject, escaped: ``tool(args)`` as code, or the step and its message."""
    if is_step(req):
        step = f"step {code(req.tool_name, 200)}" if req.tool_name else "the next step"
        if is_review(req):
            step = f"the output of {step}"
        return f"{step}. {escape(truncate(req.message, 300))}" if req.message else step
    return code(call_text(req.tool_name, redact(req.current_args, known) or {}), 400)


def step_output_message(run: RunRecord, req: RequirementRecord, declared: Declared = None) -> tuple[str, Blocks] | None:
    """A step's whole output, for the thread, when its card shows only the start: the previous
    step's output before a checkpoint, or the output under review.

    None when the card already shows all of it. As many 3000-character sections as a message
    holds; beyond that the message says where the rest is (the card's *View full output*).
    """
    known = declared_for(req, declared)
    output = step_output(req, known)
    if output is None or not step_output_is_cut(req, known):
        return None
    step = bold(req.tool_name) if req.tool_name else "the next step"
    name = code(req.tool_name, 200) if req.tool_name else "the next step"
    if is_review(req):
        intro = f":page_facing_up: Output of {step}, for review before it flows on ({len(output):,} characters):"
        subject = f"Output of {name} for review"
    else:
        intro = f":page_facing_up: Output of the previous step, for review before {step} ({len(output):,} characters):"
        subject = f"Output of the previous step before {name}"
    sections, complete = _split_sections(output, max_sections=MAX_MESSAGE_BLOCKS - 4, what="output", as_code=True)
    blocks: Blocks = [_section(intro, block_id=f"output:{req.id}"), *sections]
    if not complete:
        blocks.append(_context("The output is longer than one message holds: *View full output* on the card has more."))
    blocks.append(_context(f"run {code(run.id, 80)} · request {code(req.id, 80)}"))
    text = f"{subject}: {escape(truncate(output, TEXT_FALLBACK_CHARS))}"
    return cut(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def _value_line(label: str, value: Any, limit: int = ARG_PREVIEW_CHARS * 2) -> str:
    return f"\n*{label}:* " + code(truncate(render_value(value), limit), limit * 2)


def _outcome_words(req: RequirementRecord) -> tuple[str, str]:
    """The emoji and the word of a decided request: its status, or what a person said happened."""
    res = req.resolution or {}
    if req.kind is RequirementKind.IN_DOUBT and res.get("outcome") in _DOUBT_WORDS:
        return _DOUBT_WORDS[res["outcome"]]
    if is_review(req) and res.get("edited_args") is not None:
        return ":pencil2:", "Edited and approved"
    return _STATUS_WORDS[req.status]


def decision_line(req: RequirementRecord, declared: Declared = None) -> str:
    """ "<emoji> Approved by @bob at <date>. Reason: ...", plus edits/answers/results.

    Everything a person or the model wrote is shown as code (it can neither format nor mention),
    and the edited arguments and answers are masked like the arguments.
    """
    known = declared_for(req, declared)
    emoji, word = _outcome_words(req)
    res = req.resolution or {}
    edited = res.get("edited_args")
    who = mention(req.resolved_by, req.resolved_by_name) if req.resolved_by else "signoff"
    if req.status is RequirementStatus.EXPIRED:
        who = "nobody in time"
    line = f"{emoji} *{word}* by {who} {when(req.resolved_at)}."
    if edited is not None and is_review(req):
        line += _value_line("Edited output", (redact(edited, known) or {}).get(REVIEWED_OUTPUT))
    elif edited is not None:
        line += _value_line("With edited arguments", redact(edited, known))
    if res.get("values"):
        line += _value_line("Answer", redact(res["values"], known))
    if res.get("result") is not None:
        line += _value_line("Result", res["result"])
    if res.get("note"):
        line += _value_line("Note" if is_review(req) else "Reason", str(res["note"]), 1000)
    return cut(line, MAX_SECTION_TEXT)


def decided_card(run: RunRecord, req: RequirementRecord, *, declared: Declared = None) -> tuple[str, Blocks]:
    """The same card after the decision: no buttons, who decided what, when and why."""
    known = declared_for(req, declared)
    blocks, cut_off = _summary_blocks(run, req, known)
    blocks.append(_section(decision_line(req, known), block_id=f"decision:{req.id}"))
    if cut_off:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"actions:{req.id}",
                "elements": [_button(_view_label(req), VIEW_ARGS, req.id)],
            }
        )
    blocks.append(_footer(run, req))
    _, word = _outcome_words(req)
    text = f"{word}: {_what(req, known)}"
    return cut(text, TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def votes_reset_message(req: RequirementRecord, editor: str, voters: Sequence[str]) -> tuple[str, Blocks]:
    """An edit restarted a quorum: the earlier approvers must look again (their votes no longer count)."""
    who = ", ".join(mention(v) for v in voters)
    text = (
        f":pencil2: {mention(editor)} edited the arguments of the request `{req.id}`. "
        f"{who}: your approval was for the earlier arguments and no longer counts; "
        "review the card again to approve these."
    )
    return text, [_section(text)]


def _deciders_text(people: Sequence[str]) -> str:
    return ", ".join(mention(p) if p[:1] in ("U", "W") else f"<!subteam^{escape(truncate(p, MAX_ID_CHARS))}>"
                     for p in people[:20])


def reminder_message(
    run: RunRecord, req: RequirementRecord, deciders: Sequence[str], card_link: str | None = None
) -> tuple[str, Blocks]:
    """A reminder of a request still pending: who it waits for, what it is, where the card is."""
    who = _deciders_text(list(deciders) or list(req.approvers)) or "its deciders"
    what = _what(req, declared_for(req))
    since = when(req.created_at)
    text = f":alarm_clock: Reminder: {who}, {bold(run.target_name)} is still waiting (since {since}) for {what}."
    if req.expires_at is not None:
        text += f" It expires {when(req.expires_at)}."
    blocks: Blocks = [_section(cut(text, MAX_SECTION_TEXT))]
    if card_link:
        blocks.append({"type": "actions", "elements": [_button("Open the request", OPEN_LINK, req.id, url=card_link)]})
    return cut(text, TEXT_FALLBACK_CHARS), blocks


def escalated_message(
    run: RunRecord, req: RequirementRecord, added: Sequence[str], card_link: str | None = None
) -> tuple[str, Blocks]:
    """Nobody decided in time: ``added`` may now decide too."""
    who = _deciders_text(added) or "more approvers"
    what = _what(req, declared_for(req))
    text = (
        f":rotating_light: Escalated: nobody decided on {what} for {bold(run.target_name)} in time, "
        f"so {who} can decide it now too."
    )
    blocks: Blocks = [_section(cut(text, MAX_SECTION_TEXT))]
    if card_link:
        blocks.append({"type": "actions", "elements": [_button("Open the request", OPEN_LINK, req.id, url=card_link)]})
    return cut(text, TEXT_FALLBACK_CHARS), blocks


def vote_line(votes: int, quorum: int, voter: str) -> tuple[str, Blocks]:
    text = f":ballot_box_with_check: {mention(voter)} approved ({votes} of {quorum} approvals needed)."
    return text, [_context(text)]


# ----------------------------------------------------------------------------- outcomes


def _long_text_sections(text: str, max_sections: int = 20) -> Blocks:
    """Split a long answer into sections of at most 3000 characters, at line breaks when possible."""
    return _split_sections(text, max_sections)[0]


def _split_sections(
    text: str, max_sections: int = 20, what: str = "answer", as_code: bool = False
) -> tuple[Blocks, bool]:
    """Sections of at most 3000 characters, split at line breaks when possible; False when cut.

    ``as_code``: each section a code block (a value to review: nothing in it can format).
    """
    fences = 6 if as_code else 0
    size = MAX_SECTION_TEXT - fences
    empty = "(empty)" if as_code else f"_(empty {what})_"
    rest = (code_text(text.strip()) if as_code else escape(text.strip())) or empty
    chunks: list[str] = []
    while rest and len(chunks) < max_sections:
        if len(rest) <= size:
            chunks.append(rest)
            rest = ""
            break
        at = rest.rfind("\n", 0, size)
        if at < size // 2:
            at = safe_cut(rest, size)
        chunks.append(rest[:at])
        rest = rest[at:].lstrip("\n")
    complete = not rest
    if not complete:
        chunks[-1] = cut(chunks[-1], size - 40) + ("" if as_code else f"\n_({what} truncated)_")
    sections = [_section("```" + c + "```" if as_code else c) for c in chunks]
    if not complete and as_code:
        sections.append(_section(f"_({what} truncated)_"))
    return sections, complete


def answer_message(run: RunRecord) -> tuple[str, Blocks]:
    content = run.content or ""
    blocks = [_section(f":white_check_mark: {bold(run.target_name)} finished.")]
    blocks.extend(_long_text_sections(content))
    blocks.append(_context(f"run {code(run.id, 80)}"))
    text = escape(truncate(content, TEXT_FALLBACK_CHARS)) if content else f"{bold(run.target_name)} finished."
    return cut(text, TEXT_FALLBACK_CHARS), blocks


def failure_message(run: RunRecord) -> tuple[str, Blocks]:
    why = run.error or "unknown error"
    kind = f" ({escape(truncate(run.error_kind, 100))})" if run.error_kind else ""
    text = cut(f"{bold(run.target_name)} failed: {escape(truncate(why, TEXT_FALLBACK_CHARS))}", TEXT_FALLBACK_CHARS)
    blocks = [
        _section(f":x: {bold(run.target_name)} failed{kind}.\n" + code_block(truncate(why, 2500), 2600)),
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
    text = f":repeat: {mention(user_id)} asked to retry {bold(run.target_name)}."
    return text, [_section(f":x: The run failed: {escape(truncate(run.error or '', 2000))}"), _context(text)]


def cancelled_message(run: RunRecord) -> tuple[str, Blocks]:
    text = f":heavy_multiplication_x: {bold(run.target_name)} was cancelled."
    if run.content and run.content != "Cancelled.":
        text += f" {escape(truncate(run.content, 1000))}"
    return text, [_section(text), _context(f"run {code(run.id, 80)}")]


# ----------------------------------------------------------------------------- slash command replies


RUN_EMOJI = {
    RunStatus.QUEUED: ":inbox_tray:",
    RunStatus.RUNNING: ":gear:",
    RunStatus.PAUSED: ":double_vertical_bar:",
    RunStatus.COMPLETED: ":white_check_mark:",
    RunStatus.FAILED: ":x:",
    RunStatus.CANCELLED: ":heavy_multiplication_x:",
}
"""A run's status at a glance, the same in replies, cards and App Home."""


def status_message(run: RunRecord, requirements: Sequence[RequirementRecord]) -> tuple[str, Blocks]:
    emoji = RUN_EMOJI[run.status]
    requester = mention(run.requester, run.requester_name) if run.requester else "an API caller"
    head = (
        f"{emoji} Run {code(run.id, 80)} of {bold(run.target_name)} is *{run.status}*.\n"
        f"Started by {requester} {when(run.created_at)}: {escape(truncate(run.input, 500))}"
    )
    blocks: Blocks = [_section(head)]
    pending = [r for r in requirements if r.is_pending]
    for req in pending[:20]:
        blocks.append(
            _section(f"• waiting: {_KIND_TITLE[req.kind].lower()} for {code(call_text(req.tool_name, {}, 80))}")
        )
    if len(pending) > 20:
        blocks.append(_context(f"…and {len(pending) - 20} more waiting."))
    if run.status is RunStatus.FAILED and run.error:
        blocks.append(_section("*Error:* " + code(truncate(run.error, 2000), 2100)))
    if run.status is RunStatus.COMPLETED and run.content:
        blocks.append(_section("*Answer:* " + escape(truncate(run.content, 2500))))
    return cut(f"Run {escape(run.id)} is {run.status}", TEXT_FALLBACK_CHARS), blocks[:MAX_MESSAGE_BLOCKS]


def targets_message(targets: Iterable[tuple[str, str, str]]) -> tuple[str, Blocks]:
    """``(id, kind, one-line description)`` for each agent, team and workflow."""
    targets = list(targets)
    lines = [
        f"• {code(tid, 100)} ({escape(truncate(kind, 40))}): {escape(truncate(desc, 800))}"
        for tid, kind, desc in targets
    ]
    if not lines:
        return "No agents are configured.", [_section("No agents are configured (see SIGNOFF_AGENTS).")]
    blocks: Blocks = [_section("*What you can run* with `/agent &lt;id&gt; &lt;prompt&gt;`:")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION_TEXT - 10:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(cut(line, 1000))
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    names = ", ".join(escape(truncate(tid, 100)) for tid, _, _ in targets)
    return cut("Agents: " + names, 2000), blocks[:MAX_MESSAGE_BLOCKS]


def approvals_message(
    items: Sequence[tuple[RequirementRecord, RunRecord, str | None]],
    total: int | None = None,
) -> tuple[str, Blocks]:
    """The caller's pending decisions, each with a link to its card (``permalink`` may be None).

    Each call is shown as code (a backtick in an argument cannot close it) with its arguments
    masked by the sensitive fields stored with the requirement (all of them when unknown).
    """
    if not items:
        text = ":sparkles: Nothing is waiting for you."
        return text, [_section(text)]
    limit = MAX_MESSAGE_BLOCKS - 2
    count = len(items) if total is None else total
    if count > min(len(items), limit):
        limit -= 1  # room for the "Showing" line
    shown = min(len(items), limit)
    blocks: Blocks = [_section(f"*{count} decision{'s' if count != 1 else ''} waiting for you*")]
    if count > shown:
        blocks.append(_context(f"Showing {shown} of {count}: the soonest to expire first, then the newest."))
    for req, run, link in items[:shown]:
        what = code(call_text(req.tool_name, shown_args(req), 150), 400)
        tag = " :lock:" if req.approval_type == "required" else ""
        line = f"• {bold(run.target_name)}{tag}: {what}\n   {_KIND_TITLE[req.kind]} · run {code(run.id, 80)}"
        section = _section(line)
        if link:
            section["accessory"] = _button("Open card", OPEN_LINK, req.id, url=link)
        blocks.append(section)
    if count > shown:
        blocks.append(_context(f"…and {count - shown} more."))
    return f"{count} decision{'s' if count != 1 else ''} waiting for you", blocks


def notice(text: str) -> tuple[str, Blocks]:
    """A one-section ephemeral message (``text`` is mrkdwn already escaped by its author)."""
    text = cut(text, MAX_SECTION_TEXT)
    return text, [_section(text)]
