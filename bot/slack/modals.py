"""Modals: pure builders (records and schemas in, view dicts out) and the parsers of what comes back.

``private_metadata`` carries the requirement id (the only thing the submit handler trusts; it
reloads everything else from SQL), where the card was, so an error can be shown there, and the
SHA-256 of the arguments the modal was opened on (``h``), so a submission decides on those.
Each input block's ``block_id`` is ``<prefix>:<name>`` and its ``action_id`` is ``value``.

What a modal shows goes through ``storage.redaction`` (sensitive values are masked, never
pre-filled) and ``bot.slack.mrkdwn`` (escaped, invisible characters shown). The full arguments are
paged so every character can be read; a value the edit modal cannot hold whole is not offered
as an input at all (it is kept exactly as is) rather than pre-filled cut. A workflow output review
edits its one ``output`` argument the same way, in one multiline box. A user-input field with
``choices`` (a Router's routes) is a select whose option values are the choices exactly; whether
an answer is a choice is checked by the decision service, never by the form.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from bot.slack import mrkdwn
from bot.slack.cards import (
    ARGS_PAGE,
    MAX_ID_CHARS,
    Declared,
    choices_fit_select,
    choices_of,
    declared_for,
    is_review,
    is_step,
    output_key,
    page_value,
    render_value,
    shown_args,
)
from bot.slack.limits import (
    MAX_OPTION_TEXT,
    MAX_PLACEHOLDER,
    MAX_SECTION_TEXT,
    MAX_TEXT_INPUT_LENGTH,
    MAX_VIEW_BLOCKS,
    truncate,
)
from bot.slack.mrkdwn import code, escape, plain
from runner.tools import field_json_type, json_type, parse_typed
from storage.errors import InvalidInput
from storage.records import RequirementRecord
from storage.redaction import is_sensitive_name, redact
from storage.timeouts import MAX_REQUEST_BODY_BYTES

REJECT_VIEW = "signoff_reject_view"
EDIT_VIEW = "signoff_edit_view"
INPUT_VIEW = "signoff_input_view"
DONE_VIEW = "signoff_done_view"
RAN_VIEW = "signoff_ran_view"
ARGS_VIEW = "signoff_args_view"

VALUE = "value"
ARG_PREFIX = "arg:"
FIELD_PREFIX = "field:"
REASON_BLOCK = "reason"
RESULT_BLOCK = "result"
MAX_INPUTS = MAX_VIEW_BLOCKS - 4
SENSITIVE_HINT = "Hidden (sensitive). Leave empty to keep the current value."

PAGE_CHUNK = MAX_SECTION_TEXT - 6
"""Characters of the rendering in one code section of the full-arguments modal (``` on each side)."""
PAGE_SECTIONS = MAX_VIEW_BLOCKS - 3
"""Code sections on one page: the rest of the view is the header and the Previous / Next buttons."""
PAGE_WIRE_BUDGET = MAX_REQUEST_BODY_BYTES // 2
"""How large one page's code may be once Slack sends it back: a click on Previous / Next carries the
whole view, JSON (non-ASCII as ``\\u`` escapes) in a form-encoded body, and the web process refuses a
body over ``MAX_REQUEST_BODY_BYTES``. Plain text fills a page; text that expands (quotes, non-ASCII,
emoji) makes pages shorter, so a click never outgrows the limit."""

PREVIOUS_LABEL = "\u2039 Previous"
NEXT_LABEL = "Next \u203a"

_TRUE = "true"
_FALSE = "false"


@dataclass(frozen=True)
class Metadata:
    requirement_id: str
    channel: str | None = None
    message_ts: str | None = None
    args_hash: str | None = None
    """SHA-256 of the arguments the modal was opened on (what a submission decides on)."""

    def dump(self) -> str:
        data: dict[str, Any] = {"r": self.requirement_id, "c": self.channel, "t": self.message_ts}
        if self.args_hash:
            data["h"] = self.args_hash
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> Metadata:
        """Raises ValueError on anything that is not ours (too deeply nested JSON included)."""
        try:
            data = json.loads(raw or "")
        except RecursionError:
            raise ValueError("not a signoff modal") from None
        if not isinstance(data, dict) or not isinstance(data.get("r"), str):
            raise ValueError("not a signoff modal")
        channel = data.get("c") if isinstance(data.get("c"), str) else None
        ts = data.get("t") if isinstance(data.get("t"), str) else None
        seen = data.get("h") if isinstance(data.get("h"), str) else None
        return cls(data["r"][:MAX_ID_CHARS], channel, ts, seen[:MAX_ID_CHARS] if seen else None)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(plain(text), limit) or " ", "emoji": True}


def _modal(
    callback_id: str, title: str, meta: Metadata, blocks: list[dict[str, Any]], submit: str | None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title, 24),
        "close": _plain("Cancel" if submit else "Close", 24),
        "private_metadata": meta.dump(),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }
    if submit:
        view["submit"] = _plain(submit, 24)
    return view


def _context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": mrkdwn.cut(t, MAX_SECTION_TEXT)} for t in texts[:10]],
    }


def _summary_text(req: RequirementRecord) -> str:
    what = code(req.tool_name, 300) if req.tool_name else "this step"
    return f"{what} · request {code(req.id, 80)}"


def _summary(req: RequirementRecord) -> dict[str, Any]:
    return _context(_summary_text(req))


# ----------------------------------------------------------------------------- typed inputs


def _initial_text(value: Any, kind: str) -> str | None:
    if value is None:
        return None
    if kind in ("array", "object") or not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def fits_input(text: str) -> bool:
    """True when a ``plain_text_input`` can hold ``text`` whole and show every character of it."""
    return len(text) <= MAX_TEXT_INPUT_LENGTH and not mrkdwn.has_hidden(text)


def choice_element(choices: Sequence[str], *, several: bool, initial: Any = None) -> dict[str, Any]:
    """A select (``multi_static_select`` when ``several``) whose option values are the choices exactly.

    The display text is cut to Slack's 75 characters; the value never is (see ``choices_fit_select``).
    """
    opts = [{"text": _plain(c, MAX_OPTION_TEXT), "value": c} for c in choices]
    element: dict[str, Any] = {
        "type": "multi_static_select" if several else "static_select",
        "action_id": VALUE,
        "options": opts,
    }
    wanted = [str(v) for v in initial] if isinstance(initial, list) else [] if initial is None else [str(initial)]
    chosen = [o for o in opts if o["value"] in wanted]
    if chosen and several:
        element["initial_options"] = chosen
    elif chosen:
        element["initial_option"] = chosen[0]
    return element


def split_choices(text: str) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]``: several choices typed (or replied) as comma-separated names."""
    return [part.strip() for part in text.split(",") if part.strip()]


def typed_element(
    kind: str, initial: Any = None, options: Sequence[Any] | None = None, *, multiline: bool = False
) -> dict[str, Any]:
    """The Block Kit element for one value of JSON type ``kind`` (action_id ``value``)."""
    element: dict[str, Any]
    if options:
        opts = [
            {"text": _plain(render_value(o), 75), "value": truncate(json.dumps(o, default=str), 150)}
            for o in list(options)[:100]
        ]
        element = {"type": "static_select", "action_id": VALUE, "options": opts}
        if initial is not None:
            match = next((o for o in opts if o["value"] == truncate(json.dumps(initial, default=str), 150)), None)
            if match:
                element["initial_option"] = match
        return element
    if kind in ("integer", "number"):
        element = {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": kind == "number"}
        if isinstance(initial, int | float) and not isinstance(initial, bool):
            element["initial_value"] = str(initial)
        return element
    if kind == "boolean":
        opts = [
            {"text": _plain("Yes", 75), "value": _TRUE},
            {"text": _plain("No", 75), "value": _FALSE},
        ]
        element = {"type": "static_select", "action_id": VALUE, "options": opts}
        if isinstance(initial, bool):
            element["initial_option"] = opts[0] if initial else opts[1]
        return element
    element = {"type": "plain_text_input", "action_id": VALUE}
    text = _initial_text(initial, kind)
    if text is not None and fits_input(text):
        element["initial_value"] = text  # whole, or not at all: never a cut value that looks whole
    if multiline or kind in ("array", "object") or (text is not None and (len(text) > 80 or "\n" in text)):
        element["multiline"] = True
    if kind in ("array", "object"):
        element["placeholder"] = _plain("JSON, e.g. " + ("[1, 2]" if kind == "array" else '{"key": "value"}'), 150)
    return element


def _input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id[:255],
        "label": _plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _multiline_input(placeholder: str | None = None) -> dict[str, Any]:
    """A free-text box: a reason, a note, a step's result."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "multiline": True}
    if placeholder is not None:
        element["placeholder"] = _plain(placeholder, MAX_PLACEHOLDER)
    return element


# ----------------------------------------------------------------------------- builders


def reject_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    element = _multiline_input("Why not? The agent sees this and can adjust.")
    blocks = [
        _summary(req),
        _input_block(
            REASON_BLOCK, "Reason", element, optional=False, hint="Sent to the agent and kept in the audit log."
        ),
    ]
    return _modal(REJECT_VIEW, "Reject", meta, blocks, "Reject")


@dataclass(frozen=True)
class EditField:
    """One tool parameter as the edit modal treats it."""

    name: str
    kind: str
    value: Any
    sensitive: bool
    """Shown empty (never pre-filled); left empty, the current value is kept."""
    kept_because: str | None = None
    """Why it is not offered as an input (it is then kept exactly as is), or None when it is."""

    @property
    def offered(self) -> bool:
        return self.kept_because is None


def edit_fields(req: RequirementRecord, parameters: Mapping[str, Any], declared: Declared = None) -> list[EditField]:
    """How the edit modal treats each parameter (at most ``MAX_INPUTS``) of the arguments on the table.

    A sensitive value (declared, secret-looking, or containing a masked part) is offered empty.
    A value an input cannot hold whole (longer than 3000 characters) or show faithfully
    (invisible or control characters) is not offered: it is kept exactly as is.
    """
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    known = declared_for(req, declared)
    args = req.current_args
    fields: list[EditField] = []
    for name in list(props)[:MAX_INPUTS]:
        prop = props[name] or {}
        kind = json_type(prop)
        value = args.get(name, prop.get("default"))
        sensitive = is_sensitive_name(str(name), known)
        if not sensitive and name in args:
            sensitive = (redact({name: value}, known) or {}).get(name) != value
        reason: str | None = None
        text = _initial_text(value, kind)
        if not sensitive and text is not None and not prop.get("enum") and kind not in ("integer", "number", "boolean"):
            label = code(str(name), 100)
            if len(text) > MAX_TEXT_INPUT_LENGTH:
                reason = (
                    f"{label} is {len(text):,} characters, too long to edit here: it is kept exactly as is "
                    "(read it with *View full arguments*)."
                )
            elif mrkdwn.has_hidden(text):
                reason = (
                    f"{label} contains invisible or control characters an input would not show: it is kept "
                    "exactly as is (*View full arguments* shows them as ⟦U+…⟧)."
                )
        fields.append(EditField(str(name), kind, value, sensitive, reason))
    return fields


def editable_fields(req: RequirementRecord, parameters: Mapping[str, Any], declared: Declared = None) -> list[str]:
    """The parameters the edit modal offers as inputs (empty: there is nothing to edit, no button)."""
    return [f.name for f in edit_fields(req, parameters, declared) if f.offered]


def edit_modal(
    req: RequirementRecord, parameters: Mapping[str, Any], meta: Metadata, declared: Declared = None
) -> dict[str, Any]:
    """One typed input per tool parameter, prefilled with the arguments on the table.

    Sensitive values are never pre-filled; values an input cannot hold whole are not offered
    (a line says they are kept as they are). ``meta`` should carry ``req.current_hash``.
    """
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    required = set(parameters.get("required", []) or [])
    review = is_review(req)
    head = [_summary_text(req)]
    if review:
        head.append("Your edit replaces the step's output: what you submit is exactly what flows on.")
    if req.proposed_args is not None:
        head.append(":pencil2: Edited by a reviewer: these are the arguments being voted on.")
    blocks: list[dict[str, Any]] = [_context(*head)]
    kept: list[str] = []
    for field in edit_fields(req, parameters, declared):
        if field.kept_because is not None:
            kept.append(field.kept_because)
            continue
        prop = props[field.name] or {}
        initial = None if field.sensitive else field.value
        element = typed_element(field.kind, initial, prop.get("enum"), multiline=review)
        description = prop.get("description")
        hint = SENSITIVE_HINT if field.sensitive else (str(description) if description else None)
        blocks.append(
            _input_block(
                ARG_PREFIX + field.name,
                field.name,
                element,
                optional=field.sensitive or field.name not in required,
                hint=hint,
            )
        )
    blocks.extend(_context(*kept[i : i + 10]) for i in range(0, len(kept), 10))
    note = _multiline_input()
    blocks.append(_input_block(REASON_BLOCK, "Note (optional)", note, optional=True))
    if len(props) > MAX_INPUTS:
        blocks.append(_context(f"{len(props) - MAX_INPUTS} more parameters keep their values."))
    return _modal(EDIT_VIEW, "Edit the output" if review else "Edit & approve", meta, blocks, "Approve")


def _field_input(spec: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The element for one user-input field and its hint: a select for a field with choices
    (several at once when its type is ``list``), typed text when they do not fit a select."""
    kind = field_json_type(spec)
    hint = spec.get("description") or None
    choices = choices_of(spec)
    if choices is None:
        return typed_element(kind, spec.get("value")), hint
    several = kind == "array"
    if choices_fit_select(choices):
        return choice_element(choices, several=several, initial=spec.get("value")), hint
    how = "names separated by commas" if several else "its name exactly"
    typed = f"{len(choices):,} choices, more than a menu holds: type {how} (the card lists them)."
    return typed_element("string"), f"{hint} · {typed}" if hint else typed


def input_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    """One typed field per value the tool needs from a person; a select for a field with choices."""
    blocks: list[dict[str, Any]] = [_summary(req)]
    if req.message:
        blocks.append(_context(escape(truncate(req.message, 2900))))
    for spec in req.user_input_schema[:MAX_INPUTS]:
        name = str(spec.get("name"))
        element, hint = _field_input(spec)
        blocks.append(
            _input_block(FIELD_PREFIX + name, name, element, optional=not spec.get("required", True), hint=hint)
        )
    title = "Choose" if any(spec.get("choices") is not None for spec in req.user_input_schema) else "Provide input"
    return _modal(INPUT_VIEW, title, meta, blocks, "Send")


def done_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    element = _multiline_input("What happened? The agent gets this as the tool's result.")
    blocks = [_summary(req), _input_block(RESULT_BLOCK, "Result", element, optional=False)]
    return _modal(DONE_VIEW, "Mark done", meta, blocks, "Mark done")


def ran_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    """An in-doubt call that did happen: its result, which the agent is told."""
    element = _multiline_input("What did the call do or return? The agent gets this as its result.")
    blocks = [
        _summary(req),
        _context("The call will not be run again: signoff records that it ran, with this result."),
        _input_block(RESULT_BLOCK, "Result", element, optional=False),
    ]
    return _modal(RAN_VIEW, "It ran", meta, blocks, "Record")


# ----------------------------------------------------------------------------- full arguments, paged


def full_rendering(req: RequirementRecord, declared: Declared = None) -> tuple[str, str]:
    """``(title, text)``: everything "View full arguments" shows, masked and escaped, before paging.

    The arguments on the table as pretty-printed JSON; for a workflow checkpoint, the previous
    step's output (or the output under review) as it is. Code text: nothing in it can end the
    code blocks it is shown in.
    """
    shown = shown_args(req, declared)
    key = output_key(req)
    if is_step(req) and set(req.current_args) == {key}:
        return "Full output", mrkdwn.code_text(render_value(shown.get(key))) or "(empty)"
    return "Full arguments", mrkdwn.code_text(json.dumps(shown, indent=2, ensure_ascii=False, default=str))


def wire_size(text: str) -> int:
    """How many bytes ``text`` takes in an interaction payload Slack sends (JSON, then form-encoded)."""
    return len(quote_plus(json.dumps(text)))


def full_pages(text: str) -> list[list[str]]:
    """``text`` in code sections of at most ``PAGE_CHUNK`` characters, at most ``PAGE_SECTIONS`` (and
    ``PAGE_WIRE_BUDGET`` bytes on the wire) to a page.

    Joined, every page's sections are ``text`` exactly: every character once, in order.
    """
    pages: list[list[str]] = []
    current: list[str] = []
    size = 0
    for chunk in mrkdwn.split(text, PAGE_CHUNK) or ["(empty)"]:
        cost = wire_size(chunk)
        if current and (len(current) >= PAGE_SECTIONS or size + cost > PAGE_WIRE_BUDGET):
            pages.append(current)
            current, size = [], 0
        current.append(chunk)
        size += cost
    pages.append(current)
    return pages


def full_arguments(req: RequirementRecord, meta: Metadata, declared: Declared = None, page: int = 1) -> dict[str, Any]:
    """One page of every argument (or a checkpoint's whole previous output), with Previous / Next.

    Every page says which characters it shows out of how many, and the SHA-256 of the arguments
    (``req.current_hash``), so the approver can tell they read all of what they approve.
    ``page`` is clamped to the pages there are.
    """
    title, text = full_rendering(req, declared)
    pages = full_pages(text)
    page = max(1, min(page, len(pages)))
    chunks = pages[page - 1]
    first = sum(len(c) for p in pages[: page - 1] for c in p) + 1
    last = first + sum(len(c) for c in chunks) - 1
    where = f"Page {page} of {len(pages)} · " if len(pages) > 1 else ""
    info = (
        f"{where}characters {first:,} to {last:,} of {len(text):,} · "
        f"SHA-256 of the arguments: {code(req.current_hash, 80)}"
    )
    head = [_summary_text(req), info]
    if req.proposed_args is not None and req.is_pending:
        head.append(":pencil2: Edited by a reviewer: these are the arguments being voted on.")
    blocks: list[dict[str, Any]] = [_context(*head)]
    blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": "```" + c + "```"}} for c in chunks)
    if page > 1:
        back = {
            "type": "button",
            "text": _plain(PREVIOUS_LABEL, 75),
            "action_id": ARGS_PAGE,
            "value": page_value(req.id, page - 1),
        }
        blocks.append({"type": "actions", "block_id": "page:previous", "elements": [back]})
    if page < len(pages):
        forward = {
            "type": "button",
            "text": _plain(NEXT_LABEL, 75),
            "action_id": ARGS_PAGE,
            "value": page_value(req.id, page + 1),
            "style": "primary",
        }
        blocks.append({"type": "actions", "block_id": "page:next", "elements": [forward]})
    label = f"{title} {page}/{len(pages)}" if len(pages) > 1 else title
    return _modal(ARGS_VIEW, label, meta, blocks, None)


# ----------------------------------------------------------------------------- parsing submissions


class FormErrors(InvalidInput):
    """Values a modal's inputs could not be read as, by input block id; the person is told each
    one (ephemerally, once the modal has closed) and nothing is applied."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), next(iter(errors), None))
        self.errors = errors


def _raw(state: Mapping[str, Any], block_id: str) -> Any:
    entry = (state.get(block_id) or {}).get(VALUE) or {}
    etype = entry.get("type")
    if etype == "static_select":
        selected = entry.get("selected_option")
        return selected.get("value") if selected else None
    if etype == "multi_static_select":
        chosen = [o.get("value") for o in entry.get("selected_options") or [] if isinstance(o, Mapping)]
        return chosen or None
    return entry.get("value")


def _coerce(raw: Any, kind: str, from_select: bool) -> Any:
    """Raises ValueError with a message a person understands (``runner.tools.parse_typed``)."""
    return parse_typed(raw, kind, from_choice=from_select)


def text_value(state: Mapping[str, Any], block_id: str) -> str | None:
    raw = _raw(state, block_id)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def parse_edit(
    state: Mapping[str, Any], parameters: Mapping[str, Any], offered: Collection[str] | None = None
) -> dict[str, Any]:
    """The edited arguments: only the fields filled in (an empty one keeps its current value).

    ``offered``: the fields the modal offered (``editable_fields``, recomputed from SQL); any
    other field in the submission is ignored, so a value too long to edit is always kept as is.
    """
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in list(props)[:MAX_INPUTS]:
        if offered is not None and name not in offered:
            continue
        block_id = ARG_PREFIX + name
        raw = _raw(state, block_id)
        if raw is None or raw == "":
            continue
        prop = props[name] or {}
        try:
            out[name] = _coerce(raw, json_type(prop), bool(prop.get("enum")))
        except ValueError as exc:
            errors[block_id] = str(exc)
    if errors:
        raise FormErrors(errors)
    return out


def parse_input(state: Mapping[str, Any], schema: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in schema[:MAX_INPUTS]:
        name = str(spec.get("name"))
        block_id = FIELD_PREFIX + name
        raw = _raw(state, block_id)
        if raw is None or raw == "":
            continue
        kind = field_json_type(spec)
        if spec.get("choices") is not None:
            # Checked against the choices by the decision service, as every surface's answer is.
            typed = not choices_fit_select(choices_of(spec) or [])
            out[name] = choice_answer(raw, several=kind == "array", typed=typed)
            continue
        try:
            out[name] = _coerce(raw, kind, False)
        except ValueError as exc:
            errors[block_id] = str(exc)
    if errors:
        raise FormErrors(errors)
    return out


def choice_answer(raw: Any, *, several: bool, typed: bool = True) -> Any:
    """What a person picked or typed for a field with choices: one name, or a list when several
    are allowed (a typed ``"a, b"`` is split). A picked value is kept exactly; a typed one is
    trimmed. Whether each is a choice is the decision service's check, the same on every surface."""
    if not several:
        text = raw if isinstance(raw, str) else render_value(raw)
        return text.strip() if typed else text
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return split_choices(str(raw))


def error_block(field: str | None, prefix: str, default: str) -> str:
    """The block id an InvalidDecision about ``field`` belongs on."""
    return prefix + field if field else default
