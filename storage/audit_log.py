"""The audit log table: appends that extend the hash chain, and streamed reads in chain order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    text,
)

from storage import chain
from storage import schema as t
from storage.codec import dumps, iso, loads
from storage.records import (
    Actor,
    AuditEvent,
)
from storage.store import Store

AUDIT_LOCK_KEY = 0x5169_0FF
"""PostgreSQL advisory lock id that serialises audit appends."""


class AuditLog(Store):
    """Append-only, hash-chained events; every other store appends through ``_append`` inside its own transaction."""

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
