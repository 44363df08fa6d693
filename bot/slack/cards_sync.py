"""Keep Slack in step with decisions, whichever surface made them.

``CardSync`` is a ``RunListener`` the decision service tells after every decision, in whatever
process it runs (the web process for clicks, API calls and the console; a script's own process
for the SDK when it registers one). A decided requirement's cards (in the run's thread and in the
approvals channel) are ``chat.update``d to show the outcome; a request whose arguments were edited
or that an edit escalated to approvers is redrawn with the arguments now on the table, and the
approvers whose votes stopped counting are told in the thread.

A Slack failure is logged and never undoes or fails the decision, which is already in SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.slack.notifier import SlackNotifier
from runner.listener import RunListener
from storage.records import RequirementRecord, RunRecord

log = logging.getLogger(__name__)


class CardSync(RunListener):
    def __init__(self, notifier: SlackNotifier) -> None:
        self.notifier = notifier

    def on_resolved(self, run: RunRecord, requirement: RequirementRecord) -> None:
        if requirement.is_pending:
            self.notifier.redraw_pending(run, requirement)
        else:
            self.notifier.refresh_cards([requirement], run)

    def on_escalated(self, run: RunRecord, requirement: RequirementRecord) -> None:
        self.notifier.redraw_pending(run, requirement)
        self.notifier.post_card(run, requirement)

    def on_args_changed(
        self, run: RunRecord, requirement: RequirementRecord, editor: str, reset_voters: Sequence[str]
    ) -> None:
        self.notifier.redraw_pending(run, requirement)
        self.notifier.tell_votes_reset(run, requirement, editor, reset_voters)

    def on_cancelled(self, run: RunRecord) -> None:
        self.notifier.on_cancelled(run)
