"""Requirements: the human decisions a paused run waits for, created with the pause and decided once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    update,
)

from storage import audit as chain
from storage import schema as t
from storage.audit_log import AuditLog
from storage.codec import digest, dumps, iso
from storage.errors import (
    AlreadyDecided,
    NotFound,
    RequirementExpired,
)
from storage.records import (
    Actor,
    ActorKind,
    NewRequirement,
    RequirementRecord,
    RequirementStatus,
)
from storage.store import new_id
from storage.timeouts import REQUIREMENT_DEFAULT_EXPIRY_S

_APPROVAL_STATUS = {
    RequirementStatus.APPROVED: "approved",
    RequirementStatus.REJECTED: "rejected",
    RequirementStatus.EXPIRED: "expired",
    RequirementStatus.CANCELLED: "cancelled",
}


def _decision_details(resolution: dict[str, Any], via: str | None) -> dict[str, Any] | None:
    """What a decision's audit row carries besides the note: edits, answers, and the surface."""
    details = {k: v for k, v in resolution.items() if k != "note"}
    if via:
        details["via"] = via
    return details or None


class RequirementStore(AuditLog):
    """Create with the pause; decide with one conditional UPDATE; expire as an outcome of its own."""

    def create_requirements(
        self,
        run_id: str,
        round: int,
        specs: Sequence[NewRequirement],
        *,
        requester: str | None,
        agent_id: str | None = None,
        sensitive: Mapping[str, Sequence[str]] | None = None,
    ) -> list[RequirementRecord]:
        """Create one requirement per spec; a spec whose call_key already exists is returned as is,
        so a worker retrying the same pause never duplicates a card."""
        with self.transaction() as conn:
            ids = self._insert_requirements(
                conn, run_id, round, specs, requester=requester, agent_id=agent_id, sensitive=sensitive
            )
        return [self.get_requirement(i) for i in ids]

    def _insert_requirements(
        self,
        conn: Connection,
        run_id: str,
        round: int,
        specs: Sequence[NewRequirement],
        *,
        requester: str | None,
        agent_id: str | None = None,
        sensitive: Mapping[str, Sequence[str]] | None = None,
    ) -> list[str]:
        now = self.clock()
        ids: list[str] = []
        for spec in specs:
            existing = conn.execute(
                select(t.requirements.c.id).where(
                    t.requirements.c.run_id == run_id, t.requirements.c.call_key == spec.call_key
                )
            ).first()
            if existing is not None:
                ids.append(existing.id)
                continue
            req_id = new_id()
            expiry = spec.expires_in_s if spec.expires_in_s is not None else REQUIREMENT_DEFAULT_EXPIRY_S
            expires_at = now + timedelta(seconds=expiry) if expiry > 0 else None
            args_hash = digest(spec.tool_args)
            conn.execute(
                insert(t.requirements).values(
                    id=req_id,
                    run_id=run_id,
                    round=round,
                    call_key=spec.call_key,
                    tool_call_id=spec.tool_call_id,
                    kind=str(spec.kind),
                    tool_name=spec.tool_name,
                    tool_args=dumps(spec.tool_args),
                    args_hash=args_hash,
                    member_agent_name=spec.member_agent_name,
                    approval_type=spec.approval_type,
                    user_input_schema=dumps(spec.user_input_schema),
                    message=spec.message,
                    status=str(RequirementStatus.PENDING),
                    resolution="{}",
                    requester=requester,
                    approvers=dumps(spec.approvers),
                    quorum=spec.quorum,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            if spec.approval_type == "required":
                conn.execute(
                    insert(t.approvals).values(
                        id=new_id(),
                        run_id=run_id,
                        requirement_id=req_id,
                        call_key=spec.call_key,
                        approval_type="required",
                        agent_id=spec.agent_id or agent_id,
                        tool_name=spec.tool_name or "",
                        tool_args=dumps(spec.tool_args),
                        args_hash=args_hash,
                        requester=requester,
                        status="pending",
                        quorum=spec.quorum,
                        created_at=now,
                        expires_at=expires_at,
                    )
                )
            hidden = (sensitive or {}).get(spec.tool_name or "", ())
            self._append(
                conn,
                action="requirement.created",
                actor=Actor(None, spec.member_agent_name or agent_id, ActorKind.AGENT),
                outcome=str(spec.kind),
                run_id=run_id,
                requirement_id=req_id,
                agent_id=agent_id,
                tool_name=spec.tool_name,
                arguments=chain.redact(spec.tool_args, hidden),
                reason=spec.message,
                details={
                    "approval_type": spec.approval_type,
                    "quorum": spec.quorum,
                    "expires_at": iso(expires_at) if expires_at else None,
                },
            )
            ids.append(req_id)
        return ids

    def get_requirement(self, requirement_id: str) -> RequirementRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.requirements).where(t.requirements.c.id == requirement_id)).mappings().first()
        if row is None:
            raise NotFound("requirement", requirement_id)
        return RequirementRecord.from_row(row)

    def requirements_for_run(
        self, run_id: str, *, status: RequirementStatus | None = None, round: int | None = None
    ) -> list[RequirementRecord]:
        query = select(t.requirements).where(t.requirements.c.run_id == run_id)
        if status is not None:
            query = query.where(t.requirements.c.status == str(status))
        if round is not None:
            query = query.where(t.requirements.c.round == round)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.requirements.c.created_at, t.requirements.c.call_key)).mappings().all()
        return [RequirementRecord.from_row(r) for r in rows]

    def pending_requirements(self, *, limit: int = 200) -> list[RequirementRecord]:
        query = (
            select(t.requirements)
            .where(t.requirements.c.status == str(RequirementStatus.PENDING))
            .order_by(t.requirements.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [RequirementRecord.from_row(r) for r in conn.execute(query).mappings()]

    def count_pending(self, run_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.requirements)
                    .where(t.requirements.c.run_id == run_id, t.requirements.c.status == str(RequirementStatus.PENDING))
                ).scalar_one()
            )

    def decide(
        self,
        requirement_id: str,
        status: RequirementStatus,
        actor: Actor,
        *,
        resolution: dict[str, Any] | None = None,
        expected_status: RequirementStatus = RequirementStatus.PENDING,
        audit_action: str | None = None,
        audit_arguments: Any = None,
        permalink: str | None = None,
        via: str | None = None,
    ) -> RequirementRecord:
        """Apply one decision with one conditional UPDATE.

        ``via`` names the surface the decision came through (slack, api, sdk) for the audit log.

        Raises AlreadyDecided when another decision won, RequirementExpired when the deadline has
        passed (the requirement is marked expired then, an outcome of its own). The audit event
        is written in the same transaction as the decision.
        """
        now = self.clock()
        resolution = dict(resolution or {})
        if resolution.get("edited_args") is not None:
            resolution["edited_args_hash"] = digest(resolution["edited_args"])
        error: Exception | None = None
        with self.transaction() as conn:
            row = conn.execute(select(t.requirements).where(t.requirements.c.id == requirement_id)).mappings().first()
            if row is None:
                raise NotFound("requirement", requirement_id)
            current = RequirementRecord.from_row(row)
            if (
                current.status is expected_status is RequirementStatus.PENDING
                and status is not RequirementStatus.EXPIRED
                and current.expires_at is not None
                and now >= current.expires_at
            ):
                self._expire(conn, current, now, {"attempted_by": actor.id, "attempted": str(status), "via": via})
                error = RequirementExpired(current.id, current.expires_at)
            elif not self._transition(conn, current, status, actor, resolution, now, expected_status=expected_status):
                latest = self.get_requirement_in(conn, requirement_id)
                self._append(
                    conn,
                    action="decision.refused",
                    actor=actor,
                    outcome="already_decided",
                    run_id=current.run_id,
                    requirement_id=current.id,
                    tool_name=current.tool_name,
                    reason=f"already {latest.status} by {latest.resolved_by}",
                    details={"attempted": str(status), "via": via},
                )
                error = AlreadyDecided(
                    current.id, str(latest.status), latest.resolved_by_name or latest.resolved_by, latest.resolved_at
                )
            else:
                self._append(
                    conn,
                    action=audit_action or f"requirement.{status}",
                    actor=actor,
                    outcome=str(status),
                    run_id=current.run_id,
                    requirement_id=current.id,
                    tool_name=current.tool_name,
                    arguments=audit_arguments,
                    permalink=permalink,
                    reason=resolution.get("note"),
                    details=_decision_details(resolution, via),
                )
        if error is not None:
            raise error
        return self.get_requirement(requirement_id)

    @staticmethod
    def get_requirement_in(conn: Connection, requirement_id: str) -> RequirementRecord:
        row = conn.execute(select(t.requirements).where(t.requirements.c.id == requirement_id)).mappings().one()
        return RequirementRecord.from_row(row)

    def _transition(
        self,
        conn: Connection,
        current: RequirementRecord,
        status: RequirementStatus,
        actor: Actor,
        resolution: dict[str, Any],
        now: datetime,
        *,
        expected_status: RequirementStatus = RequirementStatus.PENDING,
    ) -> bool:
        result = conn.execute(
            update(t.requirements)
            .where(t.requirements.c.id == current.id, t.requirements.c.status == str(expected_status))
            .values(
                status=str(status),
                resolution=dumps(resolution),
                resolved_by=actor.id,
                resolved_by_name=actor.name,
                resolved_at=now,
            )
        )
        if result.rowcount != 1:
            return False
        approval_status = _APPROVAL_STATUS.get(status)
        if approval_status is not None:
            conn.execute(
                update(t.approvals)
                .where(t.approvals.c.requirement_id == current.id, t.approvals.c.status == "pending")
                .values(status=approval_status, resolved_by=actor.id, resolved_at=now, note=resolution.get("note"))
            )
        return True

    def expire_due(self) -> list[RequirementRecord]:
        """Mark every pending requirement past its deadline as expired (the reconciler's job)."""
        now = self.clock()
        expired: list[RequirementRecord] = []
        for req in self.pending_requirements(limit=10_000):
            if req.expires_at is None or now < req.expires_at:
                continue
            with self.transaction() as conn:
                if self._expire(conn, req, now):
                    expired.append(req)
        return [self.get_requirement(r.id) for r in expired]

    def _expire(
        self, conn: Connection, req: RequirementRecord, now: datetime, details: dict[str, Any] | None = None
    ) -> bool:
        """pending -> expired, with its audit row; False when a decision got there first."""
        if not self._transition(conn, req, RequirementStatus.EXPIRED, Actor.system(), {}, now):
            return False
        self._append(
            conn,
            action="requirement.expired",
            actor=Actor.system(),
            outcome="expired",
            run_id=req.run_id,
            requirement_id=req.id,
            tool_name=req.tool_name,
            details=details,
        )
        return True
