"""Reusable pytest fixtures around the fakes (imported from conftest or test modules)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A started :class:`FakeOpenAI`, with ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` pointing at it.

    ``OPENAI_MODEL`` is removed so a developer's shell cannot change which model id tests see.
    """
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
        monkeypatch.delenv("OPENAI_MODEL", raising=False)
        yield fake
