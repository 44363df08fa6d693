"""RQ: putting run work on the queue, and the jobs a worker runs.

Jobs carry ids only (JSON, never pickled objects): SQL holds the truth, Redis only carries work.
A job id derived from the run (and its round) makes a duplicate enqueue (a double click, a
retried event) a no-op. A job reads the run from SQL and drives it with ``runner.driver``, in the
``JobContext`` its worker hands it (``bot.worker``: the runtime and the registry built from the
settings); nothing is configured module-wide.

A job may run twice (RQ is at-least-once): the run's lease and the tool-execution claims make the
second run a no-op instead of a second refund.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from runner import driver
from runner.protocols import Runnable
from runner.registry import Registry
from runner.runtime import Runtime, using
from storage.errors import ConfigError, NotFound, RunBusy, RunNotPaused, SignoffError
from storage.records import Actor, RequirementRecord, RequirementStatus, RunStatus
from storage.timeouts import JOB_RESULT_TTL_S, JOB_TIMEOUT_S

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "signoff"


# ------------------------------------------------------------------------------ enqueueing


def make_queue(redis: Redis, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def _enqueue(queue: Queue, func: str, job_id: str, *args: object, at_front: bool = False) -> Job | None:
    """Enqueue once: a second enqueue of the same job id (double click, retried event) is dropped."""
    try:
        return queue.enqueue(
            func,
            *args,
            job_id=job_id,
            unique=True,
            at_front=at_front,
            job_timeout=JOB_TIMEOUT_S,
            result_ttl=JOB_RESULT_TTL_S,
            failure_ttl=JOB_RESULT_TTL_S,
        )
    except DuplicateJobError:
        log.debug("job %s is already queued", job_id)
        return None


def continue_job_id(run_id: str, round: int) -> str:
    """One continue job per run and round."""
    return f"continue-{run_id}-{round}"


def enqueue_start(queue: Queue, run_id: str) -> Job | None:
    return _enqueue(queue, "runner.jobs.start_run", f"start-{run_id}", run_id)


def enqueue_continue(queue: Queue, run_id: str, round: int) -> Job | None:
    """At the front of the queue: a person has just decided and waits for the tool, while a start
    can wait its turn (with 1,000 starts queued, a click waited 20 to 30 s for its tool behind them;
    ``docs/benchmarks.md``). Continues are served before starts, not in order among themselves."""
    return _enqueue(queue, "runner.jobs.continue_run", continue_job_id(run_id, round), run_id, round, at_front=True)


def enqueue_retry(queue: Queue, run_id: str, attempt: int) -> Job | None:
    return _enqueue(queue, "runner.jobs.retry_run", f"retry-{run_id}-{attempt}", run_id)


def schedule_nudges(queue: Queue, requirements: list[RequirementRecord]) -> int:
    """Put the reminders and escalations of pending requirements on RQ's scheduler (the worker
    runs it). The job checks SQL and acts only if still due and pending, so a duplicate, a late
    one, or one the recovery sweep got to first does nothing. Returns how many were scheduled."""
    count = 0
    for req in requirements:
        if not req.is_pending:
            continue
        for kind, moment, done in (("remind", req.remind_at, req.reminded_at), ("escalate", req.escalate_at,
                                                                                 req.escalated_at)):
            if moment is None or done is not None:
                continue
            queue.enqueue_at(
                moment,
                "runner.jobs.nudge",
                req.id,
                job_id=f"{kind}-{req.id}",
                job_timeout=JOB_TIMEOUT_S,
                result_ttl=JOB_RESULT_TTL_S,
                failure_ttl=JOB_RESULT_TTL_S,
            )
            count += 1
    return count


def enqueue_recover(queue: Queue, run_id: str, version: int) -> Job | None:
    """A continue for a run found stuck at ``version``: one job per stuck state, however many passes see it."""
    return _enqueue(queue, "runner.jobs.continue_run", f"recover-{run_id}-{version}", run_id, -1)


# ------------------------------------------------------------------------------ the jobs


@dataclass
class JobContext:
    """What a job runs with: handed over by its worker for each job."""

    runtime: Runtime
    registry: Registry
    pid: int = field(default_factory=os.getpid)
    queue: Queue | None = None
    """Where the reminders and escalations of the requirements a job creates are scheduled."""


_context: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar("signoff_job", default=None)


@contextlib.contextmanager
def job_context(ctx: JobContext) -> Iterator[JobContext]:
    """Run the jobs inside the block with ``ctx`` (the worker wraps each job in this)."""
    if ctx.pid != os.getpid():
        # A forked work horse must not share the parent's pooled database connections.
        ctx.runtime.db.after_fork()
        ctx.pid = os.getpid()
    token = _context.set(ctx)
    try:
        with using(ctx.runtime):
            yield ctx
    finally:
        _context.reset(token)


def _ctx() -> JobContext:
    ctx = _context.get()
    if ctx is None:
        raise ConfigError(
            "SIGNOFF_AGENTS", "signoff jobs run in `signoff worker`, which gives them the runtime and the agents"
        )
    return ctx


def _target(ctx: JobContext, run_id: str) -> Runnable:
    run = ctx.runtime.db.get_run(run_id)
    target = ctx.registry.get(run.target_id)
    if target is None:
        raise SignoffError(f"run {run_id} is for {run.target_id!r}, which {ctx.registry.module} no longer defines")
    return target


def _fail_unknown_target(ctx: JobContext, run_id: str, exc: SignoffError) -> str:
    run = ctx.runtime.db.get_run(run_id)
    log.warning("run %s cannot run: %s", run_id, exc.message)
    with contextlib.suppress(RunBusy):
        ctx.runtime.db.save_run(
            run_id,
            expected_version=run.version,
            status=RunStatus.FAILED,
            error=exc.message,
            error_kind="unknown_target",
            audit={"action": "run.failed", "actor": Actor.system(), "outcome": "unknown_target", "reason": exc.message},
        )
    return "failed"


def _after_job(ctx: JobContext, run_id: str) -> None:
    """Schedule the nudges of the requirements the job's pause created (when it paused)."""
    if ctx.queue is None:
        return
    try:
        pending = ctx.runtime.db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
        schedule_nudges(ctx.queue, pending)
    except Exception:  # the recovery sweep reminds anyway; a lost schedule is never a lost run
        log.warning("could not schedule the reminders of run %s", run_id, exc_info=True)


def nudge(requirement_id: str) -> str:
    """The scheduled reminder or escalation of one requirement: acts only if still due."""
    from runner.recovery import nudge_requirement

    ctx = _ctx()
    return nudge_requirement(ctx.runtime, requirement_id)


def start_run(run_id: str) -> str:
    ctx = _ctx()
    try:
        target = _target(ctx, run_id)
    except NotFound:
        log.warning("start_run: run %s does not exist", run_id)
        return "missing"
    except SignoffError as exc:
        return _fail_unknown_target(ctx, run_id, exc)
    try:
        output = driver.collect(driver.begin(target, ctx.runtime, run_id))
    except RunBusy as exc:
        log.info("start_run: run %s already taken (%s)", run_id, exc.status)
        return "skipped"
    _after_job(ctx, run_id)
    return str(output.status)


def continue_run(run_id: str, round: int) -> str:
    ctx = _ctx()
    try:
        target = _target(ctx, run_id)
    except NotFound:
        log.warning("continue_run: run %s does not exist", run_id)
        return "missing"
    except SignoffError as exc:
        return _fail_unknown_target(ctx, run_id, exc)
    try:
        output = driver.collect(driver.resume(target, ctx.runtime, run_id))
    except (RunBusy, RunNotPaused) as exc:
        log.info("continue_run: run %s round %s skipped: %s", run_id, round, exc)
        return "skipped"
    _after_job(ctx, run_id)
    return str(output.status)


def retry_run(run_id: str) -> str:
    ctx = _ctx()
    try:
        target = _target(ctx, run_id)
    except SignoffError as exc:
        log.warning("retry_run: run %s cannot be retried: %s", run_id, exc.message)
        return "missing"
    try:
        output = driver.collect(driver.retry(target, ctx.runtime, run_id))
    except (RunBusy, RunNotPaused) as exc:
        log.info("retry_run: run %s skipped: %s", run_id, exc)
        return "skipped"
    return str(output.status)
