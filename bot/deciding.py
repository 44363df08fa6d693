"""A decision made in Slack: the one path from a listener to the decision service.

Clicks, modal submissions (``bot.interactions``) and thread replies (``bot.thread_replies``) all
decide through ``Decider.decide``: it calls ``DecisionService.decide`` off the event loop as the
clicking Slack user (the service refreshes the cards and enqueues ``continue_run``). A refusal
(someone decided first, not an approver, expired, the arguments changed) is told to the actor
alone, and a stale card is redrawn as it really is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot import cards
from bot.handler_base import HandlerBase, refusal_text
from runner.decisions import Action, DecisionResult
from storage.errors import AlreadyDecided, NotFound, RequirementExpired, SignoffError, StaleArguments
from storage.records import Actor, Principal, Surface

log = logging.getLogger(__name__)


class Decider(HandlerBase):
    """A listener that applies decisions."""

    def refresh_one(self, requirement_id: str) -> None:
        """After a refused click on a stale card: show the card as it really is now."""
        deps = self.s.deps
        try:
            req = deps.db.get_requirement(requirement_id)
            run = deps.db.get_run(req.run_id)
        except NotFound:
            return
        for listener in deps.service.listeners:
            listener.on_resolved(run, req)

    async def decide(
        self,
        requirement_id: str,
        actor: Actor,
        action: Action,
        *,
        channel: str | None,
        thread_ts: str | None,
        respond: Any = None,
        seen_hash: str | None = None,
        **kwargs: Any,
    ) -> DecisionResult | None:
        """Decide off the loop as the Slack user who acted; tell them (ephemerally) when it did not work."""
        principal = Principal(actor.id or "", actor.name)
        user = actor.id or ""
        try:
            outcome = await asyncio.to_thread(
                self.s.deps.service.decide,
                requirement_id,
                principal,
                action,
                surface=Surface.SLACK,
                seen_hash=seen_hash,
                **kwargs,
            )
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts, respond=respond)
            if isinstance(exc, AlreadyDecided | RequirementExpired | StaleArguments):
                await asyncio.to_thread(self.refresh_one, requirement_id)
            return None
        except Exception:
            log.exception("deciding %s failed", requirement_id)
            text = ":warning: Could not record your decision; nothing was decided. Try again in a moment."
            await self.ephemeral(channel, user, text, thread_ts=thread_ts, respond=respond)
            return None
        if outcome.escalated:
            text = (
                ":lock: Your edit puts this request under its approval policy: an approver must now "
                "sign off on the edited arguments. The card has been sent to them."
            )
            await self.ephemeral(channel, user, text, thread_ts=thread_ts, respond=respond)
        elif not outcome.decided:
            text, blocks = cards.vote_line(outcome.votes, outcome.quorum, user)
            await self.ephemeral(channel, user, text, blocks, thread_ts=thread_ts, respond=respond)
        return outcome
