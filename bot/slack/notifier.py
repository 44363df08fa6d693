"""The Slack side of a run, in the worker: cards when it pauses, the answer or the failure after.

``SlackNotifier`` is a ``RunListener``; the runtime calls it synchronously from the RQ job, so it
uses slack_sdk's synchronous ``WebClient`` (urllib) with a retry handler that honours 429
``Retry-After``. Every message it posts for a requirement is recorded with
``db.add_slack_message`` so a decision can later update each surface the card appeared on.
A Slack failure is logged and swallowed by the listener dispatch: it never fails the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler

from bot.settings import Settings
from bot.slack import cards, modals
from runner.listener import RunListener
from runner.registry import Registry
from runner.tools import Function
from storage.database import Database
from storage.records import RequirementRecord, RunRecord, SlackMessage
from storage.timeouts import CARD_DIGESTS_REMEMBERED

log = logging.getLogger(__name__)

CARD = "card"
APPROVALS_CARD = "approvals_card"
ROOT = "root"
ANSWER = "answer"
FAILURE = "failure"
CANCELLED = "cancelled"
STEP_OUTPUT = "step_output"
CARD_PURPOSES = (CARD, APPROVALS_CARD)

RATE_LIMIT_RETRIES = 3


def retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]


def make_web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers())


def card_options(req: RequirementRecord, fn: Function | None) -> dict[str, Any]:
    """``editable`` (some argument can be edited in the modal) and ``declared`` (what to mask).

    ``declared`` unites the sensitive fields stored with the requirement and the tool's current
    declaration; None (every value masked) only when neither is known.
    """
    declared = cards.declared_for(req, fn.sensitive_fields if fn is not None else None)
    editable = bool(fn is not None and modals.editable_fields(req, fn.parameters, declared))
    return {"editable": editable, "declared": declared}


class SlackNotifier(RunListener):
    def __init__(self, client: WebClient, db: Database, settings: Settings, registry: Registry | None = None) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        self.registry = registry
        self._digests: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._digest_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, db: Database, registry: Registry | None = None) -> SlackNotifier:
        return cls(make_web_client(settings), db, settings, registry)

    # -- listener hooks ------------------------------------------------------------------------

    def on_paused(self, run: RunRecord, requirements: Sequence[RequirementRecord]) -> None:
        for req in requirements:
            if req.is_pending:
                self.post_card(run, req)

    def on_completed(self, run: RunRecord) -> None:
        text, blocks = cards.answer_message(run)
        self._post_in_thread(run, text, blocks, ANSWER)

    def on_failed(self, run: RunRecord) -> None:
        text, blocks = cards.failure_message(run)
        self._post_in_thread(run, text, blocks, FAILURE)

    def on_cancelled(self, run: RunRecord) -> None:
        text, blocks = cards.cancelled_message(run)
        self._post_in_thread(run, text, blocks, CANCELLED)
        self.refresh_cards(self.db.requirements_for_run(run.id), run)

    def on_reminded(self, run: RunRecord, req: RequirementRecord) -> None:
        """A reminder: a reply in the run's thread naming the pending deciders, and a DM to each."""
        deciders = self._deciders(run, req)
        link = self._card_link(req)
        text, blocks = cards.reminder_message(run, req, deciders, link)
        self._post_in_thread(run, text, blocks, "reminder")
        for user in deciders:
            self._dm(run, user, text, blocks)

    def on_escalated_to(self, run: RunRecord, req: RequirementRecord, added: Sequence[str]) -> None:
        """Escalated: tell the thread, DM the people added, post the card to the approvals
        channel (when configured), and remind every pending decider."""
        link = self._card_link(req)
        text, blocks = cards.escalated_message(run, req, added, link)
        self._post_in_thread(run, text, blocks, "escalated")
        for user in added:
            if user[:1] in ("U", "W"):
                self._dm(run, user, text, blocks)
        approvals = self.settings.signoff_approvals_channel
        already = {(m.purpose, m.channel) for m in self.db.slack_messages(requirement_id=req.id)}
        if approvals and approvals != run.channel and (APPROVALS_CARD, approvals) not in already:
            options = card_options(req, self._tool(run, req))
            card_text, card_blocks = cards.requirement_card(run, req, thread_link=link, **options)
            self._post(run, req, approvals, None, card_text, card_blocks, APPROVALS_CARD)
        self.redraw_pending(run, req)

    def _deciders(self, run: RunRecord, req: RequirementRecord) -> list[str]:
        """The user ids a pending request waits for (groups are mentioned in the thread, not DMed)."""
        people = list(req.approvers or self.settings.signoff_approvers)
        if req.approval_type != "required" and run.requester:
            people.insert(0, run.requester)
        return [p for p in dict.fromkeys(people) if p[:1] in ("U", "W")]

    def _card_link(self, req: RequirementRecord) -> str | None:
        for message in self.db.slack_messages(requirement_id=req.id):
            if message.purpose == CARD:
                return self._permalink(message.channel, message.ts)
        return None

    def _dm(self, run: RunRecord, user: str, text: str, blocks: list[dict[str, Any]]) -> None:
        try:
            opened = self.client.conversations_open(users=user)
            channel = str((opened.get("channel") or {}).get("id") or "")
            if channel:
                self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        except SlackApiError as exc:
            log.warning("DM to %s for run %s failed: %s", user, run.id, exc.response.get("error"))

    # -- cards ----------------------------------------------------------------------------------

    def post_card(self, run: RunRecord, req: RequirementRecord) -> None:
        """Post the card in the run's thread (and to the approvals channel for ``required``), once."""
        already = {(m.purpose, m.channel) for m in self.db.slack_messages(requirement_id=req.id)}
        options = card_options(req, self._tool(run, req))
        options["votes"] = self._votes(req)
        thread_card_ts: str | None = None
        full_output = cards.step_output_message(run, req, options["declared"])
        if full_output is not None and run.channel and run.thread_ts and (STEP_OUTPUT, run.channel) not in already:
            # A checkpoint card shows only the start of a long output: the whole of it goes first.
            self._post(run, req, run.channel, run.thread_ts, *full_output, STEP_OUTPUT)
        if run.channel and run.thread_ts and (CARD, run.channel) not in already:
            text, blocks = cards.requirement_card(run, req, **options)
            thread_card_ts = self._post(run, req, run.channel, run.thread_ts, text, blocks, CARD)
        approvals = self.settings.signoff_approvals_channel
        if req.approval_type == "required" and approvals and approvals != run.channel:
            if (APPROVALS_CARD, approvals) in already:
                return
            link = self._permalink(run.channel, thread_card_ts) if run.channel and thread_card_ts else None
            text, blocks = cards.requirement_card(run, req, thread_link=link, **options)
            self._post(run, req, approvals, None, text, blocks, APPROVALS_CARD)

    def refresh_cards(self, requirements: Iterable[RequirementRecord], run: RunRecord | None = None) -> None:
        """Show the outcome on every card of requirements that are no longer pending."""
        for req in requirements:
            if req.is_pending:
                continue
            the_run = run or self.db.get_run(req.run_id)
            options = card_options(req, self._tool(the_run, req))
            text, blocks = cards.decided_card(the_run, req, declared=options["declared"])
            for message in self.db.slack_messages(requirement_id=req.id):
                if message.purpose not in CARD_PURPOSES:
                    continue
                self._update(message, text, blocks)

    def _votes(self, req: RequirementRecord) -> int | None:
        """For a pending quorum approval: the approvals already given for the arguments on the table."""
        if not (req.is_pending and req.approval_type == "required" and req.quorum > 1):
            return None
        try:
            approval = self.db.approval_for_requirement(req.id)
            return None if approval is None else int(self.db.count_votes(approval.id, req.current_hash))
        except Exception:  # a count is a nicety on the card: never a reason not to post it
            log.warning("could not count the votes of %s", req.id, exc_info=True)
            return None

    def redraw_pending(self, run: RunRecord, req: RequirementRecord) -> None:
        """Redraw the cards of a request still pending (an edit proposed other arguments, a vote
        was cast, an edit escalated it to approvers): every card shows what is on the table now."""
        if not req.is_pending:
            self.refresh_cards([req], run)
            return
        options = card_options(req, self._tool(run, req))
        options["votes"] = self._votes(req)
        for message in self.db.slack_messages(requirement_id=req.id):
            if message.purpose not in CARD_PURPOSES:
                continue
            text, blocks = cards.requirement_card(run, req, **options)
            self._update(message, text, blocks)

    def tell_votes_reset(self, run: RunRecord, req: RequirementRecord, editor: str, voters: Sequence[str]) -> None:
        """Tell, in the run's thread, the approvers whose votes an edit made void."""
        if not voters:
            return
        text, blocks = cards.votes_reset_message(req, editor, voters)
        self._post_in_thread(run, text, blocks, "votes_reset")

    # -- plumbing -------------------------------------------------------------------------------

    def _update(self, message: SlackMessage, text: str, blocks: list[dict[str, Any]]) -> None:
        """``chat.update`` a card, unless this process last drew it with exactly this content.

        Clicks on a card already decided (a second approver, a double click, Slack's retries) each
        ask for a redraw of the same outcome; a call that changes nothing costs Slack's per-channel
        rate limit and a round trip. Only a successful update is remembered, so a failed one is
        tried again by the next redraw.
        """
        where = (message.channel, message.ts)
        digest = hashlib.sha256(json.dumps([text, blocks], sort_keys=True, default=str).encode()).digest()
        with self._digest_lock:
            if self._digests.get(where) == digest:
                return
        try:
            self.client.chat_update(channel=message.channel, ts=message.ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("chat.update of card %s failed: %s", message.ts, exc.response.get("error"))
            with self._digest_lock:
                self._digests.pop(where, None)
            return
        with self._digest_lock:
            self._digests[where] = digest
            self._digests.move_to_end(where)
            while len(self._digests) > CARD_DIGESTS_REMEMBERED:
                self._digests.popitem(last=False)

    def _tool(self, run: RunRecord, req: RequirementRecord) -> Function | None:
        return self.registry.tool_for(run, req) if self.registry is not None else None

    def _post(
        self,
        run: RunRecord,
        req: RequirementRecord | None,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: list[dict[str, Any]],
        purpose: str,
    ) -> str | None:
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks, "unfurl_links": False}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            response = self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            log.warning("chat.postMessage (%s) for run %s failed: %s", purpose, run.id, exc.response.get("error"))
            return None
        ts = str(response.get("ts"))
        posted_channel = str(response.get("channel") or channel)
        self.db.add_slack_message(SlackMessage(run.id, req.id if req else None, purpose, posted_channel, ts))
        return ts

    def _post_in_thread(self, run: RunRecord, text: str, blocks: list[dict[str, Any]], purpose: str) -> None:
        if not (run.channel and run.thread_ts):
            return
        self._post(run, None, run.channel, run.thread_ts, text, blocks, purpose)

    def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink"))
        except SlackApiError as exc:
            log.info("chat.getPermalink failed: %s", exc.response.get("error"))
            return None
