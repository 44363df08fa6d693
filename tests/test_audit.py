"""The audit log for compliance: export (CSV, JSONL), offline and database verification, tampering.

Every kind of tampering (edit, delete, insert, reorder, cut short) is tried on an exported JSONL
file and on the database itself (on both backends, after dropping the append-only triggers the
way an attacker with DDL rights could), and each time the first bad row is named.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from bot.cli import app as cli
from storage import Actor, Database, chain
from storage.export import (
    COLUMNS,
    FORMATS,
    HEADER_KEY,
    TRAILER_KEY,
    ExportCount,
    csv_lines,
    export_chunks,
    export_database,
    export_lines,
    jsonl_lines,
    neutralise,
    verify_database,
    verify_lines,
    verify_rows,
    verify_stored,
)
from storage.records import ActorKind
from tests.conftest import migrated

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def fill(db: Database, n: int = 12) -> None:
    """A small but varied log: two agents, humans and the system, awkward values."""
    for i in range(n):
        db.append_audit(
            action="test.event",
            actor=Actor(f"U{i % 3}", f"User {i % 3}") if i % 4 else Actor.system(),
            outcome="ok",
            run_id=f"run{i % 2}",
            agent_id="finance" if i % 2 else "infra",
            tool_name="process_refund",
            # Values that do not survive a JSON round trip unchanged unless storage normalises
            # them before hashing: a tuple, int keys, a datetime, unicode.
            arguments={"amount": 10.5 + i, "ids": (1, 2), "by_id": {7: "seven"}, "when": T0, "note": "café ✓"},
            reason=None if i % 3 else f"reason {i}",
            details={"i": i, "nested": {"b": [1, {"c": None}]}},
        )


@pytest.fixture
def clocked_db(tmp_path: Path) -> Iterator[Database]:
    db = migrated(f"sqlite:///{tmp_path / 'audit.db'}", clock=Clock())
    try:
        yield db
    finally:
        db.dispose()


def export(db: Database, **filters: Any) -> list[str]:
    rows = (e.to_dict() for e in db.audit_events(**filters))
    return list(jsonl_lines(rows, filters=filters))


def event_lines(lines: list[str]) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in lines]
    return [d for d in docs if HEADER_KEY not in d and TRAILER_KEY not in d]


def rebuild(lines: list[str], events: list[dict[str, Any]]) -> list[str]:
    """Same header and trailer, tampered event lines in between."""
    return [lines[0], *(json.dumps(e) + "\n" for e in events), lines[-1]]


# ----------------------------------------------------------------------- stored == hashed


def test_database_rows_verify_and_stored_values_are_what_was_hashed(db: Database) -> None:
    fill(db)
    events = list(db.audit_events())
    assert len(events) == 12
    result = verify_rows(e.to_dict() for e in events)
    assert result.ok and result.complete and result.rows == 12, result.summary()
    assert result.summary() == "chain OK: 12 events"
    first = events[0].to_dict()
    assert first["arguments"]["ids"] == [1, 2] and first["arguments"]["by_id"] == {"7": "seven"}
    assert first["arguments"]["when"] == str(T0)
    # The returned event of an append equals what a reader gets back from the table.
    appended = db.append_audit(action="x", actor=Actor("U9"), arguments={"t": (1,)}, details={1: 2})
    (stored,) = [e for e in db.audit_events() if e.seq == appended.seq]
    assert stored == appended


def test_streaming_reads_in_batches_in_chain_order(db: Database) -> None:
    fill(db, 25)
    seqs = [e.seq for e in db.audit_events(batch=7)]
    assert seqs == list(range(1, 26))
    assert verify_rows(e.to_dict() for e in db.audit_events(batch=7)).rows == 25


# ----------------------------------------------------------------------- JSONL round trip


def test_jsonl_export_round_trips_through_verify(db: Database) -> None:
    fill(db)
    lines = export(db)
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    assert header == {HEADER_KEY: 1, "filters": {}, "complete": True}
    events = event_lines(lines)
    assert trailer[TRAILER_KEY] == {"rows": 12, "last_hash": events[-1]["hash"]}
    assert set(events[0]) == set(COLUMNS)  # every field, the chain included
    assert events[0]["prev_hash"] == chain.GENESIS_HASH
    result = verify_lines(lines)
    assert result.ok, result.summary()
    assert result.summary() == "chain OK: 12 events"
    # bare event lines (no header, no trailer) still verify as a whole chain
    assert verify_lines([json.dumps(e) for e in events]).summary() == "chain OK: 12 events"


def tampered(lines: list[str], how: str) -> list[str]:
    events = event_lines(lines)
    if how == "edit":
        events[4]["actor_id"] = "mallory"
    elif how == "edit_arguments":
        events[4]["arguments"]["amount"] = 1_000_000
    elif how == "delete":
        del events[4]
    elif how == "insert":
        forged = dict(events[4], action="approval.approved", actor_id="mallory")
        forged["hash"] = chain.chain_hash(forged, forged["prev_hash"])
        events.insert(4, forged)
    elif how == "insert_renumbered":
        # A careful forger renumbers and rehashes the inserted row: the next row still breaks.
        forged = dict(events[3], seq=5, action="approval.approved", actor_id="mallory")
        forged["prev_hash"] = events[3]["hash"]
        forged["hash"] = chain.chain_hash(forged, forged["prev_hash"])
        events.insert(4, forged)
        for later in events[5:]:
            later["seq"] += 1
    elif how == "reorder":
        events[4], events[5] = events[5], events[4]
    elif how == "edit_and_rehash":
        # Rehashing the edited row itself does not help: the next row's prev_hash gives it away.
        events[4]["actor_id"] = "mallory"
        events[4]["hash"] = chain.chain_hash(events[4], events[4]["prev_hash"])
    else:
        raise AssertionError(how)
    return rebuild(lines, events)


@pytest.mark.parametrize(
    ("how", "seq", "line", "words"),
    [
        ("edit", 5, 6, "edited"),
        ("edit_arguments", 5, 6, "edited"),
        ("delete", 6, 6, "expected row 5 here, found row 6"),
        ("insert", 5, 7, "expected row 6 here, found row 5"),
        ("insert_renumbered", 6, 7, "prev_hash does not match"),
        ("reorder", 6, 6, "expected row 5 here, found row 6"),
        ("edit_and_rehash", 6, 7, "prev_hash does not match"),
    ],
)
def test_tampered_export_is_caught_and_names_the_row(
    sqlite_db: Database, how: str, seq: int, line: int, words: str
) -> None:
    fill(sqlite_db)
    result = verify_lines(tampered(export(sqlite_db), how))
    assert not result.ok
    assert (result.seq, result.line) == (seq, line), result.summary()  # line 1 is the header
    assert words in (result.reason or "")
    assert result.summary().startswith(f"chain BROKEN at row {seq} (line {line}): ")


def test_cut_short_export_is_caught(sqlite_db: Database) -> None:
    fill(sqlite_db)
    lines = export(sqlite_db)
    no_trailer = lines[:-1]
    assert "end marker is missing" in (verify_lines(no_trailer).reason or "")
    last_row_dropped = [*lines[:-2], lines[-1]]
    assert "counts 12 rows, the file holds 11" in (verify_lines(last_row_dropped).reason or "")
    appended = [*lines, lines[3]]
    assert "after the end marker" in (verify_lines(appended).reason or "")
    assert "not JSON" in (verify_lines([lines[0], "{oops\n", lines[-1]]).reason or "")


# ----------------------------------------------------------------------- filtered exports


def test_filtered_export_is_checked_row_by_row_and_says_so(clocked_db: Database) -> None:
    fill(clocked_db)
    lines = export(clocked_db, agent_id="finance")
    header = json.loads(lines[0])
    assert header["complete"] is False and header["filters"] == {"agent_id": "finance"}
    events = event_lines(lines)
    assert [e["seq"] for e in events] == [2, 4, 6, 8, 10, 12]
    result = verify_lines(lines)
    assert result.ok and not result.complete and result.rows == 6 and result.gaps == 5
    assert result.summary() == (
        "filtered export (agent_id=finance): 6 rows, each row's hash matches; "
        "chain continuity not checkable (5 gaps where rows were left out)"
    )
    events[2]["reason"] = "forged"
    broken = verify_lines(rebuild(lines, events))
    assert broken.seq == 6 and "edited" in (broken.reason or "")
    events = event_lines(lines)
    events[1], events[2] = events[2], events[1]
    swapped = verify_lines(rebuild(lines, events))
    assert swapped.seq == 4 and "reordered" in (swapped.reason or "")


def test_a_full_export_relabelled_as_partial_still_says_continuity_was_not_checked(sqlite_db: Database) -> None:
    fill(sqlite_db)
    lines = export(sqlite_db)
    relabelled = [json.dumps({HEADER_KEY: 1, "filters": {}, "complete": False}) + "\n", *lines[1:]]
    result = verify_lines(relabelled)
    assert result.ok and not result.complete
    assert result.summary().startswith("filtered export (no filters recorded): 12 rows")
    headless = lines[1:-1]  # without its header a filtered file is checked as a whole chain
    events = event_lines(lines)
    assert verify_lines(headless).ok
    assert not verify_lines([json.dumps(e) + "\n" for e in events[3:]]).ok


def test_time_window_export(clocked_db: Database) -> None:
    fill(clocked_db)
    since, until = T0 + timedelta(minutes=3), T0 + timedelta(minutes=6)
    lines = export(clocked_db, since=since, until=until)
    events = event_lines(lines)
    assert [e["seq"] for e in events] == [3, 4, 5]
    result = verify_lines(lines)
    # A contiguous window: its internal links are checked; what came before is not in the file.
    assert result.ok and not result.complete and result.gaps == 0


# ----------------------------------------------------------------------- tampering the database


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


@pytest.mark.parametrize(
    ("sql", "seq", "words"),
    [
        ("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 5", 5, "edited"),
        ("UPDATE audit_events SET arguments = '{\"amount\":1}' WHERE seq = 5", 5, "edited"),
        ("DELETE FROM audit_events WHERE seq = 5", 6, "expected row 5 here, found row 6"),
        # An inserted row must take a free seq: move the tail up by one, then fill the hole.
        ("UPDATE audit_events SET seq = seq + 100 WHERE seq >= 5; "
         "UPDATE audit_events SET seq = seq - 99 WHERE seq >= 105; "
         "INSERT INTO audit_events (seq, ts, actor_kind, action, prev_hash, hash) "
         "SELECT 5, ts, 'human', 'approval.approved', hash, "
         "CASE WHEN substr(hash, 1, 1) = 'f' THEN '0' ELSE 'f' END || substr(hash, 2) "  # never row 4's own hash
         "FROM audit_events WHERE seq = 4",
         5, "edited"),
        # Reorder: rows 5 and 6 trade places (their content, keeping the numbering).
        ("UPDATE audit_events SET seq = 1000 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = 6; "
         "UPDATE audit_events SET seq = 6 WHERE seq = 1000", 5, "prev_hash does not match"),
    ],
    ids=["edit", "edit_arguments", "delete", "insert", "reorder"],
)
def test_tampered_database_is_caught_and_names_the_row(db: Database, sql: str, seq: int, words: str) -> None:
    fill(db)
    assert verify_rows(e.to_dict() for e in db.audit_events()).ok
    _drop_triggers(db)
    with db.engine.begin() as conn:
        for statement in sql.split("; "):
            conn.exec_driver_sql(statement)
    result = verify_rows(e.to_dict() for e in db.audit_events())
    assert not result.ok
    assert (result.seq, words in (result.reason or "")) == (seq, True), result.summary()
    fast = verify_stored(db.audit_stored(batch=4))  # same verdict, same words
    assert (fast.seq, fast.reason, fast.rows) == (result.seq, result.reason, result.rows)
    for parts in (1, 2, 5):  # the CLI's path: on PostgreSQL the database's own pass, split in ranges of seq
        in_database = verify_database(db, parts=parts)
        assert (in_database.seq, in_database.reason, in_database.rows) == (result.seq, result.reason, result.rows)


# ----------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(raw: str, safe: str) -> None:
    assert neutralise(raw) == safe


def test_csv_export_neutralises_formulas_and_keeps_every_field(sqlite_db: Database) -> None:
    sqlite_db.append_audit(
        action="decision.refused",
        actor=Actor("=cmd|' /C calc'!A0", "@evil", ActorKind.HUMAN),
        reason="+SUM(1,2)",
        permalink="-1",
        arguments={"x": "=1"},
        details={"quote": "a \"b\", c\nd"},
    )
    lines = list(csv_lines(e.to_dict() for e in sqlite_db.audit_events()))
    assert all(line.endswith("\r\n") for line in lines)
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    assert list(rows[0]) == list(COLUMNS)
    row = rows[0]
    assert row["actor_id"] == "'=cmd|' /C calc'!A0"
    assert row["actor_name"] == "'@evil"
    assert row["reason"] == "'+SUM(1,2)"
    assert row["permalink"] == "'-1"
    assert json.loads(row["arguments"]) == {"x": "=1"}  # starts with '{': a JSON cell, harmless
    assert json.loads(row["details"]) == {"quote": "a \"b\", c\nd"}
    assert row["hash"] == next(iter(sqlite_db.audit_events())).hash
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# ----------------------------------------------------------------------- CLI


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_cli_export_and_verify(sqlite_db: Database, tmp_path: Path) -> None:
    fill(sqlite_db)
    ok = invoke("audit", "verify")
    assert ok.exit_code == 0 and ok.stdout.strip() == "chain OK: 12 events"

    out = tmp_path / "audit.jsonl"
    done = invoke("audit", "export", "--format", "jsonl", "--output", str(out))
    assert done.exit_code == 0, done.output
    assert f"exported 12 events to {out}" in done.stderr
    checked = invoke("audit", "verify", str(out))
    assert checked.exit_code == 0 and checked.stdout.strip() == "chain OK: 12 events"

    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(tampered(lines, "edit")))
    broken = invoke("audit", "verify", str(out))
    assert broken.exit_code == 1
    message = broken.stderr.strip()
    assert "\n" not in message
    assert message.startswith("error: audit chain broken at row 5: the row's content does not match its hash")
    assert f"(line 6 of {out})" in message


def test_cli_filtered_export_verifies_as_a_subset(sqlite_db: Database, tmp_path: Path) -> None:
    fill(sqlite_db)
    out = tmp_path / "u1.jsonl"
    assert invoke("audit", "export", "--actor", "U1", "-o", str(out)).exit_code == 0
    result = invoke("audit", "verify", str(out))
    assert result.exit_code == 0
    assert result.stdout.startswith("filtered export (actor=U1): 3 rows, each row's hash matches; chain continuity "
                                    "not checkable")


def test_cli_csv_to_stdout_with_filters(sqlite_db: Database) -> None:
    fill(sqlite_db)
    result = invoke("audit", "export", "--format", "csv", "--agent", "finance", "--since", "2000-01-01")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 and {r["agent_id"] for r in rows} == {"finance"}


def test_cli_verify_database_names_the_broken_row(sqlite_db: Database) -> None:
    fill(sqlite_db)
    _drop_triggers(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = invoke("audit", "verify")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: audit chain broken at row 4: expected row 3 here, found row 4 "
        "(a row was deleted, inserted or moved)"
    )


def test_cli_errors_are_one_line(sqlite_db: Database, tmp_path: Path) -> None:
    bad_format = invoke("audit", "export", "--format", "xml")
    assert bad_format.exit_code == 1 and "--format must be one of csv, jsonl" in bad_format.stderr
    bad_date = invoke("audit", "export", "--since", "yesterday")
    assert bad_date.exit_code == 1 and "--since: 'yesterday' is not an ISO 8601" in bad_date.stderr
    missing = invoke("audit", "verify", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    nothing = invoke("audit", "verify", str(empty))
    assert nothing.exit_code == 1 and "holds no events" in nothing.stderr


# ----------------------------------------------------------------------- fast paths


def awkward(db: Database) -> None:
    """Rows every cell rule applies to: formulas, JSON strings and numbers, escapes, non-ASCII."""
    fill(db)
    weird = "tab\there \"quoted\" back\\slash \x01\x1f\x7f \u2028 é ✓ 🎉\nnew line"
    db.append_audit(action="=act", actor=Actor("=cmd", "@evil", ActorKind.HUMAN), outcome=weird, reason="+1",
                    permalink="-1", run_id="r", agent_id="a", tool_name=weird, arguments="=1", details=-5)
    db.append_audit(action="x", actor=Actor("U1"), arguments=[weird, {"k": weird}], details="plain")
    db.append_audit(action="y", actor=Actor.system(), arguments={"": None, "z": [1.5, -0.0, 1e300]}, details=0,
                    reason="", permalink="\\.", outcome=" spaced ")


@pytest.mark.parametrize("filters", [{}, {"agent_id": "finance"}, {"actor_id": "U1"}])
def test_fast_export_writes_the_same_bytes_as_the_reference(db: Database, filters: dict[str, Any]) -> None:
    awkward(db)
    rows = [e.to_dict() for e in db.audit_events(**filters)]
    for fmt in FORMATS:
        reference = "".join(export_lines(fmt, rows, filters=filters))
        count = ExportCount()
        fast = "".join(export_chunks(fmt, db.audit_stored(batch=4, **filters), filters=filters, count=count))
        assert fast == reference, fmt
        assert count.rows == len(rows) > 0
        built = ExportCount()  # PostgreSQL: lines built by the database
        assert "".join(export_database(db, fmt, query=filters, filters=filters, count=built)) == reference, fmt
        assert built.rows == len(rows)
    exported = io.StringIO("".join(export_chunks("jsonl", db.audit_stored(), filters=filters)))
    assert verify_lines(exported).ok  # lines as a file reads them (U+2028 inside a value is no line end)


def test_fast_verify_matches_the_reference_and_hashes_what_python_hashes(db: Database) -> None:
    """On PostgreSQL the chain is written by the ``audit_seal`` SQL function: Python must agree with
    every hash it wrote, escapes and non-ASCII included."""
    awkward(db)
    assert verify_stored(db.audit_stored(batch=3)).summary() == "chain OK: 15 events"
    assert verify_database(db).summary() == "chain OK: 15 events"
    assert {verify_database(db, parts=n).summary() for n in (2, 4, 15, 40)} == {"chain OK: 15 events"}
    assert chain.first_break(e.to_dict() for e in db.audit_events()) is None
    for rows in db.audit_stored():
        for row in rows:
            assert chain.stored_hash(row, row[15]) == chain.chain_hash(chain.decoded(row), row[15]) == row[16]


def test_fast_verify_falls_back_to_decoded_values_for_non_canonical_json(db: Database) -> None:
    fill(db, 3)
    _drop_triggers(db)
    with db.engine.begin() as conn:  # same values, other spelling: the hash covers values, not bytes
        conn.execute(text("UPDATE audit_events SET details = '{ \"nested\": {\"b\": [1, {\"c\": null}]}, \"i\": 1 }' "
                          "WHERE seq = 2"))
    assert verify_stored(db.audit_stored()).summary() == "chain OK: 3 events"
    assert verify_database(db).summary() == "chain OK: 3 events"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET details = '{\"i\": 7}' WHERE seq = 2"))
    for broken in (verify_stored(db.audit_stored()), verify_database(db)):
        assert (broken.seq, broken.reason) == (2, "the row's content does not match its hash (the row was edited)")


def test_append_many_appends_in_order_in_one_transaction(db: Database) -> None:
    fill(db, 2)
    with db.transaction() as conn:
        returned = db.append_many(conn, [{"action": f"batch.{i}", "actor": Actor("U1"), "details": {"i": i}}
                                         for i in range(5)])
    assert [e.action for e in returned] == [f"batch.{i}" for i in range(5)]
    events = list(db.audit_events())
    assert [e.action for e in events[2:]] == [f"batch.{i}" for i in range(5)]
    assert [e.seq for e in events] == list(range(1, 8))
    assert verify_stored(db.audit_stored()).ok
    with pytest.raises(TypeError, match="unknown audit fields: colour"), db.transaction() as conn:
        db.append_many(conn, [{"action": "x", "actor": Actor("U1"), "colour": "red"}])
    with pytest.raises(RuntimeError), db.transaction() as conn:  # a failed transaction appends nothing
        db.append_many(conn, [{"action": "lost", "actor": Actor("U1")}])
        raise RuntimeError("rolled back")
    assert [e.action for e in db.audit_events()][-1] == "batch.4"
    assert verify_stored(db.audit_stored()).summary() == "chain OK: 7 events"


@pytest.mark.postgres
def test_an_event_no_appender_sealed_is_chained_by_the_next_read(pg_url: str) -> None:
    db = migrated(pg_url)
    try:
        fill(db, 3)
        with db.engine.begin() as conn:  # a transaction that ends without the sealing step
            db.append_many(conn, [{"action": "straggler", "actor": Actor("U1")}])
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_pending")).scalar() == 1
        assert [e.action for e in db.audit_events()][-1] == "straggler"  # the read sealed it first
        assert verify_stored(db.audit_stored()).summary() == "chain OK: 4 events"
        with db.engine.begin() as conn:
            db.append_many(conn, [{"action": "periodic", "actor": Actor("U1")}])
        assert db.seal_audit() == 1 and db.seal_audit() == 0
        with db.engine.begin() as conn:
            db.append_many(conn, [{"action": "worker", "actor": Actor("U1")}])
        assert db.maintain_audit() == 1  # the worker's periodic pass: seal, then vacuum the queue
        assert verify_database(db).summary() == "chain OK: 6 events"
    finally:
        db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("sql", ["UPDATE audit_pending SET action = 'x'", "DELETE FROM audit_pending",
                                 "TRUNCATE audit_pending"])
def test_pending_events_cannot_be_changed_or_dropped_outside_the_sealer(pg_url: str, sql: str) -> None:
    db = migrated(pg_url)
    try:
        with db.engine.begin() as conn:
            db.append_many(conn, [{"action": "pending", "actor": Actor("U1")}])
        with pytest.raises(DBAPIError, match="only moved into the chain by the sealer"), db.engine.begin() as conn:
            conn.execute(text(sql))
        assert [e.action for e in db.audit_events()] == ["pending"]
    finally:
        db.dispose()


WRITER = """
import sys
from storage.database import Database
from storage.records import Actor

db = Database(sys.argv[1])
name = sys.argv[2]
for i in range(60):
    if i % 10 == 9:
        with db.transaction() as conn:
            db.append_many(conn, [{"action": "batch", "actor": Actor(name), "details": {"i": i, "j": j}}
                                  for j in range(3)])
    else:
        db.append_audit(action="single", actor=Actor(name), details={"i": i, "j": 0})
db.dispose()
"""


@pytest.mark.postgres
def test_eight_concurrent_writer_processes_make_one_valid_chain(pg_url: str) -> None:
    db = migrated(pg_url)
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, pg_url, f"W{n}"], env=env) for n in range(8)]
        assert [w.wait(timeout=120) for w in writers] == [0] * 8
        events = list(db.audit_events())
        assert verify_stored(db.audit_stored()).summary() == f"chain OK: {8 * (54 + 18)} events"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_pending")).scalar() == 0
        for n in range(8):  # each writer's events, once each, in the order it appended them
            mine = [(e.details["i"], e.details["j"]) for e in events if e.actor_id == f"W{n}"]
            assert mine == [(i, j) for i in range(60) for j in range(3 if i % 10 == 9 else 1)]
    finally:
        db.dispose()
