"""Where a click (or an API call) becomes a decision, and a decision a resumable run.

``resolve`` loads the requirement from SQL (never trusting what a button carried), checks the
actor against policy, validates the payload against the tool's own signature, records a vote or
applies the decision with one conditional UPDATE, and says whether the run can now continue.
The caller (Slack listener, REST endpoint) only translates and enqueues ``continue_run``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runner import policy
from runner.requirement import validate_input
from runner.tools import Function, render_result
from storage import audit as audit_chain
from storage.database import Database
from storage.errors import InvalidDecision, NotAnApprover, SignoffError
from storage.records import (
    Actor,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunStatus,
)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    ANSWER = "answer"
    DONE = "done"


_FITS = {
    Action.APPROVE: {RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION},
    Action.REJECT: {RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION},
    Action.EDIT: {RequirementKind.CONFIRMATION},
    Action.ANSWER: {RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT},
    Action.DONE: {RequirementKind.EXTERNAL_EXECUTION},
}


@dataclass(frozen=True)
class Outcome:
    requirement: RequirementRecord
    decided: bool
    """False when an approving vote was recorded but the quorum is not reached yet."""
    votes: int
    quorum: int
    run_ready: bool
    """No requirement of the run is pending any more: enqueue continue_run for ``round``."""
    round: int


Lookup = Callable[[str | None, str | None], Function | None]


def resolve(
    db: Database,
    requirement_id: str,
    actor: Actor,
    action: Action | str,
    *,
    default_approvers: Sequence[str] = (),
    directory: policy.Directory | None = None,
    lookup: Lookup | None = None,
    note: str | None = None,
    args: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    result: Any = None,
    permalink: str | None = None,
    via: str = "sdk",
) -> Outcome:
    action = Action(action)
    req = db.get_requirement(requirement_id)
    authorize(db, req, actor, action, default_approvers, directory, permalink=permalink, via=via)
    if req.kind not in _FITS[action]:
        raise InvalidDecision(f"'{action}' does not fit a {req.kind.value.replace('_', ' ')} request")
    fn = lookup(req.member_agent_name, req.tool_name) if lookup else None
    status, resolution, logged_args = _decision(req, action, fn, note, args, values, result)

    votes, quorum = 0, req.quorum
    if action in (Action.APPROVE, Action.EDIT) and req.approval_type == "required" and req.quorum > 1:
        approval = db.approval_for_requirement(req.id)
        if approval is None:
            raise SignoffError(f"requirement {req.id} has no approval record")
        if req.is_pending:
            votes = db.add_vote(approval.id, actor.id or "", "approve", note)
            if votes < req.quorum:
                db.append_audit(
                    action="approval.vote",
                    actor=actor,
                    outcome="approve",
                    run_id=req.run_id,
                    requirement_id=req.id,
                    tool_name=req.tool_name,
                    permalink=permalink,
                    details={"votes": votes, "quorum": req.quorum, "via": via},
                )
                return Outcome(db.get_requirement(req.id), False, votes, quorum, False, db.get_run(req.run_id).round)
    record = db.decide(
        req.id,
        status,
        actor,
        resolution=resolution,
        audit_action=f"requirement.{'edited' if action is Action.EDIT else status}",
        audit_arguments=logged_args,
        permalink=permalink,
        via=via,
    )
    run = db.get_run(record.run_id)
    ready = run.status is RunStatus.PAUSED and db.count_pending(run.id) == 0
    return Outcome(record, True, votes, quorum, ready, run.round)


def authorize(
    db: Database,
    req: RequirementRecord,
    actor: Actor,
    action: Action | str,
    default_approvers: Sequence[str] = (),
    directory: policy.Directory | None = None,
    *,
    permalink: str | None = None,
    via: str = "sdk",
) -> None:
    """Raise NotAnApprover/SelfApproval when ``actor`` may not decide ``req``; a refusal is
    audited, whether it came from a click, a modal about to open, or the API."""
    if actor.id is None:
        raise NotAnApprover("unknown", req.id)
    try:
        policy.check(req, actor.id, default_approvers, directory or policy.StaticDirectory())
    except NotAnApprover as exc:
        db.append_audit(
            action="decision.refused",
            actor=actor,
            outcome=type(exc).__name__,
            run_id=req.run_id,
            requirement_id=req.id,
            tool_name=req.tool_name,
            reason=exc.message,
            permalink=permalink,
            details={"attempted": str(action), "via": via},
        )
        raise


def _decision(
    req: RequirementRecord,
    action: Action,
    fn: Function | None,
    note: str | None,
    args: dict[str, Any] | None,
    values: dict[str, Any] | None,
    result: Any,
) -> tuple[RequirementStatus, dict[str, Any], Any]:
    sensitive = fn.sensitive_fields if fn else ()
    if action is Action.APPROVE:
        return RequirementStatus.APPROVED, {"note": note} if note else {}, None
    if action is Action.REJECT:
        return RequirementStatus.REJECTED, {"note": note} if note else {}, None
    if action is Action.EDIT:
        if not args:
            raise InvalidDecision("edit & approve needs the edited arguments")
        merged = dict(req.tool_args) | dict(args)
        edited = fn.validate(merged) if fn else merged
        resolution: dict[str, Any] = {"edited_args": edited, "original_args": dict(req.tool_args)}
        if note:
            resolution["note"] = note
        logged = {
            "before": audit_chain.redact(req.tool_args, sensitive),
            "after": audit_chain.redact(edited, sensitive),
        }
        return RequirementStatus.APPROVED, resolution, logged
    if action is Action.ANSWER:
        clean = validate_input(req, fn, values or {})
        return RequirementStatus.ANSWERED, {"values": clean}, audit_chain.redact(clean, sensitive)
    if result is None or (isinstance(result, str) and not result.strip()):
        raise InvalidDecision("mark done needs the result of the step done by hand", "result")
    return RequirementStatus.DONE_EXTERNALLY, {"result": render_result(result)}, None
