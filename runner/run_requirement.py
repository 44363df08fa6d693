"""``RunRequirement``: one human decision a paused run waits for, and the setters that make it.

The setters only record the decision on this object; ``continue_run`` applies it to SQL with a
conditional UPDATE. A setter that does not fit the requirement raises at once, with a message
that says which setter does fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from runner.tools import Function, UserInputField
from storage.errors import AlreadyDecided, InvalidDecision
from storage.records import RequirementKind, RequirementRecord, RequirementStatus


@dataclass
class ToolExecution:
    """The tool call a requirement is about (the seed's ``requirement.tool_execution``)."""

    tool_name: str | None
    tool_args: dict[str, Any]
    tool_call_id: str | None = None
    result: str | None = None
    status: str | None = None
    member_agent_name: str | None = None


@dataclass
class Decision:
    status: RequirementStatus
    resolution: dict[str, Any] = field(default_factory=dict)


_FITTING_SETTER = {
    RequirementKind.CONFIRMATION: "confirm() or reject()",
    RequirementKind.STEP_CONFIRMATION: "confirm() or reject()",
    RequirementKind.USER_INPUT: "provide_user_input({...})",
    RequirementKind.STEP_USER_INPUT: "provide_user_input({...})",
    RequirementKind.EXTERNAL_EXECUTION: "set_external_execution_result(result)",
}


class RunRequirement:
    def __init__(
        self, record: RequirementRecord, function: Function | None = None, approval_id: str | None = None
    ) -> None:
        self.record = record
        self.function = function
        self.approval_id = approval_id
        self.decision: Decision | None = None
        self.tool_execution = ToolExecution(
            tool_name=record.tool_name,
            tool_args=dict(record.tool_args),
            tool_call_id=record.tool_call_id,
            member_agent_name=record.member_agent_name,
        )

    # ------------------------------------------------------------ read side

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def kind(self) -> RequirementKind:
        return self.record.kind

    @property
    def status(self) -> RequirementStatus:
        return self.decision.status if self.decision else self.record.status

    @property
    def tool_name(self) -> str | None:
        return self.record.tool_name

    @property
    def tool_args(self) -> dict[str, Any]:
        return self.tool_execution.tool_args

    @property
    def member_agent_name(self) -> str | None:
        return self.record.member_agent_name

    @property
    def approval_type(self) -> str | None:
        return self.record.approval_type

    @property
    def step_name(self) -> str | None:
        return self.record.tool_name if self.kind.value.startswith("step_") else None

    @property
    def confirmation_message(self) -> str | None:
        return self.record.message

    @property
    def message(self) -> str | None:
        return self.record.message

    @property
    def needs_confirmation(self) -> bool:
        return self.kind in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION)

    @property
    def needs_user_input(self) -> bool:
        return self.kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT)

    @property
    def needs_external_execution(self) -> bool:
        return self.kind is RequirementKind.EXTERNAL_EXECUTION

    @property
    def user_input_schema(self) -> list[UserInputField]:
        provided = (
            (self.decision.resolution.get("values") if self.decision else None)
            or self.record.resolution.get("values")
            or {}
        )
        return [UserInputField.from_dict(f | {"value": provided.get(f["name"])}) for f in self.record.user_input_schema]

    @property
    def is_resolved(self) -> bool:
        return self.decision is not None or not self.record.is_pending

    # ----------------------------------------------------------- write side

    def _check(self, *kinds: RequirementKind, setter: str) -> None:
        if not self.record.is_pending:
            raise AlreadyDecided(
                self.id,
                str(self.record.status),
                self.record.resolved_by_name or self.record.resolved_by,
                self.record.resolved_at,
            )
        if self.kind not in kinds:
            raise InvalidDecision(
                f"{setter} does not fit this requirement: {self.tool_name} needs {_FITTING_SETTER[self.kind]}"
            )

    def confirm(self, args: dict[str, Any] | None = None) -> None:
        """Approve; with ``args``, approve with edited arguments (validated, recorded, told to the model)."""
        self._check(RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION, setter="confirm()")
        resolution: dict[str, Any] = {}
        if args is not None:
            if self.kind is RequirementKind.STEP_CONFIRMATION:
                raise InvalidDecision("a workflow step has no arguments to edit")
            merged = dict(self.record.tool_args) | dict(args)
            edited = self.function.validate(merged) if self.function else merged
            if edited != self.record.tool_args:
                resolution = {"edited_args": edited, "original_args": dict(self.record.tool_args)}
                self.tool_execution.tool_args = dict(edited)
        self.decision = Decision(RequirementStatus.APPROVED, resolution)

    def reject(self, note: str | None = None) -> None:
        """Refuse; ``note`` (or a clear default) reaches the model as the tool's result."""
        self._check(RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION, setter="reject()")
        self.decision = Decision(RequirementStatus.REJECTED, {"note": note} if note else {})

    def provide_user_input(self, values: dict[str, Any]) -> None:
        """Supply the missing values; each is checked against its field's type."""
        self._check(RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT, setter="provide_user_input()")
        self.decision = Decision(RequirementStatus.ANSWERED, {"values": self.validate_input(values)})

    def validate_input(self, values: dict[str, Any]) -> dict[str, Any]:
        return validate_input(self.record, self.function, values)

    def set_external_execution_result(self, result: Any) -> None:
        """Hand back the result of the step a person did by hand."""
        self._check(RequirementKind.EXTERNAL_EXECUTION, setter="set_external_execution_result()")
        from runner.tools import render_result

        self.tool_execution.result = render_result(result)
        self.decision = Decision(RequirementStatus.DONE_EXTERNALLY, {"result": self.tool_execution.result})

    def __repr__(self) -> str:
        return f"<RunRequirement {self.kind.value} {self.tool_name} {self.status.value}>"


def validate_input(record: RequirementRecord, function: Function | None, values: dict[str, Any]) -> dict[str, Any]:
    """Check answers against the requirement's fields, and the tool's own types when known.

    One check for every surface (SDK setter, Slack modal or thread reply, REST API): unknown
    and missing fields are named; empty optional answers are dropped, not passed as "".
    """
    fields = {f["name"]: f for f in record.user_input_schema}
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise InvalidDecision(f"{unknown[0]!r} is not asked for; expected {', '.join(fields)}", unknown[0])
    missing = [name for name, f in fields.items() if f.get("required", True) and values.get(name) in (None, "")]
    if missing:
        raise InvalidDecision(f"missing value for {missing[0]!r}", missing[0])
    present = {k: v for k, v in values.items() if v not in (None, "")}
    if function is not None and record.kind is RequirementKind.USER_INPUT:
        return function.validate(present, partial=True)
    if record.kind is RequirementKind.STEP_USER_INPUT:
        # A workflow step has no signature: its schema's field_type is the check.
        return {name: _coerce(name, value, fields[name].get("field_type", "str")) for name, value in present.items()}
    return present


_FIELD_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def _coerce(name: str, value: Any, field_type: str) -> Any:
    """Check a step input against its ``field_type`` ("3" is a fine int from a Slack modal)."""
    wanted = _FIELD_TYPES.get(field_type)
    if wanted is None or value is None:
        return value
    try:
        return TypeAdapter(wanted).validate_python(value)
    except ValidationError as exc:
        raise InvalidDecision(f"{name}: {exc.errors()[0].get('msg')}", name) from exc
