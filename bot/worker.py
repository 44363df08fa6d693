"""``signoff worker``: an RQ worker on signoff's queue, with the Slack listener installed.

Jobs carry ids only (JSON serializer); the truth is in SQL. The worker also runs RQ's scheduler
(delayed jobs) and, unless in burst mode, the recovery loop: it re-enqueues runs whose jobs were
lost, expires overdue requirements and shows "Expired" on their Slack cards.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.serializers import JSONSerializer

from bot.notifier import SlackNotifier
from bot.settings import Settings
from runner import jobs, runtime
from runner.listener import RunListener
from runner.queue import make_queue
from runner.recovery import RecoveryReport, recover
from runner.registry import Registry, load
from storage.database import Database
from storage.errors import ConfigError
from storage.timeouts import RECOVERY_INTERVAL_S

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


def slack_notifier(settings: Settings, db: Database, registry: Registry) -> SlackNotifier | None:
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        log.warning("SLACK_BOT_TOKEN is not set: runs will not be posted to Slack")
        return None
    return SlackNotifier.from_settings(settings, db, registry)


def recovery_pass(db: Database, queue: Queue, notifier: SlackNotifier | None) -> RecoveryReport:
    """One recovery pass; cards of requirements that expired in it are updated in place."""
    report = recover(db, queue)
    if notifier is not None and report.expired:
        notifier.refresh_cards([db.get_requirement(i) for i in report.expired])
    return report


def _recovery_loop(db: Database, queue: Queue, notifier: SlackNotifier | None, stop: threading.Event) -> None:
    while not stop.wait(RECOVERY_INTERVAL_S):
        try:
            recovery_pass(db, queue, notifier)
        except Exception:
            log.exception("recovery pass failed")


def build_worker(
    settings: Settings, *, redis: Redis | None = None, db: Database | None = None
) -> tuple[Worker, SlackNotifier | None]:
    connection = redis or connect_redis(settings.redis_url)
    database = db or Database(settings.database_url)
    registry = load(settings.signoff_agents)
    notifier = slack_notifier(settings, database, registry)
    listeners: list[RunListener] = [notifier] if notifier else []
    rt = runtime.configure(database, listeners)
    jobs.configure(rt, registry)
    queue = make_queue(connection, settings.signoff_queue)
    return Worker([queue], connection=connection, serializer=JSONSerializer), notifier


def run_worker(settings: Settings, burst: bool = False, with_scheduler: bool = True) -> bool:
    worker, notifier = build_worker(settings)
    stop = threading.Event()
    if not burst:
        args = (runtime.current().db, worker.queues[0], notifier, stop)
        threading.Thread(target=_recovery_loop, args=args, name="signoff-recovery", daemon=True).start()
    try:
        return bool(worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO"))
    finally:
        stop.set()
