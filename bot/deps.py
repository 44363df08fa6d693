"""What the web app, the worker and the CLI are built from; tests build their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from redis import Redis
from rq import Queue

from bot.settings import Settings
from runner.queue import make_queue
from runner.registry import Registry, load
from storage.codec import utcnow
from storage.database import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    redis: Redis
    queue: Queue
    registry: Registry
    clock: Callable[[], datetime] = field(default=utcnow)


def build_deps(
    settings: Settings, *, db: Database | None = None, redis: Redis | None = None, registry: Registry | None = None
) -> Deps:
    database = db or Database(settings.database_url)
    connection = redis or Redis.from_url(settings.redis_url)
    return Deps(
        settings=settings,
        db=database,
        redis=connection,
        queue=make_queue(connection, settings.signoff_queue),
        registry=registry or load(settings.signoff_agents),
        clock=database.clock,
    )
