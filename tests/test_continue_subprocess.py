"""A run paused here is continued by ``run_id`` in another Python process: the state lives in SQL.

The helper ``tests/scripts/continue_run.py`` rebuilds the agent from code, loads the paused run's
requirements with ``agent.get_run_output(run_id)``, confirms them and calls
``agent.continue_run(run_id=..., requirements=...)``; it sees the database only through
``DATABASE_URL`` and the model only through ``OPENAI_BASE_URL``.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storage import Database, RunStatus
from tests.conftest import migrated
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.scripts.continue_run import build_agent

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "scripts" / "continue_run.py"


def continue_elsewhere(run_id: str, *, database_url: str, fake: FakeOpenAI, tool_log: Path,
                       stream: bool = False) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-test-fake",
        "SIGNOFF_TEST_TOOL_LOG": str(tool_log),
    }
    argv = [sys.executable, str(SCRIPT), run_id, *(["--stream"] if stream else [])]
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pid"] != os.getpid()
    return result


def executions(tool_log: Path) -> list[tuple[int, str]]:
    if not tool_log.exists():
        return []
    rows = [line.split() for line in tool_log.read_text().splitlines() if line.strip()]
    return [(int(pid), record_id) for pid, record_id in rows]


def check_continued_elsewhere(db: Database, database_url: str, fake: FakeOpenAI, tool_log: Path,
                              monkeypatch: pytest.MonkeyPatch, *, stream: bool = False) -> None:
    monkeypatch.setenv("SIGNOFF_TEST_TOOL_LOG", str(tool_log))
    fake.script(tool_call("delete_record", {"record_id": "8821"}, id="call_del"),
                text("Record 8821 has been deleted."))
    agent = build_agent(db=db)
    paused = agent.run("Delete record ID 8821", user_id="U_REQ")
    assert paused.is_paused and executions(tool_log) == []
    assert db.get_run(paused.run_id).status is RunStatus.PAUSED

    result = continue_elsewhere(paused.run_id, database_url=database_url, fake=fake, tool_log=tool_log,
                                stream=stream)
    assert result["run_id"] == paused.run_id
    assert result["status"] == "completed"
    assert result["content"] == "Record 8821 has been deleted."
    assert result["requester"] == "U_REQ", "the requester survives a continue in another process"
    if stream:
        assert result["events"][0] == "RunContinued"
        assert "ToolCallStarted" in result["events"] and "RunContent" in result["events"]
        assert result["events"][-1] == "RunCompleted"

    ran = executions(tool_log)
    assert ran == [(result["pid"], "8821")], "the tool ran exactly once, in the other process"
    stored = db.get_run(paused.run_id)
    assert stored.status is RunStatus.COMPLETED
    assert stored.content == "Record 8821 has been deleted."
    assert stored.state["messages"][-1] == {"role": "assistant", "content": "Record 8821 has been deleted."}
    assert len(fake.requests) == 2
    tool_msgs = [m for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_msgs == [{"role": "tool", "tool_call_id": "call_del", "content": "Record 8821 deleted."}]

    # The same decision delivered again from yet another process changes nothing.
    again = continue_elsewhere(paused.run_id, database_url=database_url, fake=fake, tool_log=tool_log)
    assert again["status"] == "completed" and again["content"] == "Record 8821 has been deleted."
    assert executions(tool_log) == ran
    assert len(fake.requests) == 2

    # And this process sees the answer the other one stored.
    here = agent.get_run_output(paused.run_id)
    assert here.status is RunStatus.COMPLETED and here.content == "Record 8821 has been deleted."
    assert [(t.tool_name, t.status) for t in here.tools] == [("delete_record", "succeeded")]


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_continue_in_a_subprocess_sqlite(sqlite_db: Database, sqlite_url: str, fake_openai: FakeOpenAI,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool) -> None:
    check_continued_elsewhere(sqlite_db, sqlite_url, fake_openai, tmp_path / "tool.log", monkeypatch,
                              stream=stream)


def test_continue_in_a_subprocess_postgres(pg_url: str, fake_openai: FakeOpenAI, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = migrated(pg_url)
    try:
        check_continued_elsewhere(db, pg_url, fake_openai, tmp_path / "tool.log", monkeypatch)
    finally:
        db.dispose()
