"""Audit export formats and their verification: pure functions over rows and lines.

Rows are the dicts of :meth:`storage.records.AuditEvent.to_dict` (``arguments``/``details``
decoded). Everything here is a generator or consumes an iterable one item at a time, so an
export or a verification of any size runs in constant memory.

JSONL layout (one JSON document a line, canonical JSON)::

    {"signoff_audit_export": 1, "filters": {...}, "complete": true}     header
    {"seq": 1, ..., "prev_hash": "000…", "hash": "…"}                   one line per event
    {"signoff_audit_end": {"rows": N, "last_hash": "…"}}                trailer

Every event line carries every field, ``prev_hash`` and ``hash`` included, so the file verifies
offline with :func:`verify_lines`. An export without filters is ``complete``: it is the whole
chain from the genesis hash and is verified as one (an edited, deleted, inserted or reordered row
is named; a missing trailer means the file was cut short). A filtered export is a subset: each
row's own hash is checked against its own ``prev_hash`` (an edited row is caught), sequence
numbers must increase (a reordered row is caught), and where two rows are adjacent in the chain
the link between them is checked too; but the rows left out cannot be checked, so the result
says "chain continuity not checkable" instead of "chain OK". A plain list of event lines without
header (hand-made or from another tool) is verified as a complete chain.

CSV is for people and spreadsheets, not for verification: ``arguments``/``details`` are JSON
text, and any cell starting with ``= + - @``, a tab or a carriage return is prefixed with ``'``
so a spreadsheet does not run it as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from storage.chain import GENESIS_HASH, HASHED_FIELDS, chain_hash, decoded, stored_hash
from storage.codec import dumps, loads

if TYPE_CHECKING:
    from storage.audit_log import AuditLog

FORMAT_VERSION = 1
HEADER_KEY = "signoff_audit_export"
TRAILER_KEY = "signoff_audit_end"
COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
"""Every field of an event, in the order of the CSV header and of the hash."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "jsonl")


# ------------------------------------------------------------------------------------- CSV


def neutralise(cell: str) -> str:
    """Prefix a cell a spreadsheet would treat as a formula with ``'`` (OWASP's advice)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else dumps(value)
    return neutralise(text)


def _csv_line(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(cells))
    return buffer.getvalue()


def csv_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header line, then one CSV line per row (each ends with CRLF, as RFC 4180 has it)."""
    yield _csv_line(COLUMNS)
    for row in rows:
        yield _csv_line(_csv_cell(row.get(name)) for name in COLUMNS)


# ----------------------------------------------------------------------------------- JSONL


def _active(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (filters or {}).items() if v is not None}


def jsonl_lines(rows: Iterable[Mapping[str, Any]], *, filters: Mapping[str, Any] | None = None) -> Iterator[str]:
    """Header, one line per event (all fields), trailer with the row count and the last hash."""
    active = _active(filters)
    header = {HEADER_KEY: FORMAT_VERSION, "filters": active, "complete": not active}
    yield dumps(header) + "\n"
    count = 0
    last = GENESIS_HASH
    for row in rows:
        yield dumps({name: row.get(name) for name in COLUMNS}) + "\n"
        count += 1
        last = str(row.get("hash"))
    yield dumps({TRAILER_KEY: {"rows": count, "last_hash": last}}) + "\n"


def export_lines(
    fmt: str, rows: Iterable[Mapping[str, Any]], *, filters: Mapping[str, Any] | None = None
) -> Iterator[str]:
    if fmt == "csv":
        return csv_lines(rows)
    if fmt == "jsonl":
        return jsonl_lines(rows, filters=filters)
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------- fast paths from storage
#
# The functions above take decoded dicts, one at a time; these take what the database returns
# (tuples in ``storage.chain.STORED_COLUMNS`` order, ``arguments``/``details`` as their stored
# canonical JSON text), a batch at a time, and produce the same bytes: a million-row export or
# verification spends its time in the database driver, not in building and re-encoding dicts.

Batch = Sequence[Sequence[Any]]
"""Stored rows, e.g. one batch of :meth:`storage.audit_log.AuditLog.audit_stored`."""


def _jstr(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def jsonl_stored_line(row: Sequence[Any]) -> str:
    """The JSONL event line of a stored row: what :func:`jsonl_lines` writes for its decoded dict
    (sorted keys, canonical JSON), with the JSON columns spliced as stored."""
    (seq, ts, actor_kind, actor_id, actor_name, action, outcome, run_id, requirement_id, agent_id, tool_name,
     arguments, reason, permalink, details, prev_hash, hash_) = row
    return (
        f'{{"action":{_jstr(action)},"actor_id":{_jstr(actor_id)},"actor_kind":{_jstr(actor_kind)}'
        f',"actor_name":{_jstr(actor_name)},"agent_id":{_jstr(agent_id)},"arguments":{arguments or "null"}'
        f',"details":{details or "null"},"hash":{_jstr(hash_)},"outcome":{_jstr(outcome)}'
        f',"permalink":{_jstr(permalink)},"prev_hash":{_jstr(prev_hash)},"reason":{_jstr(reason)}'
        f',"requirement_id":{_jstr(requirement_id)},"run_id":{_jstr(run_id)},"seq":{int(seq)}'
        f',"tool_name":{_jstr(tool_name)},"ts":{_jstr(ts)}}}\n'
    )


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _json_cell(stored: str | None) -> str:
    """A JSON column's CSV cell: its JSON text, except that a JSON string is shown as the string."""
    if not stored or stored == "null":
        return ""
    return _cell(loads(stored) if stored[0] == '"' else stored)


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)
"""The first characters :func:`neutralise` prefixes, as a set (one lookup a cell)."""


def csv_stored_cells(row: Sequence[Any]) -> list[str]:
    """The CSV cells of a stored row, as :func:`csv_lines` writes them for its decoded dict.

    Text cells in one comprehension (no call per cell); the two JSON columns are redone by
    :func:`_json_cell` only when they hold a JSON string or ``null``, the only cases where their
    cell is not their stored text (neutralised)."""
    cells = ["" if v is None else ("'" + v if v[:1] in _FORMULA_FIRST else v) for v in row[1:]]
    arguments, details = row[11], row[14]
    if arguments is not None and (arguments[:1] == '"' or arguments == "null"):
        cells[10] = _json_cell(arguments)
    if details is not None and (details[:1] == '"' or details == "null"):
        cells[13] = _json_cell(details)
    cells.insert(0, str(int(row[0])))
    return cells


@dataclass
class ExportCount:
    """Filled in while :func:`export_chunks` runs: events written so far."""

    rows: int = 0


def export_chunks(
    fmt: str, batches: Iterable[Batch], *, filters: Mapping[str, Any] | None = None, count: ExportCount | None = None
) -> Iterator[str]:
    """The bytes of :func:`export_lines`, one string per batch of stored rows (few, large writes)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    counted = count if count is not None else ExportCount()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for rows in batches:
            writer.writerows([csv_stored_cells(row) for row in rows])
            counted.rows += len(rows)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()
        return
    active = _active(filters)
    yield dumps({HEADER_KEY: FORMAT_VERSION, "filters": active, "complete": not active}) + "\n"
    last = GENESIS_HASH
    for rows in batches:
        if rows:
            yield "".join([jsonl_stored_line(row) for row in rows])
            counted.rows += len(rows)
            last = str(rows[-1][-1])
    yield dumps({TRAILER_KEY: {"rows": counted.rows, "last_hash": last}}) + "\n"


# ---------------------------------------------------------------------------------- verify


@dataclass
class Verification:
    """What a verification found. ``ok`` is False when ``seq``/``reason`` name a bad row."""

    rows: int = 0
    complete: bool = True
    """False for a filtered export: rows were checked one by one, continuity could not be."""
    gaps: int = 0
    seq: int | None = None
    line: int | None = None
    reason: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is None

    def summary(self) -> str:
        """One line for a person: what was checked, or where it broke."""
        if not self.ok:
            where = f"row {self.seq}" if self.seq is not None else "the file"
            at_line = f" (line {self.line})" if self.line is not None else ""
            return f"chain BROKEN at {where}{at_line}: {self.reason}"
        if self.complete:
            return f"chain OK: {self.rows} events"
        shown = ", ".join(f"{k}={v}" for k, v in self.filters.items()) or "no filters recorded"
        return (
            f"filtered export ({shown}): {self.rows} rows, each row's hash matches; "
            f"chain continuity not checkable ({self.gaps} gaps where rows were left out)"
        )


class ChainChecker:
    """Feed rows in order with :meth:`add`; it stops at the first row that does not match.

    ``complete=True``: the rows are the whole chain from the genesis hash (the database, or an
    unfiltered export). ``complete=False``: a subset in chain order (a filtered export).
    """

    def __init__(self, *, complete: bool = True) -> None:
        self.result = Verification(complete=complete)
        self._prev_hash = GENESIS_HASH
        self._prev_seq = 0

    def fail(self, seq: int | None, reason: str, line: int | None = None) -> Verification:
        if self.result.ok:
            self.result.seq, self.result.reason, self.result.line = seq, reason, line
        return self.result

    def add(self, row: Mapping[str, Any], line: int | None = None) -> bool:
        """Check one row; False (and ``result`` names it) when it breaks the chain."""
        if not self.result.ok:
            return False
        try:
            seq = int(row["seq"])
            prev_hash = str(row["prev_hash"])
            claimed = str(row["hash"])
        except (KeyError, TypeError, ValueError):
            self.fail(None, "an event line lacks seq, prev_hash or hash", line)
            return False
        if self.result.complete:
            expected = self._prev_seq + 1
            if seq != expected:
                self.fail(
                    seq, f"expected row {expected} here, found row {seq} (a row was deleted, inserted or moved)", line
                )
                return False
            if prev_hash != self._prev_hash:
                self.fail(
                    seq,
                    "prev_hash does not match the previous row's hash (a row before it changed or is missing)",
                    line,
                )
                return False
        else:
            if seq <= self._prev_seq:
                self.fail(seq, f"row {seq} comes after row {self._prev_seq} (rows were reordered or duplicated)", line)
                return False
            if seq == self._prev_seq + 1 and prev_hash != self._prev_hash:
                self.fail(seq, "prev_hash does not match the previous row's hash (a row before it changed)", line)
                return False
            if seq != self._prev_seq + 1 and self.result.rows:
                self.result.gaps += 1
        if chain_hash(row, prev_hash) != claimed:
            self.fail(seq, "the row's content does not match its hash (the row was edited)", line)
            return False
        self._prev_hash = claimed
        self._prev_seq = seq
        self.result.rows += 1
        return True

    @property
    def last_hash(self) -> str:
        return self._prev_hash


def verify_rows(rows: Iterable[Mapping[str, Any]], *, complete: bool = True) -> Verification:
    """Verify rows in chain order (e.g. ``e.to_dict() for e in db.audit_events()``)."""
    checker = ChainChecker(complete=complete)
    for row in rows:
        if not checker.add(row):
            break
    return checker.result


def verify_stored(batches: Iterable[Batch]) -> Verification:
    """Verify the whole chain from stored rows in chain order (the database), batch by batch.

    Same checks and messages as :func:`verify_rows`; a row passes on the fast path when its seq
    follows, its ``prev_hash`` is the previous row's hash and :func:`storage.chain.stored_hash`
    matches. Anything else goes through :class:`ChainChecker` on the decoded row, which gives the
    verdict (a JSON column stored in a non-canonical form still verifies there).
    """
    checker = ChainChecker(complete=True)
    expected, prev = 1, GENESIS_HASH
    for rows in batches:
        for row in rows:
            if row[0] == expected and row[15] == prev and stored_hash(row, prev) == row[16]:
                prev = row[16]
                expected += 1
                continue
            checker.result.rows, checker._prev_seq, checker._prev_hash = expected - 1, expected - 1, prev
            if not checker.add(decoded(row)):
                return checker.result
            expected, prev = checker._prev_seq + 1, checker._prev_hash
    checker.result.rows = expected - 1
    return checker.result


def verify_lines(lines: Iterable[str]) -> Verification:
    """Verify a JSONL export line by line (see the module docstring for what is checked)."""
    checker: ChainChecker | None = None
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return (checker or ChainChecker()).fail(None, f"not JSON: {exc.msg}", number)
        if not isinstance(doc, dict):
            return (checker or ChainChecker()).fail(None, "a line is not a JSON object", number)
        if HEADER_KEY in doc:
            if checker is not None:
                return checker.fail(None, "a second export header in the middle of the file", number)
            header = doc
            filters = dict(doc.get("filters") or {})
            checker = ChainChecker(complete=bool(doc.get("complete", not filters)))
            checker.result.filters = filters
            continue
        if checker is None:
            checker = ChainChecker(complete=True)  # bare event lines: verified as a whole chain
        if trailer is not None:
            return checker.fail(None, "lines after the end marker (rows were appended)", number)
        if TRAILER_KEY in doc:
            trailer = dict(doc[TRAILER_KEY] or {})
            continue
        if not checker.add(doc, number):
            return checker.result
    if checker is None:
        return Verification(rows=0, reason="the file holds no events and no export header")
    if header is not None and trailer is None:
        return checker.fail(None, "the end marker is missing (the file was cut short or its last rows removed)")
    if trailer is not None:
        if int(trailer.get("rows", -1)) != checker.result.rows:
            return checker.fail(
                None, f"the end marker counts {trailer.get('rows')} rows, the file holds {checker.result.rows}"
            )
        if checker.result.rows and trailer.get("last_hash") != checker.last_hash:
            return checker.fail(None, "the end marker's last_hash is not the last row's hash (rows were removed)")
    return checker.result


# ------------------------------------------------------------------------ from the database


def export_database(
    log: AuditLog, fmt: str, *, query: Mapping[str, Any] | None = None, filters: Mapping[str, Any] | None = None,
    count: ExportCount | None = None,
) -> Iterator[str]:
    """The export of the events ``query`` selects (``AuditLog.audit_stored`` keywords), in chunks.

    On PostgreSQL the database writes each line (JSONL: ``AuditLog.audit_lines``; CSV: COPY,
    ``AuditLog.audit_csv_rows``); on SQLite Python builds them from stored rows
    (:func:`export_chunks`). The bytes are the same either way.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    selected = dict(query or {})
    counted = count if count is not None else ExportCount()
    if fmt == "csv":
        copied = log.audit_csv_rows(**selected)
        if copied is not None:
            return _copied_csv(copied, counted)
    else:
        lines = log.audit_lines(**selected)
        if lines is not None:
            return _built_jsonl(lines, filters, counted)
    return export_chunks(fmt, log.audit_stored(**selected), filters=filters, count=counted)


def _copied_csv(batches: Iterable[list[bytes]], count: ExportCount) -> Iterator[str]:
    """The header, then each batch of CSV rows PostgreSQL's COPY wrote."""
    yield _csv_line(COLUMNS)
    for rows in batches:
        yield b"".join(rows).decode("utf-8")
        count.rows += len(rows)


def _built_jsonl(batches: Iterable[Batch], filters: Mapping[str, Any] | None, count: ExportCount) -> Iterator[str]:
    """Header, the lines the database built (batches of ``(seq, hash, line)``), trailer."""
    active = _active(filters)
    yield dumps({HEADER_KEY: FORMAT_VERSION, "filters": active, "complete": not active}) + "\n"
    last = GENESIS_HASH
    for rows in batches:
        if rows:
            yield "".join([row[2] + "\n" for row in rows])
            count.rows += len(rows)
            last = str(rows[-1][1])
    yield dumps({TRAILER_KEY: {"rows": count.rows, "last_hash": last}}) + "\n"


def verify_database(log: AuditLog, *, parts: int | None = None) -> Verification:
    """Verify the whole chain in the database: ``signoff audit verify`` without a file.

    On PostgreSQL the database recomputes every hash and link in one pass and returns only the
    rows it flags (``AuditLog.verify_audit_sql``); each is judged here by :class:`ChainChecker`
    on its decoded values, from the state the rows before it (all passed) leave. So the verdict
    and its words are :func:`verify_stored`'s. More flagged rows than one pass returns, all of
    them passing here (JSON stored in a non-canonical form), sends the check to Python whole.
    ``parts``: how many ``seq`` ranges the database checks at once (default: by size).
    On SQLite it is :func:`verify_stored`.
    """
    found = log.verify_audit_sql(parts=parts)
    if found is None:
        return verify_stored(log.audit_stored())
    total, flagged, truncated = found
    checker = ChainChecker(complete=True)
    for row in flagged:
        position, previous = int(row[17]), str(row[18])
        checker.result.rows, checker._prev_seq, checker._prev_hash = position - 1, position - 1, previous
        if not checker.add(decoded(row[:17])):
            return checker.result
    if truncated:
        return verify_stored(log.audit_stored())
    return Verification(rows=total)
