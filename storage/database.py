"""``Database``: the one object that reads and writes signoff's tables.

Every state change is a single conditional UPDATE whose rowcount is checked, inside a transaction
that also appends the audit event, so a decision and its record land together or not at all.
On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of failing);
on PostgreSQL audit appends take a transaction-scoped advisory lock so the chain never forks.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from storage import audit as chain
from storage import schema as t
from storage.codec import digest, dumps, iso, loads, utcnow
from storage.errors import (
    AlreadyDecided,
    NotFound,
    RequirementExpired,
    RunBusy,
    RunNotPaused,
)
from storage.records import (
    Actor,
    ActorKind,
    ApprovalRecord,
    AuditEvent,
    ExecutionClaim,
    NewRequirement,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
    SlackMessage,
)
from storage.timeouts import REQUIREMENT_DEFAULT_EXPIRY_S, SQLITE_BUSY_TIMEOUT_MS

DEFAULT_URL = "sqlite:///signoff.db"
"""The embedded default: a SQLite file in the working directory."""

AUDIT_LOCK_KEY = 0x5169_0FF
"""PostgreSQL advisory lock id that serialises audit appends."""

Clock = Callable[[], datetime]

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


def new_id() -> str:
    return uuid.uuid4().hex


def _normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs mean psycopg 3 here (the driver we install)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _make_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """All of signoff's SQL. Takes plain values, returns records; the clock is injectable."""

    def __init__(self, url: str = DEFAULT_URL, *, clock: Clock = utcnow, migrate: bool = True) -> None:
        self.url = _normalise_url(url)
        self.clock = clock
        self.engine = _make_engine(self.url)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        if migrate:
            self.upgrade()

    @classmethod
    def from_env(cls, *, clock: Clock = utcnow) -> Database:
        return cls(os.environ.get("DATABASE_URL") or DEFAULT_URL, clock=clock)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to ``revision`` (start-up and ``signoff db upgrade``)."""
        from storage.migrate import upgrade

        upgrade(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()

    def after_fork(self) -> None:
        """A forked worker must not reuse the parent's pooled connections."""
        self.engine.dispose(close=False)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # ------------------------------------------------------------------ audit

    def _append(
        self,
        conn: Connection,
        *,
        action: str,
        actor: Actor,
        outcome: str | None = None,
        run_id: str | None = None,
        requirement_id: str | None = None,
        agent_id: str | None = None,
        tool_name: str | None = None,
        arguments: Any = None,
        reason: str | None = None,
        permalink: str | None = None,
        details: Any = None,
    ) -> AuditEvent:
        if self.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
        last = conn.execute(
            select(t.audit_events.c.seq, t.audit_events.c.hash).order_by(t.audit_events.c.seq.desc()).limit(1)
        ).first()
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else chain.GENESIS_HASH
        # Hash exactly what a reader decodes from the stored text (tuples become lists, keys
        # strings, odd values their str()): a row read back and re-hashed always matches.
        arguments = None if arguments is None else loads(dumps(arguments))
        details = None if details is None else loads(dumps(details))
        row: dict[str, Any] = {
            "seq": seq,
            "ts": iso(self.clock()),
            "actor_kind": str(actor.kind),
            "actor_id": actor.id,
            "actor_name": actor.name,
            "action": action,
            "outcome": outcome,
            "run_id": run_id,
            "requirement_id": requirement_id,
            "agent_id": agent_id,
            "tool_name": tool_name,
            "arguments": arguments,
            "reason": reason,
            "permalink": permalink,
            "details": details,
        }
        row["prev_hash"] = prev
        row["hash"] = chain.chain_hash(row, prev)
        stored = dict(row)
        stored["arguments"] = None if arguments is None else dumps(arguments)
        stored["details"] = None if details is None else dumps(details)
        conn.execute(insert(t.audit_events).values(**stored))
        return AuditEvent(**row)

    def append_audit(self, *, action: str, actor: Actor, **fields: Any) -> AuditEvent:
        """Append one event in its own transaction (for events with no state change attached)."""
        with self.transaction() as conn:
            return self._append(conn, action=action, actor=actor, **fields)

    def audit_events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        agent_id: str | None = None,
        actor_id: str | None = None,
        run_id: str | None = None,
        batch: int = 1000,
    ) -> Iterator[AuditEvent]:
        """Stream events in chain order, ``batch`` rows at a time (constant memory for exports)."""
        after = 0
        while True:
            query = select(t.audit_events).where(t.audit_events.c.seq > after)
            if since is not None:
                query = query.where(t.audit_events.c.ts >= iso(since))
            if until is not None:
                query = query.where(t.audit_events.c.ts < iso(until))
            if agent_id is not None:
                query = query.where(t.audit_events.c.agent_id == agent_id)
            if actor_id is not None:
                query = query.where(t.audit_events.c.actor_id == actor_id)
            if run_id is not None:
                query = query.where(t.audit_events.c.run_id == run_id)
            with self.engine.connect() as conn:
                rows = conn.execute(query.order_by(t.audit_events.c.seq).limit(batch)).mappings().all()
            if not rows:
                return
            for row in rows:
                yield AuditEvent.from_row(row)
            after = rows[-1]["seq"]

    # ------------------------------------------------------------------- runs

    def create_run(
        self,
        *,
        kind: str,
        target_id: str,
        target_name: str,
        input: str,
        state: dict[str, Any],
        requester: str | None = None,
        requester_name: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
        status: RunStatus = RunStatus.RUNNING,
        run_id: str | None = None,
    ) -> RunRecord:
        now = self.clock()
        new_run_id = run_id or new_id()
        values: dict[str, Any] = {
            "id": new_run_id,
            "kind": kind,
            "target_id": target_id,
            "target_name": target_name,
            "status": str(status),
            "version": 1,
            "round": 0,
            "requester": requester,
            "requester_name": requester_name,
            "input": input,
            "state": dumps(state),
            "channel": channel,
            "thread_ts": thread_ts,
            "created_at": now,
            "updated_at": now,
        }
        with self.transaction() as conn:
            conn.execute(insert(t.runs).values(**values))
            self._append(
                conn,
                action="run.started",
                actor=Actor(requester, requester_name),
                outcome=str(status),
                run_id=new_run_id,
                agent_id=target_id,
                details={"kind": kind, "input": input, "channel": channel},
            )
        return self.get_run(new_run_id)

    def get_run(self, run_id: str) -> RunRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFound("run", run_id)
        return RunRecord.from_row(row)

    def list_runs(self, *, status: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = select(t.runs).order_by(t.runs.c.created_at.desc()).limit(limit)
        if status:
            query = query.where(t.runs.c.status == status)
        with self.engine.connect() as conn:
            return [RunRecord.from_row(r) for r in conn.execute(query).mappings()]

    def acquire_run(self, run_id: str, *, from_statuses: Sequence[RunStatus]) -> RunRecord:
        """Take the run's lease: status -> running, version + 1, only from ``from_statuses``."""
        now = self.clock()
        allowed = [str(s) for s in from_statuses]
        with self.transaction() as conn:
            result = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.status.in_(allowed))
                .values(status=str(RunStatus.RUNNING), version=t.runs.c.version + 1, updated_at=now)
            )
            if result.rowcount != 1:
                row = conn.execute(select(t.runs.c.status).where(t.runs.c.id == run_id)).first()
                if row is None:
                    raise NotFound("run", run_id)
                if RunStatus.PAUSED in from_statuses:
                    raise RunNotPaused(run_id, row.status)
                raise RunBusy(run_id, row.status)
        return self.get_run(run_id)

    def save_run(
        self,
        run_id: str,
        *,
        expected_version: int,
        state: dict[str, Any] | None = None,
        status: RunStatus | None = None,
        content: str | None = None,
        error: str | None = None,
        error_kind: str | None = None,
        bump_round: bool = False,
        audit: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Write the run under its lease; RunBusy when someone else moved it (e.g. a cancel)."""
        values: dict[str, Any] = {"version": expected_version + 1, "updated_at": self.clock()}
        if state is not None:
            values["state"] = dumps(state)
        if status is not None:
            values["status"] = str(status)
        if content is not None:
            values["content"] = content
        if error is not None:
            values["error"] = error
            values["error_kind"] = error_kind
        if bump_round:
            values["round"] = t.runs.c.round + 1
        with self.transaction() as conn:
            result = conn.execute(
                update(t.runs).where(t.runs.c.id == run_id, t.runs.c.version == expected_version).values(**values)
            )
            if result.rowcount != 1:
                row = conn.execute(select(t.runs.c.status).where(t.runs.c.id == run_id)).first()
                if row is None:
                    raise NotFound("run", run_id)
                raise RunBusy(run_id, row.status)
            if audit:
                self._append(conn, run_id=run_id, **audit)
        return self.get_run(run_id)

    def cancel_run(self, run_id: str, actor: Actor, reason: str | None = None) -> RunRecord:
        """Cancel a run that has not finished; its pending requirements are cancelled with it."""
        now = self.clock()
        live = [str(RunStatus.QUEUED), str(RunStatus.RUNNING), str(RunStatus.PAUSED)]
        with self.transaction() as conn:
            result = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.status.in_(live))
                .values(
                    status=str(RunStatus.CANCELLED),
                    version=t.runs.c.version + 1,
                    updated_at=now,
                    content=reason or "Cancelled.",
                )
            )
            if result.rowcount != 1:
                row = conn.execute(select(t.runs.c.status).where(t.runs.c.id == run_id)).first()
                if row is None:
                    raise NotFound("run", run_id)
                raise RunBusy(run_id, row.status)
            conn.execute(
                update(t.requirements)
                .where(t.requirements.c.run_id == run_id, t.requirements.c.status == str(RequirementStatus.PENDING))
                .values(
                    status=str(RequirementStatus.CANCELLED),
                    resolved_by=actor.id,
                    resolved_by_name=actor.name,
                    resolved_at=now,
                )
            )
            conn.execute(
                update(t.approvals)
                .where(t.approvals.c.run_id == run_id, t.approvals.c.status == "pending")
                .values(status="cancelled", resolved_by=actor.id, resolved_at=now)
            )
            self._append(conn, action="run.cancelled", actor=actor, outcome="cancelled", run_id=run_id, reason=reason)
        return self.get_run(run_id)

    def stuck_runs(self, *, queued_before: datetime, running_before: datetime) -> list[RunRecord]:
        """Runs that need recovery: queued with no start, paused with nothing pending, or running
        with no write for longer than any job may live."""
        pending = (
            select(t.requirements.c.id)
            .where(t.requirements.c.run_id == t.runs.c.id, t.requirements.c.status == str(RequirementStatus.PENDING))
            .exists()
        )
        query = select(t.runs).where(
            (t.runs.c.status == str(RunStatus.QUEUED)) & (t.runs.c.created_at < queued_before)
            | (t.runs.c.status == str(RunStatus.PAUSED)) & ~pending
            | (t.runs.c.status == str(RunStatus.RUNNING)) & (t.runs.c.updated_at < running_before)
        )
        with self.engine.connect() as conn:
            return [RunRecord.from_row(r) for r in conn.execute(query.order_by(t.runs.c.updated_at)).mappings()]

    def release_stale_run(self, run_id: str, *, expected_version: int) -> RunRecord | None:
        """Take a dead worker's lease: running -> paused at the version we saw, so a continue job
        resumes from the last checkpoint. None when the run moved meanwhile (the worker was alive)."""
        with self.transaction() as conn:
            result = conn.execute(
                update(t.runs)
                .where(
                    t.runs.c.id == run_id,
                    t.runs.c.version == expected_version,
                    t.runs.c.status == str(RunStatus.RUNNING),
                )
                .values(status=str(RunStatus.PAUSED), version=expected_version + 1, updated_at=self.clock())
            )
            if result.rowcount != 1:
                return None
            self._append(
                conn,
                action="run.recovered",
                actor=Actor.system(),
                outcome="released",
                run_id=run_id,
                reason="its worker stopped writing; resuming from the last checkpoint",
            )
        return self.get_run(run_id)

    def set_run_thread(self, run_id: str, channel: str, thread_ts: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(channel=channel, thread_ts=thread_ts))

    # ----------------------------------------------------------- requirements

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

    def pause_run(
        self,
        run_id: str,
        *,
        expected_version: int,
        state: dict[str, Any],
        specs: Sequence[NewRequirement],
        requester: str | None,
        agent_id: str | None = None,
        sensitive: Mapping[str, Sequence[str]] | None = None,
    ) -> RunRecord:
        """Create the new requirements and mark the run paused in one transaction, under the lease:
        requirement rows exist if and only if the pause happened."""
        with self.transaction() as conn:
            row = conn.execute(select(t.runs.c.round, t.runs.c.status).where(t.runs.c.id == run_id)).first()
            if row is None:
                raise NotFound("run", run_id)
            result = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.version == expected_version)
                .values(
                    version=expected_version + 1,
                    updated_at=self.clock(),
                    state=dumps(state),
                    status=str(RunStatus.PAUSED),
                    round=t.runs.c.round + (1 if specs else 0),
                )
            )
            if result.rowcount != 1:
                raise RunBusy(run_id, row.status)
            if specs:
                self._insert_requirements(
                    conn, run_id, row.round + 1, specs, requester=requester, agent_id=agent_id, sensitive=sensitive
                )
            self._append(
                conn,
                action="run.paused",
                actor=Actor.system(),
                outcome="paused",
                run_id=run_id,
                agent_id=agent_id,
                details={"new_requirements": len(specs)},
            )
        return self.get_run(run_id)

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
                self._transition(conn, current, RequirementStatus.EXPIRED, Actor.system(), {}, now)
                self._append(
                    conn,
                    action="requirement.expired",
                    actor=Actor.system(),
                    outcome="expired",
                    run_id=current.run_id,
                    requirement_id=current.id,
                    tool_name=current.tool_name,
                    details={"attempted_by": actor.id, "attempted": str(status), "via": via},
                )
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
                if self._transition(conn, req, RequirementStatus.EXPIRED, Actor.system(), {}, now):
                    self._append(
                        conn,
                        action="requirement.expired",
                        actor=Actor.system(),
                        outcome="expired",
                        run_id=req.run_id,
                        requirement_id=req.id,
                        tool_name=req.tool_name,
                    )
                    expired.append(req)
        return [self.get_requirement(r.id) for r in expired]

    # -------------------------------------------------------------- approvals

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
                    select(t.requirements.c.id)
                    .where(t.requirements.c.id == approval.requirement_id)
                    .with_for_update()
                )
            now = self.clock()
            if (approval.requirement_id and expected_status == "pending"
                    and approval.expires_at is not None and now >= approval.expires_at):
                # Past its deadline the approval expires (its own outcome, as in decide()); the
                # late resolution does not win, whether or not the reconciler has run yet.
                current_req = self.get_requirement_in(conn, approval.requirement_id)
                if self._transition(conn, current_req, RequirementStatus.EXPIRED, Actor.system(), {}, now):
                    self._append(conn, action="requirement.expired", actor=Actor.system(), outcome="expired",
                                 run_id=approval.run_id, requirement_id=approval.requirement_id,
                                 tool_name=approval.tool_name,
                                 details={"attempted_by": resolved_by, "attempted": status,
                                          "approval_id": approval_id})
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
        arguments_for_log: Any,
    ) -> ApprovalRecord:
        """An ``audit`` approval: the tool runs at once, this row is its compliance record."""
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
                        requirement_id=None,
                        call_key=call_key,
                        approval_type="audit",
                        agent_id=agent_id,
                        tool_name=tool_name,
                        tool_args=dumps(tool_args),
                        args_hash=digest(tool_args),
                        requester=requester,
                        status="logged",
                        quorum=0,
                        created_at=now,
                    )
                )
                self._append(
                    conn,
                    action="approval.audit_logged",
                    actor=Actor(None, agent_id, ActorKind.AGENT),
                    outcome="logged",
                    run_id=run_id,
                    agent_id=agent_id,
                    tool_name=tool_name,
                    arguments=arguments_for_log,
                    details={"approval_id": approval_id},
                )
        return self.get_approval(approval_id)

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

    def add_vote(self, approval_id: str, voter: str, vote: str, note: str | None = None) -> int:
        """Record one approver's vote (once per approver); returns the number of approving votes."""
        with self.transaction() as conn:
            # Serialise votes on one approval: under READ COMMITTED two racing voters would each
            # count only their own uncommitted vote and neither would see the quorum reached.
            # (SQLite's BEGIN IMMEDIATE already serialises; FOR UPDATE compiles to nothing there.)
            conn.execute(select(t.approvals.c.id).where(t.approvals.c.id == approval_id).with_for_update())
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(t.approval_votes).values(
                            approval_id=approval_id, voter=voter, vote=vote, note=note, created_at=self.clock()
                        )
                    )
            except IntegrityError:
                pass
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.approval_votes)
                    .where(t.approval_votes.c.approval_id == approval_id, t.approval_votes.c.vote == "approve")
                ).scalar_one()
            )

    def votes(self, approval_id: str) -> list[dict[str, Any]]:
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
        return [dict(r) for r in rows]

    # ------------------------------------------------------------- executions

    def claim_execution(
        self, run_id: str, call_key: str, *, tool_name: str, args_hash: str, requirement_id: str | None = None
    ) -> ExecutionClaim:
        """Write the claim row before a tool runs; the unique key makes a second run impossible."""
        try:
            with self.transaction() as conn:
                conn.execute(
                    insert(t.tool_executions).values(
                        run_id=run_id,
                        call_key=call_key,
                        tool_name=tool_name,
                        args_hash=args_hash,
                        requirement_id=requirement_id,
                        status="started",
                        worker=self._worker,
                        started_at=self.clock(),
                    )
                )
            return ExecutionClaim("claimed")
        except IntegrityError:
            with self.engine.connect() as conn:
                row = (
                    conn.execute(
                        select(t.tool_executions).where(
                            t.tool_executions.c.run_id == run_id, t.tool_executions.c.call_key == call_key
                        )
                    )
                    .mappings()
                    .one()
                )
            if row["status"] == "started":
                return ExecutionClaim("in_doubt")
            return ExecutionClaim("done", row["result"])

    def finish_execution(
        self, run_id: str, call_key: str, *, status: str, result: str, audit: dict[str, Any] | None = None
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(t.tool_executions)
                .where(
                    t.tool_executions.c.run_id == run_id,
                    t.tool_executions.c.call_key == call_key,
                    t.tool_executions.c.status == "started",
                )
                .values(status=status, result=result, finished_at=self.clock())
            )
            if audit:
                self._append(conn, run_id=run_id, **audit)

    def executions_for_run(self, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(t.tool_executions)
                    .where(t.tool_executions.c.run_id == run_id)
                    .order_by(t.tool_executions.c.id)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    # ---------------------------------------------------------- slack surface

    def add_slack_message(self, message: SlackMessage) -> None:
        try:
            with self.transaction() as conn:
                conn.execute(
                    insert(t.slack_messages).values(
                        run_id=message.run_id,
                        requirement_id=message.requirement_id,
                        purpose=message.purpose,
                        channel=message.channel,
                        ts=message.ts,
                        created_at=self.clock(),
                    )
                )
        except IntegrityError:
            pass

    def slack_messages(
        self, *, run_id: str | None = None, requirement_id: str | None = None, purpose: str | None = None
    ) -> list[SlackMessage]:
        query = select(t.slack_messages)
        if run_id is not None:
            query = query.where(t.slack_messages.c.run_id == run_id)
        if requirement_id is not None:
            query = query.where(t.slack_messages.c.requirement_id == requirement_id)
        if purpose is not None:
            query = query.where(t.slack_messages.c.purpose == purpose)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.slack_messages.c.id)).mappings().all()
        return [SlackMessage(r["run_id"], r["requirement_id"], r["purpose"], r["channel"], r["ts"]) for r in rows]

    def run_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(t.runs).where(t.runs.c.channel == channel, t.runs.c.thread_ts == thread_ts))
                .mappings()
                .first()
            )
        return RunRecord.from_row(row) if row else None

    def first_time_seen(self, event_id: str) -> bool:
        """True the first time an event id is offered; Slack's retries then get False."""
        try:
            with self.transaction() as conn:
                conn.execute(insert(t.seen_events).values(event_id=event_id, seen_at=self.clock()))
            return True
        except IntegrityError:
            return False
