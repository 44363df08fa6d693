"""Migrations: ``signoff db upgrade`` migrates, processes starting at once never race, and a
process that finds the schema behind says which command to run.

Real PostgreSQL (a fresh schema per test) and real subprocesses of the installed console script.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, text

from storage import chain
from storage import schema as t
from storage.database import Database
from storage.errors import ConfigError, SchemaBehind
from storage.export import verify_database
from storage.migrate import MIGRATIONS, alembic_config, head
from storage.records import Actor
from tests.test_cli import ROOT, SIGNOFF, one_error_line, signoff


def _revision(name: str) -> ModuleType:
    """A migration module (its file name starts with a digit, so it is loaded by path)."""
    (path,) = (MIGRATIONS / "versions").glob(f"{name}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INDEXES: tuple[tuple[str, str, list[str]], ...] = _revision("0004").INDEXES


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



def test_0004_continues_an_existing_chain_adds_the_indexes_and_downgrades(db_url: str) -> None:
    """A database at 0003 with a chain (written row by row as 0003's code did) upgrades to 0004:
    new appends (sealed on PostgreSQL, inline on SQLite) continue that chain, and the indexes the
    big-table plans asked for exist; downgrading to 0003 and back is clean."""
    db = Database(db_url)
    try:
        db.upgrade("0003")
        prev = chain.GENESIS_HASH
        with db.engine.begin() as conn:
            for seq in range(1, 4):
                row = {name: None for name in chain.HASHED_FIELDS} | {
                    "seq": seq, "ts": f"2026-11-0{seq}T09:00:00.000000Z", "actor_kind": "human", "actor_id": "U1",
                    "action": "requirement.approved", "run_id": "r1"}
                digest = chain.chain_hash(row, prev)
                conn.execute(insert(t.audit_events).values(**row, prev_hash=prev, hash=digest))
                prev = digest
        db.upgrade()
        db.append_audit(action="after.upgrade", actor=Actor("U2"), run_id="r1", arguments={"n": 1})
        assert verify_database(db).summary() == "chain OK: 4 events"
        assert [e.action for e in db.audit_events(run_id="r1")][-1] == "after.upgrade"
        with db.engine.connect() as conn:
            indexes = {i["name"] for table in ("runs", "audit_events", "slack_messages", "seen_events", "approvals")
                       for i in inspect(conn).get_indexes(table)}
            assert {name for name, _table, _columns in INDEXES} <= indexes
            assert "ix_audit_run" not in indexes and "audit_pending" in inspect(conn).get_table_names()
        command.downgrade(alembic_config(db.engine), "0003")
        with db.engine.connect() as conn:
            assert "audit_pending" not in inspect(conn).get_table_names()
            assert "ix_audit_run" in {i["name"] for i in inspect(conn).get_indexes("audit_events")}
        db.upgrade()
        assert verify_database(db).summary() == "chain OK: 4 events"
    finally:
        db.dispose()
