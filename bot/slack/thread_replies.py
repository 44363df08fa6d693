"""Thread replies: a person answers an agent's question, or goes on with the conversation, by
replying in the run's thread.

A reply in a run's thread answers its pending user-input requirement when it is unambiguous (one
question with one field, or ``field: value`` lines naming one question's fields); otherwise the
person is told how to reply. Slack may deliver an event more than once: each event id is handled
once (``first_time_seen``). The answer is decided through ``bot.slack.base`` like a modal's. A reply
carrying a control character (``bot.slack.commands.refused_character``: NUL cannot even be stored on
PostgreSQL) answers nothing: the person is told which character to remove.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.base import Decider, refusal_text
from bot.slack.cards import INPUT_KINDS
from bot.slack.commands import refused_character
from bot.slack.modals import choice_answer
from runner.decisions import Action
from storage.errors import SignoffError
from storage.records import Actor, Principal, RequirementRecord, RequirementStatus, RunStatus, Surface

log = logging.getLogger(__name__)

_FIELD_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$")


class ThreadReplies(Decider):
    """Message events in a run's thread."""

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
        if isinstance(found, NextRun):
            await self._next_run(found, user, channel, str(thread_ts), str(event.get("ts")), text)
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

    async def _next_run(self, found: NextRun, user: str, channel: str, thread_ts: str, ts: str, text: str) -> None:
        """The conversation goes on: the next run of the thread's agent, in the same session."""
        principal = Principal(user)

        def start() -> None:
            self.deps.service.start(
                principal, found.target_id, text, surface=Surface.SLACK, channel=channel, thread_ts=thread_ts,
                session_id=thread_session(channel, thread_ts),
            )

        try:
            await asyncio.to_thread(start)
        except SignoffError as exc:
            await self.ephemeral(channel, user, refusal_text(exc), thread_ts=thread_ts)
            return
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name="speech_balloon")
        except SlackApiError as exc:
            log.info("reactions.add failed: %s", exc.response.get("error"))

    def _thread_answer(
        self, event_id: str, channel: str, thread_ts: str, text: str
    ) -> tuple[str, dict[str, Any]] | NextRun | str | None:
        """Which pending question a thread reply answers, with the values; a hint when unclear;
        ``NextRun`` when it answers nothing and the thread's latest run has finished."""
        db = self.deps.db
        run = db.run_for_thread(channel, thread_ts)
        if run is None or not db.first_time_seen(event_id):
            return None
        pending = db.requirements_for_run(run.id, status=RequirementStatus.PENDING)
        inputs = [r for r in pending if r.kind in INPUT_KINDS]
        if not inputs:
            if run.status is RunStatus.COMPLETED and self.deps.registry.get(run.target_id) is not None:
                return NextRun(run.target_id)
            if not run.is_finished:
                return (
                    "This run is still going"
                    + (": decide its cards first" if pending else "")
                    + "; reply again once it has answered to go on with the conversation."
                )
            return None
        pending = inputs
        problem = refused_character(text)
        if problem is not None:
            return f"I did not take that as an answer: it contains {problem}. Remove it and reply again."
        return match_reply(pending, text)


@dataclass(frozen=True)
class NextRun:
    """A reply that goes on with the thread's conversation: start ``target_id`` again."""

    target_id: str


def thread_session(channel: str, thread_ts: str) -> str:
    """The session id of a Slack thread: every run in it shares the conversation."""
    return f"slack:{channel}:{thread_ts}"


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
    """Pure: the requirement a thread reply answers and its values, or a hint to reply differently.

    A field with choices takes a name (several, comma-separated, when it allows a list); whether
    they are choices is the decision service's check, which names the valid ones when not."""
    lines = parse_field_lines(text)
    if lines is not None:
        fits = [r for r in pending if set(lines) <= {str(f.get("name")) for f in r.user_input_schema}]
        if len(fits) == 1:  # two questions asking for the same field: ambiguous, ask again
            return fits[0].id, _typed(fits[0], lines)
    single = [r for r in pending if len(r.user_input_schema) == 1]
    if len(pending) == 1 and len(single) == 1:
        return single[0].id, _typed(single[0], {str(single[0].user_input_schema[0].get("name")): text})
    wanted = "; ".join(
        ", ".join(f"`{f.get('name')}`" for f in r.user_input_schema) + f" for `{r.tool_name}`" for r in pending
    )
    return (
        "I could not tell which question that answers. Reply with `field: value` lines, one per value "
        f"({wanted}), or use the Provide input button."
    )


def _typed(req: RequirementRecord, values: dict[str, str]) -> dict[str, Any]:
    """Replied text as answers: a field with choices gets a name, or a list of names."""
    specs = {str(f.get("name")): f for f in req.user_input_schema}
    return {
        name: choice_answer(value, several=str(specs[name].get("field_type")) == "list")
        if name in specs and specs[name].get("choices") is not None
        else value
        for name, value in values.items()
    }
