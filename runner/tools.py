"""Tools: ``@tool``, the ``Function`` it produces, and ``Toolkit`` for marking tools by name.

A tool's human-in-the-loop flags are checked when it is decorated, so a contradiction (confirm
*and* hand off, say) fails at import time instead of in the middle of somebody's refund.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from runner.approval import POLICY_ATTR, ApprovalPolicy, Reminders, reminders
from runner.run_context import RUN_CONTEXT_PARAMETER, RunContext
from storage.errors import InvalidDecision, ToolConfigError

if TYPE_CHECKING:
    from runner.protocols import LoopAgent

Confirmation = bool | Callable[[dict[str, Any]], bool]

_JSON_TYPE_NAMES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


_PY_TO_JSON = {py: js for js, py in _JSON_TYPE_NAMES.items()}


@dataclass
class UserInputField:
    """One value the human must supply; ``value`` is filled once they do (settable, as in Agno:
    set it on a paused requirement's ``user_input_schema`` and continue the run)."""

    name: str
    field_type: str
    description: str | None = None
    value: Any = None
    required: bool = True
    choices: list[str] | None = None
    """The only values allowed (a Router's routes, retry/skip): surfaces offer a select."""
    allowed_values: list[Any] | None = None
    """Agno's name for ``choices`` (``UserInputField(allowed_values=[...])``); either sets both."""

    def __post_init__(self) -> None:
        if self.choices is None and self.allowed_values is not None:
            self.choices = [str(v) for v in self.allowed_values]
        elif self.allowed_values is None and self.choices is not None:
            self.allowed_values = list(self.choices)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "field_type": self.field_type,
            "description": self.description,
            "value": self.value,
            "required": self.required,
        }
        if self.choices is not None:
            data["choices"] = list(self.choices)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserInputField:
        return cls(
            name=data["name"],
            field_type=data.get("field_type", "str"),
            description=data.get("description"),
            value=data.get("value"),
            required=data.get("required", True),
            choices=[str(c) for c in data["choices"]] if data.get("choices") is not None else None,
            allowed_values=data.get("allowed_values"),
        )


def _doc_parts(func: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """First paragraph of the docstring, and per-argument text from a Google-style Args: section."""
    doc = inspect.getdoc(func) or ""
    summary = doc.split("\n\n", 1)[0].strip()
    params: dict[str, str] = {}
    match = re.search(r"^(?:Args|Arguments|Parameters):\s*$(.*?)(?:^\S|\Z)", doc, re.M | re.S)
    if match:
        for line in match.group(1).splitlines():
            item = re.match(r"\s+(\w+)(?:\s*\([^)]*\))?:\s*(.+)", line)
            if item:
                params[item.group(1)] = item.group(2).strip()
    if summary.lower().startswith(("args:", "arguments:", "parameters:")):
        summary = ""
    return summary, params


def _declares_run_context(func: Callable[..., Any] | None) -> bool:
    try:
        return func is not None and RUN_CONTEXT_PARAMETER in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _arguments_model(func: Callable[..., Any], name: str) -> type[BaseModel]:
    """A pydantic model of the function's parameters: the JSON schema and the validator in one."""
    signature = inspect.signature(func)
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.name == RUN_CONTEXT_PARAMETER:
            continue  # run_context is handed over by the runtime, never asked of the model
        annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model: type[BaseModel] = create_model(
        f"{name}_arguments", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields
    )
    return model


class Function:
    """A tool the model may call, with its human-in-the-loop policy."""

    def __init__(
        self,
        entrypoint: Callable[..., Any] | None,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        requires_confirmation: Confirmation = False,
        requires_user_input: bool = False,
        user_input_fields: Sequence[str] | None = None,
        external_execution: bool = False,
        stop_after_tool_call: bool = False,
        sensitive_fields: Sequence[str] | None = None,
        approval: ApprovalPolicy | None = None,
        member: LoopAgent | None = None,
        reminders: Reminders | None = None,
    ) -> None:
        if entrypoint is None and parameters is None:
            raise ToolConfigError("a tool needs a function or a parameters schema")
        self.entrypoint = entrypoint
        self.wants_run_context = _declares_run_context(entrypoint)
        """The tool declares ``run_context``: the runtime hands it a ``RunContext``."""
        self.step_options: dict[str, str] = {}
        """A workflow step's ``on_reject``/``on_timeout``, when this is its checkpoint's Function."""
        self.name = name or (entrypoint.__name__ if entrypoint else "")
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", self.name):
            raise ToolConfigError(f"tool name {self.name!r}: use 1-64 letters, digits, _ or -")
        summary, arg_docs = _doc_parts(entrypoint) if entrypoint else ("", {})
        self.description = description or summary or self.name.replace("_", " ")
        self._model = _arguments_model(entrypoint, self.name) if entrypoint else None
        if parameters is not None:
            self.parameters = parameters
        else:
            assert self._model is not None
            schema = self._model.model_json_schema()
            schema.pop("title", None)
            for prop_name, prop in schema.get("properties", {}).items():
                prop.pop("title", None)
                if prop_name in arg_docs:
                    prop.setdefault("description", arg_docs[prop_name])
            schema["additionalProperties"] = False
            self.parameters = schema
        self.requires_confirmation: Confirmation = requires_confirmation
        self.requires_user_input = requires_user_input or bool(user_input_fields)
        self.user_input_fields = list(user_input_fields or [])
        self.external_execution = external_execution
        self.stop_after_tool_call = stop_after_tool_call
        self.sensitive_fields = list(sensitive_fields or [])
        self.reminders = reminders or Reminders()
        """When to remind the deciders of this tool's confirmations and whom to escalate to."""
        self.member = member
        """For a team leader's delegate tool: the member the call hands work to (run nested)."""
        self.approval: ApprovalPolicy | None = None
        policy = approval or (getattr(entrypoint, POLICY_ATTR, None) if entrypoint else None)
        self._check_flags()
        if policy is not None:
            self.set_approval(policy)

    # ------------------------------------------------------------ validation

    def _check_flags(self) -> None:
        props = set(self.parameters.get("properties", {}))
        confirm = self.requires_confirmation is not False
        if not (isinstance(self.requires_confirmation, bool) or callable(self.requires_confirmation)):
            raise ToolConfigError(
                f"{self.name}: requires_confirmation must be a bool or a predicate over the arguments"
            )
        if confirm and self.external_execution:
            raise ToolConfigError(
                f"{self.name}: requires_confirmation and external_execution contradict each other "
                "(a confirmed tool runs here; an external one is run by a person elsewhere)"
            )
        if self.requires_user_input and self.external_execution:
            raise ToolConfigError(f"{self.name}: requires_user_input and external_execution contradict each other")
        if confirm and self.requires_user_input:
            raise ToolConfigError(
                f"{self.name}: requires_confirmation and requires_user_input contradict each other "
                "(providing the input is the human's go-ahead)"
            )
        unknown = [f for f in self.user_input_fields if f not in props]
        if unknown:
            raise ToolConfigError(
                f"{self.name}: user_input_fields {unknown} are not parameters of the tool ({sorted(props)})"
            )
        if self.requires_user_input and not self.user_input_fields:
            self.user_input_fields = sorted(props)
        unknown_sensitive = [f for f in self.sensitive_fields if f not in props]
        if unknown_sensitive:
            raise ToolConfigError(f"{self.name}: sensitive_fields {unknown_sensitive} are not parameters of the tool")

    def set_approval(self, policy: ApprovalPolicy) -> None:
        if policy.type == "required" and (self.external_execution or self.requires_user_input):
            raise ToolConfigError(
                f"{self.name}: @approval(type='required') gates a tool that runs here; it cannot be "
                "combined with external_execution or requires_user_input"
            )
        self.approval = policy

    # -------------------------------------------------------------- policy

    @property
    def approval_type(self) -> str | None:
        return self.approval.type if self.approval else None

    def human_step(self, args: dict[str, Any]) -> str | None:
        """Which human step this call needs, if any: confirmation, user_input or external_execution."""
        if self.external_execution:
            return "external_execution"
        if self.requires_user_input:
            return "user_input"
        if self.needs_required_approval(args):
            return "confirmation"
        rc = self.requires_confirmation
        if callable(rc):
            return "confirmation" if rc(args) else None
        return "confirmation" if rc else None

    def needs_required_approval(self, args: dict[str, Any]) -> bool:
        return bool(self.approval and self.approval.type == "required" and self.approval.applies(args))

    def needs_audit_record(self, args: dict[str, Any]) -> bool:
        return bool(self.approval and self.approval.type == "audit" and self.approval.applies(args))

    # -------------------------------------------------------------- schema

    def to_openai(self) -> dict[str, Any]:
        """The schema the model sees: user-input fields are the human's to fill, so they are hidden."""
        params = copy.deepcopy(self.parameters)
        hidden = set(self.user_input_fields)
        if hidden:
            params["properties"] = {k: v for k, v in params.get("properties", {}).items() if k not in hidden}
            params["required"] = [r for r in params.get("required", []) if r not in hidden]
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }

    def input_fields(self, provided: dict[str, Any] | None = None) -> list[UserInputField]:
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        out = []
        for name in self.user_input_fields:
            prop = props.get(name, {})
            out.append(
                UserInputField(
                    name=name,
                    field_type=_JSON_TYPE_NAMES.get(json_type(prop), "str"),
                    description=prop.get("description"),
                    value=(provided or {}).get(name),
                    required=name in required,
                )
            )
        return out

    # ----------------------------------------------------------- execution

    def validate(self, args: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Coerce and check arguments (edited ones, user input) against the signature.

        ``partial`` checks only the values given (user input for some fields). Raises
        InvalidDecision naming the offending field so Slack/API can say what to fix.
        """
        refuse_non_finite(args, self.name)
        if self._model is None:
            return dict(args)
        fields = self._model.model_fields
        unknown = [k for k in args if k not in fields]
        if unknown:
            raise InvalidDecision(f"{self.name} has no parameter {unknown[0]!r}", unknown[0])
        if partial:
            # One adapter per value, so the error names the field even when several are given.
            out: dict[str, Any] = {}
            for key, value in args.items():
                try:
                    out[key] = TypeAdapter(fields[key].annotation or Any, config=FINITE).validate_python(value)
                except ValidationError as exc:
                    raise InvalidDecision(f"{self.name}: {key}: {exc.errors()[0].get('msg')}", key) from exc
            return out
        try:
            return self._model.model_validate(args).model_dump()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or None
            raise InvalidDecision(f"{self.name}: {where or 'arguments'}: {first.get('msg')}", where) from exc

    def execute(self, args: dict[str, Any], context: RunContext | None = None) -> str:
        """Run the tool and render its result as text for the model."""
        if self.entrypoint is None:
            raise ToolConfigError(f"{self.name} has no local implementation")
        extra = {RUN_CONTEXT_PARAMETER: context} if context is not None and self.wants_run_context else {}
        return render_result(resolve_awaitable(self.entrypoint(**args, **extra)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A decorated tool can still be called directly, as the plain function."""
        if self.entrypoint is None:
            raise ToolConfigError(f"{self.name} has no local implementation")
        return self.entrypoint(*args, **kwargs)

    def copy(self, **changes: Any) -> Function:
        clone = copy.copy(self)
        for key, value in changes.items():
            setattr(clone, key, value)
        clone._check_flags()
        return clone

    def __repr__(self) -> str:
        return f"<tool {self.name}>"


FINITE = ConfigDict(allow_inf_nan=False)
"""NaN and infinities are not amounts: ``NaN > 100`` is false, so a policy would never see them."""


def refuse_non_finite(values: Any, tool: str) -> None:
    """InvalidDecision for a NaN or an infinity anywhere in ``values`` (nested too)."""
    if isinstance(values, float) and not math.isfinite(values):
        raise InvalidDecision(f"{tool}: {values!r} is not a number a policy can compare; give a finite one")
    if isinstance(values, dict):
        for key, value in values.items():
            try:
                refuse_non_finite(value, tool)
            except InvalidDecision as exc:
                raise InvalidDecision(f"{tool}: {key}: not a finite number", str(key)) from exc
    elif isinstance(values, list | tuple):
        for value in values:
            refuse_non_finite(value, tool)


def json_type(prop: Mapping[str, Any]) -> str:
    """The JSON-schema type of a tool parameter (``anyOf`` with null is optional, not a type)."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        kind = next((p.get("type") for p in prop.get("anyOf", []) if p.get("type") not in (None, "null")), "string")
    return str(kind)


def field_json_type(spec: Mapping[str, Any]) -> str:
    """The JSON-schema type of a user-input field (its ``field_type`` is a Python type name)."""
    return _PY_TO_JSON.get(str(spec.get("field_type", "str")), "string")


def parse_typed(raw: Any, kind: str, *, from_choice: bool = False) -> Any:
    """A value a person typed into a form (Slack modal, console) as its JSON-schema ``kind``.

    Raises ValueError with a message a person understands; the tool's own validation runs after.
    ``from_choice``: the value of a select built from an ``enum`` (JSON-encoded by the form).
    """
    if from_choice:
        return json.loads(raw)
    text = str(raw).strip()
    if kind == "boolean":
        if text.lower() in ("true", "yes", "1"):
            return True
        if text.lower() in ("false", "no", "0"):
            return False
        raise ValueError("choose yes or no")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number
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


def resolve_awaitable(value: Any) -> Any:
    """An async tool or step returns a coroutine: run it to its result (the loop is synchronous)."""
    if not inspect.isawaitable(value):
        return value
    import asyncio

    async def _await(awaitable: Any) -> Any:
        return await awaitable

    return asyncio.run(_await(value))


def render_result(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    try:
        return json.dumps(result, default=str)
    except (TypeError, ValueError):
        return str(result)


@overload
def tool(func: Callable[..., Any]) -> Function: ...


@overload
def tool(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_confirmation: Confirmation = False,
    requires_user_input: bool = False,
    user_input_fields: Sequence[str] | None = None,
    external_execution: bool = False,
    stop_after_tool_call: bool = False,
    sensitive_fields: Sequence[str] | None = None,
    remind_after: float | timedelta | None = None,
    escalate_after: float | timedelta | None = None,
    escalate_to: Sequence[str] | str | None = None,
) -> Callable[[Callable[..., Any]], Function]: ...


def tool(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_confirmation: Confirmation = False,
    requires_user_input: bool = False,
    user_input_fields: Sequence[str] | None = None,
    external_execution: bool = False,
    stop_after_tool_call: bool = False,
    sensitive_fields: Sequence[str] | None = None,
    remind_after: float | timedelta | None = None,
    escalate_after: float | timedelta | None = None,
    escalate_to: Sequence[str] | str | None = None,
) -> Any:
    """Turn a function into a tool; flags say which human step, if any, it waits for.

    ``remind_after`` / ``escalate_after`` / ``escalate_to``: reminders and escalation of its
    confirmations (see ``runner.approval.Reminders``; an ``@approval`` has its own)."""
    nudges = reminders(remind_after, escalate_after, escalate_to, "@tool")

    def wrap(target: Callable[..., Any]) -> Function:
        if isinstance(target, Function):
            raise ToolConfigError(f"{target.name} is already a tool")
        return Function(
            target,
            name=name,
            description=description,
            requires_confirmation=requires_confirmation,
            requires_user_input=requires_user_input,
            user_input_fields=user_input_fields,
            external_execution=external_execution,
            stop_after_tool_call=stop_after_tool_call,
            sensitive_fields=sensitive_fields,
            reminders=nudges,
        )

    if func is not None:
        return wrap(func)
    return wrap


class Toolkit:
    """A named set of tools whose human steps are set by tool name, without touching each tool.

    The name lists are read when the tools are built (``functions()``), so they can be set after
    construction, as with MCP toolkits whose tools only exist once connected.
    """

    def __init__(
        self,
        name: str = "toolkit",
        tools: Iterable[Callable[..., Any] | Function] = (),
        *,
        requires_confirmation_tools: Sequence[str] | None = None,
        external_execution_required_tools: Sequence[str] | None = None,
        stop_after_tool_call_tools: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self._tools = [t if isinstance(t, Function) else Function(t) for t in tools]
        self.requires_confirmation_tools: list[str] = list(requires_confirmation_tools or [])
        self.external_execution_required_tools: list[str] = list(external_execution_required_tools or [])
        self.stop_after_tool_call_tools: list[str] = list(stop_after_tool_call_tools or [])

    def base_functions(self) -> list[Function]:
        return list(self._tools)

    def unknown_names(self, available: Iterable[str]) -> list[str]:
        names = set(available)
        marked = (
            self.requires_confirmation_tools + self.external_execution_required_tools + self.stop_after_tool_call_tools
        )
        return sorted({n for n in marked if n not in names})

    def functions(self) -> list[Function]:
        base = self.base_functions()
        unknown = self.unknown_names(f.name for f in base)
        if unknown:
            import warnings

            warnings.warn(
                f"toolkit {self.name!r}: no tool named {', '.join(unknown)} "
                f"(it has: {', '.join(sorted(f.name for f in base)) or 'none'})",
                stacklevel=2,
            )
        out = []
        for fn in base:
            changes: dict[str, Any] = {}
            if fn.name in self.requires_confirmation_tools:
                changes["requires_confirmation"] = True
            if fn.name in self.external_execution_required_tools:
                changes["external_execution"] = True
            if fn.name in self.stop_after_tool_call_tools:
                changes["stop_after_tool_call"] = True
            out.append(fn.copy(**changes) if changes else fn)
        return out


def as_functions(tools: Iterable[Any]) -> list[Function]:
    """Flatten an agent's ``tools=`` list (functions, tools, toolkits) into Functions, names unique."""
    out: list[Function] = []
    for item in tools:
        if isinstance(item, Toolkit):
            out.extend(item.functions())
        elif isinstance(item, Function):
            out.append(item)
        elif callable(item):
            out.append(Function(item))
        else:
            raise ToolConfigError(f"{item!r} is not a tool, a function or a Toolkit")
    seen: set[str] = set()
    for fn in out:
        if fn.name in seen:
            raise ToolConfigError(f"two tools are named {fn.name!r}; tool names must be unique")
        seen.add(fn.name)
    return out
