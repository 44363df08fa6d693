"""Modals: pure builders (records and schemas in, view dicts out) and the parsers of what comes back.

``private_metadata`` carries the requirement id (the only thing the submit handler trusts; it
reloads everything else from SQL) and where the card was, so an error can be shown there.
Each input block's ``block_id`` is ``<prefix>:<name>`` and its ``action_id`` is ``value``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.blockkit import MAX_PLACEHOLDER, MAX_SECTION_TEXT, MAX_TEXT_INPUT_LENGTH, MAX_VIEW_BLOCKS, truncate
from bot.cards import escape, previous_output, render_value
from storage.records import RequirementRecord

REJECT_VIEW = "signoff_reject_view"
EDIT_VIEW = "signoff_edit_view"
INPUT_VIEW = "signoff_input_view"
DONE_VIEW = "signoff_done_view"
ARGS_VIEW = "signoff_args_view"

VALUE = "value"
ARG_PREFIX = "arg:"
FIELD_PREFIX = "field:"
REASON_BLOCK = "reason"
RESULT_BLOCK = "result"
MAX_INPUTS = MAX_VIEW_BLOCKS - 4

_TRUE = "true"
_FALSE = "false"


@dataclass(frozen=True)
class Metadata:
    requirement_id: str
    channel: str | None = None
    message_ts: str | None = None

    def dump(self) -> str:
        return json.dumps({"r": self.requirement_id, "c": self.channel, "t": self.message_ts}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> Metadata:
        """Raises ValueError on anything that is not ours."""
        data = json.loads(raw or "")
        if not isinstance(data, dict) or not isinstance(data.get("r"), str):
            raise ValueError("not a signoff modal")
        channel = data.get("c") if isinstance(data.get("c"), str) else None
        ts = data.get("t") if isinstance(data.get("t"), str) else None
        return cls(data["r"], channel, ts)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


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


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}]}


def _summary(req: RequirementRecord) -> dict[str, Any]:
    what = f"`{escape(req.tool_name)}`" if req.tool_name else "this step"
    return _context(f"{what} · request `{req.id}`")


# ----------------------------------------------------------------------------- typed inputs


def json_type(prop: Mapping[str, Any]) -> str:
    """The JSON-schema type of a property (``anyOf`` with null is optional, not a type)."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        kind = next((p.get("type") for p in prop.get("anyOf", []) if p.get("type") not in (None, "null")), "string")
    return str(kind)


_PY_TO_JSON = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}


def _initial_text(value: Any, kind: str) -> str | None:
    if value is None:
        return None
    if kind in ("array", "object") or not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


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
    if text is not None:
        element["initial_value"] = truncate(text, MAX_TEXT_INPUT_LENGTH)
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


def edit_modal(req: RequirementRecord, parameters: Mapping[str, Any], meta: Metadata) -> dict[str, Any]:
    """One typed input per tool parameter, prefilled with the arguments the model chose."""
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    required = set(parameters.get("required", []) or [])
    blocks: list[dict[str, Any]] = [_summary(req)]
    names = list(props)[:MAX_INPUTS]
    for name in names:
        prop = props[name] or {}
        kind = json_type(prop)
        element = typed_element(kind, req.tool_args.get(name, prop.get("default")), prop.get("enum"))
        blocks.append(
            _input_block(
                ARG_PREFIX + name,
                name,
                element,
                optional=name not in required,
                hint=prop.get("description"),
            )
        )
    note = _multiline_input()
    blocks.append(_input_block(REASON_BLOCK, "Note (optional)", note, optional=True))
    if len(props) > MAX_INPUTS:
        blocks.append(_context(f"{len(props) - MAX_INPUTS} more parameters keep their values."))
    return _modal(EDIT_VIEW, "Edit & approve", meta, blocks, "Approve")


def input_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    """One typed field per value the tool needs from a person."""
    blocks: list[dict[str, Any]] = [_summary(req)]
    if req.message:
        blocks.append(_context(escape(req.message)))
    for spec in req.user_input_schema[:MAX_INPUTS]:
        name = str(spec.get("name"))
        kind = _PY_TO_JSON.get(str(spec.get("field_type", "str")), "string")
        blocks.append(
            _input_block(
                FIELD_PREFIX + name,
                name,
                typed_element(kind, spec.get("value")),
                optional=not spec.get("required", True),
                hint=spec.get("description") or None,
            )
        )
    return _modal(INPUT_VIEW, "Provide input", meta, blocks, "Send")


def done_modal(req: RequirementRecord, meta: Metadata) -> dict[str, Any]:
    element = _multiline_input("What happened? The agent gets this as the tool's result.")
    blocks = [_summary(req), _input_block(RESULT_BLOCK, "Result", element, optional=False)]
    return _modal(DONE_VIEW, "Mark done", meta, blocks, "Mark done")


def full_arguments(req: RequirementRecord, meta: Metadata, sensitive: Sequence[str] = ()) -> dict[str, Any]:
    """Every argument, pretty-printed JSON split over sections (a view holds 100 blocks of 3000).

    For a workflow checkpoint, the previous step's output as plain text instead.
    """
    hidden = set(sensitive)
    output = previous_output(req)
    if output is not None and len(req.tool_args) == 1:
        # A workflow checkpoint: the previous step's output as it is, not as a JSON string.
        return _chunked(ARGS_VIEW, "Full output", meta, req, escape(output.replace("```", "'''")) or "(empty)")
    shown = {k: ("••••••" if k in hidden else v) for k, v in req.tool_args.items()}
    text = escape(json.dumps(shown, indent=2, ensure_ascii=False, default=str))
    return _chunked(ARGS_VIEW, "Full arguments", meta, req, text)


def _chunked(callback_id: str, title: str, meta: Metadata, req: RequirementRecord, text: str) -> dict[str, Any]:
    """``text`` in code blocks over as many sections as a view holds."""
    size = MAX_SECTION_TEXT - 8
    chunks = [text[i : i + size] for i in range(0, len(text), size)] or ["{}"]
    room = MAX_VIEW_BLOCKS - 2
    blocks: list[dict[str, Any]] = [_summary(req)]
    for chunk in chunks[:room]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "```" + chunk + "```"}})
    if len(chunks) > room:
        blocks.append(_context(f"Cut after {room * size} characters; the audit export has everything."))
    return _modal(callback_id, title, meta, blocks, None)


# ----------------------------------------------------------------------------- parsing submissions


class FormErrors(Exception):
    """Per-block messages for ``ack(response_action="errors", errors=...)``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _raw(state: Mapping[str, Any], block_id: str) -> Any:
    entry = (state.get(block_id) or {}).get(VALUE) or {}
    etype = entry.get("type")
    if etype == "static_select":
        selected = entry.get("selected_option")
        return selected.get("value") if selected else None
    return entry.get("value")


def _coerce(raw: Any, kind: str, from_select: bool) -> Any:
    """Raises ValueError with a message a person understands."""
    if from_select:
        return json.loads(raw)
    if kind == "boolean":
        if raw in (_TRUE, _FALSE):
            return raw == _TRUE
        raise ValueError("choose Yes or No")
    if kind == "integer":
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
    if kind == "number":
        try:
            return float(str(raw).strip())
        except ValueError:
            raise ValueError("must be a number") from None
    if kind in ("array", "object"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be JSON ({exc.msg})") from None
        if kind == "array" and not isinstance(value, list):
            raise ValueError("must be a JSON list, e.g. [1, 2]")
        if kind == "object" and not isinstance(value, dict):
            raise ValueError('must be a JSON object, e.g. {"key": "value"}')
        return value
    return raw


def text_value(state: Mapping[str, Any], block_id: str) -> str | None:
    raw = _raw(state, block_id)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def parse_edit(state: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in list(props)[:MAX_INPUTS]:
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
        kind = _PY_TO_JSON.get(str(spec.get("field_type", "str")), "string")
        try:
            out[name] = _coerce(raw, kind, False)
        except ValueError as exc:
            errors[block_id] = str(exc)
    if errors:
        raise FormErrors(errors)
    return out


def error_block(field: str | None, prefix: str, default: str) -> str:
    """The block id an InvalidDecision about ``field`` belongs on."""
    return prefix + field if field else default
