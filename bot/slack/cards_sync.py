"""Keep Slack in step with decisions, whichever surface made them, without holding them up.

``CardSync`` is a ``RunListener`` the decision service tells after every decision, in whatever
process it runs (the web process for clicks, API calls and the console; a script's own process
for the SDK when it registers one). A decided requirement's cards (in the run's thread and in the
approvals channel) are ``chat.update``d to show the outcome; a request whose arguments were edited
or that an edit escalated to approvers is redrawn with the arguments now on the table, and the
approvers whose votes stopped counting are told in the thread.

The hooks only queue the work (``CardQueue``): the decision's thread returns as soon as SQL has the
decision, and the Slack calls run on the queue's own few threads, not the web process's default
pool, which serves the listeners. Work is keyed by run, so every message of a run is updated in the
order the changes happened; a redraw reads the requirement from SQL when it runs, so a redraw
already waiting for the same requirement shows a later change too and the later one is dropped
(a burst of clicks on one card costs one ``chat.update``, and the notifier skips one that would
change nothing). The queue is bounded: past ``CARD_UPDATE_QUEUE_MAX`` runs waiting, the deciding
thread does its own updates (back-pressure instead of unbounded memory). In a forked RQ job, whose
threads would die with it, the work runs in the caller's thread.

A Slack failure is logged and never undoes or fails the decision, which is already in SQL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.slack.notifier import SlackNotifier
from runner.listener import RunListener
from storage.database import Database
from storage.errors import NotFound
from storage.records import RequirementRecord, RunRecord
from storage.timeouts import CARD_UPDATE_DRAIN_S, CARD_UPDATE_QUEUE_MAX, CARD_UPDATE_THREADS

log = logging.getLogger(__name__)


@dataclass
class _Task:
    run: Callable[[], None]
    redraw: str | None = None
    """The requirement a redraw is about (it reads SQL when it runs); None for other work."""


class CardQueue:
    """A bounded executor of its own for Slack card work: serial per key, coalescing redraws."""

    def __init__(self, *, threads: int = CARD_UPDATE_THREADS, limit: int = CARD_UPDATE_QUEUE_MAX) -> None:
        self.threads = threads
        self.limit = limit
        self._cond = threading.Condition()
        self._order: deque[str] = deque()  # keys with work waiting and none running, oldest first
        self._queued: dict[str, list[_Task]] = {}
        self._running: set[str] = set()
        self._workers: list[threading.Thread] = []
        self._stopped = False
        self._pid = os.getpid()
        self.coalesced = 0
        """Redraws dropped because one for the same requirement was already waiting (for benchmarks)."""

    def submit(self, key: str, work: Callable[[], None], *, redraw: str | None = None) -> None:
        """Run ``work`` after everything already submitted for ``key``."""
        inline = os.getpid() != self._pid
        with self._cond:
            if self._stopped or inline or (key not in self._queued and len(self._queued) >= self.limit):
                inline = True
            else:
                queued = self._queued.setdefault(key, [])
                if redraw is not None and any(t.redraw == redraw for t in queued):
                    self.coalesced += 1
                    return
                queued.append(_Task(work, redraw))
                if len(queued) == 1 and key not in self._running:
                    self._order.append(key)
                self._start_workers()
                self._cond.notify()
        if inline:
            _run(work)

    def _start_workers(self) -> None:
        while len(self._workers) < self.threads:
            worker = threading.Thread(target=self._work, name=f"signoff-cards-{len(self._workers)}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._order and not self._stopped:
                    self._cond.wait()
                if not self._order:
                    return  # stopped and nothing left
                key = self._order.popleft()
                tasks = self._queued.pop(key)
                self._running.add(key)
            for task in tasks:
                _run(task.run)
            with self._cond:
                self._running.discard(key)
                if key in self._queued:  # more arrived while these ran: behind the other keys
                    self._order.append(key)
                    self._cond.notify()
                self._cond.notify_all()  # wakes ``drain``

    def idle(self) -> bool:
        with self._cond:
            return not self._queued and not self._running

    def drain(self, timeout: float = CARD_UPDATE_DRAIN_S) -> bool:
        """Wait until nothing is queued or running (tests, benchmarks, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queued or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = CARD_UPDATE_DRAIN_S) -> None:
        """Finish what is queued (within ``timeout``), then stop the threads."""
        self.drain(timeout)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join(timeout=1)


def _run(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:  # Slack or SQL: the decision is already in SQL, a card stays as it was
        log.exception("a card update failed")


class CardSync(RunListener):
    def __init__(self, notifier: SlackNotifier, db: Database, queue: CardQueue | None = None) -> None:
        self.notifier = notifier
        self.db = db
        self.queue = queue

    def _submit(self, run: RunRecord, work: Callable[[], None], redraw: str | None = None) -> None:
        if self.queue is None:
            _run(work)
        else:
            self.queue.submit(run.id, work, redraw=redraw)

    def _load(self, requirement_id: str) -> tuple[RequirementRecord, RunRecord] | None:
        """A requirement and its run as SQL has them when the queued work runs (None: gone)."""
        try:
            requirement = self.db.get_requirement(requirement_id)
            return requirement, self.db.get_run(requirement.run_id)
        except NotFound:
            return None

    def _redraw(self, requirement_id: str) -> None:
        """Every card of a requirement, as SQL has it now."""
        loaded = self._load(requirement_id)
        if loaded is None:
            return
        requirement, run = loaded
        if requirement.is_pending:
            self.notifier.redraw_pending(run, requirement)
        else:
            self.notifier.refresh_cards([requirement], run)

    def on_resolved(self, run: RunRecord, requirement: RequirementRecord) -> None:
        self._submit(run, lambda: self._redraw(requirement.id), redraw=requirement.id)

    def on_escalated(self, run: RunRecord, requirement: RequirementRecord) -> None:
        self._submit(run, lambda: self._redraw(requirement.id), redraw=requirement.id)
        self._submit(run, lambda: self._post_card(requirement.id))

    def _post_card(self, requirement_id: str) -> None:
        loaded = self._load(requirement_id)
        if loaded is None:
            return
        requirement, run = loaded
        if requirement.is_pending:
            self.notifier.post_card(run, requirement)

    def on_args_changed(
        self, run: RunRecord, requirement: RequirementRecord, editor: str, reset_voters: Sequence[str]
    ) -> None:
        voters = list(reset_voters)
        self._submit(run, lambda: self._redraw(requirement.id), redraw=requirement.id)
        self._submit(run, lambda: self.notifier.tell_votes_reset(run, requirement, editor, voters))

    def on_cancelled(self, run: RunRecord) -> None:
        self._submit(run, lambda: self.notifier.on_cancelled(run))
