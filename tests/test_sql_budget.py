"""SQL per click and per resume, counted: a change that adds queries to the hot paths fails here.

Counted with SQLAlchemy's ``before_cursor_execute`` on the database's engine, on the embedded
SQLite (the PostgreSQL run issues the same statements plus its advisory locks). The budgets are
today's counts with a little headroom (2026-12-01: 16 statements and 1 commit per click, 44
statements and 6 commits per resume); lowering them is the performance issue's work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from runner import Agent, tool
from runner.decisions import Action, DecisionService
from storage.database import Database
from storage.records import Principal, Surface
from tests.fakes.openai_server import FakeOpenAI, text, tool_call

CLICK_BUDGET = 18
"""Statements for one approving decision (load, policy, conditional UPDATE, audit append, ready check)."""
RESUME_BUDGET = 48
"""Statements for a continue that runs one approved tool and completes the run."""


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
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def test_a_click_and_a_resume_stay_within_their_sql_budget(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Deleted."))
    agent = Agent(id="records", tools=[delete_record], db=sqlite_db)
    paused = agent.run("Delete record 8821", user_id="U_ALICE")
    (req,) = paused.active_requirements
    service = DecisionService(sqlite_db, lookup=agent.lookup)
    with counted(sqlite_db) as click:
        decided = service.decide(req.id, Principal("U_ALICE"), Action.APPROVE, surface=Surface.API)
    assert decided.decided and decided.run_ready
    with counted(sqlite_db) as resume:
        done = agent.continue_run(run_id=paused.run_id)
    assert str(done.status) == "completed"
    assert click["statements"] <= CLICK_BUDGET, click
    assert resume["statements"] <= RESUME_BUDGET, resume
    assert click["commits"] >= 1 and resume["commits"] >= 1, "the decision and the resume are durable"
