"""What every Slack listener shares: the container, talking back to one person, refusals, and
``decide``, the one path from a listener to the decision service.

The listeners (``slash_commands``, ``interactions``, ``thread_replies``) acknowledge first (Slack
gives 3 s), then do their blocking work (SQL, RQ) in ``asyncio.to_thread`` so the event loop keeps
serving other requests; the cards a decision changes are updated later, on the card queue's own
threads (``bot.slack.cards_sync``), and ``bot.slack.app.FollowUpGate`` bounds how many listeners
do their after-ack work at once. What they say
back is ephemeral, seen only by the person who acted; ``refusal_text`` words every domain refusal
(``storage.errors``) the same way wherever it surfaces. ``decide`` calls
``DecisionService.decide`` as the Slack user who acted (the service refreshes the cards and
enqueues ``continue_run``); a stale card is redrawn as it really is.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.slack import cards
from bot.slack.limits import truncate
from bot.slack.mrkdwn import code, escape
from runner import policy
from runner.decisions import Action, DecisionResult
from storage.errors import (
    AlreadyDecided,
    InvalidDecision,
    NotAnApprover,
    NotFound,
    RequirementExpired,
    SelfApproval,
    SignoffError,
    StaleArguments,
)
from storage.records import Actor, Principal, RequirementStatus, Surface
from storage.timeouts import HOME_PERMALINK_CACHE

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[Any]]


def _approver(ident: str) -> str:
    """A configured approver as a mention (a user or a user group), or inert text when it is not an id."""
    if policy.is_group(ident) and ident.replace("_", "").isalnum() and len(ident) <= cards.MAX_ID_CHARS:
        return f"<!subteam^{ident}>"
    return cards.mention(ident)


def refusal_text(exc: SignoffError) -> str:
    """Every domain refusal, worded the same wherever it surfaces (whatever it quotes is escaped)."""
    if isinstance(exc, AlreadyDecided) and exc.status == RequirementStatus.EXPIRED:
        return f":hourglass: This request expired {cards.when(exc.decided_at)}; nothing was done."
    if isinstance(exc, AlreadyDecided) and exc.status == RequirementStatus.CANCELLED:
        return ":heavy_multiplication_x: This request was cancelled with its run; nothing was done."
    if isinstance(exc, AlreadyDecided):
        word = escape(str(exc.status).replace("_", " "))
        who = escape(truncate(exc.decided_by or "someone", 100))
        at = f" {cards.when(exc.decided_at)}" if exc.decided_at else ""
        return f":information_source: Already decided by {who} ({word}{at}). Nothing else happened."
    if isinstance(exc, SelfApproval):
        return ":no_entry: You requested this run, so you cannot approve it yourself. An approver has to decide."
    if isinstance(exc, NotAnApprover):
        allowed = ", ".join(_approver(a) for a in exc.allowed[:10])
        tail = f" It can be decided by {allowed}." if allowed else " No approver is configured for it."
        return f":no_entry: You are not allowed to decide this request.{tail} Your attempt was recorded."
    if isinstance(exc, RequirementExpired):
        return f":hourglass: This request expired {cards.when(exc.expired_at)}; nothing was done."
    if isinstance(exc, StaleArguments):
        return (
            ":arrows_counterclockwise: The arguments changed since they were shown to you (a reviewer edited "
            "them); nothing was applied. Look at the card again and decide on the new ones."
        )
    if isinstance(exc, NotFound):
        return f":grey_question: I cannot find that ({escape(exc.kind)} {code(truncate(exc.ident, 100))})."
    if isinstance(exc, InvalidDecision):
        return f":warning: That did not work: {escape(truncate(exc.message, 2000))}"
    return f":warning: {escape(truncate(exc.message, 2000))}"


class HandlerBase:
    """The services and bolt's async client, with the replies every listener sends."""

    def __init__(self, deps: Deps, client: AsyncWebClient) -> None:
        self.deps = deps
        self.client = client
        self._links: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def ephemeral(
        self,
        channel: str | None,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        respond: Any = None,
    ) -> None:
        if blocks is None:
            text, blocks = cards.notice(text)
        if channel:
            try:
                await self.client.chat_postEphemeral(
                    channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts
                )
                return
            except SlackApiError as exc:
                log.info("chat.postEphemeral failed (%s); trying response_url", exc.response.get("error"))
        if respond is not None and (channel or getattr(respond, "response_url", None)):
            try:
                await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            except Exception:
                log.warning("could not tell %s: %s", user, text)
            return
        if user:
            # A click from the App Home has no channel and no response_url: the app's DM with them.
            try:
                await self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
            except SlackApiError as exc:
                log.warning("could not tell %s in a DM: %s", user, exc.response.get("error"))

    async def permalink(self, channel: str | None, ts: str | None) -> str | None:
        """A message's permalink, remembered: it never changes, and every click on a card asks for
        its card's (a second approver, a double click, clicks on a card already decided), a Slack
        round trip on the event loop each. A failure is not remembered."""
        if not (channel and ts):
            return None
        key = (channel, ts)
        if key in self._links:
            self._links.move_to_end(key)
            return self._links[key]
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            log.info("chat.getPermalink failed: %s", exc.response.get("error"))
            return None
        link = str(response.get("permalink"))
        self._links[key] = link
        while len(self._links) > HOME_PERMALINK_CACHE:
            self._links.popitem(last=False)
        return link


class Decider(HandlerBase):
    """A listener that applies decisions."""

    def refresh_one(self, requirement_id: str) -> None:
        """After a refused click on a stale card: show the card as it really is now."""
        deps = self.deps
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
                self.deps.service.decide,
                requirement_id,
                principal,
                action,
                surface=Surface.SLACK,
                seen_hash=seen_hash,
                **kwargs,
            )
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts, respond=respond)
            if isinstance(exc, StaleArguments):
                # The service itself redraws after AlreadyDecided and RequirementExpired.
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
