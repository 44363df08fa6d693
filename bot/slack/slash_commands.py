"""Slash commands: ``/agent`` starts, lists, reports on and cancels runs; ``/approvals`` lists
what is waiting for the caller and, as ``/approvals export``, sends an approver the audit log.

Parsing lives in ``bot.slack.commands`` and the export file in ``bot.slack.export``; this module acks,
answers (ephemerally) and does the blocking work off the event loop: creating and enqueuing a run,
cancelling one, finding the approvals a person may decide.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import cards, commands
from bot.slack.base import Ack, HandlerBase, refusal_text
from bot.slack.export import initial_comment, write_export
from bot.slack.mrkdwn import bold, code, escape
from bot.slack.notifier import ROOT
from bot.slack.thread_replies import thread_session
from runner import policy
from runner.registry import describe
from storage.database import new_id
from storage.errors import NotFound, RunBusy, SignoffError
from storage.records import Actor, Principal, RequirementRecord, RunRecord, SlackMessage, Surface

log = logging.getLogger(__name__)


class SlashCommands(HandlerBase):
    """``/agent`` and ``/approvals``."""

    # ------------------------------------------------------------------ /agent

    async def agent_command(self, ack: Ack, command: dict[str, Any], respond: Any) -> None:
        registry = self.deps.registry
        parsed = commands.parse(command.get("text"), registry.ids())
        user = str(command.get("user_id") or "")
        channel = command.get("channel_id")
        if isinstance(parsed, commands.Usage):
            text = escape(parsed.message)  # it quotes what was typed: mentions and links must stay inert
            await ack(response_type="ephemeral", text=text, blocks=cards.notice(text)[1])
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
            await ack(response_type="ephemeral", text=f"Starting {bold(target.name)}…")
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
        """Checked by the decision service before anything is posted (prompt, rate, queue), then
        the root message, then the run created queued in its thread and enqueued."""
        service = self.deps.service
        principal = Principal(user, user_name)
        try:
            await asyncio.to_thread(service.check_start, principal, target.id, cmd.prompt, surface=Surface.SLACK)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), respond=respond)
            return
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
            run = service.start(
                principal, target.id, cmd.prompt, surface=Surface.SLACK, channel=root_channel, thread_ts=root_ts,
                run_id=run_id, session_id=thread_session(root_channel, root_ts), enqueue=False,
            )
            self.deps.db.add_slack_message(SlackMessage(run_id, None, ROOT, root_channel, root_ts))
            service.enqueue_start(run)  # the run as created: enqueueing needs only its id

        try:
            await asyncio.to_thread(create)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), respond=respond)
        except Exception as exc:
            log.exception("could not start run %s", run_id)
            await self.ephemeral(channel, user, f":x: The run could not be started: {type(exc).__name__}.")

    def _status(self, run_id: str) -> tuple[str, list[dict[str, Any]]]:
        db = self.deps.db
        try:
            run = db.get_run(run_id)
        except NotFound as exc:
            return cards.notice(refusal_text(exc) + " Check the id in the run's root message.")
        return cards.status_message(run, db.requirements_for_run(run.id))

    def _cancel(self, run_id: str, user: str, user_name: str | None) -> tuple[str, list[dict[str, Any]]]:
        try:
            self.deps.service.cancel(
                run_id, Principal(user, user_name), surface=Surface.SLACK, reason=f"Cancelled by <@{user}>."
            )
        except RunBusy as exc:
            return cards.notice(f"Run {code(run_id, 80)} is already {escape(str(exc.status))}; nothing to cancel.")
        except SignoffError as exc:
            return cards.notice(refusal_text(exc))
        return cards.notice(f"Cancelled run {code(run_id, 80)}.")

    # ------------------------------------------------------------------ /approvals

    async def approvals_command(self, ack: Ack, command: dict[str, Any], respond: Any) -> None:
        parsed = commands.parse_approvals(command.get("text"))
        if isinstance(parsed, commands.Usage | commands.ApprovalsHelp):
            # a usage message quotes what was typed: mentions and links must stay inert
            text = escape(parsed.message) if isinstance(parsed, commands.Usage) else commands.approvals_help_text()
            await ack(response_type="ephemeral", text=text, blocks=cards.notice(text)[1])
            return
        await ack()
        user = str(command.get("user_id") or "")
        channel = command.get("channel_id")
        if isinstance(parsed, commands.Export):
            await self.export_audit(parsed, Actor(user, command.get("user_name")), channel, respond)
            return
        total, items = await asyncio.to_thread(self._pending_for, user)
        links: list[tuple[RequirementRecord, RunRecord, str | None]] = []
        for req, run, where in items:
            link = await self.permalink(*where) if where else None
            links.append((req, run, link))
        text, blocks = cards.approvals_message(links, total)
        await self.ephemeral(channel, user, text, blocks, respond=respond)

    def _pending_for(
        self, user: str
    ) -> tuple[int, list[tuple[RequirementRecord, RunRecord, tuple[str, str] | None]]]:
        """The exact count of what waits for ``user``, and the ones to show (with their cards)."""
        db = self.deps.db
        pending = self.deps.service.pending_for(Principal(user))
        out: list[tuple[RequirementRecord, RunRecord, tuple[str, str] | None]] = []
        for req, run in pending.shown:
            messages = db.slack_messages(requirement_id=req.id)
            card = next((m for m in messages if m.purpose == "card"), None) or next(iter(messages), None)
            out.append((req, run, (card.channel, card.ts) if card else None))
        return pending.total, out

    # ------------------------------------------------------------------ /approvals export

    def _may_export(self, cmd: commands.Export, actor: Actor) -> bool:
        """Blocking: only approvers may export; a refusal is audited."""
        if actor.id and policy.is_approver(actor.id, self.deps.settings.signoff_approvers, self.deps.directory):
            return True
        self.deps.db.append_audit(
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
        db = self.deps.db
        try:
            export = await asyncio.to_thread(write_export, db, cmd, now=self.deps.clock())
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
            export.remove()  # before the reply, so the file is gone when the person reads it
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
