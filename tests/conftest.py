"""Shared fixtures: a database on each backend, isolated per test, and the fakes.

PostgreSQL tests run in a schema of their own (created and dropped per test), so several test
runs can share the machine's server; SQLite tests get a fresh file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from runner import runtime
from runner.runtime import Runtime
from storage import Database
from tests.fakes.fixtures import fake_openai  # noqa: F401

PG_URL = os.environ.get("SIGNOFF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SIGNOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def migrated(url: str, **kwargs: Any) -> Database:
    """A database at this release's schema (tests create theirs fresh: ``signoff db upgrade``'s job)."""
    database = Database(url, **kwargs)
    database.upgrade()
    return database


def pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'signoff.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Both backends: storage tests run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'signoff.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = migrated(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The embedded default: the runtime of the test (``runtime.using``) and its DATABASE_URL, so a
    script-style ``agent.run`` and a subprocess both find it."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    database = migrated(sqlite_url)
    try:
        with runtime.using(Runtime.for_database(database)):
            yield database
    finally:
        database.dispose()


@pytest.fixture
def queue_name() -> str:
    """A queue of its own per test, so test runs sharing the local Redis never see each other's jobs."""
    return f"signoff-test-{uuid.uuid4().hex[:10]}"
