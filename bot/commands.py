"""Parsing ``/agent`` text: pure, no Slack, no I/O.

``/agent <agent_id> <prompt>`` starts a run; ``list``, ``status <run_id>``, ``cancel <run_id>`` and
``help`` are sub-commands. Anything else becomes a :class:`Usage` that says what to type instead.
An agent id that collides with a sub-command name cannot be started with this command (ids are
slugs like ``finance``; the bundled ones never collide).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

COMMAND = "/agent"
SUBCOMMANDS = ("list", "status", "cancel", "help")


@dataclass(frozen=True)
class Start:
    agent_id: str
    prompt: str


@dataclass(frozen=True)
class ListTargets:
    pass


@dataclass(frozen=True)
class Status:
    run_id: str


@dataclass(frozen=True)
class Cancel:
    run_id: str


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Usage:
    """Malformed input: ``message`` says what was wrong and what to type instead (mrkdwn)."""

    message: str


Command = Start | ListTargets | Status | Cancel | Help | Usage


def help_text(agent_ids: Iterable[str] = ()) -> str:
    ids = list(agent_ids)
    example = ids[0] if ids else "finance"
    lines = [
        "*Usage of `/agent`*",
        f"• `{COMMAND} <agent> <prompt>`: start a run, e.g. `{COMMAND} {example} Refund $120 to customer 42`",
        f"• `{COMMAND} list`: the agents, teams and workflows you can run",
        f"• `{COMMAND} status <run_id>`: where a run stands",
        f"• `{COMMAND} cancel <run_id>`: cancel a run that has not finished",
        f"• `{COMMAND} help`: this message",
        "• `/approvals`: the decisions waiting for you",
    ]
    if ids:
        lines.append("Agents: " + ", ".join(f"`{i}`" for i in ids))
    return "\n".join(lines)


def parse(text: str | None, agent_ids: Iterable[str]) -> Command:
    """Turn the text after ``/agent`` into a command; never raises."""
    ids = list(agent_ids)
    raw = (text or "").strip()
    if not raw:
        return Usage("You did not say which agent to run.\n" + help_text(ids))
    head, _, rest = raw.partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = (more + " " + rest).strip()
    rest = rest.strip()
    word = head.lower()
    if word in ("help", "-h", "--help", "?"):
        return Help()
    if word == "list":
        if rest:
            return Usage(f"`{COMMAND} list` takes nothing after it.\n" + help_text(ids))
        return ListTargets()
    if word in ("status", "cancel"):
        parts = rest.split()
        if len(parts) != 1:
            return Usage(f"Type `{COMMAND} {word} <run_id>` with one run id, e.g. `{COMMAND} {word} 01J9Z...`.")
        return Status(parts[0]) if word == "status" else Cancel(parts[0])
    if head not in ids:
        known = ", ".join(f"`{i}`" for i in ids) or "none configured"
        suggestion = _closest(head, ids)
        hint = f" Did you mean `{suggestion}`?" if suggestion else ""
        return Usage(
            f"There is no agent `{_clip(head)}`.{hint} Agents: {known}.\n"
            f"Type `{COMMAND} <agent> <prompt>`, or `{COMMAND} list` to see what each one does."
        )
    if not rest:
        return Usage(
            f"Tell `{head}` what to do: `{COMMAND} {head} <prompt>`, "
            f"e.g. `{COMMAND} {head} Refund $120 to customer 42`."
        )
    return Start(head, rest)


def _clip(text: str, limit: int = 60) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _closest(word: str, ids: list[str]) -> str | None:
    lowered = word.lower()
    for candidate in ids:
        if candidate.lower() == lowered or candidate.lower().startswith(lowered) or lowered.startswith(candidate):
            return candidate
    return None
