"""Approvals: the formal records of ``required`` and ``audit`` approvals, the seed's
update_approval, and quorum votes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from storage import schema as t
from storage.codec import aware, digest, dumps
from storage.errors import (
    NotFound,
)
from storage.records import (
    Actor,
    ActorKind,
    ApprovalRecord,
    RequirementRecord,
    RequirementStatus,
)
from storage.redaction import redact
from storage.requirements import RUN_REQUIREMENTS, RequirementStore
from storage.store import new_id

log = logging.getLogger(__name__)

# Built once (see storage/runs.py); ``b_run_id`` is bound at execution.
_RUN_APPROVALS = (
    select(t.approvals).where(t.approvals.c.run_id == bindparam("b_run_id")).order_by(t.approvals.c.created_at)
)
_RUN_EXECUTIONS = (
    select(t.tool_executions)
    .where(t.tool_executions.c.run_id == bindparam("b_run_id"))
    .order_by(t.tool_executions.c.id)
)


class ApprovalStore(RequirementStore):
    """An approval moves with its requirement, in the same transaction, whichever side is decided."""

    def get_approval(self, approval_id: str) -> ApprovalRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.approvals).where(t.approvals.c.id == approval_id)).mappings().first()
        if row is None:
            raise NotFound("approval", approval_id)
        return ApprovalRecord.from_row(row)

    def approval_for_requirement(self, requirement_id: str) -> ApprovalRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(t.approvals).where(t.approvals.c.requirement_id == requirement_id))
                .mappings()
                .first()
            )
        return ApprovalRecord.from_row(row) if row else None

    def approvals_for_run(self, run_id: str) -> list[ApprovalRecord]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(t.approvals).where(t.approvals.c.run_id == run_id).order_by(t.approvals.c.created_at)
                )
                .mappings()
                .all()
            )
        return [ApprovalRecord.from_row(r) for r in rows]

    def run_details(self, run_id: str) -> tuple[list[RequirementRecord], list[ApprovalRecord], list[dict[str, Any]]]:
        """A run's requirements, approvals and tool executions, read together (one snapshot):
        what a ``RunOutput`` shows, without a query per piece."""
        params = {"b_run_id": run_id}
        with self.engine.connect() as conn:
            requirements = conn.execute(RUN_REQUIREMENTS, params).mappings().all()
            approvals = conn.execute(_RUN_APPROVALS, params).mappings().all()
            executions = conn.execute(_RUN_EXECUTIONS, params).mappings().all()
        return (
            [RequirementRecord.from_row(r) for r in requirements],
            [ApprovalRecord.from_row(r) for r in approvals],
            [dict(r) for r in executions],
        )

    def update_approval(
        self,
        approval_id: str,
        *,
        expected_status: str = "pending",
        status: str,
        resolved_by: str,
        resolved_at: int | float | datetime | None = None,
        note: str | None = None,
        resolved_by_name: str | None = None,
    ) -> ApprovalRecord | None:
        """The seed's resolution call: a conditional UPDATE; None when another decision won.

        The linked requirement moves with it in the same transaction, so Slack, the API and
        ``continue_run`` all see one decision.
        """
        if status not in ("approved", "rejected"):
            from storage.errors import InvalidDecision

            raise InvalidDecision(f"status must be 'approved' or 'rejected', not {status!r}", "status")
        when = resolved_at
        if isinstance(when, int | float):
            when = datetime.fromtimestamp(when, UTC)
        when = when or self.clock()
        actor = Actor(resolved_by, resolved_by_name)
        with self.transaction() as conn:
            row = conn.execute(select(t.approvals).where(t.approvals.c.id == approval_id)).mappings().first()
            if row is None:
                raise NotFound("approval", approval_id)
            approval = ApprovalRecord.from_row(row)
            if approval.requirement_id:
                # Lock in the order decide() and cancel_run() use (requirement, then approval):
                # the other order deadlocks on PostgreSQL when a click and this call race.
                conn.execute(
                    select(t.requirements.c.id).where(t.requirements.c.id == approval.requirement_id).with_for_update()
                )
            now = self.clock()
            if (
                approval.requirement_id
                and expected_status == "pending"
                and approval.expires_at is not None
                and now >= approval.expires_at
            ):
                # Past its deadline the approval expires (its own outcome, as in decide()); the
                # late resolution does not win, whether or not the reconciler has run yet.
                current_req = self.get_requirement_in(conn, approval.requirement_id)
                details = {"attempted_by": resolved_by, "attempted": status, "approval_id": approval_id}
                if self._expire(conn, current_req, now, details):
                    return None
            result = conn.execute(
                update(t.approvals)
                .where(t.approvals.c.id == approval_id, t.approvals.c.status == expected_status)
                .values(status=status, resolved_by=resolved_by, resolved_at=when, note=note)
            )
            if result.rowcount != 1:
                self._append(
                    conn,
                    action="decision.refused",
                    actor=actor,
                    outcome="already_decided",
                    run_id=approval.run_id,
                    requirement_id=approval.requirement_id,
                    tool_name=approval.tool_name,
                    details={"approval_id": approval_id},
                )
                won = False
            else:
                won = True
                if approval.requirement_id:
                    conn.execute(
                        update(t.requirements)
                        .where(
                            t.requirements.c.id == approval.requirement_id,
                            t.requirements.c.status == str(RequirementStatus.PENDING),
                        )
                        .values(
                            status=status,
                            resolved_by=resolved_by,
                            resolved_by_name=resolved_by_name,
                            resolved_at=when,
                            resolution=dumps({"note": note} if note else {}),
                        )
                    )
                self._append(
                    conn,
                    action=f"approval.{status}",
                    actor=actor,
                    outcome=status,
                    run_id=approval.run_id,
                    requirement_id=approval.requirement_id,
                    agent_id=approval.agent_id,
                    tool_name=approval.tool_name,
                    reason=note,
                    details={"approval_id": approval_id},
                )
        return self.get_approval(approval_id) if won else None

    def record_audit_approval(
        self,
        *,
        run_id: str,
        call_key: str,
        agent_id: str | None,
        tool_name: str,
        tool_args: dict[str, Any],
        requester: str | None,
        sensitive_fields: list[str] | None,
        status: str = "logged",
        requirement_id: str | None = None,
        resolved_by: str | None = None,
        resolved_at: datetime | None = None,
        note: str | None = None,
    ) -> ApprovalRecord:
        """An ``audit`` approval: the tool runs at once, this row is its compliance record.

        On a tool that also has a human step (``requires_confirmation``, user input, external
        execution) the row is written once the person decided, with their outcome as ``status``
        (``approved``/``rejected``) and who decided it."""
        now = self.clock()
        with self.transaction() as conn:
            existing = conn.execute(
                select(t.approvals.c.id).where(t.approvals.c.run_id == run_id, t.approvals.c.call_key == call_key)
            ).first()
            if existing is not None:
                approval_id = existing.id
            else:
                approval_id = new_id()
                conn.execute(
                    insert(t.approvals).values(
                        id=approval_id,
                        run_id=run_id,
                        requirement_id=requirement_id,
                        call_key=call_key,
                        approval_type="audit",
                        agent_id=agent_id,
                        tool_name=tool_name,
                        tool_args=dumps(tool_args),
                        args_hash=digest(tool_args),
                        requester=requester,
                        status=status,
                        quorum=0,
                        resolved_by=resolved_by,
                        resolved_at=resolved_at if status != "logged" else None,
                        note=note,
                        created_at=now,
                        sensitive_fields=None if sensitive_fields is None else dumps(sensitive_fields),
                    )
                )
                self._append(
                    conn,
                    action="approval.audit_logged",
                    actor=Actor(None, agent_id, ActorKind.AGENT),
                    outcome=status,
                    run_id=run_id,
                    agent_id=agent_id,
                    tool_name=tool_name,
                    arguments=redact(tool_args, sensitive_fields),
                    details={"approval_id": approval_id},
                )
        return self.get_approval(approval_id)

    # -- Agno's store helpers (same names, same return shapes) ------------------------------------

    def get_approvals(
        self,
        *,
        status: str | None = None,
        run_id: str | None = None,
        agent_id: str | None = None,
        approval_type: str | None = None,
        tool_name: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        **_ignored: Any,
    ) -> tuple[list[dict[str, Any]], int]:
        """Agno's ``db.get_approvals(...)``: the matching approvals as dicts (newest first) and
        their total count (before ``limit``/``page``)."""
        c = t.approvals.c
        where = []
        for column, value in ((c.status, status), (c.run_id, run_id), (c.agent_id, agent_id),
                              (c.approval_type, approval_type), (c.tool_name, tool_name)):
            if value is not None:
                where.append(column == value)
        query = select(t.approvals).where(*where).order_by(c.created_at.desc(), c.id)
        if limit is not None:
            query = query.limit(limit).offset(max((page or 1) - 1, 0) * limit)
        with self.engine.connect() as conn:
            rows = [ApprovalRecord.from_row(r) for r in conn.execute(query).mappings()]
            total = int(conn.execute(select(func.count()).select_from(t.approvals).where(*where)).scalar_one())
        return [agno_approval(r) for r in rows], total

    def get_pending_approval_count(self, *, agent_id: str | None = None, **_ignored: Any) -> int:
        """Agno's ``db.get_pending_approval_count()``."""
        return self.count_approvals(status="pending", agent_id=agent_id)

    def list_approvals(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        tool_name: str | None = None,
        requester: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ApprovalRecord]:
        query = self._approval_filter(select(t.approvals), status, agent_id, tool_name, requester, since, until)
        query = query.order_by(t.approvals.c.created_at.desc(), t.approvals.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [ApprovalRecord.from_row(r) for r in conn.execute(query).mappings()]

    def count_approvals(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        tool_name: str | None = None,
        requester: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        query = self._approval_filter(
            select(func.count()).select_from(t.approvals), status, agent_id, tool_name, requester, since, until
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _approval_filter(
        query: Any,
        status: str | None,
        agent_id: str | None,
        tool_name: str | None,
        requester: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        c = t.approvals.c
        for column, value in (
            (c.status, status),
            (c.agent_id, agent_id),
            (c.tool_name, tool_name),
            (c.requester, requester),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        return query

    def add_vote(
        self,
        approval_id: str,
        voter: str,
        vote: str,
        note: str | None = None,
        *,
        args_hash: str,
        voter_name: str | None = None,
        surface: str | None = None,
    ) -> int:
        """Record one approver's vote for the arguments ``args_hash`` (once per approver and
        arguments); returns the approving votes for those arguments. Votes for other arguments
        (before an edit) are kept for the record but never counted."""
        with self.transaction() as conn:
            # Serialise votes on one approval: under READ COMMITTED two racing voters would each
            # count only their own uncommitted vote and neither would see the quorum reached.
            # (SQLite's BEGIN IMMEDIATE already serialises; FOR UPDATE compiles to nothing there.)
            conn.execute(select(t.approvals.c.id).where(t.approvals.c.id == approval_id).with_for_update())
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(t.approval_votes).values(
                            approval_id=approval_id,
                            voter=voter,
                            vote=vote,
                            note=note,
                            created_at=self.clock(),
                            args_hash=args_hash,
                            voter_name=voter_name,
                            surface=surface,
                        )
                    )
            except IntegrityError:
                log.debug("%s already voted on approval %s for these arguments", voter, approval_id)
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.approval_votes)
                    .where(
                        t.approval_votes.c.approval_id == approval_id,
                        t.approval_votes.c.vote == "approve",
                        t.approval_votes.c.args_hash == args_hash,
                    )
                ).scalar_one()
            )

    def count_votes(self, approval_id: str, args_hash: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.approval_votes)
                    .where(
                        t.approval_votes.c.approval_id == approval_id,
                        t.approval_votes.c.vote == "approve",
                        t.approval_votes.c.args_hash == args_hash,
                    )
                ).scalar_one()
            )

    def votes(self, approval_id: str) -> list[dict[str, Any]]:
        """Every vote, oldest first, ``created_at`` time-zone aware; ``args_hash`` says for which arguments."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(t.approval_votes)
                    .where(t.approval_votes.c.approval_id == approval_id)
                    .order_by(t.approval_votes.c.id)
                )
                .mappings()
                .all()
            )
        return [dict(r) | {"created_at": aware(r["created_at"])} for r in rows]


def agno_approval(approval: ApprovalRecord) -> dict[str, Any]:
    """An approval in Agno's dict shape (``approval["status"]``, ``["approval_type"]`` ...).

    Timestamps are epoch seconds as in Agno; ``tool_args`` are redacted like every other surface.
    """
    def epoch(value: datetime | None) -> int | None:
        return int(value.timestamp()) if value is not None else None

    return {
        "id": approval.id,
        "run_id": approval.run_id,
        "requirement_id": approval.requirement_id,
        "approval_type": approval.approval_type,
        "status": approval.status,
        "agent_id": approval.agent_id,
        "source_type": "agent",
        "tool_name": approval.tool_name,
        "tool_args": redact(approval.tool_args, approval.sensitive_fields),
        "context": {"tool_name": approval.tool_name, "call_key": approval.call_key},
        "requester": approval.requester,
        "resolved_by": approval.resolved_by,
        "resolved_at": epoch(approval.resolved_at),
        "resolution_data": {"note": approval.note} if approval.note else None,
        "created_at": epoch(approval.created_at),
        "expires_at": epoch(approval.expires_at),
    }
