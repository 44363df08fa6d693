"""``RunRequirement``: one human decision a paused run waits for, and the setters that make it.

The setters only record the decision on this object; ``continue_run`` applies it to SQL with a
conditional UPDATE. A setter that does not fit the requirement raises at once, with a message
that says which setter does fit (an ``InvalidDecision``, which is a ``ValueError`` as in Agno).

Agno's flag style works too: ``tool_execution.confirmed = True`` (or ``False`` with
``confirmation_note``), ``field.value = ...`` on ``user_input_schema`` entries, or
``tool_execution.result = ...`` for an external execution; ``continue_run`` turns the flags into
the same setter calls (``RunRequirement.sync``). Two deliberate differences from Agno: a
requirement confirmed by the caller cannot bypass a pending ``required`` approval (continue_run
raises ``ApprovalPending``), and a continue with requirements still unresolved keeps the run
paused instead of raising.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from runner.step_types import OnReject, StepOutput
from runner.tools import Function, UserInputField
from storage.errors import AlreadyDecided, InvalidDecision
from storage.records import RequirementKind, RequirementRecord, RequirementStatus
from storage.redaction import declared_for, redact


@dataclass
class ToolExecution:
    """The tool call a requirement is about (the seed's ``requirement.tool_execution``), with
    Agno's flags: ``requires_confirmation`` / ``confirmed`` / ``confirmation_note``,
    ``requires_user_input`` / ``user_input_schema`` / ``answered``, ``external_execution_required``."""

    tool_name: str | None
    tool_args: dict[str, Any]
    tool_call_id: str | None = None
    result: str | None = None
    status: str | None = None
    member_agent_name: str | None = None
    requires_confirmation: bool | None = None
    confirmed: bool | None = None
    confirmation_note: str | None = None
    requires_user_input: bool | None = None
    user_input_schema: list[UserInputField] | None = None
    answered: bool | None = None
    external_execution_required: bool | None = None
    approval_type: str | None = None
    approval_id: str | None = None
    stop_after_tool_call: bool = False
    tool_call_error: bool | None = None

    @property
    def is_paused(self) -> bool:
        return bool(self.requires_confirmation or self.requires_user_input or self.external_execution_required)


class PausedTools:
    """Agno's views of the paused calls, for anything with ``tools`` (a run's output, its paused event)."""

    if TYPE_CHECKING:
        @property
        def tools(self) -> list[ToolExecution]: ...

    @property
    def tools_requiring_confirmation(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_confirmation and t.confirmed is None]

    @property
    def tools_requiring_user_input(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_user_input and not t.answered]

    @property
    def tools_awaiting_external_execution(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.external_execution_required and t.result is None]


class ResolvedFlag:
    """``requirement.is_resolved`` read either way: as a property (``if req.is_resolved``) or
    called as in Agno (``req.is_resolved()``)."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __call__(self) -> bool:
        return self.value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResolvedFlag):
            return self.value == other.value
        if isinstance(other, bool):
            return self.value is other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


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
    RequirementKind.STEP_OUTPUT_REVIEW: "confirm(), reject() or edit(output)",
    RequirementKind.STEP_ROUTE_SELECTION: "select(*choices)",
    RequirementKind.STEP_ERROR: "retry() or skip()",
    RequirementKind.IN_DOUBT: "a decision on whether the call happened (the decision service)",
}


_AGNO_REFUSAL = {
    RequirementKind.CONFIRMATION: "This requirement does not require confirmation",
    RequirementKind.USER_INPUT: "This requirement does not require user input",
    RequirementKind.EXTERNAL_EXECUTION: "This requirement does not require external execution",
    RequirementKind.STEP_OUTPUT_REVIEW: "This requirement does not require output review",
}


class RunRequirement:
    def __init__(
        self, record: RequirementRecord, function: Function | None = None, approval_id: str | None = None
    ) -> None:
        self.record = record
        self.function = function
        self.approval_id = approval_id
        self.decision: Decision | None = None
        self._on_reject: str | None = None
        provided = record.resolution.get("values") or {}
        self.user_input_schema: list[UserInputField] = [
            UserInputField.from_dict(f | {"value": provided.get(f["name"], f.get("value"))})
            for f in record.user_input_schema
        ]
        """The fields asked for; set their ``.value`` and continue, as in Agno."""
        kind = record.kind
        confirmed: bool | None = None
        if kind in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION) and not record.is_pending:
            confirmed = record.status is RequirementStatus.APPROVED
        self.tool_execution = ToolExecution(
            tool_name=record.tool_name,
            tool_args=dict(record.tool_args),
            tool_call_id=record.tool_call_id,
            member_agent_name=record.member_agent_name,
            requires_confirmation=kind in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION) or None,
            confirmed=confirmed,
            confirmation_note=record.resolution.get("note"),
            requires_user_input=kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT) or None,
            user_input_schema=self.user_input_schema if self.user_input_schema else None,
            answered=True if record.status is RequirementStatus.ANSWERED else None,
            external_execution_required=kind is RequirementKind.EXTERNAL_EXECUTION or None,
            result=record.resolution.get("result") if kind is RequirementKind.EXTERNAL_EXECUTION else None,
            approval_type=record.approval_type,
            approval_id=approval_id,
            stop_after_tool_call=bool(function.stop_after_tool_call) if function is not None else False,
        )
        self._seen_result = self.tool_execution.result

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
    def needs_user_feedback(self) -> bool:
        """Agno's ``UserFeedbackTools`` question: a user-input step whose fields are its questions."""
        return self.kind is RequirementKind.USER_INPUT and getattr(self.function, "asks_for_feedback", False)

    @property
    def user_feedback_schema(self) -> list[Any] | None:
        """The questions (``question``, ``header``, ``options`` with ``label``/``description``,
        ``multi_select``), as Agno's ``requirement.user_feedback_schema``."""
        from runner.user_feedback import feedback_questions

        return list(feedback_questions(self.record)) if self.needs_user_feedback else None

    def provide_user_feedback(self, selections: dict[str, Any]) -> None:
        """Answer the questions with the picked option labels, ``{question: [labels]}``."""
        from runner.user_feedback import feedback_answers

        if not self.needs_user_feedback:
            raise InvalidDecision("provide_user_feedback() answers UserFeedbackTools questions only", None)
        self.provide_user_input(feedback_answers(self.record, selections))

    @property
    def is_resolved(self) -> ResolvedFlag:
        """Decided here or in SQL; read as a property or called as Agno's ``is_resolved()``."""
        return ResolvedFlag(self.decision is not None or not self.record.is_pending)

    @property
    def confirmation(self) -> bool | None:
        """Agno's ``requirement.confirmation``: True confirmed, False rejected, None undecided."""
        if self.kind not in (RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION,
                             RequirementKind.STEP_OUTPUT_REVIEW):
            return None
        status = self.status
        if status is RequirementStatus.PENDING:
            return None
        return status is RequirementStatus.APPROVED

    @property
    def confirmation_note(self) -> str | None:
        resolution = self.decision.resolution if self.decision else self.record.resolution
        note = resolution.get("note")
        return str(note) if note is not None else None

    @property
    def external_execution_result(self) -> str | None:
        if self.kind is not RequirementKind.EXTERNAL_EXECUTION:
            return None
        resolution = self.decision.resolution if self.decision else self.record.resolution
        result = resolution.get("result")
        return str(result) if result is not None else None

    @property
    def member_agent_id(self) -> str | None:
        """The member's id (an agent's default id is its name, slugged)."""
        name = self.record.member_agent_name
        if name is None:
            return None
        owner = getattr(self.function, "owner_id", None)
        return str(owner) if owner else (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "agent")

    @property
    def needs_output_review(self) -> bool:
        return self.kind is RequirementKind.STEP_OUTPUT_REVIEW

    @property
    def step_output(self) -> StepOutput | None:
        """The step output a reviewer sees (an output review), edited if they edited it."""
        if self.kind is not RequirementKind.STEP_OUTPUT_REVIEW:
            return None
        resolution = self.decision.resolution if self.decision else self.record.resolution
        edited = resolution.get("edited_args") or {}
        content = str(edited.get("output", self.record.tool_args.get("output", "")))
        return StepOutput(content=content, step_name=self.record.tool_name)

    @property
    def retry_count(self) -> int:
        """How many times a reviewer sent this step back already (output review with retry)."""
        key = self.record.call_key
        counted = self.needs_output_review or self.kind is RequirementKind.STEP_ERROR
        return int(key.rsplit("#", 1)[1]) if counted and "#" in key else 0

    # -------------------------------------------- Agno's workflow step requirement names

    @property
    def user_input_message(self) -> str | None:
        return self.record.message if self.needs_user_input or self.needs_route_selection else None

    @property
    def output_review_message(self) -> str | None:
        return self.record.message if self.needs_output_review else None

    @property
    def needs_route_selection(self) -> bool:
        return self.kind is RequirementKind.STEP_ROUTE_SELECTION

    requires_route_selection = needs_route_selection

    @property
    def available_choices(self) -> list[str] | None:
        """A Router's routes (route selection) or ``retry``/``skip`` (a failed step)."""
        for f in self.record.user_input_schema:
            if f.get("choices") is not None:
                return [str(c) for c in f["choices"]]
        options: dict[str, str] = getattr(self.function, "step_options", None) or {}
        return options["choices"].split(",") if options.get("choices") else None

    @property
    def allow_multiple_selections(self) -> bool:
        return any(f.get("field_type") == "list" for f in self.record.user_input_schema) and self.needs_route_selection

    @property
    def selected_choices(self) -> list[str] | None:
        if not self.needs_route_selection:
            return None
        resolution = self.decision.resolution if self.decision else self.record.resolution
        route = (resolution.get("values") or {}).get("route")
        if route is None:
            return None
        return [str(r) for r in route] if isinstance(route, list) else [str(route)]


    @selected_choices.setter
    def selected_choices(self, choices: list[str]) -> None:
        self.select(*choices)

    @property
    def timeout_at(self) -> Any:
        """When an unanswered checkpoint times out (``hitl_timeout``); its step's ``on_timeout`` applies."""
        return self.record.expires_at

    @property
    def is_timed_out(self) -> bool:
        return self.record.status is RequirementStatus.EXPIRED

    @property
    def on_reject(self) -> str | None:
        """What rejecting does: the rejecter's choice if they made one, else the step's setting
        (when the workflow still defines the step)."""
        resolution = self.decision.resolution if self.decision else self.record.resolution
        if resolution.get("on_reject"):
            return str(resolution["on_reject"])
        if self._on_reject is not None:
            return self._on_reject
        options: dict[str, str] = getattr(self.function, "step_options", None) or {}
        return options.get("on_reject")

    @on_reject.setter
    def on_reject(self, choice: Any) -> None:
        """Agno's choice at decision time (``req.on_reject = "cancel"`` then ``reject()``)."""
        value = str(getattr(choice, "value", choice))
        if not self.step_name:
            raise InvalidDecision("on_reject fits only a workflow step's checkpoint", "on_reject")
        if value not in [m.value for m in OnReject]:
            raise InvalidDecision(f"on_reject must be skip, cancel, retry or else, not {value!r}", "on_reject")
        self._on_reject = value
        if self.decision is not None and self.decision.status is RequirementStatus.REJECTED:
            self.decision.resolution["on_reject"] = value

    @property
    def on_timeout(self) -> str | None:
        options: dict[str, str] = getattr(self.function, "step_options", None) or {}
        return options.get("on_timeout")

    @property
    def rejection_feedback(self) -> str | None:
        return self.confirmation_note if self.status is RequirementStatus.REJECTED else None

    @property
    def error_message(self) -> str | None:
        return str(self.record.tool_args.get("error", "")) if self.kind is RequirementKind.STEP_ERROR else None

    @property
    def error_type(self) -> str | None:
        if self.kind is not RequirementKind.STEP_ERROR:
            return None
        return str(self.record.tool_args.get("error_type") or "") or None

    @property
    def needs_decision(self) -> bool:
        return self.kind is RequirementKind.STEP_ERROR and not self.is_resolved

    def get_user_input(self, field_name: str) -> Any:
        resolution = self.decision.resolution if self.decision else self.record.resolution
        return (resolution.get("values") or {}).get(field_name)

    @property
    def user_input(self) -> dict[str, Any] | None:
        resolution = self.decision.resolution if self.decision else self.record.resolution
        values = resolution.get("values")
        return dict(values) if values else None

    @user_input.setter
    def user_input(self, values: dict[str, Any]) -> None:
        self.provide_user_input(dict(values))

    @property
    def confirmed(self) -> bool | None:
        """Agno's flag: set True/False and continue (``sync`` turns it into confirm()/reject())."""
        return self.tool_execution.confirmed

    @confirmed.setter
    def confirmed(self, value: bool | None) -> None:
        self.tool_execution.confirmed = value

    @property
    def requires_confirmation(self) -> bool:
        return self.needs_confirmation

    @property
    def requires_user_input(self) -> bool:
        return self.needs_user_input

    @property
    def requires_output_review(self) -> bool:
        return self.needs_output_review

    requires_executor_input = False
    """Agno's flag for a step whose agent paused (see ``StepExecutorRequirement``); never this."""
    executor_requirements: list[Any] | None = None

    @property
    def is_post_execution(self) -> bool:
        """True for an output review: the step already ran."""
        return self.needs_output_review

    @property
    def step_type(self) -> str | None:
        """``Step``, ``Router``, ``Condition``, ``Loop`` or ``Steps``: read from the checkpoint's key."""
        if not self.step_name:
            return None
        what = self.record.call_key.split(":", 1)[-1]
        for marker, name in (("router", "Router"), ("route", "Router"), ("condition", "Condition"),
                             ("loop", "Loop"), ("iteration", "Loop"), ("steps-", "Steps")):
            if what.startswith(marker):
                return name
        return "Step"

    def set_user_input(self, validate: bool = True, **values: Any) -> None:
        """Agno's spelling of ``provide_user_input`` (answers are always validated here)."""
        self.provide_user_input(values)

    def select(self, *choices: str) -> None:
        """Choose a Router's route(s) by name."""
        self._check(RequirementKind.STEP_ROUTE_SELECTION, setter="select()")
        picked: Any = list(choices)
        if not self.allow_multiple_selections and len(choices) == 1:
            picked = choices[0]
        clean = self.validate_input({"route": picked})
        self.decision = Decision(RequirementStatus.ANSWERED, {"values": clean})

    def select_single(self, choice: str) -> None:
        self.select(choice)

    def select_multiple(self, choices: list[str]) -> None:
        self.select(*choices)

    def retry(self) -> None:
        """A failed step (``on_error="pause"``): run it again."""
        self._decide_error("retry")

    def skip(self) -> None:
        """A failed step (``on_error="pause"``): go on without it."""
        self._decide_error("skip")

    def _decide_error(self, choice: str) -> None:
        self._check(RequirementKind.STEP_ERROR, setter=f"{choice}()")
        self.decision = Decision(RequirementStatus.ANSWERED, {"values": self.validate_input({"decision": choice})})

    @property
    def should_retry(self) -> bool:
        return self.get_user_input("decision") == "retry"

    @property
    def should_skip(self) -> bool:
        return self.get_user_input("decision") == "skip"

    def sync(self) -> None:
        """Turn Agno's flags set on this object into the matching setter call (once).

        ``tool_execution.confirmed`` True/False (with ``confirmation_note``), every required
        ``user_input_schema`` field given a ``.value``, or ``tool_execution.result`` set on an
        external execution. Nothing set: the requirement stays undecided.
        """
        if self.decision is not None or not self.record.is_pending:
            return
        te = self.tool_execution
        if self.needs_confirmation or self.needs_output_review:
            if te.confirmed is True:
                self.confirm()
            elif te.confirmed is False:
                self.reject(te.confirmation_note)
        elif self.needs_user_input:
            fields = te.user_input_schema or self.user_input_schema
            values = {f.name: f.value for f in fields if f.value is not None}
            missing = [f for f in fields if f.value is None and getattr(f, "required", True)]
            if fields and not missing:
                self.provide_user_input(values)
        elif self.needs_external_execution and te.result is not None and te.result != self._seen_result:
            self.set_external_execution_result(te.result)

    def absorb(self, other: ToolExecution) -> None:
        """Copy Agno's flags from a caller's ``ToolExecution`` (``updated_tools=``) onto this one."""
        te = self.tool_execution
        te.confirmed = other.confirmed
        te.confirmation_note = other.confirmation_note
        if other.result is not None:
            te.result = other.result
        if other.user_input_schema:
            given = {f.name: f.value for f in other.user_input_schema}
            for f in self.user_input_schema:
                if given.get(f.name) is not None:
                    f.value = given[f.name]
        if other.tool_args and self.kind is RequirementKind.USER_INPUT:
            for f in self.user_input_schema:
                if f.value is None and other.tool_args.get(f.name) is not None:
                    f.value = other.tool_args[f.name]

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
            # Agno's sentence first (code written for Agno matches on it), then which setter fits.
            agno = _AGNO_REFUSAL.get(kinds[0], "This requirement does not fit this setter")
            raise InvalidDecision(
                f"{agno}: {setter} does not fit this requirement; {self.tool_name} needs "
                f"{_FITTING_SETTER[self.kind]}"
            )

    def confirm(self, args: dict[str, Any] | None = None) -> None:
        """Approve; with ``args``, approve with edited arguments (validated, recorded, told to the model)."""
        self._check(RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION,
                    RequirementKind.STEP_OUTPUT_REVIEW, setter="confirm()")
        resolution: dict[str, Any] = {}
        self.tool_execution.confirmed = True
        if args is not None:
            if self.kind is not RequirementKind.CONFIRMATION:
                raise InvalidDecision("a workflow step has no arguments to edit; edit(output) edits a step's output")
            merged = dict(self.record.tool_args) | dict(args)
            edited = self.function.validate(merged) if self.function else merged
            if edited != self.record.tool_args:
                resolution = {"edited_args": edited, "original_args": dict(self.record.tool_args)}
                self.tool_execution.tool_args = dict(edited)
        self.decision = Decision(RequirementStatus.APPROVED, resolution)

    def reject(self, note: str | None = None, *, feedback: str | None = None) -> None:
        """Refuse; ``note`` (or a clear default) reaches the model as the tool's result.
        ``feedback`` is Agno's name for the note on an output review."""
        note = note if note is not None else feedback
        self._check(RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION,
                    RequirementKind.STEP_OUTPUT_REVIEW, setter="reject()")
        self.tool_execution.confirmed = False
        self.tool_execution.confirmation_note = note
        self.decision = Decision(RequirementStatus.REJECTED, {"note": note} if note else {})
        if self._on_reject is not None:
            self.decision.resolution["on_reject"] = self._on_reject

    def edit(self, output: Any) -> None:
        """Approve a workflow step's output with a person's edit (output review only)."""
        self._check(RequirementKind.STEP_OUTPUT_REVIEW, setter="edit(output)")
        from runner.tools import render_result

        text = render_result(output)
        self.tool_execution.confirmed = True
        self.decision = Decision(RequirementStatus.APPROVED, {"edited_args": {"output": text},
                                                              "original_args": dict(self.record.tool_args)})

    def provide_user_input(self, values: dict[str, Any]) -> None:
        """Supply the missing values; each is checked against its field's type."""
        self._check(RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT, setter="provide_user_input()")
        clean = self.validate_input(values)
        for f in self.user_input_schema:
            if f.name in clean:
                f.value = clean[f.name]
        self.tool_execution.answered = True
        self.decision = Decision(RequirementStatus.ANSWERED, {"values": clean})

    def validate_input(self, values: dict[str, Any]) -> dict[str, Any]:
        return validate_input(self.record, self.function, values)

    def set_external_execution_result(self, result: Any) -> None:
        """Hand back the result of the step a person did by hand."""
        self._check(RequirementKind.EXTERNAL_EXECUTION, setter="set_external_execution_result()")
        from runner.tools import render_result

        self.tool_execution.result = render_result(result)
        self._seen_result = self.tool_execution.result
        self.decision = Decision(RequirementStatus.DONE_EXTERNALLY, {"result": self.tool_execution.result})

    def to_dict(self) -> dict[str, Any]:
        """The requirement as plain JSON values (Agno's ``to_dict``). Arguments and edits are
        masked like everywhere else: a dict meant to be stored or sent never holds a secret."""
        declared = declared_for(self.record, self.function.sensitive_fields if self.function else None)
        data = asdict(self.record)
        for key in ("tool_args", "proposed_args"):
            data[key] = redact(data[key], declared)
        resolution = dict(self.decision.resolution if self.decision else self.record.resolution)
        for key in ("edited_args", "original_args", "values"):
            if isinstance(resolution.get(key), dict):
                resolution[key] = redact(resolution[key], declared)
        data |= {"status": str(self.status), "resolution": resolution, "kind": str(self.kind),
                 "step_name": self.step_name, "confirmed": self.confirmed}
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRequirement:
        """Rebuild a requirement to read (decisions still go through ``continue_run`` by id)."""
        fields = RequirementRecord.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in fields}
        for key in ("created_at", "resolved_at", "expires_at", "remind_at", "reminded_at", "escalate_at",
                    "escalated_at"):
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        values["kind"] = RequirementKind(values["kind"])
        values["status"] = RequirementStatus(values["status"])
        return cls(RequirementRecord(**values))

    def __repr__(self) -> str:
        return f"<RunRequirement {self.kind.value} {self.tool_name} {self.status.value}>"


def validate_input(record: RequirementRecord, function: Function | None, values: dict[str, Any]) -> dict[str, Any]:
    """Check answers against the requirement's fields, and the tool's own types when known.

    One check for every surface (SDK setter, Slack modal or thread reply, REST API): unknown
    and missing fields are named; empty optional answers are dropped, not passed as "".
    """
    fields = {f["name"]: f for f in record.user_input_schema}
    if any(f.get("free_form") for f in fields.values()):
        # A step that asked for input without a schema takes any named values.
        fields = {**{k: {"name": k, "required": False} for k in values}, **fields}
        fields = {k: v | {"required": False} for k, v in fields.items()}
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise InvalidDecision(f"{unknown[0]!r} is not asked for; expected {', '.join(fields)}", unknown[0])
    missing = [name for name, f in fields.items() if f.get("required", True) and values.get(name) in (None, "")]
    if missing:
        raise InvalidDecision(f"missing value for {missing[0]!r}", missing[0])
    present = {k: v for k, v in values.items() if v not in (None, "")}
    for name, value in present.items():
        _check_choices(name, value, fields[name])
    if function is not None and record.kind is RequirementKind.USER_INPUT:
        return function.validate(present, partial=True)
    if record.kind in _STEP_INPUT_KINDS:
        # A workflow step has no signature: its schema's field_type is the check.
        return {name: _coerce(name, value, fields[name].get("field_type", "str")) for name, value in present.items()}
    return present


_STEP_INPUT_KINDS = (RequirementKind.STEP_USER_INPUT, RequirementKind.STEP_ROUTE_SELECTION,
                     RequirementKind.STEP_ERROR)


def _check_choices(name: str, value: Any, spec: dict[str, Any]) -> None:
    """A field with ``choices`` takes only those (one, or a list when its type is ``list``)."""
    choices = spec.get("choices")
    if choices is None:
        return
    picked = value if isinstance(value, list) else [value]
    if isinstance(value, list) and spec.get("field_type") != "list":
        raise InvalidDecision(f"{name}: choose one of {', '.join(map(str, choices))}", name)
    wrong = [v for v in picked if str(v) not in choices]
    if wrong or not picked:
        shown = repr(wrong[0]) if wrong else "nothing"
        raise InvalidDecision(f"{name}: {shown} is not a choice; choose from {', '.join(map(str, choices))}", name)
    if len(set(map(str, picked))) != len(picked):
        raise InvalidDecision(f"{name}: a choice is given twice", name)


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
