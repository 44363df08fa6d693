"""Button clicks and modal submissions: where a click on a card becomes a decision.

Approve decides at once; Reject, Edit & approve, Provide input and Mark done first check that the
request is still pending and that the person may decide it, then open a modal whose submission
decides. Both go through ``bot.deciding`` to ``runner.decisions.resolve``. A button's value and a
modal's ``private_metadata`` are only ever used to find the requirement (or run) id: who may
decide, what is pending and what the arguments are come from SQL. Retry re-enqueues a failed run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import cards, modals
from bot.deciding import Decider
from bot.handler_base import Ack, refusal_text
from bot.notifier import card_options, tool_function
from runner.decisions import Action, authorize
from runner.queue import enqueue_retry
from storage.errors import AlreadyDecided, InvalidDecision, NotFound, SignoffError
from storage.records import Actor, RequirementRecord, RunRecord, RunStatus

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


def _action_value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")[:64]


class Interactions(Decider):
    """The buttons on cards and the modals they open."""

    # ------------------------------------------------------------------ buttons

    async def approve_clicked(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user, name = _user(body)
        channel, ts, thread_ts = _where(body)
        link = await self.permalink(channel, ts)
        await self.decide(
            _action_value(body),
            Actor(user, name),
            Action.APPROVE,
            channel=channel,
            thread_ts=thread_ts,
            respond=respond,
            permalink=link,
        )

    def _precheck(self, requirement_id: str, actor: Actor, action: Action) -> tuple[RequirementRecord, RunRecord]:
        """Before opening a modal: is it still pending, may this person decide it?

        A refusal is audited exactly as ``resolve`` audits a refused click.
        """
        db = self.s.deps.db
        req = db.get_requirement(requirement_id)
        run = db.get_run(req.run_id)
        if not req.is_pending:
            raise AlreadyDecided(req.id, str(req.status), req.resolved_by_name or req.resolved_by, req.resolved_at)
        authorize(db, req, actor, action, self.s.deps.settings.signoff_approvers, self.s.directory, via="slack")
        return req, run

    async def open_modal(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        """Reject / Edit & approve / Provide input / Mark done: check, then open the modal."""
        await ack()
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        action = {
            cards.REJECT: Action.REJECT,
            cards.EDIT: Action.EDIT,
            cards.INPUT: Action.ANSWER,
            cards.DONE: Action.DONE,
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
        meta = modals.Metadata(req.id, channel, ts)
        if action is Action.REJECT:
            view = modals.reject_modal(req, meta)
        elif action is Action.EDIT:
            fn = tool_function(self.s.deps.registry, run, req)
            if fn is None:
                await self.ephemeral(channel, user, "This tool's arguments cannot be edited here.", thread_ts=thread_ts)
                return
            view = modals.edit_modal(req, fn.parameters, meta)
        elif action is Action.ANSWER:
            view = modals.input_modal(req, meta)
        else:
            view = modals.done_modal(req, meta)
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await self.ephemeral(
                channel, user, "The form could not be opened (Slack gives 3 seconds); click again.", thread_ts=thread_ts
            )

    async def view_arguments(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        user, _ = _user(body)
        channel, ts, thread_ts = _where(body)

        def load() -> tuple[RequirementRecord, list[str]]:
            req = self.s.deps.db.get_requirement(_action_value(body))
            run = self.s.deps.db.get_run(req.run_id)
            return req, card_options(tool_function(self.s.deps.registry, run, req))["sensitive"]

        try:
            req, sensitive = await asyncio.to_thread(load)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts)
            return
        view = modals.full_arguments(req, modals.Metadata(req.id, channel, ts), sensitive)
        try:
            await self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    async def retry_clicked(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user, name = _user(body)
        channel, ts, thread_ts = _where(body)
        run_id = _action_value(body)

        def retry() -> RunRecord | str:
            db = self.s.deps.db
            try:
                run = db.get_run(run_id)
            except NotFound as exc:
                return refusal_text(exc)
            if run.status is not RunStatus.FAILED:
                return f"Run `{run_id}` is {run.status}; there is nothing to retry."
            if not self.may_manage(run, user):
                return ":no_entry: Only the person who started the run or an approver can retry it."
            db.append_audit(
                action="run.retry_requested", actor=Actor(user, name), run_id=run_id, agent_id=run.target_id
            )
            enqueue_retry(self.s.deps.queue, run_id, run.version)
            return run

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
            db = self.s.deps.db
            req = db.get_requirement(meta.requirement_id)
            run = db.get_run(req.run_id)
            channel = channel or run.channel
            if channel == run.channel:
                thread_ts = run.thread_ts
            if callback == modals.REJECT_VIEW:
                return Action.REJECT, {"note": modals.text_value(state, modals.REASON_BLOCK)}
            if callback == modals.DONE_VIEW:
                return Action.DONE, {"result": modals.text_value(state, modals.RESULT_BLOCK)}
            if callback == modals.INPUT_VIEW:
                return Action.ANSWER, {"values": modals.parse_input(state, req.user_input_schema)}
            fn = tool_function(self.s.deps.registry, run, req)
            if fn is None:
                raise InvalidDecision("this tool's arguments cannot be edited any more")
            return Action.EDIT, {
                "args": modals.parse_edit(state, fn.parameters),
                "note": modals.text_value(state, modals.REASON_BLOCK),
            }

        try:
            action, kwargs = await asyncio.to_thread(prepare)
        except modals.FormErrors as exc:
            text = ":warning: Not applied: " + "; ".join(f"{k.split(':', 1)[-1]}: {v}" for k, v in exc.errors.items())
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
            **kwargs,
        )
