"""Migrations: ``signoff db upgrade`` migrates, processes starting at once never race, and a
process that finds the schema behind says which command to run.

Real PostgreSQL (a fresh schema per test) and real subprocesses of the installed console script.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from storage.database import Database
from storage.errors import ConfigError, SchemaBehind
from storage.migrate import head
from tests.test_cli import ROOT, SIGNOFF, one_error_line, signoff


@pytest.mark.postgres
def test_four_processes_upgrading_a_fresh_postgres_at_once_take_turns(pg_url: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "DATABASE_URL": pg_url}
    procs = [
        subprocess.Popen([str(SIGNOFF), "db", "upgrade"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    for out, err, code in results:
        assert code == 0, (out, err)
        assert out.strip() == f"database at revision {head()}", (out, err)
        assert "Traceback" not in err
    engine = create_engine(Database(pg_url).url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert versions == [head()], "one row: nobody migrated twice"
    assert {"runs", "requirements", "approvals", "audit_events", "api_tokens"} <= tables
    Database.open(pg_url).dispose()  # a process starting now finds the schema current


@pytest.mark.postgres
def test_a_process_on_a_database_behind_names_the_command(pg_url: str) -> None:
    db = Database(pg_url)
    db.upgrade("0001")
    with pytest.raises(SchemaBehind) as behind:
        Database.open(pg_url)
    assert "is at revision 0001" in behind.value.message and "signoff db upgrade" in behind.value.message
    db.upgrade()
    Database.open(pg_url).dispose()
    db.dispose()


def test_the_embedded_sqlite_is_created_by_the_process_that_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = Database.open(f"sqlite:///{path}")
    assert path.exists() and db.describe() == f"SQLite file {path.resolve()}"
    db.dispose()
    behind = tmp_path / "old.db"
    old = Database(f"sqlite:///{behind}")
    old.upgrade("0001")
    old.dispose()
    with pytest.raises(SchemaBehind) as error:
        Database.open(f"sqlite:///{behind}")
    assert str(behind.resolve()) in error.value.message and "signoff db upgrade" in error.value.message


def test_building_a_database_object_does_nothing(tmp_path: Path) -> None:
    path = tmp_path / "untouched.db"
    Database(f"sqlite:///{path}").dispose()
    assert not path.exists(), "the constructor neither connects nor migrates"
    with pytest.raises(ConfigError) as missing:
        Database.open(f"sqlite:///{path}", create=False)
    assert "there is no database" in missing.value.message and not path.exists()


def test_audit_verify_refuses_to_create_a_database(tmp_path: Path) -> None:
    done = signoff("audit", "verify", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'nothing.db'}")
    line = one_error_line(done)
    assert "there is no database" in line and "nothing.db" in line
    assert not (tmp_path / "nothing.db").exists()


def test_db_upgrade_with_a_bad_url_is_one_line(tmp_path: Path) -> None:
    done = signoff("db", "upgrade", cwd=tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    line = one_error_line(done)
    assert "database" in line.lower()
    unknown = signoff("db", "upgrade", cwd=tmp_path, DATABASE_URL="mysql+nosuchdriver://x/y")
    one_error_line(unknown)

