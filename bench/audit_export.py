"""Benchmark: exporting (and verifying) the audit log runs in constant memory.

Run by hand, not in the test suite::

    PYTHONPATH=. .venv/bin/python bench/audit_export.py                 # SQLite, 10k and 100k events
    PYTHONPATH=. .venv/bin/python bench/audit_export.py --sizes 10000 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test        # a fresh schema per size

For each size it fills a fresh database with that many chained events, then, each in a fresh
Python process (so the fill's memory does not count), streams a JSONL export and a CSV export to
a file and verifies the chain from the database, and reports the process's peak RSS
(``resource.getrusage``) and Python's peak traced allocation during the work (``tracemalloc``).
Constant memory means the numbers for 100k are about those for 10k. The ``control`` task holds
all rows in a list instead of streaming, to show that the measurement does see growing memory.
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
from storage.export import export_lines, verify_rows  # noqa: E402
from storage.records import Actor, ActorKind  # noqa: E402

FILL_BATCH = 2000


def fill(url: str, n: int) -> float:
    """Append ``n`` realistic events (arguments, details, reasons), in transactions of FILL_BATCH."""
    db = Database(url)
    db.upgrade()
    start = time.perf_counter()
    done = 0
    while done < n:
        with db.transaction() as conn:
            for i in range(done, min(n, done + FILL_BATCH)):
                db._append(
                    conn,
                    action=("requirement.created", "requirement.approved", "tool.executed")[i % 3],
                    actor=Actor(f"U{i % 50:04d}", f"User {i % 50}", ActorKind.HUMAN),
                    outcome="approved",
                    run_id=uuid.uuid4().hex,
                    requirement_id=uuid.uuid4().hex,
                    agent_id=("finance", "infra")[i % 2],
                    tool_name="process_refund",
                    arguments={"customer_id": str(i), "amount": 100 + i % 900, "reason": "duplicate charge " * 3},
                    reason="checked the ticket" if i % 5 == 0 else None,
                    details={"approval_id": uuid.uuid4().hex, "votes": i % 3},
                )
        done = min(n, done + FILL_BATCH)
    elapsed = time.perf_counter() - start
    db.dispose()
    return elapsed


def rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(url: str, task: str) -> dict[str, Any]:
    """In this (fresh) process: run one task, return its time and memory peaks."""
    db = Database(url)
    rss_before = rss_mib()
    tracemalloc.start()
    start = time.perf_counter()
    rows = 0
    if task in ("jsonl", "csv"):
        with tempfile.TemporaryFile("w", encoding="utf-8") as out:
            for line in export_lines(task, (e.to_dict() for e in db.audit_events())):
                out.write(line)
                rows += 1
            size = out.tell()
    elif task == "control":
        # NOT streaming, for contrast: hold every row in a list. Shows the measurement does see
        # memory that grows with the log.
        held = [e.to_dict() for e in db.audit_events()]
        rows, size = len(held), 0
        del held
    else:
        result = verify_rows(e.to_dict() for e in db.audit_events())
        assert result.ok, result.summary()
        rows = result.rows
        size = 0
    elapsed = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.dispose()
    return {
        "task": task,
        "lines": rows,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "rss_before_mib": round(rss_before, 1),
        "rss_peak_mib": round(rss_mib(), 1),
        "traced_peak_mib": round(traced_peak / (1024 * 1024), 2),
    }




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default: SQLite files)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per task; medians are reported")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "TASK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            url, schema = fresh_database(args.database_url, Path(tmp), str(n))
            fill_s = fill(url, n)
            print(f"{n} events appended in {fill_s:.1f}s", file=sys.stderr)
            for task in ("jsonl", "csv", "verify", "control"):
                runs = []
                for _ in range(args.repeat):
                    out = subprocess.run(
                        [sys.executable, __file__, "--measure", url, task],
                        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                    )
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(json.dumps({"events": n, **runs[-1]}), file=sys.stderr)
                row: dict[str, Any] = {"events": n, "task": task, "runs": len(runs)}
                for key in ("bytes", "seconds", "rss_before_mib", "rss_peak_mib", "traced_peak_mib"):
                    row[key] = statistics.median(r[key] for r in runs)
                results.append(row)
            if schema:
                drop_schema(args.database_url, schema)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.platform()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{backend}\n")
    print(f"Medians of {args.repeat} fresh-process runs per task.\n")
    print("| events | task | seconds | output MiB | peak RSS MiB (before) | peak traced MiB |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['events']:,} | {r['task']} | {r['seconds']:.2f} | {r['bytes'] / 1048576:.1f} | "
              f"{r['rss_peak_mib']:.1f} ({r['rss_before_mib']:.1f}) | {r['traced_peak_mib']:.2f} |")


if __name__ == "__main__":
    main()
