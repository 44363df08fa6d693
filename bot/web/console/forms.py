"""HTML forms from a tool's JSON schema (edit & approve) and a request's input fields (answer).

A sensitive field is never pre-filled; left empty, the current value is kept. A value the form
could not show faithfully (invisible or control characters) is not offered: it is kept exactly
as is, and the page says so. Whatever is submitted is typed here and checked again by the
decision service against the tool's own validator.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.web.console.common import has_hidden
from runner.tools import field_json_type, json_type, parse_typed
from storage.errors import InvalidDecision
from storage.redaction import is_sensitive_name, redact

ARG = "arg."
FIELD = "field."


@dataclass
class FormField:
    name: str
    input_name: str
    label: str
    kind: str
    text: str
    """The pre-filled text ("" for a sensitive or absent value)."""
    sensitive: bool
    required: bool
    description: str | None = None
    options: list[str] | None = None
    kept_because: str | None = None
    several: bool = False
    """A field that takes several of its ``choices`` (names separated by commas, in order)."""

    @property
    def multiline(self) -> bool:
        return self.kind in ("array", "object") or len(self.text) > 80 or "\n" in self.text


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("array", "object") or not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def edit_fields(parameters: Mapping[str, Any], args: Mapping[str, Any],
                declared: Collection[str] | None) -> list[FormField]:
    props: Mapping[str, Any] = parameters.get("properties", {}) or {}
    required = set(parameters.get("required", []) or [])
    out: list[FormField] = []
    for name, prop in props.items():
        prop = prop or {}
        kind = json_type(prop)
        value = args.get(name, prop.get("default"))
        sensitive = is_sensitive_name(str(name), declared)
        if not sensitive and name in args:
            sensitive = (redact({name: value}, declared) or {}).get(name) != value
        text = "" if sensitive else _text(value, kind)
        kept = None
        if not sensitive and has_hidden(text):
            kept = "it contains invisible or control characters a form would not show: it is kept exactly as is"
        options = [json.dumps(o, ensure_ascii=False) for o in prop["enum"]] if prop.get("enum") else None
        if options is not None and not sensitive:
            text = json.dumps(value, ensure_ascii=False, default=str) if value is not None else ""
        out.append(FormField(str(name), ARG + str(name), str(prop.get("title") or name), kind, text, sensitive,
                             name in required, prop.get("description"), options, kept))
    return out


def input_fields(schema: Sequence[Mapping[str, Any]], declared: Collection[str] | None) -> list[FormField]:
    out = []
    for spec in schema:
        name = str(spec.get("name"))
        kind = field_json_type(spec)
        choices = [str(c) for c in spec.get("choices") or []]
        several = bool(choices) and kind == "array"
        description = spec.get("description")
        if several:
            description = f"{description or 'Choose'}: one or more of {', '.join(choices)}, separated by commas"
        options = [json.dumps(c) for c in choices] if choices and not several else None
        out.append(FormField(name, FIELD + name, name, kind, "", is_sensitive_name(name, declared),
                             bool(spec.get("required", True)), description, options, several=several))
    return out


def coerce(raw: str, kind: str, enum: bool = False) -> Any:
    """Raises ValueError with a message a person understands (``runner.tools.parse_typed``)."""
    return parse_typed(raw, kind, from_choice=enum)


def parse(form: Mapping[str, Any], fields: Sequence[FormField], current: Mapping[str, Any] | None = None
          ) -> dict[str, Any]:
    """The values filled in (an empty field keeps its value; an unchanged one is left out when
    ``current`` is given). Raises ``InvalidDecision`` naming the first field that is wrong."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.kept_because:
            continue
        raw = form.get(f.input_name)
        if not isinstance(raw, str) or raw == "":
            continue
        try:
            value = [part.strip() for part in raw.split(",") if part.strip()] if f.several else \
                coerce(raw, f.kind, f.options is not None)
        except ValueError as exc:
            raise InvalidDecision(f"{f.label}: {exc}", f.name) from None
        if current is not None and f.name in current and current[f.name] == value:
            continue
        out[f.name] = value
    return out
