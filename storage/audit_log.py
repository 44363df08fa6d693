"""The audit log table: appends that extend the hash chain, and streamed reads in chain order.

How a chain stays one chain with many writers:

- SQLite: every write transaction holds the database's write lock from BEGIN (``BEGIN
  IMMEDIATE``), so an append reads the last row and inserts the next one inline.
- PostgreSQL: an append inserts into ``audit_pending`` and does not wait for anyone. Just before
  its transaction commits, the appender tries (never waits for) the sealing lock; the one that
  gets it moves every pending event it can see, its own included, into ``audit_events`` in id
  order, each row hashed over the previous one, in that same transaction. So a burst of writers
  commits in parallel (PostgreSQL groups their fsyncs) and one of them chains the batch.
  An event that no sealer saw (its transaction committed while another was sealing) is chained by
  the next append, by any read (:meth:`AuditLog.seal_audit` runs before every read), or by the
  worker's periodic pass: that is the window docs/security.md describes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import (
    Connection,
    insert,
    literal_column,
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
from storage.timeouts import (
    AUDIT_FLAGGED_ROWS,
    AUDIT_READ_BATCH,
    AUDIT_SEAL_BATCH,
    AUDIT_VERIFY_PARTS,
    AUDIT_VERIFY_SPLIT_ROWS,
)

AUDIT_LOCK_KEY = 0x5169_0FF
"""PostgreSQL advisory lock id held by the one transaction sealing pending events into the chain
(with the schema's name: ``audit_seal`` locks ``(AUDIT_LOCK_KEY, hashtext(current_schema()))``)."""

_PENDING = "signoff_audit_pending"
"""Key in a connection's ``info``: the last ``audit_pending`` id this transaction inserted."""

_STORED = [getattr(t.audit_events.c, name) for name in chain.STORED_COLUMNS]
"""audit_events' columns in :data:`storage.chain.STORED_COLUMNS` order."""

_FIELDS = frozenset(("outcome", "run_id", "requirement_id", "agent_id", "tool_name", "arguments", "reason",
                     "permalink", "details"))
"""The optional keywords of an append, besides ``action`` and ``actor``."""


_LAST_LINK = select(t.audit_events.c.seq, t.audit_events.c.hash).order_by(t.audit_events.c.seq.desc()).limit(1)
"""The chain's last link (SQLite, inside the appending transaction). Statements built once: an
append is on every decision's path, and building them cost a third of its CPU."""
_INSERT_EVENTS = insert(t.audit_events)
_INSERT_PENDING = insert(t.audit_pending).returning(t.audit_pending.c.id, sort_by_parameter_order=True)


class AuditLog(Store):
    """Append-only, hash-chained events; every other store appends through ``_append`` inside its own transaction."""

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """:meth:`Store.transaction`; on PostgreSQL, a transaction that appended tries to seal before it commits."""
        with super().transaction() as conn:
            conn.info.pop(_PENDING, None)  # left by an earlier transaction on this connection that failed
            yield conn
            if conn.info.pop(_PENDING, False):
                self._try_seal(conn)

    # ------------------------------------------------------------------------------ appends

    def _append(self, conn: Connection, *, action: str, actor: Actor, **fields: Any) -> AuditEvent:
        """Append one event in ``conn``'s transaction (keywords: see :meth:`append_many`)."""
        return self.append_many(conn, [{"action": action, "actor": actor, **fields}])[0]

    def append_many(self, conn: Connection, events: Sequence[Mapping[str, Any]]) -> list[AuditEvent]:
        """Append several events in ``conn``'s transaction, in order, with one INSERT.

        Each event is a mapping with ``action`` and ``actor`` and any of ``outcome``, ``run_id``,
        ``requirement_id``, ``agent_id``, ``tool_name``, ``arguments``, ``reason``, ``permalink``,
        ``details``. Returns the events; on PostgreSQL they are chained when the transaction
        seals, so the returned ones carry ``seq`` 0 and empty hashes (see the module docstring).
        """
        rows = [self._content(event) for event in events]
        if not rows:
            return []
        if self.is_postgres:
            ids = conn.execute(_INSERT_PENDING, [_stored_content(row) for row in rows]).scalars().all()
            conn.info[_PENDING] = ids[-1]
            return [AuditEvent(seq=0, **row, prev_hash="", hash="") for row in rows]
        last = conn.execute(_LAST_LINK).first()
        seq, prev = (last.seq, last.hash) if last else (0, chain.GENESIS_HASH)
        chained = []
        for row in rows:
            seq += 1
            event = AuditEvent(seq=seq, **row, prev_hash=prev, hash=chain.chain_hash({"seq": seq, **row}, prev))
            chained.append(event)
            prev = event.hash
        conn.execute(_INSERT_EVENTS, [_stored(event) for event in chained])
        return chained

    def _content(self, event: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(event) - _FIELDS - {"action", "actor"}
        if unknown:
            raise TypeError(f"unknown audit fields: {', '.join(sorted(unknown))}")
        actor: Actor = event["actor"]
        # Hash exactly what a reader decodes from the stored text (tuples become lists, keys
        # strings, odd values their str()): a row read back and re-hashed always matches.
        arguments, details = event.get("arguments"), event.get("details")
        return {
            "ts": iso(self.clock()),
            "actor_kind": str(actor.kind),
            "actor_id": actor.id,
            "actor_name": actor.name,
            "action": event["action"],
            "outcome": event.get("outcome"),
            "run_id": event.get("run_id"),
            "requirement_id": event.get("requirement_id"),
            "agent_id": event.get("agent_id"),
            "tool_name": event.get("tool_name"),
            "arguments": None if arguments is None else loads(dumps(arguments)),
            "reason": event.get("reason"),
            "permalink": event.get("permalink"),
            "details": None if details is None else loads(dumps(details)),
        }

    def append_audit(self, *, action: str, actor: Actor, **fields: Any) -> AuditEvent:
        """Append one event in its own transaction (for events with no state change attached).

        On PostgreSQL the returned event is the chained one when this transaction sealed it (always
        so without concurrent appends); otherwise it is the pending event, chained moments later.
        """
        if not self.is_postgres:
            with self.transaction() as conn:
                return self._append(conn, action=action, actor=actor, **fields)
        with super().transaction() as conn:
            pending = self._append(conn, action=action, actor=actor, **fields)
            sealed = self._try_seal(conn)
            entry = conn.info.pop(_PENDING)
        if entry not in sealed:
            return pending
        seq, prev_hash, digest = sealed[entry]
        return replace(pending, seq=seq, prev_hash=prev_hash, hash=digest)

    # ------------------------------------------------------------------------------ sealing

    def _try_seal(self, conn: Connection, *, wait: bool = False) -> dict[int, tuple[int, str, str]]:
        """In ``conn``'s transaction: chain every pending event it can see, unless another transaction
        is sealing (``wait``: wait for it instead). Returns ``{pending id: (seq, prev_hash, hash)}``.

        The work is the ``audit_seal`` function (migration 0004): one round trip per batch.
        """
        sealed: dict[int, tuple[int, str, str]] = {}
        while True:
            rows = conn.execute(text("SELECT entry, seq, prev_hash, hash FROM audit_seal(:k, :wait, :n)"),
                                {"k": AUDIT_LOCK_KEY, "wait": wait, "n": AUDIT_SEAL_BATCH}).all()
            sealed.update((row.entry, (row.seq, row.prev_hash, row.hash)) for row in rows)
            if len(rows) < AUDIT_SEAL_BATCH:
                return sealed

    def seal_audit(self) -> int:
        """Chain every pending event now, waiting for a sealer at work; the number chained.

        Runs before every read, so a read sees every event committed before it started; the
        worker also runs it periodically, which bounds how long an event stays unchained.
        A no-op on SQLite (nothing is ever pending there).
        """
        if not self.is_postgres:
            return 0
        with self.engine.connect() as conn:
            # By the primary key, not EXISTS: a queue table holds dead rows until vacuumed, and an
            # index scan steps over them where a sequential scan would read them all.
            if conn.execute(select(t.audit_pending.c.id).order_by(t.audit_pending.c.id).limit(1)).first() is None:
                return 0
            conn.rollback()
            with conn.begin():
                return len(self._try_seal(conn, wait=True))

    def maintain_audit(self) -> int:
        """The worker's periodic pass: chain what is pending, then VACUUM ``audit_pending``.

        ``audit_pending`` is a queue (every row inserted once, deleted once when sealed): without
        a vacuum its dead rows pile up and every seal steps over them. Autovacuum is tuned for it
        in migration 0004, and this keeps it small where autovacuum is off. Returns the events
        chained; a no-op on SQLite.
        """
        sealed = self.seal_audit()
        if self.is_postgres:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM audit_pending"))
        return sealed

    # ------------------------------------------------------------------------------ reads

    def audit_stored(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        agent_id: str | None = None,
        actor_id: str | None = None,
        run_id: str | None = None,
        batch: int = AUDIT_READ_BATCH,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Stored rows in chain order as tuples (:data:`storage.chain.STORED_COLUMNS`), ``batch`` at a time.

        The fast path for exports and verification: no record objects, JSON columns as stored.
        Each batch is a keyset query on ``seq`` in a short read of its own, so a long export
        holds no transaction open and memory stays at one batch.
        """
        return self._keyset(_STORED, _filters(since, until, agent_id, actor_id, run_id), batch)

    def audit_lines(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        agent_id: str | None = None,
        actor_id: str | None = None,
        run_id: str | None = None,
        batch: int = AUDIT_READ_BATCH,
    ) -> Iterator[list[tuple[Any, ...]]] | None:
        """PostgreSQL: batches of ``(seq, hash, line)``, each line an event's finished JSONL line
        (without its LF) built by the database; None on SQLite (use :meth:`audit_stored`).

        :data:`JSONL_LINE_SQL` produces the bytes of ``storage.export.jsonl_lines`` (tests compare
        them byte for byte): the driver decodes three columns a row instead of seventeen, and
        Python only joins lines.
        """
        if not self.is_postgres:
            return None
        columns = [t.audit_events.c.seq, t.audit_events.c.hash, literal_column(JSONL_LINE_SQL)]
        return self._keyset(columns, _filters(since, until, agent_id, actor_id, run_id), batch)

    def audit_csv_rows(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        agent_id: str | None = None,
        actor_id: str | None = None,
        run_id: str | None = None,
        batch: int = AUDIT_READ_BATCH,
    ) -> Iterator[list[bytes]] | None:
        """PostgreSQL: the CSV rows (UTF-8, each ending CRLF) of the selected events in chain
        order, ``batch`` at a time, written by ``COPY ... TO STDOUT (FORMAT csv)``; None on SQLite.

        COPY quotes in C, and the protocol sends one CopyData message per row, so each message is
        one row whose LF becomes CRLF. :data:`CSV_CELLS_SQL` neutralises the cells; the bytes are
        those of ``storage.export.csv_lines`` (tests compare them). One statement streams the
        whole export: a consistent snapshot, memory at one batch.
        """
        if not self.is_postgres:
            return None
        return self._copy_csv(_filters(since, until, agent_id, actor_id, run_id), batch)

    def _copy_csv(self, filters: list[Any], batch: int) -> Iterator[list[bytes]]:
        self.seal_audit()
        cells: list[Any] = [literal_column(cell) for cell in CSV_CELLS_SQL]
        query = (select(*cells).select_from(t.audit_events)
                 .where(*filters).order_by(t.audit_events.c.seq))
        compiled = query.compile(dialect=self.engine.dialect)
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)  # the only PostgreSQL driver signoff installs
            # COPY takes no parameters: psycopg's client-side binding quotes the filter values.
            statement = psycopg.ClientCursor(raw).mogrify(str(compiled), compiled.params)
            with raw.cursor() as cursor, cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as copy:
                rows: list[bytes] = []
                for data in copy:
                    rows.append(bytes(data[:-1]) + b"\r\n")
                    if len(rows) == batch:
                        yield rows
                        rows = []
                if rows:
                    yield rows
            conn.rollback()

    def verify_audit_sql(self, *, parts: int | None = None) -> tuple[int, list[tuple[Any, ...]], bool] | None:
        """PostgreSQL: the row count, the stored rows the database flags in chain order (each with
        its position and the previous row's hash appended), and whether a part stopped at
        :data:`~storage.timeouts.AUDIT_FLAGGED_ROWS` flagged rows; None on SQLite.

        The database recomputes each row's hash (:data:`HASH_SQL`, the bytes
        ``storage.chain.stored_body`` hashes) and checks its ``prev_hash`` against the previous
        row's hash and its ``seq`` against its position. The chain is cut into ``parts`` ranges of
        ``seq`` checked at once on their own connections (each range's first row against the row
        before it, its positions counted from the rows before it), so the hashing runs on more
        than one core; by default :data:`~storage.timeouts.AUDIT_VERIFY_PARTS` from
        :data:`~storage.timeouts.AUDIT_VERIFY_SPLIT_ROWS` rows on. The log is append-only, so the
        ranges, fixed from one count, stay valid while appends go on above them.
        ``storage.export.verify_database`` turns the flagged rows into :func:`verify_stored`'s verdict.
        """
        if not self.is_postgres:
            return None
        self.seal_audit()
        with self.engine.connect() as conn:
            low, high, total = conn.execute(text("SELECT min(seq), max(seq), count(*) FROM audit_events")).one()
        if not total:
            return 0, [], False
        count = parts if parts is not None else AUDIT_VERIFY_PARTS if total >= AUDIT_VERIFY_SPLIT_ROWS else 1
        count = max(1, min(count, high + 1 - low))
        edges = [low + (high + 1 - low) * i // count for i in range(count)] + [high + 1]

        def part(i: int) -> list[tuple[Any, ...]]:
            with self.engine.connect() as conn:
                rows = conn.execute(text(VERIFY_SQL), {"lo": edges[i], "hi": edges[i + 1], "n": AUDIT_FLAGGED_ROWS})
                return [tuple(row) for row in rows]

        if count == 1:
            found = [part(0)]
        else:
            with ThreadPoolExecutor(max_workers=count, thread_name_prefix="audit-verify") as pool:
                found = list(pool.map(part, range(count)))
        truncated = any(len(rows) >= AUDIT_FLAGGED_ROWS for rows in found)
        return int(total), [row for rows in found for row in rows], truncated

    def _keyset(self, columns: Sequence[Any], filters: list[Any], batch: int) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of ``columns`` (the first is ``seq``) in chain order, ``batch`` per keyset query."""
        self.seal_audit()
        query = select(*columns).where(*filters).order_by(t.audit_events.c.seq).limit(batch)
        after = 0
        while True:
            with self.engine.connect() as conn:
                rows = [tuple(row) for row in conn.execute(query.where(t.audit_events.c.seq > after))]
            if not rows:
                return
            yield rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

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
        for rows in self.audit_stored(since=since, until=until, agent_id=agent_id, actor_id=actor_id,
                                      run_id=run_id, batch=batch):
            for row in rows:
                yield AuditEvent(**chain.decoded(row))


def _stored_content(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event's content as ``audit_pending`` stores it (JSON columns as canonical text)."""
    stored = dict(row)
    stored["arguments"] = None if row["arguments"] is None else dumps(row["arguments"])
    stored["details"] = None if row["details"] is None else dumps(row["details"])
    return stored


def _stored(event: AuditEvent) -> dict[str, Any]:
    """An event as ``audit_events`` stores it."""
    return _stored_content(event.to_dict())


def _filters(since: datetime | None, until: datetime | None, agent_id: str | None, actor_id: str | None,
             run_id: str | None) -> list[Any]:
    """WHERE clauses of a filtered read (times compare as the stored ISO text)."""
    c = t.audit_events.c
    clauses: list[Any] = []
    if since is not None:
        clauses.append(c.ts >= iso(since))
    if until is not None:
        clauses.append(c.ts < iso(until))
    if agent_id is not None:
        clauses.append(c.agent_id == agent_id)
    if actor_id is not None:
        clauses.append(c.actor_id == actor_id)
    if run_id is not None:
        clauses.append(c.run_id == run_id)
    return clauses


# ---------------------------------------------------------------------- SQL twins of storage.chain/export
#
# PostgreSQL builds export lines and recomputes hashes itself, so a million rows cross the wire as
# a few columns. ``to_json(text)`` escapes exactly as ``json.dumps(..., ensure_ascii=False)``
# (quote, backslash, \b \f \n \r \t, other control characters as \u00xx); JSON columns are spliced
# as stored, as ``storage.chain.stored_body`` does. tests/test_audit.py compares every byte.


def _j(column: str) -> str:
    return f"coalesce(to_json({column})::text, 'null')"


def _json_object(fields: Sequence[tuple[str, str]]) -> str:
    """SQL for a canonical JSON object: ``fields`` are (key, SQL of its JSON value), keys sorted."""
    parts = [f"""'{"," if i else "{"}"{key}":' || {value}""" for i, (key, value) in enumerate(sorted(fields))]
    return " || ".join(parts) + " || '}'"


def _json_text(column: str) -> str:
    return f"coalesce(nullif({column}, ''), 'null')"


_BODY_FIELDS = [(name, _json_text(name) if name in ("arguments", "details") else
                 "seq::text" if name == "seq" else _j(name)) for name in chain.HASHED_FIELDS]

HASH_SQL = f"encode(sha256(convert_to(prev_hash || {_json_object(_BODY_FIELDS)}, 'UTF8')), 'hex')"
"""A row's hash over its own ``prev_hash``: ``storage.chain.stored_hash`` in SQL."""

JSONL_LINE_SQL = _json_object([*_BODY_FIELDS, ("prev_hash", _j("prev_hash")), ("hash", _j("hash"))])
"""An event's JSONL line without its LF: ``storage.export.jsonl_stored_line`` in SQL."""


def _neutralised(value: str) -> str:
    """SQL for one CSV cell before quoting: ``'`` before = + - @ tab CR (``storage.export.neutralise``),
    NULL for an empty cell so that COPY writes it unquoted, as Python's csv module does."""
    return (f"nullif(CASE WHEN left({value}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {value} "
            f"ELSE {value} END, '')")


def _json_cell_sql(column: str) -> str:
    """A JSON column's cell: its text; a JSON string shown as the string; NULL or ``null`` empty."""
    return (f"CASE WHEN {column} IS NULL OR {column} IN ('', 'null') THEN NULL "
            f"""WHEN left({column}, 1) = '"' THEN {_neutralised(f"({column}::json #>> '{{}}')")} """
            f"ELSE {_neutralised(column)} END")


CSV_CELLS_SQL = [
    "seq" if name == "seq" else _json_cell_sql(name) if name in ("arguments", "details") else _neutralised(name)
    for name in chain.STORED_COLUMNS
]
"""An event's CSV cells, for ``COPY ... (FORMAT csv)``: PostgreSQL quotes as Python's csv module
does (a cell holding a comma, a quote, CR or LF is quoted, quotes doubled); only the line end
differs (LF), and ``AuditLog.audit_csv_rows`` makes it CRLF."""

VERIFY_SQL = f"""
SELECT {", ".join(chain.STORED_COLUMNS)}, position, previous FROM (
    SELECT {", ".join(chain.STORED_COLUMNS)},
           (SELECT count(*) FROM audit_events WHERE seq < :lo) + row_number() OVER (ORDER BY seq) AS position,
           coalesce(lag(hash) OVER (ORDER BY seq),
                    (SELECT hash FROM audit_events WHERE seq < :lo ORDER BY seq DESC LIMIT 1),
                    '{chain.GENESIS_HASH}') AS previous,
           {HASH_SQL} AS computed
    FROM audit_events
    WHERE seq >= :lo AND seq < :hi
) checked
WHERE seq <> position OR prev_hash <> previous OR computed <> hash
ORDER BY seq
LIMIT :n
"""
"""The rows of one ``seq`` range [lo, hi) that fail a check, with their position in the whole chain
and the previous row's hash (for the range's first row: the last row before the range)."""
