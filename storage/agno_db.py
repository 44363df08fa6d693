"""``SqliteDb``: Agno's SQLite store constructor, so Agno code moves over with only its imports changed.

Agno code says ``db=SqliteDb(db_file="tmp/agents.db", session_table="sessions")``. signoff keeps
runs, sessions and approvals in its own tables, so the table names are accepted and not used; what
matters is which file, and that it exists with signoff's schema (``Database.open`` creates it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.database import Database

DEFAULT_DB_FILE = "agno.db"
"""The file Agno's SqliteDb uses when it is given neither a file nor a URL."""


def SqliteDb(
    db_file: str | Path | None = None,
    db_url: str | None = None,
    *,
    session_table: str | None = None,
    **_agno_options: Any,
) -> Database:
    """A signoff ``Database`` in the SQLite file (or at the URL) Agno's ``SqliteDb`` would use.

    The file's directory is created first: Agno's examples name paths such as ``tmp/example.db``
    and expect them to appear. ``session_table`` and Agno's other table names (``memory_table``,
    ``approvals_table``...) and ``id`` are accepted for compatibility and ignored, because signoff's
    tables are fixed by its migrations.
    """
    del session_table, _agno_options
    if db_url is None:
        path = Path(db_file if db_file is not None else DEFAULT_DB_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{path}"
    elif db_url.startswith("sqlite:///"):
        target = db_url[len("sqlite:///") :]
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
    return Database.open(db_url)
