"""The web process built by ``create_app(deps)``: ``GET /healthz`` reports database and Redis.

Real pieces: SQLite or PostgreSQL, the local Redis, and a Redis client pointed at a closed port
for the outage. Slack is configured with dummy credentials: building the app calls no Slack API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from bot.deps import Deps, build_deps
from bot.settings import Settings
from bot.web.app import create_app
from storage.errors import SchemaBehind
from tests.conftest import REDIS_URL, migrated

CLOSED_REDIS = "redis://127.0.0.1:1/0"


def settings_for(db_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": REDIS_URL,
        "slack_bot_token": "xoxb-health-test",
        "slack_signing_secret": "health-test-secret",
        "slack_api_url": "http://127.0.0.1:1/api/",
        "signoff_agents": "runner.examples",
        "signoff_queue": "signoff-health-test",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Any]:
    made: list[tuple[TestClient, Deps]] = []

    def make(db_url: str | None = None, redis: Redis | None = None) -> TestClient:
        deps = build_deps(settings_for(db_url or f"sqlite:///{tmp_path / 'health.db'}"), redis=redis)
        client = TestClient(create_app(deps))
        made.append((client, deps))
        return client

    yield make
    for client, deps in made:
        client.close()
        deps.redis.close()
        deps.close()
        deps.db.dispose()


@pytest.mark.redis
def test_healthz_ok_with_database_and_redis_up(make_client: Any) -> None:
    response = make_client().get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.redis
@pytest.mark.postgres
def test_healthz_ok_on_postgres(make_client: Any, pg_url: str) -> None:
    migrated(pg_url).dispose()  # `signoff db upgrade`
    response = make_client(db_url=pg_url).get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


@pytest.mark.postgres
def test_the_web_app_on_a_database_behind_says_what_to_run(pg_url: str) -> None:
    """The web process never migrates a shared database: it says which command does."""
    with pytest.raises(SchemaBehind) as behind:
        build_deps(settings_for(pg_url))
    assert "has no signoff tables yet" in behind.value.message and "signoff db upgrade" in behind.value.message
    assert "PostgreSQL database 'test' on 127.0.0.1:5432" in behind.value.message


def test_healthz_503_names_redis_when_it_is_unreachable(make_client: Any) -> None:
    dead = Redis.from_url(CLOSED_REDIS, socket_connect_timeout=1)
    response = make_client(redis=dead).get("/healthz")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("unreachable: ")  # e.g. "unreachable: ConnectionError"
    assert "Error" in body["redis"]


def test_healthz_needs_no_api_token(make_client: Any) -> None:
    """Load balancers probe it without credentials; the REST API's bearer auth does not apply."""
    response = make_client(redis=Redis.from_url(CLOSED_REDIS, socket_connect_timeout=1)).get("/healthz")
    assert response.status_code == 503 and "detail" not in response.json()


def test_building_the_slack_app_does_not_warn_about_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """bolt reads SLACK_BOT_TOKEN itself and used to warn on every start that our client (pointed
    at SLACK_API_URL) wins; that is the intent, so the warning is gone."""
    from bot.slack.app import build_slack_app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-health-test")
    deps = build_deps(settings_for(f"sqlite:///{tmp_path / 'w.db'}"), db=migrated(f"sqlite:///{tmp_path / 'w.db'}"))
    try:
        with caplog.at_level(logging.DEBUG):
            build_slack_app(deps)
        assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
    finally:
        deps.close()
        deps.db.dispose()
