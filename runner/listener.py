"""How the runtime tells the outside world what happened to a run, without knowing who listens.

The Slack side registers a listener in the worker; tests register recorders. A listener that
raises is logged and skipped: Slack being down must never fail or lose a run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from storage.records import RequirementRecord, RunRecord

log = logging.getLogger(__name__)


class RunListener:
    """Override what you need; every hook is optional."""

    def on_started(self, run: RunRecord) -> None:
        """The run was created and is about to call the model."""

    def on_paused(self, run: RunRecord, requirements: Sequence[RequirementRecord]) -> None:
        """The run waits for people; ``requirements`` are the new pending ones of this round."""

    def on_resumed(self, run: RunRecord) -> None:
        """Every requirement was resolved and a worker picked the run up again."""

    def on_completed(self, run: RunRecord) -> None:
        """The run finished; ``run.content`` is the answer."""

    def on_failed(self, run: RunRecord) -> None:
        """The run failed; ``run.error`` says why, and its state is kept for a retry."""

    def on_cancelled(self, run: RunRecord) -> None:
        """Somebody cancelled the run."""

    def on_resolved(self, run: RunRecord, requirement: RequirementRecord) -> None:
        """A requirement was decided (or its votes changed): surfaces show it as it is now."""

    def on_escalated(self, run: RunRecord, requirement: RequirementRecord) -> None:
        """An edit made a ``required`` approval apply: the request now waits for approvers."""

    def on_args_changed(
        self, run: RunRecord, requirement: RequirementRecord, editor: str, reset_voters: Sequence[str]
    ) -> None:
        """An approver proposed edited arguments; ``reset_voters``' earlier votes no longer count."""


def dispatch(listeners: Sequence[RunListener], hook: str, *args: object) -> None:
    for listener in listeners:
        try:
            getattr(listener, hook)(*args)
        except Exception:
            log.exception("run listener %s.%s failed", type(listener).__name__, hook)
