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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from storage.codec import dumps

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
