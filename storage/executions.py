"""Tool executions: the claim row written before a tool runs, so no tool call ever runs twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from storage import schema as t
from storage.audit_log import AuditLog
from storage.codec import aware
from storage.records import (
    ExecutionClaim,
)


class ExecutionStore(AuditLog):
    """Claim, finish, list."""

    _worker: str
    """host:pid of this process, written on each claim so an in-doubt call names its worker."""

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
                return ExecutionClaim("in_doubt", None, aware(row["started_at"]), row["worker"])
            if row["status"] == "abandoned":
                # A person said the call never happened: its claim is closed, a new key runs it.
                return ExecutionClaim("abandoned", None, aware(row["started_at"]), row["worker"])
            return ExecutionClaim("done", row["result"])

    def settle_execution(
        self, run_id: str, call_key: str, *, status: str, result: str | None, audit: dict[str, Any] | None = None
    ) -> bool:
        """Close an in-doubt claim as a person settled it: ``succeeded`` (it ran, with the result
        they entered) or ``abandoned`` (it did not run; it is claimed again under a new key).
        Conditional on the claim still being ``started``, so settling twice changes nothing."""
        with self.transaction() as conn:
            changed = conn.execute(
                update(t.tool_executions)
                .where(
                    t.tool_executions.c.run_id == run_id,
                    t.tool_executions.c.call_key == call_key,
                    t.tool_executions.c.status == "started",
                )
                .values(status=status, result=result, finished_at=self.clock())
            ).rowcount
            if changed == 1 and audit:
                self._append(conn, run_id=run_id, **audit)
        return changed == 1

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
