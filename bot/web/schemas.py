"""The REST API's request and response models (routes live in ``bot.web.api``).

Every datetime in a response is time-zone aware (UTC); argument values are redacted with the
request's sensitive fields before they are put in a model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ApprovalStatus = Literal["pending", "approved", "rejected", "expired", "cancelled", "logged"]



class ErrorOut(BaseModel):
    detail: str


class ConflictOut(ErrorOut):
    status: str = Field(description="What the requirement already is (approved, rejected, cancelled...).")
    decided_by: str | None = Field(None, description="Who decided first.")
    decided_at: datetime | None = None


class VoteOut(BaseModel):
    voter: str
    vote: str
    note: str | None = None
    created_at: datetime
    args_hash: str | None = Field(None, description="SHA-256 of the arguments this vote approved.")
    counts: bool = Field(description="True while those are the arguments on the table (an edit restarts the count).")


class ApprovalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "A required (or audit-logged) tool call."})

    id: str
    run_id: str
    requirement_id: str | None = Field(description="None for an audit-only approval (the tool ran at once).")
    call_key: str
    approval_type: Literal["required", "audit"]
    agent_id: str | None
    tool_name: str
    tool_args: dict[str, Any] = Field(description="Arguments, with sensitive fields redacted.")
    args_hash: str = Field(description="SHA-256 of the canonical JSON of the arguments the decision is bound to.")
    requester: str | None
    status: ApprovalStatus
    quorum: int
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    created_at: datetime
    expires_at: datetime | None


class ApprovalDetail(ApprovalOut):
    votes: list[VoteOut] = Field(default_factory=list, description="Approving votes so far (quorum > 1).")
    approvers: list[str] = Field(default_factory=list, description="Who may decide (user and user-group ids).")


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    total: int = Field(description="How many approvals match the filters, all pages together.")
    limit: int
    offset: int


class CountOut(BaseModel):
    count: int


class ResolveIn(BaseModel):
    """A decision on an approval, made as the token's principal. ``approved`` with ``args``
    approves edited arguments (checked against the whole policy again).

    ``values`` and ``result`` are part of the schema (answers and hand-back results), but a
    ``required`` approval is always a confirmation (``@approval`` refuses tools that ask for
    input or are done by hand), so today they are refused with a 422 that says so."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["approved", "rejected"]
    resolved_by: str | None = Field(
        None, min_length=1, max_length=128,
        description="Optional: must equal the token's principal. The decider is always the principal.",
    )
    resolved_by_name: str | None = Field(None, max_length=256)
    args_hash: str | None = Field(
        None, min_length=64, max_length=64, pattern="^[0-9a-f]{64}$",
        description="SHA-256 of the arguments you reviewed (``args_hash`` of GET): refused with 409 if they changed.",
    )
    note: str | None = Field(None, max_length=3000, description="Reason; a rejection's reason reaches the agent.")
    values: dict[str, Any] | None = None
    result: Any = None
    args: dict[str, Any] | None = Field(None, description="Edited arguments (edit & approve).")


class ResolveOut(BaseModel):
    approval: ApprovalOut
    decided: bool = Field(description="False when a vote was recorded and the quorum is not reached yet.")
    escalated: bool = Field(False, description="The edit made a required approval apply: approvers must decide.")
    votes: int
    quorum: int
    run_ready: bool = Field(description="Nothing of the run is pending any more: it is being resumed.")
    continue_job: str | None = Field(None, description="Id of the continue_run job enqueued, if any.")


class RequirementOut(BaseModel):
    id: str
    round: int
    kind: str
    tool_name: str | None
    tool_args: dict[str, Any] = Field(description="The arguments on the table now (an edit's proposal), redacted.")
    args_hash: str = Field(description="SHA-256 of those arguments: send it back as ``args_hash`` to bind a decision.")
    member_agent_name: str | None
    approval_type: str | None
    message: str | None
    status: str
    resolved_by: str | None
    resolved_by_name: str | None
    resolved_at: datetime | None
    note: str | None
    approvers: list[str]
    quorum: int
    created_at: datetime
    expires_at: datetime | None


class AuditEventOut(BaseModel):
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


class RunOut(BaseModel):
    id: str
    kind: str
    target_id: str
    target_name: str
    status: str
    round: int
    requester: str | None
    requester_name: str | None
    input: str
    content: str | None
    error: str | None
    error_kind: str | None
    channel: str | None
    thread_ts: str | None
    created_at: datetime
    updated_at: datetime
    requirements: list[RequirementOut]
    approvals: list[ApprovalOut]
    audit: list[AuditEventOut]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or wrong bearer token."},
    403: {"model": ErrorOut, "description": "The token's principal may not do this (scope, policy)."},
    503: {"model": ErrorOut, "description": "The API is disabled: no API token exists."},
}


