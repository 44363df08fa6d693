"""Recovery: finish what a lost job or a dead worker left behind.

Redis only carries work; SQL holds the truth. So a periodic pass over SQL can always tell which
runs are stuck and re-enqueue them: a run queued but never started (its start job was lost), a
run paused with nothing left pending (its continue job was lost), a run whose worker died
mid-way (released to paused, then continued from its last checkpoint), and requirements past
their deadline (expired, an outcome of its own). A running run is taken over when its heartbeat
(``runs.heartbeat_at``, refreshed by the driving worker every few seconds) is older than
``HEARTBEAT_STALE_S``. The pass also sends reminders and escalations that are due, should their
scheduled job have been lost with Redis. Every step is conditional or deduplicated by job
id, so several workers running this at once do no harm, and the tool-execution claims make sure
nothing that already ran runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from rq import Queue

from runner.jobs import enqueue_recover, enqueue_start
from runner.runtime import Runtime
from storage.database import Database
from storage.records import RequirementRecord, RunRecord, RunStatus
from storage.timeouts import HEARTBEAT_STALE_S, QUEUED_GRACE_S, REMINDER_SWEEP_LIMIT, SLACK_EVENT_DEDUPE_TTL_S

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    started: list[str] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (len(self.started) + len(self.continued) + len(self.released) + len(self.expired)
                + len(self.reminded) + len(self.escalated))


def _tell(runtime: Runtime, hook: str, run: RunRecord, req: RequirementRecord, *extra: object) -> None:
    """Tell the listeners that have ``hook`` (a Slack failure never stops a nudge)."""
    for listener in runtime.listeners:
        method = getattr(listener, hook, None)
        if method is None:
            continue
        try:
            method(run, req, *extra)
        except Exception:
            log.exception("run listener %s.%s failed", type(listener).__name__, hook)


def nudge_requirement(runtime: Runtime, requirement_id: str) -> str:
    """Escalate and/or remind one requirement if that is due and it is still pending. Each is
    one conditional UPDATE (audited), so the scheduled job and the sweep never both act."""
    db = runtime.db
    done: list[str] = []
    before = db.get_requirement(requirement_id)
    escalated = db.escalate_requirement(requirement_id, defaults=runtime.approvers)
    if escalated is not None:
        added = [a for a in escalated.approvers if a not in (before.approvers or runtime.approvers)]
        _tell(runtime, "on_escalated_to", db.get_run(escalated.run_id), escalated, added)
        done.append("escalated")
    reminded = db.mark_reminded(requirement_id)
    if reminded is not None:
        _tell(runtime, "on_reminded", db.get_run(reminded.run_id), reminded)
        done.append("reminded")
    return "+".join(done) or "not_due"


def recover(db: Database, queue: Queue, runtime: Runtime | None = None) -> RecoveryReport:
    """One pass. Uses the database's clock, so tests move time instead of sleeping.

    ``runtime``: whose listeners hear the reminders and escalations (and whose default approvers
    stay deciders after one); without it they are still recorded, just not announced."""
    report = RecoveryReport()
    now = db.clock()
    for req in db.expire_due():
        report.expired.append(req.id)
    db.prune_seen_events(now - timedelta(seconds=SLACK_EVENT_DEDUPE_TTL_S))
    for run in db.stuck_runs(
        queued_before=now - timedelta(seconds=QUEUED_GRACE_S),
        running_before=now - timedelta(seconds=HEARTBEAT_STALE_S),
    ):
        if run.status is RunStatus.QUEUED:
            enqueue_start(queue, run.id)
            report.started.append(run.id)
        elif run.status is RunStatus.RUNNING:
            released = db.release_stale_run(run.id, expected_version=run.version)
            if released is not None:
                enqueue_recover(queue, released.id, released.version)
                report.released.append(run.id)
        elif db.is_ready(run):
            enqueue_recover(queue, run.id, run.version)
            report.continued.append(run.id)
    nudger = runtime or Runtime(db)
    for req in db.due_reminders(limit=REMINDER_SWEEP_LIMIT):
        outcome = nudge_requirement(nudger, req.id)
        if "escalated" in outcome:
            report.escalated.append(req.id)
        if "reminded" in outcome:
            report.reminded.append(req.id)
    if report.total:
        log.info(
            "recovery: %d started, %d continued, %d released, %d expired, %d reminded, %d escalated",
            len(report.started),
            len(report.continued),
            len(report.released),
            len(report.expired),
            len(report.reminded),
            len(report.escalated),
        )
    return report
