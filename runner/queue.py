"""Putting run work on RQ: jobs carry ids only (JSON), job ids make duplicates no-ops."""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from storage.timeouts import JOB_RESULT_TTL_S, JOB_TIMEOUT_S

DEFAULT_QUEUE = "signoff"


def make_queue(redis: Redis, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def _enqueue(queue: Queue, func: str, job_id: str, *args: object) -> Job | None:
    """Enqueue once: a second enqueue of the same job id (double click, retried event) is dropped."""
    try:
        return queue.enqueue(
            func,
            *args,
            job_id=job_id,
            unique=True,
            job_timeout=JOB_TIMEOUT_S,
            result_ttl=JOB_RESULT_TTL_S,
            failure_ttl=JOB_RESULT_TTL_S,
        )
    except DuplicateJobError:
        return None


def enqueue_start(queue: Queue, run_id: str) -> Job | None:
    return _enqueue(queue, "runner.jobs.start_run", f"start-{run_id}", run_id)


def continue_job_id(run_id: str, round: int) -> str:
    """One continue job per run and round: a second enqueue (double click, retried event) is dropped."""
    return f"continue-{run_id}-{round}"


def enqueue_continue(queue: Queue, run_id: str, round: int) -> Job | None:
    return _enqueue(queue, "runner.jobs.continue_run", continue_job_id(run_id, round), run_id, round)


def enqueue_retry(queue: Queue, run_id: str, attempt: int) -> Job | None:
    return _enqueue(queue, "runner.jobs.retry_run", f"retry-{run_id}-{attempt}", run_id)


def enqueue_recover(queue: Queue, run_id: str, version: int) -> Job | None:
    """A continue for a run found stuck at ``version``: one job per stuck state, however many passes see it."""
    return _enqueue(queue, "runner.jobs.continue_run", f"recover-{run_id}-{version}", run_id, -1)
