"""``signoff worker``: an RQ worker on signoff's queue, with the Slack listener installed.

Jobs carry ids only (JSON serializer); the truth is in SQL. The worker also runs RQ's scheduler
(delayed jobs) and, unless in burst mode, the recovery loop that re-enqueues runs whose jobs were
lost and expires overdue requirements.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.serializers import JSONSerializer

from bot.notifier import SlackNotifier
from bot.settings import Settings
from runner import jobs, runtime
from runner.listener import RunListener
from runner.queue import make_queue
from runner.registry import load
from storage.database import Database
from storage.errors import ConfigError

log = logging.getLogger(__name__)


def connect_redis(url: str) -> Redis:
    """A Redis connection that answered PING, or a ConfigError that says what to do."""
    connection = Redis.from_url(url, socket_connect_timeout=3)
    try:
        connection.ping()
    except RedisError as exc:
        raise ConfigError(
            "REDIS_URL",
            f"cannot reach Redis at {url} ({exc}); start it (e.g. `redis-server`) or point REDIS_URL at one",
        ) from None
    return connection


def listeners_for(settings: Settings, db: Database, registry: object) -> list[RunListener]:
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        log.warning("SLACK_BOT_TOKEN is not set: runs will not be posted to Slack")
        return []
    return [SlackNotifier.from_settings(settings, db, registry)]  # type: ignore[arg-type]


def build_worker(settings: Settings, *, redis: Redis | None = None, db: Database | None = None) -> Worker:
    connection = redis or connect_redis(settings.redis_url)
    database = db or Database(settings.database_url)
    registry = load(settings.signoff_agents)
    rt = runtime.configure(database, listeners_for(settings, database, registry))
    jobs.configure(rt, registry)
    queue = make_queue(connection, settings.signoff_queue)
    return Worker([queue], connection=connection, serializer=JSONSerializer)


def run_worker(settings: Settings, burst: bool = False, with_scheduler: bool = True) -> bool:
    worker = build_worker(settings)
    stop = threading.Event()
    if not burst:
        from runner.recovery import run_periodically

        db = runtime.current().db
        queue = worker.queues[0]
        threading.Thread(target=run_periodically, args=(db, queue, stop), name="signoff-recovery", daemon=True).start()
    try:
        return bool(worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO"))
    finally:
        stop.set()
