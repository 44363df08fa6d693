"""A throwaway database per benchmark run: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.database import Database


def fresh_database(base: str | None, workdir: Path, tag: str) -> tuple[str, str | None]:
    """(url, schema): SQLite when ``base`` is None, else a new schema on that PostgreSQL server."""
    if base is None:
        return f"sqlite:///{workdir / f'bench-{tag}.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    _admin_execute(base, f"CREATE SCHEMA {schema}")
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    _admin_execute(base, f"DROP SCHEMA {schema} CASCADE")


def _admin_execute(base: str, statement: str) -> None:
    admin = create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()
