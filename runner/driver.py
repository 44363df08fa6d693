"""Starting, continuing and retrying a run of any runnable (agent, team, workflow).

This is where a run's lease is taken, where a caller's local decisions are applied to SQL, and
where a pause, an answer or a failure is persisted and announced to listeners. The same code
serves ``agent.run`` in a script and the RQ jobs in a worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from runner.approval import Reminders
from runner.events import RunCompleted, RunContinued, RunError, RunEvent, RunPaused, RunStarted
from runner.listener import dispatch
from runner.output import RunOutput, build_output
from runner.protocols import Cancelled, Completed, Paused, Runnable, Scope
from runner.run_requirement import RunRequirement
from runner.runtime import Runtime
from storage.database import Database
from storage.errors import AlreadyDecided, ApprovalPending, ModelError, RequirementExpired, RunBusy, RunNotPaused
from storage.records import Actor, NewRequirement, Principal, RequirementStatus, RunRecord, RunStatus, Surface
from storage.runs import CallResult
from storage.timeouts import HEARTBEAT_INTERVAL_S

log = logging.getLogger(__name__)


def output_of(target: Runnable, runtime: Runtime, run: RunRecord) -> RunOutput:
    return build_output(runtime.db, run, target.lookup)


def start(
    target: Runnable,
    runtime: Runtime,
    input: str,
    *,
    requester: str | None = None,
    requester_name: str | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
    stream: bool = False,
    run_id: str | None = None,
    session_id: str | None = None,
    session_state: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> Iterator[RunEvent]:
    """Create the run and drive it until it pauses, completes or fails.

    ``state`` (default: the target's initial state) lets the caller start from a session's
    history; ``session_id`` / ``session_state`` are kept on the run row."""
    run = runtime.db.create_run(
        kind=target.kind,
        target_id=target.id,
        target_name=target.name,
        input=input,
        state=state if state is not None else target.initial_state(input, requester),
        session_id=session_id,
        session_state=session_state,
        requester=requester,
        requester_name=requester_name,
        channel=channel,
        thread_ts=thread_ts,
        run_id=run_id,
    )
    dispatch(runtime.listeners, "on_started", run)
    yield RunStarted(run.id, agent_id=target.id)
    yield from _drive(target, runtime, run, stream, fresh=True)


def begin(target: Runnable, runtime: Runtime, run_id: str, *, stream: bool = False) -> Iterator[RunEvent]:
    """Drive a run that was created ``queued`` (by the Slack command) in a worker."""
    run = runtime.db.acquire_run(run_id, from_statuses=[RunStatus.QUEUED])
    dispatch(runtime.listeners, "on_started", run)
    yield RunStarted(run.id, agent_id=target.id)
    yield from _drive(target, runtime, run, stream, fresh=True)


def resume(
    target: Runnable,
    runtime: Runtime,
    run_id: str,
    requirements: Sequence[RunRequirement] | None = None,
    *,
    actor_id: str | None = None,
    stream: bool = False,
) -> Iterator[RunEvent]:
    """Apply the caller's decisions, then continue the run if nothing is left pending.

    A run with requirements still pending stays paused (never an implicit rejection); a run that
    already finished is reported as it is, so a decision delivered twice changes nothing.
    """
    db = runtime.db
    run = db.get_run(run_id)
    if run.is_finished:
        yield _final_event(target, runtime, run)
        return
    if requirements:
        _apply_local(target, runtime, run, requirements, actor_id)
    try:
        # Nothing pending and still paused: the lease, in one conditional UPDATE.
        acquired = db.acquire_ready_run(run_id)
    except (RunBusy, RunNotPaused) as exc:
        # Someone else moved the run (another worker continued it, or it finished): not an error.
        latest = db.get_run(run_id)
        if latest.is_finished:
            yield _final_event(target, runtime, latest)
            return
        log.info("run %s was not continued here: %s", run_id, exc.message)
        raise RunBusy(run_id, str(latest.status)) from None
    if acquired is None and db.expire_due_for_run(run_id):
        acquired = db.acquire_ready_run(run_id)
    if acquired is None:
        output = output_of(target, runtime, db.get_run(run_id))
        yield RunPaused(run_id, requirements=output.requirements, output=output)
        return
    run = acquired
    dispatch(runtime.listeners, "on_resumed", run)
    yield RunContinued(run_id, agent_id=target.id)
    yield from _drive(target, runtime, run, stream)


def retry(target: Runnable, runtime: Runtime, run_id: str, *, stream: bool = False) -> Iterator[RunEvent]:
    """Resume a failed run from its last checkpoint (tools already run are not run again)."""
    run = runtime.db.acquire_run(run_id, from_statuses=[RunStatus.FAILED])
    runtime.db.append_audit(action="run.retried", actor=Actor.system(), run_id=run_id, agent_id=target.id)
    dispatch(runtime.listeners, "on_resumed", run)
    yield RunContinued(run_id, agent_id=target.id)
    yield from _drive(target, runtime, run, stream)


def collect(events: Iterable[RunEvent]) -> RunOutput:
    """The non-streaming result: run the events to the end and return the final output."""
    final: RunOutput | None = None
    for event in events:
        output = getattr(event, "output", None)
        if output is not None:
            final = output
    if final is None:
        raise RuntimeError("run ended without a final event")
    return final


def _apply_local(
    target: Runnable,
    runtime: Runtime,
    run: RunRecord,
    requirements: Sequence[RunRequirement],
    actor_id: str | None,
) -> None:
    """A script's decisions (``req.confirm()`` ...) go through the same decision service as a
    click: policy on the final arguments, escalation, one conditional UPDATE, the audit row."""
    from runner.decisions import Action, DecisionService

    db = runtime.db
    decided = [r for r in requirements if r.decision is not None]
    blocked = [
        r.approval_id or r.id for r in decided if r.approval_type == "required" and db.get_requirement(r.id).is_pending
    ]
    if blocked:
        raise ApprovalPending(blocked)
    service = DecisionService(
        db, lookup=target.lookup, listeners=runtime.listeners, default_approvers=runtime.approvers
    )
    principal = Principal(actor_id or run.requester or "sdk")
    for req in decided:
        if req.approval_type == "required":
            continue  # resolved by an approver already; the caller's copy does not count
        assert req.decision is not None
        status = req.decision.status
        resolution = req.decision.resolution
        kwargs: dict[str, Any] = {"note": resolution.get("note")}
        if status is RequirementStatus.REJECTED:
            action = Action.REJECT
            if resolution.get("on_reject") is not None:
                kwargs["on_reject"] = resolution["on_reject"]
        elif status is RequirementStatus.ANSWERED:
            action, kwargs["values"] = Action.ANSWER, resolution.get("values", {})
        elif status is RequirementStatus.DONE_EXTERNALLY:
            action, kwargs["result"] = Action.DONE, resolution.get("result")
        elif resolution.get("edited_args") is not None:
            action, kwargs["args"] = Action.EDIT, resolution["edited_args"]
        else:
            action = Action.APPROVE
        try:
            service.decide(req.id, principal, action, surface=Surface.SDK, resume=False, **kwargs)
        except AlreadyDecided as exc:
            if exc.status != str(status):
                log.warning(
                    "requirement %s was already %s by %s; the caller's %s is ignored",
                    req.id,
                    exc.status,
                    exc.decided_by,
                    status,
                )
        except RequirementExpired:
            log.warning("requirement %s expired before the caller's decision", req.id)


def _final_event(target: Runnable, runtime: Runtime, run: RunRecord) -> RunEvent:
    output = output_of(target, runtime, run)
    if run.status is RunStatus.FAILED:
        return RunError(run.id, error=run.error or "", kind=run.error_kind, output=output)
    return RunCompleted(run.id, content=run.content, output=output)


class Heartbeat:
    """While a worker drives a run, its heartbeat refreshes ``runs.heartbeat_at`` every
    ``interval`` seconds (also while a long tool runs), under the run's lease: the version the
    scope holds now. Recovery takes over a running run whose heartbeat went stale, so a dead
    worker's run moves on within a minute; a stale worker's beats match nothing.

    One thread per process beats for every run being driven (``_Beater``): starting a thread per
    advance cost more than the rest of a short advance's bookkeeping."""

    def __init__(self, db: Database, scope: Scope, interval: float = HEARTBEAT_INTERVAL_S) -> None:
        self.db = db
        self.scope = scope
        self.interval = interval
        self.due = 0.0

    def beat(self) -> None:
        try:
            self.db.heartbeat(self.scope.run_id, version=self.scope.version)
        except Exception:  # a missed beat is not a failure; recovery waits several of them
            log.warning("heartbeat of run %s failed", self.scope.run_id, exc_info=True)

    def __enter__(self) -> Heartbeat:
        _BEATER.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _BEATER.remove(self)


class _Beater:
    """The process's heartbeat thread: wakes when the soonest registered beat is due, beats
    (outside its lock, so a run ending never waits for SQL) and schedules the next one. Started
    on first use; a forked child (an RQ work horse) gets a fresh one, as a fork copies no thread
    and perhaps a held lock."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._beats: set[Heartbeat] = set()
        self._started = False

    def add(self, heartbeat: Heartbeat) -> None:
        with self._cond:
            heartbeat.due = time.monotonic() + heartbeat.interval
            self._beats.add(heartbeat)
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="signoff-heartbeat", daemon=True).start()
            self._cond.notify()

    def remove(self, heartbeat: Heartbeat) -> None:
        with self._cond:
            self._beats.discard(heartbeat)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [h for h in self._beats if h.due <= now]
                if not due:
                    soonest = min((h.due for h in self._beats), default=None)
                    self._cond.wait(None if soonest is None else soonest - now)
                    continue
                for heartbeat in due:
                    heartbeat.due = now + heartbeat.interval
            for heartbeat in due:
                heartbeat.beat()


_BEATER = _Beater()


def _fresh_beater() -> None:
    global _BEATER
    _BEATER = _Beater()


os.register_at_fork(after_in_child=_fresh_beater)


def with_defaults(specs: Sequence[NewRequirement], defaults: Reminders | None) -> list[NewRequirement]:
    """New requirements with the settings' reminders where the tool or approval set none."""
    if defaults is None:
        return list(specs)
    out: list[NewRequirement] = []
    for spec in specs:
        out.append(
            replace(
                spec,
                remind_in_s=spec.remind_in_s if spec.remind_in_s is not None else defaults.remind_after,
                escalate_in_s=spec.escalate_in_s if spec.escalate_in_s is not None else defaults.escalate_after,
                escalate_to=spec.escalate_to or list(defaults.escalate_to) or None,
            )
        )
    return out


def _drive(
    target: Runnable, runtime: Runtime, run: RunRecord, stream: bool, *, fresh: bool = False
) -> Iterator[RunEvent]:
    """Advance the run under its lease and write how the advance ended, in one transaction with
    what the advance left unsaved (its last model turn, tool results). ``fresh``: the run was
    never driven, so it has no requirements to read."""
    db = runtime.db
    scope = Scope(
        db=db,
        run_id=run.id,
        version=run.version,
        requester=run.requester,
        agent_id=target.id,
        stream=stream,
        decisions={} if fresh else {r.call_key: r for r in db.requirements_for_run(run.id)},
        model_defaults=runtime.models(),
        session_id=run.session_id,
        session_state=run.session_state,
        dependencies=runtime.dependencies,
    )
    state = run.state
    try:
        with Heartbeat(db, scope):
            outcome = yield from target.advance(scope, state)
    except GeneratorExit:
        # The caller stopped reading the events: tools that ran still get their results.
        _close_calls(db, scope)
        raise
    except RunBusy:
        # Someone moved the run under us (a cancel): their word stands, nothing more to do.
        _close_calls(db, scope)
        yield _final_event(target, runtime, db.get_run(run.id))
        return
    except ModelError as exc:
        yield _fail(target, runtime, run.id, scope, state, exc.message, exc.kind)
        return
    except Exception as exc:
        log.exception("run %s raised", run.id)
        yield _fail(target, runtime, run.id, scope, state, f"{type(exc).__name__}: {exc}", "internal")
        return
    if isinstance(outcome, Paused):
        try:
            paused = db.pause_run(
                run.id,
                expected_version=scope.version,
                state=state,
                specs=with_defaults(outcome.new, runtime.reminders),
                requester=run.requester,
                agent_id=target.id,
                calls=_take_calls(scope),
            )
        except RunBusy:
            yield _final_event(target, runtime, db.get_run(run.id))
            return
        output = output_of(target, runtime, paused)
        dispatch(runtime.listeners, "on_paused", paused, [r.record for r in output.requirements if r.record.is_pending])
        yield RunPaused(run.id, requirements=output.requirements, output=output)
        return
    if isinstance(outcome, Cancelled):
        # A workflow checkpoint turned down with on_reject="cancel": the person who refused
        # ended the run, so it is cancelled (not completed), and listeners hear on_cancelled.
        cancelled = db.save_run(
            run.id,
            expected_version=scope.version,
            state=state,
            status=RunStatus.CANCELLED,
            content=outcome.content or "",
            audit={"action": "run.cancelled", "actor": outcome.by or Actor.system(), "outcome": "cancelled",
                   "agent_id": target.id, "reason": outcome.content},
            calls=_take_calls(scope),
        )
        dispatch(runtime.listeners, "on_cancelled", cancelled)
        yield RunCompleted(run.id, content=cancelled.content, output=output_of(target, runtime, cancelled))
        return
    assert isinstance(outcome, Completed)
    try:
        done = db.save_run(
            run.id,
            expected_version=scope.version,
            state=state,
            status=RunStatus.COMPLETED,
            content=outcome.content or "",
            audit={"action": "run.completed", "actor": Actor.system(), "outcome": "completed", "agent_id": target.id},
            calls=_take_calls(scope),
        )
    except RunBusy:
        yield _final_event(target, runtime, db.get_run(run.id))
        return
    dispatch(runtime.listeners, "on_completed", done)
    yield RunCompleted(run.id, content=done.content, output=output_of(target, runtime, done))


def _take_calls(scope: Scope) -> list[CallResult]:
    """The tool results the advance has not written yet; the caller's write records them."""
    calls, scope.finished = scope.finished, []
    return calls


def _close_calls(db: Database, scope: Scope) -> None:
    """The lease is gone but tools ran: their claims are closed with their results all the same."""
    for call in _take_calls(scope):
        db.finish_execution(scope.run_id, call.call_key, status=call.status, result=call.result,
                            audit=dict(call.audit) if call.audit else None)


def _fail(
    target: Runnable, runtime: Runtime, run_id: str, scope: Scope, state: dict[str, Any], message: str, kind: str
) -> RunEvent:
    try:
        failed = runtime.db.save_run(
            run_id,
            expected_version=scope.version,
            state=state,
            status=RunStatus.FAILED,
            error=message,
            error_kind=kind,
            audit={
                "action": "run.failed",
                "actor": Actor.system(),
                "outcome": kind,
                "agent_id": target.id,
                "reason": message,
            },
            calls=_take_calls(scope),
        )
    except RunBusy:
        failed = runtime.db.get_run(run_id)
    # One clear line wherever the run was driven (a script's stderr, a worker's log).
    log.error("run %s of %s failed (%s): %s", run_id, target.id, kind, message)
    dispatch(runtime.listeners, "on_failed", failed)
    return RunError(run_id, error=message, kind=kind, output=output_of(target, runtime, failed))
