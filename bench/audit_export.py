"""Benchmark: audit export and verify at a million events, in constant memory; appends under concurrency.

Run by hand, not in the test suite::

    PYTHONPATH=. .venv/bin/python bench/audit_export.py --sizes 1000000             # SQLite
    PYTHONPATH=. .venv/bin/python bench/audit_export.py --sizes 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test                    # a fresh schema per size
    PYTHONPATH=. .venv/bin/python bench/audit_export.py --appends 8 --per-writer 2000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test                    # 8 writer processes

For each size it fills a fresh database with that many chained events, then, each in a fresh
Python process (so the fill's memory does not count), streams a JSONL export and a CSV export to
a file the way ``signoff audit export`` does (``export_database``: on PostgreSQL the database
builds the lines), and verifies the chain from the database the way ``signoff audit verify`` does
(``verify_database``: on PostgreSQL one pass in the database, judged in Python), and reports
rows/s and the process's peak RSS
(``resource.getrusage``). Constant memory means the peak is about the same at 10k and 1M. The
``control`` task holds all rows in a list instead of streaming, to show that the measurement
does see growing memory. ``--traced`` adds Python's peak traced allocation (``tracemalloc``),
which slows the work several times over: rates are measured without it.

``--appends W`` starts W writer processes at once on a fresh database; each appends
``--per-writer`` events, ``--batch`` per transaction (1: ``append_audit``, one event and one
commit each; more: ``append_many``); the rate is all events over the wall time from the first
append to the last commit, and the chain is verified afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.schemas import drop_schema, fresh_database  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.export import ExportCount, export_database, verify_database, verify_stored  # noqa: E402
from storage.records import Actor, ActorKind  # noqa: E402

FILL_BATCH = 2000


def event(i: int) -> dict[str, Any]:
    """A realistic event: arguments, details, sometimes a reason."""
    return {
        "action": ("requirement.created", "requirement.approved", "tool.executed")[i % 3],
        "actor": Actor(f"U{i % 50:04d}", f"User {i % 50}", ActorKind.HUMAN),
        "outcome": "approved",
        "run_id": uuid.uuid4().hex,
        "requirement_id": uuid.uuid4().hex,
        "agent_id": ("finance", "infra")[i % 2],
        "tool_name": "process_refund",
        "arguments": {"customer_id": str(i), "amount": 100 + i % 900, "reason": "duplicate charge " * 3},
        "reason": "checked the ticket" if i % 5 == 0 else None,
        "details": {"approval_id": uuid.uuid4().hex, "votes": i % 3},
    }


def fill(url: str, n: int) -> float:
    """Append ``n`` events, FILL_BATCH per transaction (``append_many``)."""
    db = Database(url)
    db.upgrade()
    start = time.perf_counter()
    done = 0
    while done < n:
        with db.transaction() as conn:
            db.append_many(conn, [event(i) for i in range(done, min(n, done + FILL_BATCH))])
        done = min(n, done + FILL_BATCH)
        if done % (50 * FILL_BATCH) == 0:
            db.maintain_audit()  # what the worker does every 10 s: the sealed queue vacuumed
    elapsed = time.perf_counter() - start
    db.dispose()
    return elapsed


def rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(url: str, task: str, traced: bool = False) -> dict[str, Any]:
    """In this (fresh) process: run one task, return its time and memory peaks."""
    db = Database(url)
    rss_before = rss_mib()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    rows = 0
    size = 0
    if task in ("jsonl", "csv"):
        count = ExportCount()
        with tempfile.TemporaryFile("w", encoding="utf-8", newline="") as out:
            for chunk in export_database(db, task, count=count):
                out.write(chunk)
            size = out.tell()
        rows = count.rows
    elif task == "control":
        # NOT streaming, for contrast: hold every row in a list. Shows the measurement does see
        # memory that grows with the log.
        held = [row for rows_ in db.audit_stored() for row in rows_]
        rows = len(held)
        del held
    else:
        result = verify_database(db)
        assert result.ok, result.summary()
        rows = result.rows
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    db.dispose()
    return {
        "task": task,
        "lines": rows,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "rss_before_mib": round(rss_before, 1),
        "rss_peak_mib": round(rss_mib(), 1),
        "traced_peak_mib": round(traced_peak / (1024 * 1024), 2),
    }


def writer(url: str, per_writer: int, batch: int, offset: int) -> dict[str, float]:
    """In this (fresh) process: append ``per_writer`` events, ``batch`` per transaction."""
    db = Database(url)
    with db.engine.connect():
        pass  # connect before the clock starts, as a running process would be
    start = time.time()
    for first in range(0, per_writer, batch):
        events = [event(offset + i) for i in range(first, min(per_writer, first + batch))]
        if batch == 1:
            db.append_audit(**events[0])
        else:
            with db.transaction() as conn:
                db.append_many(conn, events)
    end = time.time()
    db.dispose()
    return {"start": start, "end": end}


def appends(base: str | None, writers: int, per_writer: int, batch: int, repeat: int) -> None:
    """``writers`` processes appending at once; the median rate of ``repeat`` rounds."""
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(repeat):
            url, schema = fresh_database(base, Path(tmp), f"appends{round_}")
            Database(url).upgrade()
            procs = [
                subprocess.Popen(
                    [sys.executable, __file__, "--writer", url, str(per_writer), str(batch), str(n * per_writer)],
                    stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                )
                for n in range(writers)
            ]
            spans = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
            assert all(p.returncode == 0 for p in procs)
            elapsed = max(s["end"] for s in spans) - min(s["start"] for s in spans)
            db = Database(url)
            result = verify_stored(db.audit_stored())
            db.dispose()
            assert result.ok and result.rows == writers * per_writer, result.summary()
            rates.append(writers * per_writer / elapsed)
            print(json.dumps({"round": round_, "events": result.rows, "seconds": round(elapsed, 2),
                              "events_per_s": round(rates[-1])}), file=sys.stderr)
            if schema and base:
                drop_schema(base, schema)
    backend = "postgresql" if base else "sqlite"
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()}, "
          f"{backend}: {writers} writers x {per_writer} events, {batch} per transaction: median "
          f"{statistics.median(rates):,.0f} events/s over {repeat} rounds ({', '.join(f'{r:,.0f}' for r in rates)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default: SQLite files)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per task; medians are reported")
    parser.add_argument("--tasks", nargs="+", default=["jsonl", "csv", "verify", "control"],
                        choices=["jsonl", "csv", "verify", "control"])
    parser.add_argument("--traced", action="store_true", help="also report tracemalloc's peak (slows the work)")
    parser.add_argument("--appends", type=int, metavar="WRITERS", help="measure appends with this many processes")
    parser.add_argument("--per-writer", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1, help="events per transaction for --appends")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "TASK"), help=argparse.SUPPRESS)
    parser.add_argument("--writer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        url, task = args.measure
        print(json.dumps(measure(url, task, traced=args.traced)))
        return
    if args.writer:
        url, per_writer, batch, offset = args.writer
        print(json.dumps(writer(url, int(per_writer), int(batch), int(offset))))
        return
    if args.appends:
        appends(args.database_url, args.appends, args.per_writer, args.batch, args.repeat)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            url, schema = fresh_database(args.database_url, Path(tmp), str(n))
            fill_s = fill(url, n)
            print(f"{n} events appended in {fill_s:.1f}s", file=sys.stderr)
            for task in args.tasks:
                runs = []
                for _ in range(args.repeat):
                    out = subprocess.run(
                        [sys.executable, __file__, "--measure", url, task, *(["--traced"] if args.traced else [])],
                        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                    )
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(json.dumps({"events": n, **runs[-1]}), file=sys.stderr)
                row: dict[str, Any] = {"events": n, "task": task, "runs": len(runs)}
                for key in ("bytes", "seconds", "rows_per_s", "rss_before_mib", "rss_peak_mib", "traced_peak_mib"):
                    row[key] = statistics.median(r[key] for r in runs)
                results.append(row)
            if schema:
                drop_schema(args.database_url, schema)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.platform()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{backend}\n")
    print(f"Medians of {args.repeat} fresh-process runs per task; load average {os.getloadavg()}.\n")
    print("| events | task | seconds | rows/s | output MiB | peak RSS MiB (before) | peak traced MiB |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        traced = f"{r['traced_peak_mib']:.2f}" if args.traced else "not traced"
        print(f"| {r['events']:,} | {r['task']} | {r['seconds']:.2f} | {r['rows_per_s']:,.0f} | "
              f"{r['bytes'] / 1048576:.1f} | {r['rss_peak_mib']:.1f} ({r['rss_before_mib']:.1f}) | {traced} |")


if __name__ == "__main__":
    main()
