"""``signoff worker``: an RQ worker on signoff's queue that hands each job its context, and runs
the jobs without forking (``DEFAULT_WORKER_CLASS`` says why).

Jobs carry ids only (JSON serializer); the truth is in SQL. The worker is built from the
container (``bot.deps``): each job runs inside ``runner.jobs.job_context`` with the runtime
(database, the Slack listener, the model server from the settings) and the registry of agents.
It also runs RQ's scheduler (delayed jobs) and, unless in burst mode, the recovery loop: it
re-enqueues runs whose jobs were lost, expires overdue requirements and shows "Expired" on their
Slack cards.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.executions import Execution
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker.base import BaseWorker

from bot.deps import Deps, build_deps
from bot.preflight import Report, check, load_registry
from bot.settings import Settings
from bot.slack.notifier import SlackNotifier
from runner.jobs import JobContext, job_context
from runner.recovery import RecoveryReport, recover
from runner.runtime import Runtime
from storage.database import Database
from storage.errors import ConfigError
from storage.timeouts import RECOVERY_INTERVAL_S

log = logging.getLogger(__name__)


class ContextWorker(Worker):
    """RQ's forking worker (a work horse per job); every job runs with the container's ``JobContext``."""

    job_context: JobContext

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        with job_context(self.job_context):
            return bool(super().perform_job(job, queue, execution))


class ContextSimpleWorker(SimpleWorker):
    """The same without forking: the default (``DEFAULT_WORKER_CLASS``)."""

    job_context: JobContext

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        with job_context(self.job_context):
            return bool(super().perform_job(job, queue, execution))


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


WORKER_CLASSES = ("simple", "fork")
DEFAULT_WORKER_CLASS = "simple"
"""Jobs run in the worker process itself (RQ's ``SimpleWorker``), chosen by measurement
(``bench/throughput.py --unloaded --worker-class fork,simple``, ``docs/benchmarks.md``): forking
a work horse per job, then opening its own database connections, cost about as much again as the
job (click to tool start p50 ~150 ms forking, ~90 ms not; pause to card ~60 ms vs ~30 ms) and
halved sequential throughput. The imports and the container are already loaded either way, so a
"preloading" forking worker buys nothing more. What not forking gives up, isolation, the design
already covers: a job that kills its worker leaves the run's heartbeat to go stale and the
recovery pass of another worker takes it over (the claims keep every tool at most once); a job
that hangs is still stopped by RQ's timeout (an alarm signal in the worker's main thread); and
jobs carry ids only, so nothing leaks from one to the next but what the process caches on
purpose (the registry, the connection pools). ``fork`` stays available (``run_worker(kind=...)``)."""


def make_worker(deps: Deps, *, forking: bool = DEFAULT_WORKER_CLASS == "fork") -> BaseWorker:
    """A worker on the container's queue whose jobs run with the container's runtime and agents."""
    runtime = replace(deps.runtime, reminders=deps.settings.reminders())
    context = JobContext(runtime, deps.registry, queue=deps.queue)
    if forking:
        forked = ContextWorker([deps.queue], connection=deps.redis, serializer=JSONSerializer)
        forked.job_context = context
        return forked
    simple = ContextSimpleWorker([deps.queue], connection=deps.redis, serializer=JSONSerializer)
    simple.job_context = context
    return simple


def recovery_pass(
    db: Database, queue: Queue, notifier: SlackNotifier | None, runtime: Runtime | None = None
) -> RecoveryReport:
    """One recovery pass; cards of requirements that expired in it are updated in place, and
    due reminders and escalations are sent through the runtime's listeners."""
    report = recover(db, queue, runtime)
    db.maintain_audit()  # chains audit events no appender sealed (PostgreSQL), bounding that window
    if notifier is not None and report.expired:
        notifier.refresh_cards([db.get_requirement(i) for i in report.expired])
    return report


def _recovery_loop(
    db: Database, queue: Queue, notifier: SlackNotifier | None, runtime: Runtime, stop: threading.Event
) -> None:
    while not stop.wait(RECOVERY_INTERVAL_S):
        try:
            recovery_pass(db, queue, notifier, runtime)
        except Exception:
            log.exception("recovery pass failed")


def run_worker(
    settings: Settings,
    burst: bool = False,
    with_scheduler: bool = True,
    check_model: bool = True,
    kind: str = DEFAULT_WORKER_CLASS,
) -> bool:
    report = Report()
    registry = load_registry(settings, report)
    if registry is not None:
        found, db = check(settings, registry, need_slack=False, model=check_model, create_database=True)
        report = Report(report.facts + found.facts, report.warnings + found.warnings, report.problems + found.problems)
        if db is not None:
            db.dispose()
    report.raise_problems()
    for warning in report.warnings:
        log.warning("%s", warning)
    deps = build_deps(settings, redis=connect_redis(settings.redis_url), registry=registry)
    if deps.notifier is None:
        log.warning("SLACK_BOT_TOKEN is not set: runs will not be posted to Slack")
    if kind not in WORKER_CLASSES:
        raise ConfigError("worker class", f"{kind!r} is not one of {', '.join(WORKER_CLASSES)}")
    worker = make_worker(deps, forking=kind == "fork")
    stop = threading.Event()
    if not burst:
        args = (deps.db, deps.queue, deps.notifier, deps.runtime, stop)
        threading.Thread(target=_recovery_loop, args=args, name="signoff-recovery", daemon=True).start()
    try:
        return bool(worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO"))
    finally:
        stop.set()
