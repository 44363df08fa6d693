"""SQL per run, per click and per resume, counted: a change that adds queries or commits to the
hot paths fails here.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` (SQLite's BEGIN is sent by the
dialect itself) on the database's engine, on the embedded SQLite (PostgreSQL's audit appends take
another path: storage/audit_log.py). 2026-12-01, before the performance work: 16 statements and
1 commit per click, 44 statements and 6 commits per resume (95 and 10 for a whole HITL run).
After it: 14 and 2 to the pause, 10 and 1 per click, 23 and 4 per resume. The budgets are those
counts with a statement or two of headroom; the commits are exact, because each is a guarantee's
price: the run exists, the pause (state, requirements, audit) lands at once, the decision, the
lease, the claim before the tool runs, its result before the model is asked again, the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from runner import Agent, tool
from runner.decisions import Action, DecisionService
from storage.database import Database
from storage.records import Actor, Principal, Surface
from tests.fakes.openai_server import FakeOpenAI, text, tool_call

START_BUDGET = 16
"""Statements from ``run`` to the pause: the run and its audit row, the pause in one transaction
(state, requirement, audit rows), the output read in one snapshot."""
START_COMMITS = 2
CLICK_BUDGET = 11
"""Statements for one approving decision (load, policy, conditional UPDATE, audit append, ready check)."""
CLICK_COMMITS = 1
RESUME_BUDGET = 25
"""Statements for a continue that runs one approved tool and completes the run."""
RESUME_COMMITS = 4
"""The lease, the claim, the result with the checkpoint, the answer with the run's completion."""


@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Delete a record."""
    return f"Record {record_id} deleted."


@contextmanager
def counted(db: Database) -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {"statements": 0, "commits": 0}

    def statement(*_args: Any) -> None:
        seen["statements"] += 1

    def commit(*_args: Any) -> None:
        seen["commits"] += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "begin", statement)  # SQLite's BEGIN is sent by the dialect itself
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "begin", statement)
        event.remove(db.engine, "commit", commit)


def test_a_run_a_click_and_a_resume_stay_within_their_sql_budget(
    sqlite_db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Deleted."))
    agent = Agent(id="records", tools=[delete_record], db=sqlite_db)
    with counted(sqlite_db) as start:
        paused = agent.run("Delete record 8821", user_id="U_ALICE")
    (req,) = paused.active_requirements
    service = DecisionService(sqlite_db, lookup=agent.lookup)
    with counted(sqlite_db) as click:
        decided = service.decide(req.id, Principal("U_ALICE"), Action.APPROVE, surface=Surface.API)
    assert decided.decided and decided.run_ready
    with counted(sqlite_db) as resume:
        done = agent.continue_run(run_id=paused.run_id)
    assert str(done.status) == "completed"
    assert start["statements"] <= START_BUDGET, start
    assert click["statements"] <= CLICK_BUDGET, click
    assert resume["statements"] <= RESUME_BUDGET, resume
    assert start["commits"] == START_COMMITS, start
    assert click["commits"] == CLICK_COMMITS, click
    assert resume["commits"] == RESUME_COMMITS, resume


def test_fewer_commits_keep_the_order_a_crash_relies_on(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """What another connection sees at each step (what a worker taking over would find): the
    model turn that asked for a call is saved before the call is claimed, the claim before the
    tool runs, and the result before the model is asked again; the pause is one transaction."""
    seen: dict[str, Any] = {}

    def committed_run() -> Any:
        run = sqlite_db.latest_run_of("pinger")
        assert run is not None
        return run

    @tool
    def ping(host: str) -> str:
        """Ping a host."""
        run = committed_run()
        seen["state_when_tool_ran"] = [c["name"] for c in run.state["pending"]]
        seen["claims_when_tool_ran"] = [e["status"] for e in sqlite_db.executions_for_run(run.id)]
        return "pong"

    def responder(body: dict[str, Any]) -> Any:
        if body["messages"][-1].get("role") == "tool":
            run = committed_run()
            seen["claims_when_model_asked"] = [e["status"] for e in sqlite_db.executions_for_run(run.id)]
            seen["results_saved"] = [m["content"] for m in run.state["messages"] if m.get("role") == "tool"]
            return tool_call("delete_record", {"record_id": "8821"})
        return tool_call("ping", {"host": "db1"})

    fake_openai.set_responder(responder)
    agent = Agent(id="pinger", tools=[ping, delete_record], db=sqlite_db)
    paused = agent.run("Ping db1, then delete record 8821", user_id="U_ALICE")
    assert seen == {
        "state_when_tool_ran": ["ping"],
        "claims_when_tool_ran": ["started"],
        "claims_when_model_asked": ["succeeded"],
        "results_saved": ["pong"],
    }
    # The pause: the state, the requirement and its audit rows landed together.
    assert [r.tool_name for r in paused.active_requirements] == ["delete_record"]
    run = sqlite_db.get_run(paused.run_id)
    assert str(run.status) == "paused" and run.state["pending"][0]["name"] == "delete_record"
    actions = [e.action for e in sqlite_db.audit_events(run_id=paused.run_id)]
    assert actions == ["run.started", "tool.executed", "requirement.created", "run.paused"]


def test_a_result_rides_with_its_checkpoint_even_when_the_run_was_cancelled_meanwhile(
    sqlite_db: Database, fake_openai: FakeOpenAI
) -> None:
    """The lease is gone when the result's checkpoint is written: the claim is still closed with
    the result, exactly once, and the cancel stands."""

    @tool
    def archive(box: str) -> str:
        """Archive a box."""
        run = sqlite_db.latest_run_of("archiver")
        assert run is not None
        sqlite_db.cancel_run(run.id, Actor("U_BOB"), reason="stop")
        return "archived"

    fake_openai.script(tool_call("archive", {"box": "b1"}), text("never asked"))
    agent = Agent(id="archiver", tools=[archive], db=sqlite_db)
    out = agent.run("Archive b1", user_id="U_ALICE")
    assert str(out.status) == "cancelled"
    (execution,) = sqlite_db.executions_for_run(out.run_id)
    assert (execution["status"], execution["result"]) == ("succeeded", "archived")
    actions = [e.action for e in sqlite_db.audit_events(run_id=out.run_id)]
    assert actions == ["run.started", "run.cancelled", "tool.executed"]
    assert fake_openai.remaining() == 1  # the model was not asked again
