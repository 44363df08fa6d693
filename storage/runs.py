"""Runs: creation, the lease (status + version), checkpoints, cancel, and the stuck-run queries recovery uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    insert,
    select,
    update,
)

from storage import schema as t
from storage.codec import aware, dumps
from storage.errors import (
    NotFound,
    RunBusy,
    RunNotPaused,
)
from storage.records import (
    Actor,
    NewRequirement,
    RequirementStatus,
    RunRecord,
    RunStatus,
)
from storage.requirements import RequirementStore
from storage.store import new_id


class RunStore(RequirementStore):
    """Every run transition is conditional on the run's status or version."""

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
        session_id: str | None = None,
        session_state: dict[str, Any] | None = None,
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
            "session_id": session_id,
            "session_state": dumps(session_state) if session_state is not None else None,
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

    def runs_for_session(self, session_id: str, *, limit: int = 200) -> list[RunRecord]:
        """The runs of one session (a conversation; in Slack, a thread), oldest first."""
        query = (
            select(t.runs)
            .where(t.runs.c.session_id == session_id)
            .order_by(t.runs.c.created_at, t.runs.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [RunRecord.from_row(r) for r in conn.execute(query).mappings()]

    def latest_run_of(self, target_id: str) -> RunRecord | None:
        """The newest run of one agent, team or workflow (Agno's ``get_last_run_output``)."""
        query = (
            select(t.runs)
            .where(t.runs.c.target_id == target_id)
            .order_by(t.runs.c.created_at.desc(), t.runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return RunRecord.from_row(row) if row else None

    def set_session_state(self, run_id: str, session_state: dict[str, Any] | None) -> None:
        """Save a run's ``session_state`` (what the caller keeps across the session's runs)."""
        with self.transaction() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(session_state=dumps(session_state) if session_state is not None else None)
            )

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
                .values(status=str(RunStatus.RUNNING), version=t.runs.c.version + 1, updated_at=now, heartbeat_at=now)
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

    def pause_run(
        self,
        run_id: str,
        *,
        expected_version: int,
        state: dict[str, Any],
        specs: Sequence[NewRequirement],
        requester: str | None,
        agent_id: str | None = None,
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
                self._insert_requirements(conn, run_id, row.round + 1, specs, requester=requester, agent_id=agent_id)
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

    def heartbeat(self, run_id: str, *, version: int) -> bool:
        """The driving worker is alive: refresh ``heartbeat_at`` under the lease (id, version and
        status running). False when the lease is gone (taken over, cancelled, finished): a stale
        worker can never keep somebody else's run looking alive."""
        with self.transaction() as conn:
            result = conn.execute(
                update(t.runs)
                .where(
                    t.runs.c.id == run_id,
                    t.runs.c.version == version,
                    t.runs.c.status == str(RunStatus.RUNNING),
                )
                .values(heartbeat_at=self.clock())
            )
        return result.rowcount == 1

    def stuck_runs(self, *, queued_before: datetime, running_before: datetime) -> list[RunRecord]:
        """Runs that need recovery: queued with no start, paused with nothing pending, or running
        with neither a heartbeat nor a write since ``running_before`` (its worker died)."""
        pending = (
            select(t.requirements.c.id)
            .where(t.requirements.c.run_id == t.runs.c.id, t.requirements.c.status == str(RequirementStatus.PENDING))
            .exists()
        )
        query = select(t.runs).where(
            (t.runs.c.status == str(RunStatus.QUEUED)) & (t.runs.c.created_at < queued_before)
            | (t.runs.c.status == str(RunStatus.PAUSED)) & ~pending
            | (t.runs.c.status == str(RunStatus.RUNNING))
            & (t.runs.c.updated_at < running_before)
            & (func.coalesce(t.runs.c.heartbeat_at, t.runs.c.updated_at) < running_before)
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
                reason="its worker stopped sending heartbeats; resuming from the last checkpoint",
            )
        return self.get_run(run_id)

    def is_ready(self, run: RunRecord) -> bool:
        """Paused with nothing pending: ``continue_run`` should take it (once per round)."""
        return run.status is RunStatus.PAUSED and self.count_pending(run.id) == 0

    def count_runs_started(self, requester: str, since: datetime) -> tuple[int, datetime | None]:
        """How many runs ``requester`` started since ``since``, and when the oldest of them was
        (for "try again in N seconds")."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(func.count(), func.min(t.runs.c.created_at)).where(
                    t.runs.c.requester == requester, t.runs.c.created_at >= since
                )
            ).one()
        return int(row[0]), aware(row[1])

    def count_queued(self, target_id: str) -> int:
        """Runs of ``target_id`` waiting for a worker (the per-agent queue cap)."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.runs)
                    .where(t.runs.c.target_id == target_id, t.runs.c.status == str(RunStatus.QUEUED))
                ).scalar_one()
            )

    def set_run_thread(self, run_id: str, channel: str, thread_ts: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(channel=channel, thread_ts=thread_ts))

    def run_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        """The latest run in a Slack thread (a thread is a session: it may hold several)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(t.runs)
                    .where(t.runs.c.channel == channel, t.runs.c.thread_ts == thread_ts)
                    .order_by(t.runs.c.created_at.desc(), t.runs.c.id.desc())
                )
                .mappings()
                .first()
            )
        return RunRecord.from_row(row) if row else None
