"""``PostgresDb`` for the ported cookbook: Agno's examples name a docker PostgreSQL
(``postgresql+psycopg://ai:ai@localhost:5532/ai``); the tests point them at the test server instead.

The harness (test_cookbook.py) creates a schema of its own per example, migrates it, and puts its
URL in ``COOKBOOK_PG_URL``; the examples keep their own ``db_url=...`` line verbatim, and this shim
connects to the harness's schema whatever URL the example names. That substitution is the only
difference from the original, documented in docs/agno_parity.md.
"""

from __future__ import annotations

import os
from typing import Any

from storage import Database

PG_URL_ENV = "COOKBOOK_PG_URL"
"""The environment variable holding the test schema's URL (set by the harness per example)."""

opened: list[Database] = []
"""Databases the shims opened, disposed by the harness after each example."""


def PostgresDb(db_url: str | None = None, **_agno_options: Any) -> Database:
    """The test schema's ``Database``; ``db_url`` (Agno's docker URL) and the table names are ignored."""
    del db_url, _agno_options
    url = os.environ.get(PG_URL_ENV)
    if not url:
        raise RuntimeError(f"{PG_URL_ENV} is not set: the cookbook harness provides the test schema")
    database = Database.open(url)
    opened.append(database)
    return database


AsyncPostgresDb = PostgresDb
"""signoff's ``Database`` serves sync and async runs alike, so the async store is the same shim."""
