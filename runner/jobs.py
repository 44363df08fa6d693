"""The RQ jobs. They take ids, read the truth from SQL, and drive the run with the driver.

A job may run twice (RQ is at-least-once): the run's lease and the tool-execution claims make the
second run a no-op instead of a second refund.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

from runner import driver
from runner.registry import Registry, load
from runner.runtime import Runtime, current
from storage.errors import NotFound, RunBusy, RunNotPaused, SignoffError
from storage.records import Actor, RunStatus

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    runtime: Runtime
    registry: Registry
    pid: int


_context: WorkerContext | None = None


def configure(runtime: Runtime, registry: Registry) -> None:
    """Called once by the worker process before it starts taking jobs."""
    global _context
    _context = WorkerContext(runtime, registry, os.getpid())


def _ctx() -> WorkerContext:
    global _context
    if _context is None:
        _context = WorkerContext(current(), load(os.environ.get("SIGNOFF_AGENTS") or "runner.examples"), os.getpid())
    if _context.pid != os.getpid():
        # A forked work horse must not share the parent's pooled database connections.
        _context.runtime.db.after_fork()
        _context.pid = os.getpid()
    return _context


def _target(ctx: WorkerContext, run_id: str) -> object:
    run = ctx.runtime.db.get_run(run_id)
    target = ctx.registry.get(run.target_id)
    if target is None:
        raise SignoffError(f"run {run_id} is for {run.target_id!r}, which {ctx.registry.module} no longer defines")
    return target


def _fail_unknown_target(ctx: WorkerContext, run_id: str, exc: SignoffError) -> str:
    run = ctx.runtime.db.get_run(run_id)
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
        output = driver.collect(driver.begin(target, ctx.runtime, run_id))  # type: ignore[arg-type]
    except RunBusy as exc:
        log.info("start_run: run %s already taken (%s)", run_id, exc.status)
        return "skipped"
    return str(output.status)


def continue_run(run_id: str, round: int) -> str:
    ctx = _ctx()
    try:
        target = _target(ctx, run_id)
    except NotFound:
        return "missing"
    except SignoffError as exc:
        return _fail_unknown_target(ctx, run_id, exc)
    try:
        output = driver.collect(driver.resume(target, ctx.runtime, run_id))  # type: ignore[arg-type]
    except (RunBusy, RunNotPaused) as exc:
        log.info("continue_run: run %s round %s skipped: %s", run_id, round, exc)
        return "skipped"
    return str(output.status)


def retry_run(run_id: str) -> str:
    ctx = _ctx()
    try:
        target = _target(ctx, run_id)
    except SignoffError:
        return "missing"
    try:
        output = driver.collect(driver.retry(target, ctx.runtime, run_id))  # type: ignore[arg-type]
    except (RunBusy, RunNotPaused):
        return "skipped"
    return str(output.status)
