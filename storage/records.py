"""Plain, immutable views of rows. Callers above ``storage`` never see a SQLAlchemy object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.codec import aware, loads


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Agno's lower-case member names (``RunStatus.paused``): aliases of the same values.
    queued = "queued"
    pending = "queued"
    running = "running"
    paused = "paused"
    completed = "completed"
    error = "failed"
    cancelled = "cancelled"


FINISHED_RUN_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class RequirementKind(StrEnum):
    CONFIRMATION = "confirmation"
    USER_INPUT = "user_input"
    EXTERNAL_EXECUTION = "external_execution"
    STEP_CONFIRMATION = "step_confirmation"
    STEP_USER_INPUT = "step_user_input"
    STEP_OUTPUT_REVIEW = "step_output_review"
    """A person approves, rejects or edits a workflow step's output before it flows on."""
    IN_DOUBT = "in_doubt"
    """A tool call (or step) a dead worker left started: a person says whether it happened."""
    STEP_ROUTE_SELECTION = "step_route_selection"
    """A workflow ``Router`` asks a person which of its routes to take (a field with choices)."""
    STEP_ERROR = "step_error"
    """A workflow step failed with ``on_error="pause"``: a person says retry or skip."""


ANSWER_KINDS = frozenset({RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT,
                          RequirementKind.STEP_ROUTE_SELECTION, RequirementKind.STEP_ERROR})
"""Requirements a person answers with field values (some fields offer fixed choices)."""
EDIT_KINDS = frozenset({RequirementKind.CONFIRMATION, RequirementKind.STEP_OUTPUT_REVIEW})
"""Requirements a person may approve with edits: a tool call's arguments, or a step's output."""


class RequirementStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ANSWERED = "answered"
    DONE_EXTERNALLY = "done_externally"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ActorKind(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who did something: a Slack user, an API caller, the agent, or signoff itself."""

    id: str | None
    name: str | None = None
    kind: ActorKind = ActorKind.HUMAN

    @classmethod
    def system(cls, name: str = "signoff") -> Actor:
        return cls(id="system", name=name, kind=ActorKind.SYSTEM)


class Surface(StrEnum):
    """Where a decision or a start came from; recorded on every audit row it writes."""

    SLACK = "slack"
    API = "api"
    CONSOLE = "console"
    TERMINAL = "terminal"
    SDK = "sdk"


@dataclass(frozen=True)
class Principal:
    """Who is acting, as authenticated by a surface: never a field of the request.

    ``kind`` is ``user`` (a Slack user id, whatever surface authenticated them) or ``service``
    (a named API client, id ``svc:<name>``). ``token_id`` names the API token used, if any.
    """

    id: str
    name: str | None = None
    kind: str = "user"
    scopes: frozenset[str] = frozenset()
    token_id: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.name, ActorKind.HUMAN if self.kind == "user" else ActorKind.SYSTEM)

    def can(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class ApiToken:
    id: str
    name: str
    principal_kind: str
    principal_id: str
    principal_name: str | None
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ApiToken:
        values = {k: row[k] for k in cls.__dataclass_fields__}
        values["scopes"] = loads(values["scopes"], [])
        for key in ("created_at", "revoked_at", "last_used_at"):
            values[key] = aware(values[key])
        return cls(**values)

    def principal(self) -> Principal:
        return Principal(
            id=self.principal_id,
            name=self.principal_name,
            kind=self.principal_kind,
            scopes=frozenset(self.scopes),
            token_id=self.id,
        )


@dataclass(frozen=True)
class RunRecord:
    id: str
    kind: str
    target_id: str
    target_name: str
    status: RunStatus
    version: int
    round: int
    requester: str | None
    requester_name: str | None
    input: str
    content: str | None
    error: str | None
    error_kind: str | None
    state: dict[str, Any]
    channel: str | None
    thread_ts: str | None
    created_at: datetime
    updated_at: datetime
    heartbeat_at: datetime | None = None
    session_id: str | None = None
    session_state: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> RunRecord:
        values = dict(row)
        values["status"] = RunStatus(values["status"])
        values["state"] = loads(values["state"], {})
        values["session_state"] = loads(values.get("session_state"))
        for key in ("created_at", "updated_at", "heartbeat_at"):
            values[key] = aware(values.get(key))
        return cls(**values)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES


_REQUIREMENT_TIMES = ("resolved_at", "created_at", "expires_at")


@dataclass(frozen=True)
class RequirementRecord:
    id: str
    run_id: str
    round: int
    call_key: str
    tool_call_id: str | None
    kind: RequirementKind
    tool_name: str | None
    tool_args: dict[str, Any]
    args_hash: str
    member_agent_name: str | None
    approval_type: str | None
    user_input_schema: list[dict[str, Any]]
    message: str | None
    status: RequirementStatus
    resolution: dict[str, Any]
    resolved_by: str | None
    resolved_by_name: str | None
    resolved_at: datetime | None
    requester: str | None
    approvers: list[str]
    quorum: int
    created_at: datetime
    expires_at: datetime | None
    sensitive_fields: list[str] | None = None
    """The tool's declared sensitive fields when the request was made; None means unknown (mask all)."""
    proposed_args: dict[str, Any] | None = None
    """Arguments proposed by an edit while still pending; votes count only for ``proposed_hash``."""
    proposed_hash: str | None = None
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    escalate_at: datetime | None = None
    escalated_at: datetime | None = None
    escalate_to: list[str] | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> RequirementRecord:
        values = dict(row)
        values["kind"] = RequirementKind(values["kind"])
        values["status"] = RequirementStatus(values["status"])
        values["tool_args"] = loads(values["tool_args"], {})
        values["user_input_schema"] = loads(values["user_input_schema"], [])
        values["resolution"] = loads(values["resolution"], {})
        values["approvers"] = loads(values["approvers"], [])
        values["sensitive_fields"] = loads(values.get("sensitive_fields"))
        values["proposed_args"] = loads(values.get("proposed_args"))
        values["escalate_to"] = loads(values.get("escalate_to"))
        for key in (*_REQUIREMENT_TIMES, "remind_at", "reminded_at", "escalate_at", "escalated_at"):
            values[key] = aware(values[key])
        return cls(**values)

    @property
    def is_pending(self) -> bool:
        return self.status is RequirementStatus.PENDING

    @property
    def current_args(self) -> dict[str, Any]:
        """The arguments on the table now: an edit's proposal while pending, else the model's."""
        return self.proposed_args if self.proposed_args is not None else self.tool_args

    @property
    def current_hash(self) -> str:
        """SHA-256 of :attr:`current_args`: what a vote or a click is bound to."""
        return self.proposed_hash or self.args_hash


@dataclass(frozen=True)
class ApprovalRecord:
    id: str
    run_id: str
    requirement_id: str | None
    call_key: str
    approval_type: str
    agent_id: str | None
    tool_name: str
    tool_args: dict[str, Any]
    args_hash: str
    requester: str | None
    status: str
    quorum: int
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    created_at: datetime
    expires_at: datetime | None
    sensitive_fields: list[str] | None = None

    def __getitem__(self, key: str) -> Any:
        """Read like Agno's approval dicts (``approval["status"]``, ``["source_type"]``): the
        record's fields, then the keys of Agno's dict shape (``get_approval`` returns a record)."""
        if key in self.__dataclass_fields__:
            return getattr(self, key)
        from storage.approvals import agno_approval

        return agno_approval(self)[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ApprovalRecord:
        values = dict(row)
        values["tool_args"] = loads(values["tool_args"], {})
        values["sensitive_fields"] = loads(values.get("sensitive_fields"))
        for key in ("resolved_at", "created_at", "expires_at"):
            values[key] = aware(values[key])
        return cls(**values)


@dataclass(frozen=True)
class ExecutionClaim:
    """Outcome of claiming a tool call before running it.

    ``claimed``: this caller must run the tool now. ``done``: it already ran; ``result`` is what it
    returned. ``in_doubt``: a previous worker started it and never finished (crash); it is not run
    again, because running a refund twice is worse than reporting that we do not know.
    """

    status: str
    result: str | None = None
    started_at: datetime | None = None
    """When the claim was written (for an in-doubt call: when its worker started it)."""
    worker: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    ts: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    action: str
    outcome: str | None
    run_id: str | None
    requirement_id: str | None
    agent_id: str | None
    tool_name: str | None
    arguments: Any
    reason: str | None
    permalink: str | None
    details: Any
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AuditEvent:
        values = dict(row)
        values["arguments"] = loads(values["arguments"])
        values["details"] = loads(values["details"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SlackMessage:
    run_id: str
    requirement_id: str | None
    purpose: str
    channel: str
    ts: str


@dataclass(frozen=True)
class Escalation:
    """An edit made a ``required`` approval apply: who must now decide, how many, by when."""

    approvers: tuple[str, ...]
    quorum: int
    reason: str
    agent_id: str | None = None
    expires_at: datetime | None = None


@dataclass
class NewRequirement:
    """What the runner asks storage to create when a tool call needs a human."""

    call_key: str
    kind: RequirementKind
    tool_call_id: str | None = None
    tool_name: str | None = None
    tool_args: dict[str, Any] = field(default_factory=dict)
    member_agent_name: str | None = None
    approval_type: str | None = None
    user_input_schema: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    approvers: list[str] = field(default_factory=list)
    quorum: int = 1
    expires_in_s: float | None = None
    agent_id: str | None = None
    sensitive_fields: list[str] | None = field(default_factory=list)
    """The tool's declared sensitive fields (None: unknown, mask everything)."""
    remind_in_s: float | None = None
    """Remind the pending deciders this long after creation (None: never)."""
    escalate_in_s: float | None = None
    """Add ``escalate_to`` to the deciders this long after creation (None: never)."""
    escalate_to: list[str] | None = None
