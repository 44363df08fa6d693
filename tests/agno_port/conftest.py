"""Harness for Agno's HITL tests ported with only their imports changed.

``shared_db`` is a signoff ``Database`` (embedded SQLite in a temp dir), as Agno's fixture of the
same name is its SqliteDb. The model is the scripted OpenAI-compatible fake: each ported test
carries ``@pytest.mark.agno_script(...)`` with the replies (tool calls and texts) a real model
gives in the original, so the original's assertions hold unchanged.
"""

# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Database
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "agno_script(*replies): the fake model's replies for a ported test")


@pytest.fixture(autouse=True)
def default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test whose agent names no ``db`` uses the default database: a temp file, never the repo's."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")


@pytest.fixture
def shared_db(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(f"sqlite:///{tmp_path / 'agno.db'}")
    yield db
    db.engine.dispose()


@pytest.fixture
def async_shared_db(shared_db: Database) -> Database:
    """Agno's async fixture: signoff's one ``Database`` serves ``arun`` and ``acontinue_run`` too."""
    return shared_db


@pytest.fixture(autouse=True)
def scripted_model(request: pytest.FixtureRequest, fake_openai: FakeOpenAI) -> FakeOpenAI:
    marker = request.node.get_closest_marker("agno_script")
    if marker is not None:
        fake_openai.script(*marker.args)
    return fake_openai


KNOWN_DIFFERENCES = {
    "test_error_fail_raises": (
        "a step failing under on_error='fail' ends the run with status failed, the error on the "
        "output and in the audit log; run() returns that output instead of raising the step's exception"
    ),
}
"""Ported tests that fail on a documented difference (see docs/agno_parity.md); strict xfail, so a
fix shows up as an unexpected pass."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        reason = KNOWN_DIFFERENCES.get(getattr(item, "originalname", item.name))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
