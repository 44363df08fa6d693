"""A decision made in Slack, applied: the one path from a listener to ``runner.decisions.resolve``.

Clicks, modal submissions (``bot.interactions``) and thread replies (``bot.thread_replies``) all
decide through ``Decider.decide``: it resolves off the event loop, refreshes the run's cards and
enqueues ``continue_run`` when nothing is pending any more. A refusal (someone decided first, not
an approver, expired) is told to the actor alone, and a stale card is redrawn as it really is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot import cards
from bot.handler_base import HandlerBase, refusal_text
from runner.decisions import Action, Outcome, resolve
from runner.queue import enqueue_continue
from storage.errors import AlreadyDecided, NotFound, RequirementExpired, SignoffError
from storage.records import Actor, RunRecord

log = logging.getLogger(__name__)


class Decider(HandlerBase):
    """A listener that applies decisions."""

    def _lookup(self, run: RunRecord) -> Callable[[str | None, str | None], Any] | None:
        target = self.s.deps.registry.get(run.target_id)
        return getattr(target, "lookup", None)

    def _resolve(self, requirement_id: str, actor: Actor, action: Action, **kwargs: Any) -> Outcome:
        """Blocking: decide through the domain function, then update the cards and enqueue."""
        db = self.s.deps.db
        req = db.get_requirement(requirement_id)
        run = db.get_run(req.run_id)
        outcome = resolve(
            db,
            requirement_id,
            actor,
            action,
            default_approvers=self.s.deps.settings.signoff_approvers,
            directory=self.s.directory,
            lookup=self._lookup(run),
            via="slack",
            **kwargs,
        )
        if outcome.decided:
            self.s.notifier.refresh_cards([outcome.requirement])
        if outcome.run_ready:
            enqueue_continue(self.s.deps.queue, outcome.requirement.run_id, outcome.round)
        return outcome

    def refresh_one(self, requirement_id: str) -> None:
        """After a refused click on a stale card: show the card as it really is now."""
        try:
            req = self.s.deps.db.get_requirement(requirement_id)
        except NotFound:
            return
        if not req.is_pending:
            self.s.notifier.refresh_cards([req])

    async def decide(
        self,
        requirement_id: str,
        actor: Actor,
        action: Action,
        *,
        channel: str | None,
        thread_ts: str | None,
        respond: Any = None,
        **kwargs: Any,
    ) -> Outcome | None:
        """Resolve off the loop; tell the actor (ephemerally) when it did not work."""
        try:
            outcome = await asyncio.to_thread(self._resolve, requirement_id, actor, action, **kwargs)
        except Exception as exc:
            if not isinstance(exc, SignoffError):
                log.exception("deciding %s failed", requirement_id)
                text = ":warning: Something went wrong on our side; nothing was decided. Try again in a moment."
                await self.ephemeral(channel, actor.id or "", text, thread_ts=thread_ts, respond=respond)
                return None
            await self.ephemeral(channel, actor.id or "", refusal_text(exc), thread_ts=thread_ts, respond=respond)
            if isinstance(exc, AlreadyDecided | RequirementExpired):
                await asyncio.to_thread(self.refresh_one, requirement_id)
            return None
        if not outcome.decided:
            text, blocks = cards.vote_line(outcome.votes, outcome.quorum, actor.id or "")
            await self.ephemeral(channel, actor.id or "", text, blocks, thread_ts=thread_ts, respond=respond)
        return outcome
