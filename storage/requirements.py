"""Requirements: the human decisions a paused run waits for, created with the pause and decided once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)

from storage import schema as t
from storage.audit_log import AuditLog
from storage.codec import digest, dumps, iso
from storage.errors import (
    AlreadyDecided,
    NotFound,
    RequirementExpired,
    SignoffError,
    StaleArguments,
)
from storage.records import (
    Actor,
    ActorKind,
    Escalation,
    NewRequirement,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
)
from storage.redaction import redact
from storage.store import new_id
from storage.timeouts import REQUIREMENT_DEFAULT_EXPIRY_S

_APPROVAL_STATUS = {
    RequirementStatus.APPROVED: "approved",
    RequirementStatus.REJECTED: "rejected",
    RequirementStatus.EXPIRED: "expired",
    RequirementStatus.CANCELLED: "cancelled",
}


# Statements of the hot path, built once (see storage/runs.py): ``b_*`` are bound parameters.
_GET_REQUIREMENT = select(t.requirements).where(t.requirements.c.id == bindparam("b_id"))
RUN_REQUIREMENTS = (
    select(t.requirements)
    .where(t.requirements.c.run_id == bindparam("b_run_id"))
    .order_by(t.requirements.c.created_at, t.requirements.c.call_key)
)
"""A run's requirements in the order they are shown (``b_run_id``); RunOutput reads it too."""
_KNOWN_CALLS = select(t.requirements.c.id, t.requirements.c.call_key).where(
    t.requirements.c.run_id == bindparam("b_run_id"),
    t.requirements.c.call_key.in_(bindparam("b_keys", expanding=True)),
)
_INSERT_REQUIREMENT = insert(t.requirements)
_INSERT_APPROVAL = insert(t.approvals)
_SETTLE_APPROVAL = update(t.approvals).where(
    t.approvals.c.requirement_id == bindparam("b_requirement_id"), t.approvals.c.status == "pending"
)
_TRANSITIONS: dict[tuple[bool, bool], Update] = {}
"""The decision's conditional UPDATE, by (holds the deadline, binds the arguments' hash)."""


def _transition_statement(deadline: bool, bound: bool) -> Update:
    statement = _TRANSITIONS.get((deadline, bound))
    if statement is None:
        c = t.requirements.c
        statement = update(t.requirements).where(c.id == bindparam("b_id"), c.status == bindparam("b_status"))
        if deadline:
            # The deadline holds in the UPDATE itself: a decision racing the expiry cannot land late.
            statement = statement.where((c.expires_at.is_(None)) | (c.expires_at > bindparam("b_now")))
        if bound:
            statement = statement.where(func.coalesce(c.proposed_hash, c.args_hash) == bindparam("b_hash"))
        statement = _TRANSITIONS[(deadline, bound)] = statement.returning(*t.requirements.c)
    return statement


_REDACTED_KEYS = ("edited_args", "original_args", "values")
"""Resolution entries that hold argument values: redacted before they reach the audit log."""


def decision_details(
    resolution: dict[str, Any], via: str | None, declared: list[str] | None, extra: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """What a decision's audit row carries besides the note: edits and answers (redacted with the
    request's sensitive fields, everything when unknown), the surface and the caller's extras."""
    details: dict[str, Any] = {}
    for key, value in resolution.items():
        if key == "note":
            continue
        details[key] = redact(value, declared) if key in _REDACTED_KEYS and isinstance(value, dict) else value
    if via:
        details["via"] = via
    details.update(extra or {})
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
    ) -> list[RequirementRecord]:
        """Create one requirement per spec; a spec whose call_key already exists is returned as is,
        so a worker retrying the same pause never duplicates a card."""
        with self.transaction() as conn:
            ids = self._insert_requirements(conn, run_id, round, specs, requester=requester, agent_id=agent_id)
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
        events: list[dict[str, Any]] | None = None,
    ) -> list[str]:
        """Insert the requirements (and their approvals rows); their ``requirement.created``
        events are appended now, or added to ``events`` for the caller to append in one go."""
        now = self.clock()
        ids: list[str] = []
        # One look for all of them: which of these calls already have their requirement.
        known = {
            row.call_key: row.id
            for row in conn.execute(_KNOWN_CALLS, {"b_run_id": run_id, "b_keys": [s.call_key for s in specs]})
        }
        for spec in specs:
            if spec.call_key in known:
                ids.append(known[spec.call_key])
                continue
            req_id = new_id()
            expiry = spec.expires_in_s if spec.expires_in_s is not None else REQUIREMENT_DEFAULT_EXPIRY_S
            expires_at = now + timedelta(seconds=expiry) if expiry > 0 else None
            args_hash = digest(spec.tool_args)
            conn.execute(
                _INSERT_REQUIREMENT,
                dict(
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
                    sensitive_fields=None if spec.sensitive_fields is None else dumps(spec.sensitive_fields),
                    remind_at=now + timedelta(seconds=spec.remind_in_s) if spec.remind_in_s else None,
                    escalate_at=now + timedelta(seconds=spec.escalate_in_s)
                    if spec.escalate_in_s and spec.escalate_to
                    else None,
                    escalate_to=dumps(list(spec.escalate_to)) if spec.escalate_to else None,
                ),
            )
            # An in-doubt call is a question of fact, not a vote: no approvals row (its policy,
            # who may answer, is on the requirement itself).
            if spec.approval_type == "required" and spec.kind is not RequirementKind.IN_DOUBT:
                conn.execute(
                    _INSERT_APPROVAL,
                    dict(
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
                        sensitive_fields=None if spec.sensitive_fields is None else dumps(spec.sensitive_fields),
                    )
                )
            created: dict[str, Any] = {
                "action": "requirement.created",
                "actor": Actor(None, spec.member_agent_name or agent_id, ActorKind.AGENT),
                "outcome": str(spec.kind),
                "run_id": run_id,
                "requirement_id": req_id,
                "agent_id": agent_id,
                "tool_name": spec.tool_name,
                "arguments": redact(spec.tool_args, spec.sensitive_fields),
                "reason": spec.message,
                "details": {
                    "approval_type": spec.approval_type,
                    "quorum": spec.quorum,
                    "expires_at": iso(expires_at) if expires_at else None,
                },
            }
            if events is None:
                self._append(conn, **created)
            else:
                events.append(created)
            ids.append(req_id)
        return ids

    def get_requirement(self, requirement_id: str) -> RequirementRecord:
        with self.engine.connect() as conn:
            row = conn.execute(_GET_REQUIREMENT, {"b_id": requirement_id}).mappings().first()
        if row is None:
            raise NotFound("requirement", requirement_id)
        return RequirementRecord.from_row(row)

    def requirements_for_run(
        self, run_id: str, *, status: RequirementStatus | None = None, round: int | None = None
    ) -> list[RequirementRecord]:
        if status is None and round is None:
            with self.engine.connect() as conn:
                rows = conn.execute(RUN_REQUIREMENTS, {"b_run_id": run_id}).mappings().all()
            return [RequirementRecord.from_row(r) for r in rows]
        query = select(t.requirements).where(t.requirements.c.run_id == run_id)
        if status is not None:
            query = query.where(t.requirements.c.status == str(status))
        if round is not None:
            query = query.where(t.requirements.c.round == round)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.requirements.c.created_at, t.requirements.c.call_key)).mappings().all()
        return [RequirementRecord.from_row(r) for r in rows]

    def pending_requirements(self, *, limit: int | None = 200) -> list[RequirementRecord]:
        """Pending requirements, oldest first; ``limit=None`` for all of them."""
        query = (
            select(t.requirements)
            .where(t.requirements.c.status == str(RequirementStatus.PENDING))
            .order_by(t.requirements.c.created_at)
        )
        if limit is not None:
            query = query.limit(limit)
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
        expected_hash: str | None = None,
        audit_action: str | None = None,
        audit_arguments: Any = None,
        permalink: str | None = None,
        via: str | None = None,
        audit_details: dict[str, Any] | None = None,
    ) -> RequirementRecord:
        """Apply one decision with one conditional UPDATE.

        ``via`` names the surface the decision came through (slack, api, console, terminal, sdk);
        ``expected_hash``, when given, binds the decision to the arguments the decider saw: if an
        edit proposed other arguments meanwhile, the UPDATE matches nothing and ``StaleArguments``
        is raised. ``audit_details`` adds to the audit row (the API token's id, for instance).

        Raises AlreadyDecided when another decision won, RequirementExpired when the deadline has
        passed (the requirement is marked expired then, an outcome of its own). The audit event
        is written in the same transaction as the decision, its argument values redacted.
        """
        now = self.clock()
        resolution = dict(resolution or {})
        if resolution.get("edited_args") is not None:
            resolution["edited_args_hash"] = digest(resolution["edited_args"])
        error: Exception | None = None
        with self.transaction() as conn:
            # The conditional UPDATE first (it holds the status, the deadline and the arguments'
            # hash); the row is read only when it matched nothing, to say why.
            decided = self._transition(
                conn, requirement_id, status, actor, resolution, now,
                expected_status=expected_status, expected_hash=expected_hash,
            )
            if decided is not None:
                self._append(
                    conn,
                    action=audit_action or f"requirement.{status}",
                    actor=actor,
                    outcome=str(status),
                    run_id=decided.run_id,
                    requirement_id=decided.id,
                    tool_name=decided.tool_name,
                    arguments=audit_arguments,
                    permalink=permalink,
                    reason=resolution.get("note"),
                    details=decision_details(resolution, via, decided.sensitive_fields, audit_details),
                )
            else:
                error = self._refusal(
                    conn, requirement_id, status, actor, now, expected_status, expected_hash, via, audit_details
                )
        if error is not None:
            raise error
        assert decided is not None
        return decided

    def _refusal(
        self,
        conn: Connection,
        requirement_id: str,
        status: RequirementStatus,
        actor: Actor,
        now: datetime,
        expected_status: RequirementStatus,
        expected_hash: str | None,
        via: str | None,
        audit_details: dict[str, Any] | None,
    ) -> SignoffError:
        """Why a decision's UPDATE matched nothing, applied and audited: past its deadline (it
        expires now, an outcome of its own), the arguments changed, or someone decided first."""
        row = conn.execute(select(t.requirements).where(t.requirements.c.id == requirement_id)).mappings().first()
        if row is None:
            raise NotFound("requirement", requirement_id)
        latest = RequirementRecord.from_row(row)
        if (
            latest.status is expected_status is RequirementStatus.PENDING
            and status is not RequirementStatus.EXPIRED
            and latest.expires_at is not None
            and now >= latest.expires_at
        ):
            self._expire(conn, latest, now, {"attempted_by": actor.id, "attempted": str(status), "via": via})
            return RequirementExpired(latest.id, latest.expires_at)
        stale = latest.is_pending and expected_hash is not None and latest.current_hash != expected_hash
        self._append(
            conn,
            action="decision.refused",
            actor=actor,
            outcome="stale_arguments" if stale else "already_decided",
            run_id=latest.run_id,
            requirement_id=latest.id,
            tool_name=latest.tool_name,
            reason="the arguments changed since they were shown"
            if stale
            else f"already {latest.status} by {latest.resolved_by}",
            details={"attempted": str(status), "via": via, **(audit_details or {})},
        )
        if stale:
            return StaleArguments(latest.id, expected_hash or "", latest.current_hash)
        return AlreadyDecided(latest.id, str(latest.status), latest.resolved_by_name or latest.resolved_by,
                              latest.resolved_at)

    @staticmethod
    def get_requirement_in(conn: Connection, requirement_id: str) -> RequirementRecord:
        row = conn.execute(select(t.requirements).where(t.requirements.c.id == requirement_id)).mappings().one()
        return RequirementRecord.from_row(row)

    def _transition(
        self,
        conn: Connection,
        requirement_id: str,
        status: RequirementStatus,
        actor: Actor,
        resolution: dict[str, Any],
        now: datetime,
        *,
        expected_status: RequirementStatus = RequirementStatus.PENDING,
        expected_hash: str | None = None,
    ) -> RequirementRecord | None:
        """The conditional UPDATE of a decision: the requirement as it now is, or None when the
        condition failed (decided, expired, edited meanwhile). Its approvals row moves with it."""
        query = _transition_statement(status is not RequirementStatus.EXPIRED, expected_hash is not None)
        params = {
            "b_id": requirement_id,
            "b_status": str(expected_status),
            "b_now": now,
            "b_hash": expected_hash,
            "status": str(status),
            "resolution": dumps(resolution),
            "resolved_by": actor.id,
            "resolved_by_name": actor.name,
            "resolved_at": now,
        }
        row = conn.execute(query, params).mappings().first()
        if row is None:
            return None
        decided = RequirementRecord.from_row(row)
        approval_status = _APPROVAL_STATUS.get(status)
        # Only a ``required`` request has a pending approvals row (audit rows are never pending);
        # the type comes from the row just updated, so an escalation cannot be missed.
        if approval_status is not None and decided.approval_type == "required":
            conn.execute(
                _SETTLE_APPROVAL,
                {"b_requirement_id": requirement_id, "status": approval_status, "resolved_by": actor.id,
                 "resolved_at": now, "note": resolution.get("note")},
            )
        return decided

    def propose_args(
        self,
        requirement_id: str,
        actor: Actor,
        *,
        args: dict[str, Any],
        expected_hash: str,
        escalate_to: Escalation | None = None,
        via: str | None = None,
        audit_details: dict[str, Any] | None = None,
    ) -> RequirementRecord:
        """Put edited arguments on the table of a request that stays pending.

        Used when an edit cannot decide by itself: a quorum approval (the editor's vote restarts
        the count for the new arguments; earlier votes, bound to the old ones, stop counting), or
        an edit that made a ``required`` approval apply (``escalate_to``: the request becomes an
        approval with that policy and an approvals row). One conditional UPDATE on the status and
        the arguments the editor saw; the audit row records the change, redacted.
        """
        now = self.clock()
        new_hash = digest(args)
        c = t.requirements.c
        with self.transaction() as conn:
            row = conn.execute(select(t.requirements).where(c.id == requirement_id)).mappings().first()
            if row is None:
                raise NotFound("requirement", requirement_id)
            current = RequirementRecord.from_row(row)
            if current.is_pending and current.expires_at is not None and now >= current.expires_at:
                self._expire(conn, current, now, {"attempted_by": actor.id, "attempted": "edit", "via": via})
                expired_at = current.expires_at
            else:
                expired_at = None
            if expired_at is None:
                values: dict[str, Any] = {"proposed_args": dumps(args), "proposed_hash": new_hash}
                if escalate_to is not None:
                    values |= {
                        "approval_type": "required",
                        "approvers": dumps(list(escalate_to.approvers)),
                        "quorum": escalate_to.quorum,
                        "message": escalate_to.reason,
                    }
                    if escalate_to.expires_at is not None:
                        values["expires_at"] = escalate_to.expires_at
                result = conn.execute(
                    update(t.requirements)
                    .where(
                        c.id == requirement_id,
                        c.status == str(RequirementStatus.PENDING),
                        func.coalesce(c.proposed_hash, c.args_hash) == expected_hash,
                    )
                    .values(**values)
                )
                if result.rowcount == 1:
                    self._upsert_required_approval(conn, current, args, new_hash, escalate_to, now)
                    self._append(
                        conn,
                        action="requirement.escalated" if escalate_to is not None else "requirement.args_proposed",
                        actor=actor,
                        outcome="pending",
                        run_id=current.run_id,
                        requirement_id=current.id,
                        tool_name=current.tool_name,
                        arguments={
                            "before": redact(current.current_args, current.sensitive_fields),
                            "after": redact(args, current.sensitive_fields),
                        },
                        reason=escalate_to.reason if escalate_to is not None else None,
                        details={
                            "args_hash": new_hash,
                            "previous_hash": current.current_hash,
                            "via": via,
                            **(
                                {"approvers": list(escalate_to.approvers), "quorum": escalate_to.quorum}
                                if escalate_to is not None
                                else {}
                            ),
                            **(audit_details or {}),
                        },
                    )
                    return self.get_requirement_in(conn, requirement_id)
                latest = self.get_requirement_in(conn, requirement_id)
        if expired_at is not None:
            raise RequirementExpired(requirement_id, expired_at)
        if latest.is_pending:
            raise StaleArguments(requirement_id, expected_hash, latest.current_hash)
        raise AlreadyDecided(
            requirement_id, str(latest.status), latest.resolved_by_name or latest.resolved_by, latest.resolved_at
        )

    def _upsert_required_approval(
        self,
        conn: Connection,
        current: RequirementRecord,
        args: dict[str, Any],
        args_hash: str,
        escalate_to: Escalation | None,
        now: datetime,
    ) -> None:
        """The approvals row follows the arguments being approved (created by an escalation)."""
        existing = conn.execute(
            select(t.approvals.c.id).where(t.approvals.c.requirement_id == current.id)
        ).first()
        if existing is not None:
            conn.execute(
                update(t.approvals)
                .where(t.approvals.c.id == existing.id)
                .values(tool_args=dumps(args), args_hash=args_hash)
            )
            return
        if escalate_to is None:
            return
        conn.execute(
            insert(t.approvals).values(
                id=new_id(),
                run_id=current.run_id,
                requirement_id=current.id,
                call_key=current.call_key,
                approval_type="required",
                agent_id=escalate_to.agent_id,
                tool_name=current.tool_name or "",
                tool_args=dumps(args),
                args_hash=args_hash,
                requester=current.requester,
                status="pending",
                quorum=escalate_to.quorum,
                created_at=now,
                expires_at=escalate_to.expires_at or current.expires_at,
                sensitive_fields=None if current.sensitive_fields is None else dumps(current.sensitive_fields),
            )
        )

    def due_reminders(self, *, limit: int | None = None) -> list[RequirementRecord]:
        """Pending requirements whose reminder or escalation is due now (not yet done)."""
        now = self.clock()
        c = t.requirements.c
        query = (
            select(t.requirements)
            .where(
                c.status == str(RequirementStatus.PENDING),
                ((c.remind_at <= now) & c.reminded_at.is_(None)) | ((c.escalate_at <= now) & c.escalated_at.is_(None)),
            )
            .order_by(c.created_at)
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [RequirementRecord.from_row(r) for r in conn.execute(query).mappings()]

    def mark_reminded(self, requirement_id: str) -> RequirementRecord | None:
        """Claim the reminder of a pending requirement whose reminder is due: one conditional
        UPDATE, so of several workers (the scheduled job, the recovery sweep) exactly one sends
        it. None when it is not due, already sent, or the requirement was decided."""
        now = self.clock()
        c = t.requirements.c
        with self.transaction() as conn:
            changed = conn.execute(
                update(t.requirements)
                .where(
                    c.id == requirement_id,
                    c.status == str(RequirementStatus.PENDING),
                    c.remind_at <= now,
                    c.reminded_at.is_(None),
                    (c.expires_at.is_(None)) | (c.expires_at > now),
                )
                .values(reminded_at=now)
            ).rowcount
            if changed != 1:
                return None
            req = self.get_requirement_in(conn, requirement_id)
            self._append(
                conn,
                action="requirement.reminded",
                actor=Actor.system(),
                outcome="pending",
                run_id=req.run_id,
                requirement_id=req.id,
                tool_name=req.tool_name,
                details={"deciders": list(req.approvers)},
            )
        return req

    def escalate_requirement(self, requirement_id: str, *, defaults: Sequence[str] = ()) -> RequirementRecord | None:
        """Add ``escalate_to`` to the approvers of a pending requirement whose escalation is due:
        one conditional UPDATE (exactly once, however many workers see it), audited as
        ``requirement.escalated_to``. None when not due, already escalated, or decided.

        ``defaults``: the default approvers, who decide a requirement that names none; they stay
        deciders after the escalation (it adds people, it never takes anyone away)."""
        now = self.clock()
        c = t.requirements.c
        with self.transaction() as conn:
            row = conn.execute(select(t.requirements).where(c.id == requirement_id)).mappings().first()
            if row is None:
                raise NotFound("requirement", requirement_id)
            current = RequirementRecord.from_row(row)
            base = list(current.approvers) or list(defaults)
            added = [a for a in (current.escalate_to or []) if a not in base]
            changed = conn.execute(
                update(t.requirements)
                .where(
                    c.id == requirement_id,
                    c.status == str(RequirementStatus.PENDING),
                    c.escalate_at <= now,
                    c.escalated_at.is_(None),
                    c.approvers == row["approvers"],
                    (c.expires_at.is_(None)) | (c.expires_at > now),
                )
                .values(escalated_at=now, approvers=dumps([*base, *added]))
            ).rowcount
            if changed != 1:
                return None
            req = self.get_requirement_in(conn, requirement_id)
            self._append(
                conn,
                action="requirement.escalated_to",
                actor=Actor.system(),
                outcome="pending",
                run_id=req.run_id,
                requirement_id=req.id,
                tool_name=req.tool_name,
                details={"added": added, "before": base},
            )
        return req

    def expire_due(self) -> list[RequirementRecord]:
        """Mark every pending requirement past its deadline as expired (the reconciler's job)."""
        now = self.clock()
        expired: list[RequirementRecord] = []
        c = t.requirements.c
        # Only the due ones, by ix_requirements_status_expires: not every pending row decoded.
        due = select(t.requirements).where(c.status == str(RequirementStatus.PENDING), c.expires_at <= now)
        with self.engine.connect() as conn:
            rows = conn.execute(due.order_by(c.expires_at).limit(10_000)).mappings().all()
        for req in (RequirementRecord.from_row(r) for r in rows):
            with self.transaction() as conn:
                if self._expire(conn, req, now):
                    expired.append(req)
        return [self.get_requirement(r.id) for r in expired]

    def expire_due_for_run(self, run_id: str) -> list[RequirementRecord]:
        """Expire a run's pending requirements past their deadline (a continue that finds the
        run still waiting applies ``hitl_timeout`` at once, as Agno checks it at continue time)."""
        now = self.clock()
        expired = []
        for req in self.requirements_for_run(run_id, status=RequirementStatus.PENDING):
            if req.expires_at is not None and now >= req.expires_at:
                with self.transaction() as conn:
                    if self._expire(conn, req, now):
                        expired.append(req)
        return expired

    def expire_if_due(self, requirement_id: str) -> RequirementRecord:
        """Expire one pending requirement past its deadline now: a continue that finds it late
        applies its timeout at once instead of waiting for the reconciler."""
        now = self.clock()
        req = self.get_requirement(requirement_id)
        if req.is_pending and req.expires_at is not None and now >= req.expires_at:
            with self.transaction() as conn:
                self._expire(conn, req, now)
            return self.get_requirement(requirement_id)
        return req

    def _expire(
        self, conn: Connection, req: RequirementRecord, now: datetime, details: dict[str, Any] | None = None
    ) -> bool:
        """pending -> expired, with its audit row; False when a decision got there first."""
        if self._transition(conn, req.id, RequirementStatus.EXPIRED, Actor.system(), {}, now) is None:
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
