"""Benchmark: the hot paths with 1,000,000 rows in every table, beside an empty database (PostgreSQL).

Run by hand, not in the test suite::

    PYTHONPATH=. .venv/bin/python bench/big_tables.py --database-url postgresql://postgres@127.0.0.1:5432/test
    PYTHONPATH=. .venv/bin/python bench/big_tables.py --database-url ... --without-0004-indexes   # the plans before
    PYTHONPATH=. .venv/bin/python bench/big_tables.py --database-url ... --keep            # keep the big schema

Two fresh schemas on the server, both migrated to head (``--without-0004-indexes``: then the
indexes migration 0004 adds dropped again, to see the plans before it): one left empty,
one filled with ``--rows`` rows in every table (server-side ``INSERT ... SELECT generate_series``,
then ``ANALYZE``): mostly finished runs with their requirement, approval, vote, execution, card
and audit rows, 0.1% of them paused with a pending requirement. ``audit_events.hash`` is filled
with unique values, not a valid chain: verifying a million-row chain is bench/audit_export.py's.

Then, in this process, the same scenario runs against each, alternating, ``--repeat`` times: an
agent's run pauses on a confirmation (the model is the local stand-in of tests/fakes, no
latency), its card is recorded, the approver's list is read, the click is decided through the
DecisionService, the run continues to completion, its audit trail is read, a Slack thread's run,
a run's cards, an agent's latest run and the newest runs and approvals (all and by status) are
looked up, and the worker's recovery queries run once. Each phase's median is reported per database and as a ratio (the
target: big <= 1.5 x empty).

Every statement of one scenario on the big database is recorded (SQLAlchemy's
``before_cursor_execute``) and replayed under ``EXPLAIN (ANALYZE, FORMAT JSON)`` in a transaction
that is rolled back: the report lists each distinct statement's time and any sequential scan of
a big table, which is what the indexes of migration 0004 answer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from bench.schemas import drop_schema, fresh_database  # noqa: E402
from runner import Agent, tool  # noqa: E402
from runner.decisions import Action, DecisionService  # noqa: E402
from runner.models import OpenAIChat  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.records import Principal, SlackMessage, Surface  # noqa: E402
from storage.timeouts import (  # noqa: E402
    HEARTBEAT_STALE_S,
    QUEUED_GRACE_S,
    REMINDER_SWEEP_LIMIT,
    SLACK_EVENT_DEDUPE_TTL_S,
)
from tests.fakes.openai_server import FakeOpenAI, tool_call  # noqa: E402
from tests.fakes.openai_server import text as reply_text  # noqa: E402

PAUSED_EVERY = 1000
"""One run in this many is paused with a pending requirement (and its approval pending)."""

FILL = {
    "runs": """
        INSERT INTO runs (id, kind, target_id, target_name, status, version, round, requester, requester_name,
                          input, content, state, channel, thread_ts, created_at, updated_at, session_id)
        SELECT md5('run' || i), 'agent', 'agent' || (i % 20), 'Agent ' || (i % 20),
               CASE WHEN i % {paused} = 0 THEN 'paused' WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END,
               3, 1, 'U' || lpad((i % 500)::text, 6, '0'), 'User ' || (i % 500), 'Delete record ' || i,
               'Deleted.', '{{"messages": []}}', 'C' || (i % 50), (1700000000 + i)::text || '.000100',
               now() - (({n} - i) || ' seconds')::interval, now() - (({n} - i) || ' seconds')::interval,
               md5('session' || (i / 3))
        FROM generate_series(1, {n}) i""",
    "requirements": """
        INSERT INTO requirements (id, run_id, round, call_key, tool_call_id, kind, tool_name, tool_args, args_hash,
                                  approval_type, user_input_schema, status, resolution, resolved_by,
                                  resolved_by_name, resolved_at, requester, approvers, quorum, created_at,
                                  expires_at, sensitive_fields)
        SELECT md5('req' || i), md5('run' || i), 1, 'call_' || i, 'call_' || i, 'confirmation', 'delete_record',
               '{{"record_id": "' || i || '"}}', md5('args' || i) || md5('args' || i), 'required', '[]',
               CASE WHEN i % {paused} = 0 THEN 'pending' ELSE 'approved' END, '{{}}',
               CASE WHEN i % {paused} = 0 THEN NULL ELSE 'U' || lpad((i % 500)::text, 6, '0') END,
               'User', now() - (({n} - i) || ' seconds')::interval, 'U' || lpad((i % 500)::text, 6, '0'), '[]', 1,
               now() - (({n} - i) || ' seconds')::interval,
               CASE WHEN i % {paused} = 0 THEN now() + interval '1 day'
                    ELSE now() - (({n} - i) || ' seconds')::interval + interval '1 day' END, '[]'
        FROM generate_series(1, {n}) i""",
    "approvals": """
        INSERT INTO approvals (id, run_id, requirement_id, call_key, approval_type, agent_id, tool_name, tool_args,
                               args_hash, requester, status, quorum, resolved_by, created_at, expires_at,
                               sensitive_fields)
        SELECT md5('appr' || i), md5('run' || i), md5('req' || i), 'call_' || i, 'required', 'agent' || (i % 20),
               'delete_record', '{{"record_id": "' || i || '"}}', md5('args' || i) || md5('args' || i),
               'U' || lpad((i % 500)::text, 6, '0'), CASE WHEN i % {paused} = 0 THEN 'pending' ELSE 'approved' END,
               1, NULL, now() - (({n} - i) || ' seconds')::interval, now() + interval '1 day', '[]'
        FROM generate_series(1, {n}) i""",
    "approval_votes": """
        INSERT INTO approval_votes (approval_id, voter, vote, created_at, args_hash, voter_name, surface)
        SELECT md5('appr' || i), 'U' || lpad((i % 500)::text, 6, '0'), 'approve',
               now() - (({n} - i) || ' seconds')::interval, md5('args' || i) || md5('args' || i), 'User', 'slack'
        FROM generate_series(1, {n}) i""",
    "tool_executions": """
        INSERT INTO tool_executions (run_id, call_key, tool_name, args_hash, requirement_id, status, result, worker,
                                     started_at, finished_at)
        SELECT md5('run' || i), 'call_' || i, 'delete_record', md5('args' || i) || md5('args' || i),
               md5('req' || i), 'succeeded', '"Record deleted."', 'worker:1',
               now() - (({n} - i) || ' seconds')::interval, now() - (({n} - i) || ' seconds')::interval
        FROM generate_series(1, {n}) i""",
    "slack_messages": """
        INSERT INTO slack_messages (run_id, requirement_id, purpose, channel, ts, created_at)
        SELECT md5('run' || i), md5('req' || i), 'card', 'C' || (i % 50), (1700000000 + i)::text || '.000200',
               now() - (({n} - i) || ' seconds')::interval
        FROM generate_series(1, {n}) i""",
    "audit_events": """
        INSERT INTO audit_events (seq, ts, actor_kind, actor_id, actor_name, action, outcome, run_id,
                                  requirement_id, agent_id, tool_name, arguments, reason, permalink, details,
                                  prev_hash, hash)
        SELECT i, to_char(now() - (({n} - i) || ' seconds')::interval, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'human',
               'U' || lpad((i % 500)::text, 6, '0'), 'User', 'requirement.approved', 'approved',
               md5('run' || (i / 3 + 1)), md5('req' || (i / 3 + 1)), 'agent' || (i % 20), 'delete_record',
               '{{"record_id":"' || i || '"}}', NULL, NULL, '{{"surface":"slack"}}',
               encode(sha256(('h' || (i - 1))::bytea), 'hex'), encode(sha256(('h' || i)::bytea), 'hex')
        FROM generate_series(1, {n}) i""",
    "seen_events": """
        INSERT INTO seen_events (event_id, seen_at)
        SELECT 'Ev' || i, now() - ((i % 3000) || ' seconds')::interval FROM generate_series(1, {n}) i""",
    "api_tokens": """
        INSERT INTO api_tokens (id, name, principal_kind, principal_id, principal_name, scopes, secret_hash,
                                created_by, created_at)
        SELECT 'T' || lpad(i::text, 15, '0'), 'token ' || i, 'user', 'U' || lpad((i % 500)::text, 6, '0'), 'User',
               '["read"]', md5('secret' || i) || md5('secret' || i), 'admin', now()
        FROM generate_series(1, {n}) i""",
    "console_logins": """
        INSERT INTO console_logins (id, secret_hash, user_id, created_by, created_at, expires_at, used_at)
        SELECT 'L' || lpad(i::text, 15, '0'), md5('login' || i) || md5('login' || i),
               'U' || lpad((i % 500)::text, 6, '0'), 'admin', now() - interval '1 day', now() - interval '23 hours',
               now() - interval '23 hours'
        FROM generate_series(1, {n}) i""",
}
"""Per table, the server-side fill of ``{n}`` rows (in this order: foreign keys first)."""


@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Delete a record."""
    return f"Record {record_id} deleted."


def without_0004_indexes(url: str) -> None:
    """Undo migration 0004's indexes (keeping its audit_pending, which the code needs)."""
    path = next((ROOT / "storage" / "migrations" / "versions").glob("0004_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    db = Database(url)
    with db.engine.begin() as conn:
        for name, _table, _columns in module.INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
        for name, table, columns in module.REPLACED:
            conn.execute(text(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"))
    db.dispose()


def fill(url: str, n: int) -> dict[str, float]:
    """Fill every table with ``n`` rows; seconds per table."""
    db = Database(url)
    seconds: dict[str, float] = {}
    with db.engine.connect() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))  # the fill writes no chain
        conn.commit()
        for table, sql in FILL.items():
            start = time.perf_counter()
            conn.execute(text(sql.format(n=n, paused=PAUSED_EVERY)))
            conn.commit()
            seconds[table] = round(time.perf_counter() - start, 1)
            print(f"  {table}: {n:,} rows in {seconds[table]} s", file=sys.stderr)
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        conn.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    db.dispose()
    return seconds


class Scenario:
    """One approval round trip on one database, its phases timed."""

    def __init__(self, url: str, fake: FakeOpenAI) -> None:
        self.db = Database(url)
        self.fake = fake
        self.agent = Agent(id="records", model=OpenAIChat(id="gpt-4o-mini", base_url=fake.base_url, api_key="x"),
                           tools=[delete_record], db=self.db)
        self.service = DecisionService(self.db, lookup=self.agent.lookup)

    def once(self) -> dict[str, float]:
        db, phases = self.db, {}

        def timed(name: str, work: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            result = work()
            phases[name] = (time.perf_counter() - start) * 1000
            return result

        self.fake.script(tool_call("delete_record", {"record_id": "8821"}), reply_text("Deleted."))
        paused = timed("pause (run to paused)", lambda: self.agent.run("Delete record 8821", user_id="U_ALICE"))
        (req,) = paused.active_requirements
        ts = f"{time.time():.6f}"

        def card() -> None:
            db.add_slack_message(SlackMessage(paused.run_id, req.id, "card", "CBENCH", ts))
            db.slack_messages(requirement_id=req.id)

        timed("card recorded", card)
        timed("ack: event dedupe", lambda: db.first_time_seen(f"Ev{uuid.uuid4().hex}"))
        timed("approver's pending list", lambda: self.service.pending_for(Principal("U_ALICE")))
        decided = timed("click (decide)", lambda: self.service.decide(
            req.id, Principal("U_ALICE"), Action.APPROVE, surface=Surface.API))
        assert decided.decided, decided
        done = timed("resume to completed", lambda: self.agent.continue_run(run_id=paused.run_id))
        assert str(done.status) == "completed", done.status
        timed("run's audit trail", lambda: list(db.audit_events(run_id=paused.run_id)))

        def lookups() -> None:
            db.run_for_thread("C7", f"{1700000000 + 7:d}.000100")  # a reply in a Slack thread
            db.slack_messages(run_id=paused.run_id)  # the cards to update when a run ends
            db.latest_run_of("agent3")
            db.list_runs(limit=50)  # API and console lists, newest first
            db.list_runs(status="completed", limit=50)
            db.list_approvals(limit=50)
            db.list_approvals(status="approved", limit=50)

        timed("thread, card and list lookups", lookups)

        def recovery() -> None:
            now = db.clock()
            db.expire_due()
            db.prune_seen_events(now - timedelta(seconds=SLACK_EVENT_DEDUPE_TTL_S))
            db.stuck_runs(queued_before=now - timedelta(seconds=QUEUED_GRACE_S),
                          running_before=now - timedelta(seconds=HEARTBEAT_STALE_S))
            db.due_reminders(limit=REMINDER_SWEEP_LIMIT)

        timed("worker recovery queries", recovery)
        phases["total"] = sum(phases.values())
        return phases


def explain(url: str, statements: list[tuple[str, Any]], big: set[str]) -> list[dict[str, Any]]:
    """Replay each distinct statement under EXPLAIN ANALYZE (rolled back): time and seq scans."""
    db = Database(url)
    seen: dict[str, dict[str, Any]] = {}
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            key = " ".join(sql.split())
            if key in seen or key.split()[0].upper() not in ("SELECT", "UPDATE", "DELETE", "WITH"):
                continue  # an INSERT's plan is no choice of index; replayed, it would collide
            if "pg_advisory" in key or "audit_seal" in key:
                continue
            with raw.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0][0]
            raw.rollback()
            scans: list[str] = []

            def walk(node: dict[str, Any], scans: list[str] = scans) -> None:
                if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in big:
                    scans.append(f"{node['Relation Name']} ({node.get('Actual Rows', 0) * node.get('Actual Loops', 1)}"
                                 f" rows out)")
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan["Plan"])
            seen[key] = {"key": key, "sql": key[:160], "ms": round(plan["Execution Time"], 2), "seq_scans": scans}
    db.dispose()
    return sorted(seen.values(), key=lambda s: -s["ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL base URL; two fresh schemas are made")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="scenarios per database, alternating")
    parser.add_argument("--without-0004-indexes", action="store_true",
                        help="drop the indexes migration 0004 adds (and restore the one it replaces): the plans before")
    parser.add_argument("--keep", action="store_true", help="keep the schemas (their names are printed)")
    args = parser.parse_args()
    base = args.database_url
    empty_url, empty_schema = fresh_database(base, Path("."), "empty")
    big_url, big_schema = fresh_database(base, Path("."), "big")
    print(f"schemas: empty {empty_schema}, big {big_schema}", file=sys.stderr)
    try:
        for url in (empty_url, big_url):
            Database(url).upgrade()
            if args.without_0004_indexes:
                without_0004_indexes(url)
        fill_seconds = fill(big_url, args.rows)
        with FakeOpenAI() as fake:
            empty, big = Scenario(empty_url, fake), Scenario(big_url, fake)
            for scenario in (empty, big):
                scenario.once()  # warm up: connections, caches, the first client
            statements: list[tuple[str, Any]] = []
            took: dict[str, float] = {}
            started: list[float] = []

            def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
                statements.append((sql, params))
                started.append(time.perf_counter())

            def finished(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
                key = " ".join(sql.split())
                took[key] = max(took.get(key, 0.0), (time.perf_counter() - started.pop()) * 1000)

            event.listen(big.db.engine, "before_cursor_execute", record)
            event.listen(big.db.engine, "after_cursor_execute", finished)
            big.once()
            event.remove(big.db.engine, "before_cursor_execute", record)
            event.remove(big.db.engine, "after_cursor_execute", finished)
            runs: dict[str, list[dict[str, float]]] = {"empty": [], "big": []}
            for _ in range(args.repeat):
                runs["empty"].append(empty.once())
                runs["big"].append(big.once())
            for scenario in (empty, big):
                scenario.db.dispose()
        plans = explain(big_url, statements, set(FILL))
        for plan in plans:
            plan["app_ms"] = round(took.get(plan["key"], 0.0), 2)
    finally:
        if not args.keep:
            drop_schema(base, empty_schema or "")
            drop_schema(base, big_schema or "")
    print(f"\n{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, {platform.platform()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL at {base.split('@')[-1]}; "
          f"schema at head{' without the indexes of 0004' if args.without_0004_indexes else ''}; "
          f"load average {os.getloadavg()}\n")
    print(f"Fill: {args.rows:,} rows in each of {len(FILL)} tables ({sum(fill_seconds.values()):.0f} s).\n")
    print(f"Medians of {args.repeat} alternating scenarios, milliseconds:\n")
    print(f"| phase | empty | {args.rows:,} rows | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for phase in runs["empty"][0]:
        e = statistics.median(r[phase] for r in runs["empty"])
        b = statistics.median(r[phase] for r in runs["big"])
        print(f"| {phase} | {e:.1f} | {b:.1f} | {b / e:.2f} |")
    print(f"\nStatements of one scenario on the big database under EXPLAIN ANALYZE ({len(plans)} distinct), "
          "slowest first:\n")
    print("| EXPLAIN ANALYZE ms | in the scenario ms | sequential scans of big tables | statement |")
    print("| ---: | ---: | --- | --- |")
    for p in plans:
        print(f"| {p['ms']} | {p['app_ms']} | {', '.join(p['seq_scans']) or '-'} | `{p['sql'].replace('|', '/')}` |")
    print(json.dumps({"fill_seconds": fill_seconds}), file=sys.stderr)


if __name__ == "__main__":
    main()
