"""Which Slack message shows which run or requirement, and which Slack events were already handled."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from storage import schema as t
from storage.records import (
    SlackMessage,
)
from storage.store import Store

log = logging.getLogger(__name__)


class SlackStore(Store):
    """Slack's surfaces, kept in SQL so any process can update a card."""

    def add_slack_message(self, message: SlackMessage) -> None:
        try:
            with self.transaction() as conn:
                conn.execute(
                    insert(t.slack_messages).values(
                        run_id=message.run_id,
                        requirement_id=message.requirement_id,
                        purpose=message.purpose,
                        channel=message.channel,
                        ts=message.ts,
                        created_at=self.clock(),
                    )
                )
        except IntegrityError:
            log.debug("slack message %s %s is already recorded", message.channel, message.ts)

    def slack_messages(
        self, *, run_id: str | None = None, requirement_id: str | None = None, purpose: str | None = None
    ) -> list[SlackMessage]:
        query = select(t.slack_messages)
        if run_id is not None:
            query = query.where(t.slack_messages.c.run_id == run_id)
        if requirement_id is not None:
            query = query.where(t.slack_messages.c.requirement_id == requirement_id)
        if purpose is not None:
            query = query.where(t.slack_messages.c.purpose == purpose)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.slack_messages.c.id)).mappings().all()
        return [SlackMessage(r["run_id"], r["requirement_id"], r["purpose"], r["channel"], r["ts"]) for r in rows]

    def prune_seen_events(self, before: datetime) -> int:
        """Forget Slack event ids seen before ``before`` (Slack stops retrying after an hour)."""
        with self.transaction() as conn:
            result = conn.execute(delete(t.seen_events).where(t.seen_events.c.seen_at < before))
        return int(result.rowcount or 0)

    def first_time_seen(self, event_id: str) -> bool:
        """True the first time an event id is offered; Slack's retries then get False."""
        try:
            with self.transaction() as conn:
                conn.execute(insert(t.seen_events).values(event_id=event_id, seen_at=self.clock()))
            return True
        except IntegrityError:
            log.debug("slack event %s was already handled (a retry)", event_id)
            return False
