"""Button clicks and modal submissions: where a click on a card becomes a decision.

Approve decides at once; Reject, Edit & approve, Provide input and Mark done first check that the
request is still pending and that the person may decide it, then open a modal whose submission
decides. Both go through ``bot.slack.base`` to ``runner.decisions.resolve``. A button's value and a
modal's ``private_metadata`` are only ever used to find the requirement (or run) id and the hash
of the arguments the card or modal showed (``seen_hash``: a decision applies to those arguments
only): who may decide, what is pending and what the arguments are come from SQL. "View full
arguments" pages through them with Previous / Next (``views.update`` of the same modal, each page
built again from SQL). Retry re-enqueues a failed run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import cards, modals
from bot.slack.base import Ack, Decider, refusal_text
from bot.slack.mrkdwn import code, escape
from bot.slack.notifier import card_options
from runner.decisions import Action
from storage.errors import AlreadyDecided, InvalidDecision, RunBusy, SignoffError
from storage.records import Actor, Principal, RequirementRecord, RunRecord, Surface

log = logging.getLogger(__name__)


def _user(body: Mapping[str, Any]) -> tuple[str, str | None]:
    user = body.get("user") or {}
    return str(user.get("id") or ""), user.get("username") or user.get("name")


def _where(body: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(channel, message ts, thread ts) of the message a click came from."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = container.get("message_ts") or message.get("ts")
    thread_ts = container.get("thread_ts") or message.get("thread_ts")
    return channel, ts, thread_ts


def _raw_value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str((actions[0] or {}).get("value") or "")


def _action_value(body: Mapping[str, Any]) -> str:
    """The requirement (or run) id a button is about, whether its value is ``id`` or ``id|hash``."""
    return cards.parse_action_value(_raw_value(body))[0]


class Interactions(Decider):
    """The buttons on cards and the modals they open."""

    # ------------------------------------------------------------------ buttons

    async def approve_clicked(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await self._decide_clicked(body, Action.APPROVE, respond)

    async def doubt_clicked(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        """An in-doubt call: *It did not run (run it now)* or *Fail the run*, decided at once
        through the decision service under the call's own policy (*It ran* opens a modal)."""
        await ack()
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        action = {cards.NOT_RUN: Action.NOT_RUN, cards.FAIL_RUN: Action.FAIL_RUN}[action_id]
        await self._decide_clicked(body, action, respond)

    async def _decide_clicked(self, body: dict[str, Any], action: Action, respond: Any) -> None:
        """A button that decides at once: the requirement and the arguments' hash its card showed
        (``id|hash``), decided as the clicking user through the decision service."""
        user, name = _user(body)
        channel, ts, thread_ts = _where(body)
        requirement_id, seen_hash = cards.parse_action_value(_raw_value(body))
        link = await self.permalink(channel, ts)
        await self.decide(
            requirement_id,
            Actor(user, name),
            action,
            channel=channel,
            thread_ts=thread_ts,
            respond=respond,
            permalink=link,
            seen_hash=seen_hash,
        )

    def _precheck(self, requirement_id: str, actor: Actor, action: Action) -> tuple[RequirementRecord, RunRecord]:
        """Before opening a modal: is it still pending, may this person decide it?

        A refusal is audited exactly as ``resolve`` audits a refused click.
        """
        principal = Principal(actor.id or "", actor.name)
        return self.deps.service.authorize(requirement_id, principal, action, surface=Surface.SLACK)

    async def open_modal(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        """Reject / Edit & approve / Provide input / Mark done: check, then open the modal."""
        await ack()
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        action = {
            cards.REJECT: Action.REJECT,
            cards.EDIT: Action.EDIT,
            cards.INPUT: Action.ANSWER,
            cards.DONE: Action.DONE,
            cards.RAN: Action.RAN,
        }[action_id]
        user, name = _user(body)
        channel, ts, thread_ts = _where(body)
        requirement_id = _action_value(body)
        trigger_id = body.get("trigger_id")
        try:
            req, run = await asyncio.to_thread(self._precheck, requirement_id, Actor(user, name), action)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts, respond=respond)
            if isinstance(exc, AlreadyDecided):
                await asyncio.to_thread(self.refresh_one, requirement_id)
            return
        meta = modals.Metadata(req.id, channel, ts, req.current_hash)
        if action is Action.REJECT:
            view = modals.reject_modal(req, meta)
        elif action is Action.EDIT:
            fn = self.deps.registry.tool_for(run, req)
            options = card_options(req, fn)
            if fn is None or not options["editable"] or req.kind not in cards.EDITABLE_KINDS:
                text = (
                    cards.NOT_EDITABLE_OUTPUT
                    if cards.is_review(req)
                    else "This tool's arguments cannot be edited here (read them with *View full arguments*)."
                )
                await self.ephemeral(channel, user, text, thread_ts=thread_ts)
                return
            view = modals.edit_modal(req, fn.parameters, meta, options["declared"])
        elif action is Action.ANSWER:
            view = modals.input_modal(req, meta)
        elif action is Action.RAN:
            view = modals.ran_modal(req, meta)
        else:
            view = modals.done_modal(req, meta)
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await self.ephemeral(
                channel, user, "The form could not be opened (Slack gives 3 seconds); click again.", thread_ts=thread_ts
            )

    def _arguments_page(self, requirement_id: str, channel: str | None, ts: str | None, page: int) -> dict[str, Any]:
        """Blocking: one page of the full arguments, from SQL (masked as the cards mask them)."""
        req = self.deps.db.get_requirement(requirement_id)
        run = self.deps.db.get_run(req.run_id)
        declared = card_options(req, self.deps.registry.tool_for(run, req))["declared"]
        return modals.full_arguments(req, modals.Metadata(req.id, channel, ts, req.current_hash), declared, page)

    async def view_arguments(self, ack: Ack, body: dict[str, Any]) -> None:
        """View full arguments / View full output: page 1 in a modal."""
        await ack()
        user, _ = _user(body)
        channel, ts, thread_ts = _where(body)
        try:
            view = await asyncio.to_thread(self._arguments_page, _action_value(body), channel, ts, 1)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts)
            return
        try:
            await self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    async def arguments_page(self, ack: Ack, body: dict[str, Any]) -> None:
        """Previous / Next in the full-arguments modal: the same view, updated to the page asked for.

        Only the requirement id and the page number are read from the click (the page is clamped
        to the pages there are); the arguments are loaded from SQL again.
        """
        await ack()
        user, _ = _user(body)
        requirement_id, page = cards.parse_page_value(_raw_value(body))
        view_state = body.get("view") or {}
        try:
            meta = modals.Metadata.load(view_state.get("private_metadata"))
        except ValueError:
            meta = modals.Metadata(requirement_id)
        try:
            view = await asyncio.to_thread(self._arguments_page, requirement_id, meta.channel, meta.message_ts, page)
        except SignoffError as exc:
            await self.ephemeral(meta.channel, user, refusal_text(exc))
            return
        kwargs: dict[str, Any] = {"view_id": view_state.get("id"), "view": view}
        if view_state.get("hash"):
            kwargs["hash"] = view_state["hash"]
        try:
            await self.client.views_update(**kwargs)
        except SlackApiError as exc:
            log.warning("views.update of the arguments page failed: %s", exc.response.get("error"))

    async def retry_clicked(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user, name = _user(body)
        channel, ts, thread_ts = _where(body)
        run_id = _action_value(body)

        def retry() -> RunRecord | str:
            try:
                return self.deps.service.retry(run_id, Principal(user, name), surface=Surface.SLACK)
            except RunBusy as exc:
                return f"Run {code(run_id, 80)} is {escape(exc.status)}; there is nothing to retry."
            except SignoffError as exc:
                return refusal_text(exc)

        result = await asyncio.to_thread(retry)
        if isinstance(result, str):
            await self.ephemeral(channel, user, result, thread_ts=thread_ts, respond=respond)
            return
        if channel and ts:
            text, blocks = cards.retried_message(result, user)
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                log.info("chat.update of the failure message failed: %s", exc.response.get("error"))

    async def ack_only(self, ack: Ack) -> None:
        await ack()

    # ------------------------------------------------------------------ modal submissions

    async def view_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()
        user, name = _user(body)
        try:
            meta = modals.Metadata.load(view.get("private_metadata"))
        except ValueError:
            log.warning("a %s submission without signoff metadata", view.get("callback_id"))
            return
        state = (view.get("state") or {}).get("values") or {}
        callback = view.get("callback_id")
        actor = Actor(user, name)
        channel = meta.channel
        thread_ts: str | None = None

        def prepare() -> tuple[Action, dict[str, Any]]:
            """Parse the form against what SQL says the requirement is (never against the view)."""
            nonlocal channel, thread_ts
            db = self.deps.db
            req = db.get_requirement(meta.requirement_id)
            run = db.get_run(req.run_id)
            channel = channel or run.channel
            if channel == run.channel:
                thread_ts = run.thread_ts
            if callback == modals.REJECT_VIEW:
                return Action.REJECT, {"note": modals.text_value(state, modals.REASON_BLOCK)}
            if callback == modals.DONE_VIEW:
                return Action.DONE, {"result": modals.text_value(state, modals.RESULT_BLOCK)}
            if callback == modals.RAN_VIEW:
                return Action.RAN, {"result": modals.text_value(state, modals.RESULT_BLOCK)}
            if callback == modals.INPUT_VIEW:
                return Action.ANSWER, {"values": modals.parse_input(state, req.user_input_schema)}
            fn = self.deps.registry.tool_for(run, req)
            if fn is None:
                raise InvalidDecision("this tool's arguments cannot be edited any more")
            offered = modals.editable_fields(req, fn.parameters, card_options(req, fn)["declared"])
            return Action.EDIT, {
                "args": modals.parse_edit(state, fn.parameters, offered),
                "note": modals.text_value(state, modals.REASON_BLOCK),
            }

        try:
            action, kwargs = await asyncio.to_thread(prepare)
        except modals.FormErrors as exc:
            problems = "; ".join(f"{code(k.split(':', 1)[-1], 100)}: {escape(v)}" for k, v in exc.errors.items())
            text = ":warning: Not applied: " + problems
            await self.ephemeral(channel, user, text, thread_ts=thread_ts)
            return
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts)
            return
        permalink = await self.permalink(meta.channel, meta.message_ts)
        await self.decide(
            meta.requirement_id,
            actor,
            action,
            channel=channel,
            thread_ts=thread_ts,
            permalink=permalink,
            seen_hash=meta.args_hash,
            **kwargs,
        )
