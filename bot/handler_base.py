"""What every Slack listener shares: its services, talking back to one person, and refusals.

The listeners (``bot.slash_commands``, ``bot.interactions``, ``bot.thread_replies``) acknowledge
first (Slack gives 3 s), then do their blocking work (SQL, RQ, the synchronous Slack client that
updates cards) in ``asyncio.to_thread`` so the event loop keeps serving other requests. What they
say back is ephemeral, seen only by the person who acted; ``refusal_text`` words every domain
refusal (``storage.errors``) the same way wherever it surfaces.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import cards
from bot.blockkit import truncate
from bot.deps import Deps
from bot.directory import SlackDirectory
from bot.mrkdwn import code, escape
from bot.notifier import SlackNotifier
from runner import policy
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
from storage.records import RequirementStatus, RunRecord

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[Any]]


@dataclass
class Services:
    """What the listeners need besides bolt's own client."""

    deps: Deps
    notifier: SlackNotifier
    directory: SlackDirectory

    @property
    def db(self) -> Any:
        return self.deps.db


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

    def __init__(self, services: Services, client: AsyncWebClient) -> None:
        self.s = services
        self.client = client

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
        if respond is not None:
            try:
                await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            except Exception:
                log.warning("could not tell %s: %s", user, text)

    async def permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not (channel and ts):
            return None
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response.get("permalink"))
        except SlackApiError:
            return None

    def may_manage(self, run: RunRecord, user: str) -> bool:
        """The requester and the approvers may cancel or retry a run (only approvers one started by the API)."""
        if run.requester is not None and user == run.requester:
            return True
        return policy.is_approver(user, self.s.deps.settings.signoff_approvers, self.s.directory)
