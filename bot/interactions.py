"""Slack listeners: slash commands, button clicks, modal submissions and thread replies.

Every listener acknowledges first (Slack gives 3 s), then does its blocking work (SQL, RQ, the
synchronous Slack client that updates cards) in ``asyncio.to_thread`` so the event loop keeps
serving other requests. A button's value and a modal's ``private_metadata`` are only ever used
to find the requirement (or run) id: who may decide, what is pending and what the arguments are
come from SQL, through ``runner.decisions.resolve``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import cards, commands, modals
from bot.deps import Deps
from bot.directory import SlackDirectory
from bot.notifier import ROOT, SlackNotifier, card_options, tool_function
from bot.slack_export import initial_comment, write_export
from runner import policy
from runner.decisions import Action, Outcome, authorize, resolve
from runner.queue import enqueue_continue, enqueue_retry, enqueue_start
from runner.registry import describe
from storage.database import new_id
from storage.errors import (
    AlreadyDecided,
    InvalidDecision,
    NotAnApprover,
    NotFound,
    RequirementExpired,
    RunBusy,
    SelfApproval,
    SignoffError,
)
from storage.records import (
    Actor,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
    SlackMessage,
)

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[Any]]
INPUT_KINDS = (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT)
_FIELD_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$")


@dataclass
class Services:
    """What the listeners need besides bolt's own client."""

    deps: Deps
    notifier: SlackNotifier
    directory: SlackDirectory

    @property
    def db(self) -> Any:
        return self.deps.db


# ----------------------------------------------------------------------------- small helpers


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


def refusal_text(exc: SignoffError) -> str:
    if isinstance(exc, AlreadyDecided) and exc.status == RequirementStatus.EXPIRED:
        return f":hourglass: This request expired {cards.when(exc.decided_at)}; nothing was done."
    if isinstance(exc, AlreadyDecided) and exc.status == RequirementStatus.CANCELLED:
        return ":heavy_multiplication_x: This request was cancelled with its run; nothing was done."
    if isinstance(exc, AlreadyDecided):
        word = exc.status.replace("_", " ")
        who = exc.decided_by or "someone"
        at = f" {cards.when(exc.decided_at)}" if exc.decided_at else ""
        return f":information_source: Already decided by {cards.escape(who)} ({word}{at}). Nothing else happened."
    if isinstance(exc, SelfApproval):
        return ":no_entry: You requested this run, so you cannot approve it yourself. An approver has to decide."
    if isinstance(exc, NotAnApprover):
        allowed = ", ".join(f"<!subteam^{a}>" if policy.is_group(a) else cards.mention(a) for a in exc.allowed[:10])
        tail = f" It can be decided by {allowed}." if allowed else " No approver is configured for it."
        return f":no_entry: You are not allowed to decide this request.{tail} Your attempt was recorded."
    if isinstance(exc, RequirementExpired):
        return f":hourglass: This request expired {cards.when(exc.expired_at)}; nothing was done."
    if isinstance(exc, NotFound):
        return f":grey_question: I cannot find that ({exc.kind} `{cards.escape(exc.ident)}`)."
    if isinstance(exc, InvalidDecision):
        return f":warning: That did not work: {cards.escape(exc.message)}"
    return f":warning: {cards.escape(exc.message)}"


class Handlers:
    def __init__(self, services: Services, client: AsyncWebClient) -> None:
        self.s = services
        self.client = client

    # ------------------------------------------------------------------ messaging helpers

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

    def _refresh_one(self, requirement_id: str) -> None:
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
                await asyncio.to_thread(self._refresh_one, requirement_id)
            return None
        if not outcome.decided:
            text, blocks = cards.vote_line(outcome.votes, outcome.quorum, actor.id or "")
            await self.ephemeral(channel, actor.id or "", text, blocks, thread_ts=thread_ts, respond=respond)
        return outcome

    async def permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not (channel and ts):
            return None
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response.get("permalink"))
        except SlackApiError:
            return None

    # ------------------------------------------------------------------ /agent

    async def agent_command(self, ack: Ack, command: dict[str, Any], respond: Any) -> None:
        registry = self.s.deps.registry
        parsed = commands.parse(command.get("text"), registry.ids())
        user = str(command.get("user_id") or "")
        channel = command.get("channel_id")
        if isinstance(parsed, commands.Usage):
            await ack(response_type="ephemeral", text=parsed.message, blocks=cards.notice(parsed.message)[1])
            return
        if isinstance(parsed, commands.Help):
            text = commands.help_text(registry.ids())
            await ack(response_type="ephemeral", text=text, blocks=cards.notice(text)[1])
            return
        if isinstance(parsed, commands.ListTargets):
            text, blocks = cards.targets_message(
                (t.id, str(getattr(t, "kind", "agent")), describe(t)) for t in registry
            )
            await ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        if isinstance(parsed, commands.Start):
            target = registry.get(parsed.agent_id)
            assert target is not None  # parse() only starts known ids
            await ack(response_type="ephemeral", text=f"Starting *{cards.escape(target.name)}*…")
            await self._start(parsed, target, user, command.get("user_name"), channel, respond)
            return
        await ack()
        if isinstance(parsed, commands.Status):
            text, blocks = await asyncio.to_thread(self._status, parsed.run_id)
        else:
            assert isinstance(parsed, commands.Cancel)
            text, blocks = await asyncio.to_thread(self._cancel, parsed.run_id, user, command.get("user_name"))
        await self.ephemeral(channel, user, text, blocks, respond=respond)

    async def _start(
        self, cmd: commands.Start, target: Any, user: str, user_name: str | None, channel: str | None, respond: Any
    ) -> None:
        run_id = new_id()
        text, blocks = cards.root_with_run(user, target.name, cmd.prompt, run_id)
        try:
            posted = await self.client.chat_postMessage(channel=channel or "", text=text, blocks=blocks)
        except SlackApiError as exc:
            error = exc.response.get("error")
            hint = " Invite me to the channel first (`/invite @signoff`)." if error == "not_in_channel" else ""
            await self.ephemeral(None, user, f":warning: I could not post here ({error}).{hint}", respond=respond)
            return
        root_channel, root_ts = str(posted.get("channel") or channel), str(posted.get("ts"))

        def create() -> None:
            db = self.s.deps.db
            db.create_run(
                kind=str(getattr(target, "kind", "agent")),
                target_id=target.id,
                target_name=target.name,
                input=cmd.prompt,
                state=target.initial_state(cmd.prompt, user),
                requester=user,
                requester_name=user_name,
                channel=root_channel,
                thread_ts=root_ts,
                status=RunStatus.QUEUED,
                run_id=run_id,
            )
            db.add_slack_message(SlackMessage(run_id, None, ROOT, root_channel, root_ts))
            enqueue_start(self.s.deps.queue, run_id)

        try:
            await asyncio.to_thread(create)
        except Exception as exc:
            log.exception("could not start run %s", run_id)
            await self.ephemeral(channel, user, f":x: The run could not be started: {type(exc).__name__}.")

    def _status(self, run_id: str) -> tuple[str, list[dict[str, Any]]]:
        db = self.s.deps.db
        try:
            run = db.get_run(run_id)
        except NotFound as exc:
            return cards.notice(refusal_text(exc) + " Check the id in the run's root message.")
        return cards.status_message(run, db.requirements_for_run(run.id))

    def _may_manage(self, run: RunRecord, user: str) -> bool:
        """The requester and the approvers may cancel or retry a run (only approvers one started by the API)."""
        if run.requester is not None and user == run.requester:
            return True
        return policy.is_approver(user, self.s.deps.settings.signoff_approvers, self.s.directory)

    def _cancel(self, run_id: str, user: str, user_name: str | None) -> tuple[str, list[dict[str, Any]]]:
        db = self.s.deps.db
        try:
            run = db.get_run(run_id)
        except NotFound as exc:
            return cards.notice(refusal_text(exc))
        if not self._may_manage(run, user):
            return cards.notice(":no_entry: Only the person who started the run or an approver can cancel it.")
        try:
            cancelled = db.cancel_run(run_id, Actor(user, user_name), reason=f"Cancelled by <@{user}>.")
        except RunBusy as exc:
            return cards.notice(f"Run `{run_id}` is already {exc.status}; nothing to cancel.")
        self.s.notifier.on_cancelled(cancelled)
        return cards.notice(f"Cancelled run `{run_id}`.")

    # ------------------------------------------------------------------ /approvals

    async def approvals_command(self, ack: Ack, command: dict[str, Any], respond: Any) -> None:
        parsed = commands.parse_approvals(command.get("text"))
        if isinstance(parsed, commands.Usage | commands.ApprovalsHelp):
            text = parsed.message if isinstance(parsed, commands.Usage) else commands.approvals_help_text()
            await ack(response_type="ephemeral", text=text, blocks=cards.notice(text)[1])
            return
        await ack()
        user = str(command.get("user_id") or "")
        channel = command.get("channel_id")
        if isinstance(parsed, commands.Export):
            await self.export_audit(parsed, Actor(user, command.get("user_name")), channel, respond)
            return
        items = await asyncio.to_thread(self._pending_for, user)
        links: list[tuple[RequirementRecord, RunRecord, str | None]] = []
        for req, run, where in items:
            link = await self.permalink(*where) if where else None
            links.append((req, run, link))
        text, blocks = cards.approvals_message(links)
        await self.ephemeral(channel, user, text, blocks, respond=respond)

    # ------------------------------------------------------------------ /approvals export

    def _may_export(self, cmd: commands.Export, actor: Actor) -> bool:
        """Blocking: only approvers may export; a refusal is audited."""
        if actor.id and policy.is_approver(actor.id, self.s.deps.settings.signoff_approvers, self.s.directory):
            return True
        self.s.deps.db.append_audit(
            action="audit.export_refused",
            actor=actor,
            outcome="NotAnApprover",
            reason="only approvers may export the audit log",
            details={"via": "slack", "format": cmd.format, "filters": cmd.filters()},
        )
        return False

    async def export_audit(self, cmd: commands.Export, actor: Actor, channel: str | None, respond: Any) -> None:
        """Write the export off the loop, then upload it to the requester alone, in a DM."""
        user = actor.id or ""
        if not await asyncio.to_thread(self._may_export, cmd, actor):
            text = ":no_entry: Only approvers can export the audit log. Your attempt was recorded."
            await self.ephemeral(channel, user, text, respond=respond)
            return
        await self.ephemeral(
            channel,
            user,
            f":hourglass_flowing_sand: Exporting the audit log as {cmd.format.upper()} ({cmd.describe()}); "
            "I will send you the file in a direct message.",
            respond=respond,
        )
        db = self.s.deps.db
        try:
            export = await asyncio.to_thread(write_export, db, cmd, now=self.s.deps.clock())
        except Exception as exc:
            log.exception("writing the audit export for %s failed", user)
            text = f":x: The export could not be written ({type(exc).__name__}); nothing was sent."
            await self.ephemeral(channel, user, text, respond=respond)
            return
        details: dict[str, Any] = {"via": "slack", "filters": cmd.filters(), "file": export.record()}
        # Recorded before the file leaves, so a crash mid-upload still leaves a trace of who asked.
        await asyncio.to_thread(
            db.append_audit, action="audit.export_requested", actor=actor, outcome="uploading", details=details
        )
        try:
            opened = await self.client.conversations_open(users=user)
            dm = str((opened.get("channel") or {}).get("id") or "")
            uploaded = await self.client.files_upload_v2(
                channel=dm,
                file=str(export.path),
                filename=export.filename,
                title=f"signoff audit log ({export.rows} events, {export.format.upper()})",
                initial_comment=initial_comment(cmd, export),
            )
        except Exception as exc:  # SlackApiError, or the upload itself (network, size limit)
            error = str(exc.response.get("error")) if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("uploading the audit export to %s failed: %s", user, error, exc_info=True)
            await asyncio.to_thread(
                db.append_audit, action="audit.export_failed", actor=actor, outcome=error, details=details
            )
            text = f":x: I could not send you the export ({error}); nothing was shared."
            await self.ephemeral(channel, user, text, respond=respond)
            return
        finally:
            export.remove()
        files = uploaded.get("files") or [uploaded.get("file") or {}]
        details |= {"channel": dm, "file_id": (files[0] or {}).get("id")}
        await asyncio.to_thread(
            db.append_audit, action="audit.exported", actor=actor, outcome="delivered", details=details
        )
        text = f":white_check_mark: Sent you the export ({export.rows} events) in a direct message."
        await self.ephemeral(channel, user, text, respond=respond)

    def _pending_for(self, user: str) -> list[tuple[RequirementRecord, RunRecord, tuple[str, str] | None]]:
        db = self.s.deps.db
        out: list[tuple[RequirementRecord, RunRecord, tuple[str, str] | None]] = []
        runs: dict[str, RunRecord] = {}
        for req in db.pending_requirements(limit=200):
            try:
                policy.check(req, user, self.s.deps.settings.signoff_approvers, self.s.directory)
            except NotAnApprover:
                continue
            run = runs.get(req.run_id) or db.get_run(req.run_id)
            runs[run.id] = run
            messages = db.slack_messages(requirement_id=req.id)
            card = next((m for m in messages if m.purpose == "card"), None) or next(iter(messages), None)
            out.append((req, run, (card.channel, card.ts) if card else None))
        return out

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
                await asyncio.to_thread(self._refresh_one, requirement_id)
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
            if not self._may_manage(run, user):
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

    # ------------------------------------------------------------------ thread replies

    async def message_posted(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return
        channel = str(event.get("channel") or "")
        user = str(event["user"])
        text = str(event.get("text") or "").strip()
        event_id = str(body.get("event_id") or f"{channel}:{event.get('ts')}")
        if not text:
            return
        found = await asyncio.to_thread(self._thread_answer, event_id, channel, str(thread_ts), text)
        if found is None:
            return
        if isinstance(found, str):
            await self.ephemeral(channel, user, found, thread_ts=str(thread_ts))
            return
        requirement_id, values = found
        outcome = await self.decide(
            requirement_id, Actor(user, None), Action.ANSWER, channel=channel, thread_ts=str(thread_ts), values=values
        )
        if outcome is not None:
            try:
                await self.client.reactions_add(
                    channel=channel, timestamp=str(event.get("ts")), name="white_check_mark"
                )
            except SlackApiError as exc:
                log.info("reactions.add failed: %s", exc.response.get("error"))

    def _thread_answer(
        self, event_id: str, channel: str, thread_ts: str, text: str
    ) -> tuple[str, dict[str, Any]] | str | None:
        """Which pending question a thread reply answers, with the values; a hint when unclear."""
        db = self.s.deps.db
        run = db.run_for_thread(channel, thread_ts)
        if run is None or not db.first_time_seen(event_id):
            return None
        pending = [
            r for r in db.requirements_for_run(run.id, status=RequirementStatus.PENDING) if r.kind in INPUT_KINDS
        ]
        if not pending:
            return None
        return match_reply(pending, text)


def parse_field_lines(text: str) -> dict[str, str] | None:
    """``field: value`` lines -> dict; None when any non-empty line is not of that shape."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _FIELD_LINE.match(line)
        if not match:
            return None
        values[match.group(1)] = match.group(2)
    return values or None


def match_reply(pending: list[RequirementRecord], text: str) -> tuple[str, dict[str, Any]] | str:
    """Pure: the requirement a thread reply answers and its values, or a hint to reply differently."""
    lines = parse_field_lines(text)
    if lines is not None:
        for req in pending:
            names = {str(f.get("name")) for f in req.user_input_schema}
            if set(lines) <= names:
                return req.id, dict(lines)
    single = [r for r in pending if len(r.user_input_schema) == 1]
    if len(pending) == 1 and len(single) == 1:
        return single[0].id, {str(single[0].user_input_schema[0].get("name")): text}
    wanted = "; ".join(
        ", ".join(f"`{f.get('name')}`" for f in r.user_input_schema) + f" for `{r.tool_name}`" for r in pending
    )
    return (
        "I could not tell which question that answers. Reply with `field: value` lines, one per value "
        f"({wanted}), or use the Provide input button."
    )


def register(app: AsyncApp, services: Services) -> Handlers:
    handlers = Handlers(services, app.client)
    app.command("/agent")(handlers.agent_command)
    app.command("/approvals")(handlers.approvals_command)
    app.action(cards.APPROVE)(handlers.approve_clicked)
    for action_id in (cards.REJECT, cards.EDIT, cards.INPUT, cards.DONE):
        app.action(action_id)(handlers.open_modal)
    app.action(cards.VIEW_ARGS)(handlers.view_arguments)
    app.action(cards.RETRY)(handlers.retry_clicked)
    app.action(cards.OPEN_LINK)(handlers.ack_only)
    for callback in (modals.REJECT_VIEW, modals.EDIT_VIEW, modals.INPUT_VIEW, modals.DONE_VIEW):
        app.view_submission(callback)(handlers.view_submitted)
    app.event("message")(handlers.message_posted)
    return handlers
