"""Runs: creation, the lease (status + version), checkpoints, cancel, and the stuck-run queries recovery uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
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

_RUN_COLUMNS = tuple(t.runs.c)
"""What a write returns (``UPDATE ... RETURNING``), so the run is never read again after it."""

# The hot path's statements, built once: SQLAlchemy then reuses their cache key and compiled
# form, where a statement built per call costs about as much again as executing it. Bound
# parameters are ``b_*``; the columns an UPDATE sets come from the keys of the parameters.
_PENDING_OF_RUN = (
    select(t.requirements.c.id)
    .where(t.requirements.c.run_id == t.runs.c.id, t.requirements.c.status == str(RequirementStatus.PENDING))
    .exists()
)
_GET_RUN = select(t.runs).where(t.runs.c.id == bindparam("b_id"))
_RUN_STATUS = select(t.runs.c.status).where(t.runs.c.id == bindparam("b_id"))
_INSERT_RUN = insert(t.runs).returning(*_RUN_COLUMNS)
_SAVE_RUN = (
    update(t.runs)
    .where(t.runs.c.id == bindparam("b_id"), t.runs.c.version == bindparam("b_version"))
    .returning(*_RUN_COLUMNS)
)
_PAUSE_RUN = _SAVE_RUN.values(round=t.runs.c.round + bindparam("b_new_round"))
_ACQUIRE_RUN = (
    update(t.runs)
    .where(t.runs.c.id == bindparam("b_id"), t.runs.c.status.in_(bindparam("b_allowed", expanding=True)))
    .values(version=t.runs.c.version + 1)
    .returning(*_RUN_COLUMNS)
)
_ACQUIRE_READY_RUN = _ACQUIRE_RUN.where(~_PENDING_OF_RUN)
_RUN_AND_PENDING = select(
    t.runs,
    select(func.count())
    .select_from(t.requirements)
    .where(t.requirements.c.run_id == t.runs.c.id, t.requirements.c.status == str(RequirementStatus.PENDING))
    .scalar_subquery()
    .label("pending_count"),
).where(t.runs.c.id == bindparam("b_id"))
_FINISH_CALL = update(t.tool_executions).where(
    t.tool_executions.c.run_id == bindparam("b_run_id"),
    t.tool_executions.c.call_key == bindparam("b_call_key"),
    t.tool_executions.c.status == "started",
)


@dataclass(frozen=True)
class CallResult:
    """A tool call's outcome, written in the transaction of the checkpoint that records it."""

    call_key: str
    status: str
    result: str
    audit: Mapping[str, Any] | None = None


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
            row = conn.execute(_INSERT_RUN, values).mappings().one()
            run = RunRecord.from_row(row)
            self._append(
                conn,
                action="run.started",
                actor=Actor(requester, requester_name),
                outcome=str(status),
                run_id=new_run_id,
                agent_id=target_id,
                details={"kind": kind, "input": input, "channel": channel},
            )
        return run

    def get_run(self, run_id: str) -> RunRecord:
        with self.engine.connect() as conn:
            row = conn.execute(_GET_RUN, {"b_id": run_id}).mappings().first()
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
        run = self._acquire(run_id, from_statuses, only_when_ready=False)
        assert run is not None
        return run

    def acquire_ready_run(self, run_id: str) -> RunRecord | None:
        """Take a paused run's lease only if none of its requirements is pending (one UPDATE);
        None when some still are (the run stays paused). RunNotPaused when it is not paused."""
        return self._acquire(run_id, [RunStatus.PAUSED], only_when_ready=True)

    def _acquire(
        self, run_id: str, from_statuses: Sequence[RunStatus], *, only_when_ready: bool
    ) -> RunRecord | None:
        now = self.clock()
        allowed = [str(s) for s in from_statuses]
        query = _ACQUIRE_READY_RUN if only_when_ready else _ACQUIRE_RUN
        params = {"b_id": run_id, "b_allowed": allowed, "status": str(RunStatus.RUNNING), "updated_at": now,
                  "heartbeat_at": now}
        with self.transaction() as conn:
            row = conn.execute(query, params).mappings().first()
            if row is not None:
                return RunRecord.from_row(row)
            current = conn.execute(_RUN_STATUS, {"b_id": run_id}).first()
            if current is None:
                raise NotFound("run", run_id)
            if only_when_ready and current.status in allowed:
                return None  # still waiting on a person
            if RunStatus.PAUSED in from_statuses:
                raise RunNotPaused(run_id, current.status)
            raise RunBusy(run_id, current.status)

    def run_and_pending(self, run_id: str) -> tuple[RunRecord, int]:
        """The run and how many of its requirements are pending, in one query."""
        with self.engine.connect() as conn:
            row = conn.execute(_RUN_AND_PENDING, {"b_id": run_id}).first()
        if row is None:
            raise NotFound("run", run_id)
        values = dict(row._mapping)
        count = int(values.pop("pending_count"))
        return RunRecord.from_row(values), count

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
        calls: Sequence[CallResult] = (),
    ) -> RunRecord:
        """Write the run under its lease; RunBusy when someone else moved it (e.g. a cancel).

        ``calls``: tool results to record in the same transaction (the state being saved holds
        them); they are written even when the lease is gone, so a claim never stays open."""
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
        statement = _PAUSE_RUN if bump_round else _SAVE_RUN
        if bump_round:
            values["b_new_round"] = 1
        busy: str | None = None
        with self.transaction() as conn:
            row = conn.execute(statement, {"b_id": run_id, "b_version": expected_version, **values}).mappings().first()
            events = self._finish_calls(conn, run_id, calls)
            if row is None:
                current = conn.execute(_RUN_STATUS, {"b_id": run_id}).first()
                if current is None:
                    raise NotFound("run", run_id)
                busy = current.status
            else:
                run = RunRecord.from_row(row)
                if audit:
                    events.append({"run_id": run_id, **audit})
            self.append_many(conn, events)
        if busy is not None:
            raise RunBusy(run_id, busy)
        return run

    def _finish_calls(self, conn: Connection, run_id: str, calls: Sequence[CallResult]) -> list[dict[str, Any]]:
        """Close the claims of tool calls that ran (as ``ExecutionStore.finish_execution`` does);
        returns their audit events (``tool.executed``), for the caller to append with its own."""
        now = self.clock()
        events: list[dict[str, Any]] = []
        for call in calls:
            conn.execute(
                _FINISH_CALL,
                {"b_run_id": run_id, "b_call_key": call.call_key, "status": call.status, "result": call.result,
                 "finished_at": now},
            )
            if call.audit:
                events.append({"run_id": run_id, **call.audit})
        return events

    def pause_run(
        self,
        run_id: str,
        *,
        expected_version: int,
        state: dict[str, Any],
        specs: Sequence[NewRequirement],
        requester: str | None,
        agent_id: str | None = None,
        calls: Sequence[CallResult] = (),
    ) -> RunRecord:
        """Create the new requirements and mark the run paused in one transaction, under the lease:
        requirement rows exist if and only if the pause happened. The state, the results of
        ``calls`` and every audit row land in that transaction too."""
        busy: str | None = None
        with self.transaction() as conn:
            params = {
                "b_id": run_id,
                "b_version": expected_version,
                "b_new_round": 1 if specs else 0,
                "version": expected_version + 1,
                "updated_at": self.clock(),
                "state": dumps(state),
                "status": str(RunStatus.PAUSED),
            }
            row = conn.execute(_PAUSE_RUN, params).mappings().first()
            events = self._finish_calls(conn, run_id, calls)
            if row is None:
                current = conn.execute(_RUN_STATUS, {"b_id": run_id}).first()
                if current is None:
                    raise NotFound("run", run_id)
                busy = current.status
            else:
                paused = RunRecord.from_row(row)
                if specs:
                    self._insert_requirements(
                        conn, run_id, paused.round, specs, requester=requester, agent_id=agent_id, events=events
                    )
                events.append({
                    "action": "run.paused",
                    "actor": Actor.system(),
                    "outcome": "paused",
                    "run_id": run_id,
                    "agent_id": agent_id,
                    "details": {"new_requirements": len(specs)},
                })
            self.append_many(conn, events)
        if busy is not None:
            raise RunBusy(run_id, busy)
        return paused

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
