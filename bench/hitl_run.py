"""One human-in-the-loop run in process, signoff beside the ``agno`` package, same scenario.

The scenario: run an agent whose tool needs confirmation (the model calls it), the run pauses,
the caller confirms, ``continue_run`` runs the tool once and the model answers. Both frameworks
talk to the same local OpenAI-compatible stand-in (tests/fakes/openai_server.py, no latency) and
store on SQLite. Rounds alternate (signoff, agno, signoff, ...) in fresh processes; each round
times N runs; the report gives per-run medians over rounds and their ratio (wall clock, and each
side's CPU time), plus signoff's SQL statements (BEGINs included) and commits per run, counted
with SQLAlchemy events on ten runs of their own (listeners would slow the timed ones).

agno is installed for the benchmark only, in a venv of its own:

    python3 -m venv /tmp/agno-venv && /tmp/agno-venv/bin/pip install agno==3.1.10 openai sqlalchemy
    PYTHONPATH=. .venv/bin/python bench/hitl_run.py --agno-python /tmp/agno-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SIGNOFF_ROUND = r'''
import json, sys, time
from sqlalchemy import event
from runner import Agent, tool
from runner.models import OpenAIChat
from storage.database import Database

base_url, db_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Delete a record."""
    return f"Record {record_id} deleted."

db = Database(f"sqlite:///{db_path}")
db.upgrade()
agent = Agent(id="records", model=OpenAIChat(id="gpt-4o-mini", base_url=base_url, api_key="x"),
              tools=[delete_record], db=db)
counts = {"statements": 0, "commits": 0}

def statement(*_args: object) -> None:
    counts["statements"] += 1

def commit(*_args: object) -> None:
    counts["commits"] += 1

def one() -> None:
    response = agent.run("Delete record 8821", user_id="U123")
    assert response.is_paused, response
    for req in response.active_requirements:
        req.confirm()
    done = agent.continue_run(response)
    assert done.status == "completed", done

one()  # warm up: imports, connections, the first client
# Counted on runs of their own: the listeners would otherwise add their cost to the timed runs.
# A transaction's BEGIN counts as a statement ("begin": SQLite's dialect sends it itself).
event.listen(db.engine, "before_cursor_execute", statement)
event.listen(db.engine, "begin", statement)
event.listen(db.engine, "commit", commit)
for _ in range(10):
    one()
event.remove(db.engine, "before_cursor_execute", statement)
event.remove(db.engine, "begin", statement)
event.remove(db.engine, "commit", commit)
start, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    one()
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"per_run_ms": elapsed / n * 1000, "cpu_ms": cpu / n * 1000, "statements": counts["statements"] / 10,
                  "commits": counts["commits"] / 10}))
'''

AGNO_ROUND = r'''
import json, sys, time
from agno.agent import Agent
from agno.db.sqlite import SqliteDb
from agno.models.openai import OpenAIChat
from agno.tools import tool

base_url, db_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Delete a record."""
    return f"Record {record_id} deleted."

agent = Agent(model=OpenAIChat(id="gpt-4o-mini", base_url=base_url, api_key="x"), tools=[delete_record],
              db=SqliteDb(db_file=db_path), telemetry=False)

def one() -> None:
    response = agent.run("Delete record 8821", user_id="U123")
    assert response.is_paused, response
    for req in response.active_requirements:
        req.confirm()
    done = agent.continue_run(response)
    assert str(done.status).lower().endswith("completed"), done.status

one()
start, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    one()
print(json.dumps({"per_run_ms": (time.perf_counter() - start) / n * 1000,
                  "cpu_ms": (time.process_time() - cpu) / n * 1000}))
'''


def responder(body: dict[str, Any]) -> Any:
    from tests.fakes.openai_server import text, tool_call

    last = (body.get("messages") or [{}])[-1]
    if last.get("role") == "tool":
        return text("Record 8821 deleted.")
    return tool_call("delete_record", {"record_id": "8821"})


def round_of(python: str, code: str, base_url: str, workdir: Path, n: int, tag: str) -> dict[str, Any]:
    db_path = workdir / f"{tag}.db"
    done = subprocess.run([python, "-c", code, base_url, str(db_path), str(n)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{tag} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agno-python", default="/tmp/agno-venv/bin/python")
    parser.add_argument("--runs", type=int, default=100, help="runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per framework")
    args = parser.parse_args()
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.set_responder(responder)
        ours: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for i in range(args.rounds):
            ours.append(round_of(sys.executable, SIGNOFF_ROUND, fake.base_url, Path(tmp), args.runs, f"s{i}"))
            theirs.append(round_of(args.agno_python, AGNO_ROUND, fake.base_url, Path(tmp), args.runs, f"a{i}"))
    s_ms = statistics.median(r["per_run_ms"] for r in ours)
    a_ms = statistics.median(r["per_run_ms"] for r in theirs)
    s_cpu = statistics.median(r["cpu_ms"] for r in ours)
    a_cpu = statistics.median(r["cpu_ms"] for r in theirs)
    ours_rounds = ", ".join(f"{r['per_run_ms']:.2f}" for r in ours)
    theirs_rounds = ", ".join(f"{r['per_run_ms']:.2f}" for r in theirs)
    print(f"signoff: {s_ms:.2f} ms/run (rounds: {ours_rounds}); "
          f"{ours[-1]['statements']:.0f} SQL statements, {ours[-1]['commits']:.0f} commits per run")
    print(f"agno:    {a_ms:.2f} ms/run (rounds: {theirs_rounds})")
    print(f"ratio signoff/agno: {s_ms / a_ms:.2f}")
    # CPU time of each side's process (the stand-in server runs in this one): steadier than the
    # wall clock on a shared machine, and what a busy worker pays per run.
    print(f"cpu ms/run: signoff {s_cpu:.2f}, agno {a_cpu:.2f}, ratio {s_cpu / a_cpu:.2f}")


if __name__ == "__main__":
    main()
