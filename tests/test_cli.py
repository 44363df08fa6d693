"""The ``signoff`` console script as a user runs it: a subprocess of the installed entry point.

Each call gets a clean environment (no Slack credentials, no ``.env``: it runs in a temporary
directory) so what it prints depends only on what the test sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNOFF = Path(sys.executable).parent / "signoff"
CLOSED_REDIS = "redis://127.0.0.1:1/0"


def signoff(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    assert SIGNOFF.exists(), f"the console script is not installed at {SIGNOFF}: run pip install -e ."
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "PYTHONPATH": str(ROOT),
             "COLUMNS": "60", **env}
    return subprocess.run([str(SIGNOFF), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exactly one line on stderr (no traceback, not wrapped)."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = signoff("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for command in ("db", "worker", "dev", "audit"):
        assert f" {command} " in done.stdout, (command, done.stdout)
    audit = signoff("audit", "--help", cwd=tmp_path)
    assert audit.returncode == 0 and "export" in audit.stdout and "verify" in audit.stdout


def test_db_upgrade_on_a_temporary_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    done = signoff("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "database at revision 0004"
    assert database.exists()
    again = signoff("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert again.returncode == 0 and again.stdout.strip() == "database at revision 0004"  # idempotent


def test_worker_without_redis_says_so_in_one_line(tmp_path: Path) -> None:
    done = signoff("worker", "--burst", "--skip-model-check", cwd=tmp_path,
                   DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}", REDIS_URL=CLOSED_REDIS)
    line = one_error_line(done)
    assert "REDIS_URL" in line and CLOSED_REDIS in line


def test_dev_with_a_set_redis_url_that_does_not_answer_names_it(tmp_path: Path) -> None:
    """A REDIS_URL that is set is used as it is: no embedded Redis behind the user's back."""
    done = signoff("dev", "--skip-model-check", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}",
                   REDIS_URL=CLOSED_REDIS)
    line = one_error_line(done)
    assert "REDIS_URL" in line and CLOSED_REDIS in line


def test_a_malformed_setting_is_named(tmp_path: Path) -> None:
    done = signoff("worker", cwd=tmp_path, REDIS_URL="localhost:6379")
    line = one_error_line(done)
    assert "REDIS_URL" in line
