"""What is sensitive, decided in one place, failing closed.

Every surface that shows tool arguments, answers or edits (the audit log, Slack cards and modals,
``/approvals``, the REST API, exports, the model's note about an edit) masks them through
:func:`redact`. A value is sensitive when its field was declared sensitive by the tool
(``@tool(sensitive_fields=[...])``) or when its name looks like a secret (``password``, ``token``,
``api_key``...). When the declared set cannot be known (the tool is no longer defined, or a row
predates the column that stores it), ``declared`` is ``None`` and *every* value is masked: an
unknown tool's arguments are never shown in clear by accident.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.records import RequirementRecord

MASK = "[redacted]"
"""What a masked value becomes, everywhere (cards, API, audit, exports, the model)."""

SENSITIVE_NAME_HINTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "auth",
    "cookie",
    "session",
    "ssn",
    "card_number",
    "cvv",
    "cvc",
    "pin",
    "iban",
)
"""Parts of a field name that make it sensitive even when the tool did not declare it."""

_WORDS = re.compile(r"[a-z0-9]+")


def _normalise(name: str) -> str:
    """``apiKey``, ``API-KEY`` and ``api_key`` all become ``api_key``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return "_".join(_WORDS.findall(snake.lower()))


def is_sensitive_name(name: str, declared: Collection[str] | None = ()) -> bool:
    """True when ``name`` was declared sensitive, looks like a secret, or nothing is known."""
    if declared is None:
        return True
    norm = _normalise(str(name))
    if norm in {_normalise(d) for d in declared}:
        return True
    words = norm.split("_")
    for hint in SENSITIVE_NAME_HINTS:
        if "_" in hint:
            if hint in norm:
                return True
        elif hint in words or (len(hint) > 4 and hint in norm):
            return True
    return False


def redact(values: Mapping[str, Any] | None, declared: Collection[str] | None = ()) -> dict[str, Any] | None:
    """A copy of ``values`` with every sensitive value replaced by :data:`MASK`.

    ``declared``: the tool's sensitive field names; ``None`` when they cannot be known, which
    masks every value (keys stay, so a person still sees which arguments there are). Nested
    objects are walked with the same rules, lists of objects too.
    """
    if values is None:
        return None
    if not isinstance(values, Mapping):
        return {"value": MASK}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if is_sensitive_name(str(key), declared):
            out[key] = MASK
        else:
            out[key] = _walk(value, declared)
    return out


def _walk(value: Any, declared: Collection[str] | None) -> Any:
    if isinstance(value, Mapping):
        return redact(value, declared)
    if isinstance(value, list | tuple):
        return [_walk(v, declared) for v in value]
    return value


def sensitive_names(values: Mapping[str, Any], declared: Collection[str] | None = ()) -> list[str]:
    """The top-level names of ``values`` that :func:`redact` masks."""
    return [k for k in values if is_sensitive_name(str(k), declared)]


def merge_declared(*sets: Iterable[str] | None) -> list[str] | None:
    """The union of several declared sets; ``None`` (unknown) only when every set is unknown.

    The sensitive fields stored with a requirement are always known; the registry's current
    declaration adds to them when the tool is still defined.
    """
    known = [s for s in sets if s is not None]
    if not known:
        return None
    out: list[str] = []
    for part in known:
        out.extend(n for n in part if n not in out)
    return out


STEP_KINDS = ("step_confirmation", "step_user_input", "step_output_review", "step_route_selection", "step_error")


def declared_for(requirement: RequirementRecord, tool_fields: Iterable[str] | None) -> list[str] | None:
    """The sensitive fields known for a requirement: those stored with it, plus the tool's current
    declaration (``tool_fields``, None when the tool is no longer defined).

    None (every value masked) only when neither is known. A workflow checkpoint has no tool to
    declare anything: what it stores is all there is.
    """
    if str(requirement.kind) in STEP_KINDS:
        return merge_declared(requirement.sensitive_fields, tool_fields if tool_fields is not None else [])
    return merge_declared(requirement.sensitive_fields, tool_fields)
