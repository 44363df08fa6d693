"""Recovery: finish what a lost job or a dead worker left behind.

Redis only carries work; SQL holds the truth. So a periodic pass over SQL can always tell which
runs are stuck and re-enqueue them: a run queued but never started (its start job was lost), a
run paused with nothing left pending (its continue job was lost), a run whose worker died
mid-way (released to paused, then continued from its last checkpoint), and requirements past
their deadline (expired, an outcome of its own). Every step is conditional or deduplicated by job
id, so several workers running this at once do no harm, and the tool-execution claims make sure
nothing that already ran runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from rq import Queue

from runner.jobs import enqueue_recover, enqueue_start
from storage.database import Database
from storage.records import RunStatus
from storage.timeouts import QUEUED_GRACE_S, SLACK_EVENT_DEDUPE_TTL_S, STALE_RUN_AFTER_S

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    started: list[str] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.started) + len(self.continued) + len(self.released) + len(self.expired)


def recover(db: Database, queue: Queue) -> RecoveryReport:
    """One pass. Uses the database's clock, so tests move time instead of sleeping."""
    report = RecoveryReport()
    now = db.clock()
    for req in db.expire_due():
        report.expired.append(req.id)
    db.prune_seen_events(now - timedelta(seconds=SLACK_EVENT_DEDUPE_TTL_S))
    for run in db.stuck_runs(
        queued_before=now - timedelta(seconds=QUEUED_GRACE_S),
        running_before=now - timedelta(seconds=STALE_RUN_AFTER_S),
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
    if report.total:
        log.info(
            "recovery: %d started, %d continued, %d released, %d expired",
            len(report.started),
            len(report.continued),
            len(report.released),
            len(report.expired),
        )
    return report
