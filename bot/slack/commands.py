"""Parsing ``/agent`` and ``/approvals`` text: pure, no Slack, no I/O.

``/agent <agent_id> <prompt>`` starts a run; ``list``, ``status <run_id>``, ``cancel <run_id>`` and
``help`` are sub-commands. Anything else becomes a :class:`Usage` that says what to type instead.
An agent id that collides with a sub-command name cannot be started with this command (ids are
slugs like ``finance``; the bundled ones never collide).

``/approvals`` lists the caller's pending decisions; ``/approvals export [csv|jsonl] [since
YYYY-MM-DD] [until YYYY-MM-DD] [agent <id>]`` asks for the audit log as a file (:class:`Export`);
``/approvals help`` explains both.

Text that carries a control character (C0, DEL or C1, except tab, line feed and carriage return)
or an unpaired surrogate is refused whole, naming the character: no person means one, and
PostgreSQL cannot store NUL. A prompt is at most ``MAX_PROMPT_CHARS`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from storage.timeouts import MAX_PROMPT_CHARS

COMMAND = "/agent"
SUBCOMMANDS = ("list", "status", "cancel", "help")
APPROVALS = "/approvals"
EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_SYNTAX = f"{APPROVALS} export [csv|jsonl] [since YYYY-MM-DD] [until YYYY-MM-DD] [agent <id>]"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# C0 controls but \t \n \r, DEL, C1 controls, and the surrogates (only ever unpaired in a str).
_REFUSED_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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
        f"• `{APPROVALS}`: the decisions waiting for you; `{APPROVALS} help` for the audit log export",
    ]
    if ids:
        lines.append("Agents: " + ", ".join(f"`{i}`" for i in ids))
    return "\n".join(lines)


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that is refused, described for a person, or None.

    e.g. ``"U+0000 (a control character) at character 7"``; the character itself is never echoed.
    """
    match = _REFUSED_CHARACTER.search(text)
    if match is None:
        return None
    char = match.group()
    kind = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"U+{ord(char):04X} ({kind}) at character {match.start() + 1}"


def _refused(text: str) -> Usage | None:
    problem = refused_character(text)
    if problem is None:
        return None
    return Usage(f"Your command contains {problem}: remove it and send the command again.")


def parse(text: str | None, agent_ids: Iterable[str]) -> Command:
    """Turn the text after ``/agent`` into a command; never raises."""
    ids = list(agent_ids)
    refused = _refused(text or "")
    if refused is not None:
        return refused
    raw = (text or "").strip()
    if not raw:
        return Usage("You did not say which agent to run.\n" + help_text(ids))
    head, _, rest = raw.partition(" ")
    if "\n" in head or "\r" in head or "\t" in head:  # e.g. "finance\r\nRefund $5"
        head, more = re.split(r"[\r\n\t]+", head, maxsplit=1)
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
    if len(rest) > MAX_PROMPT_CHARS:
        return Usage(
            f"That prompt is {len(rest)} characters long; the limit is {MAX_PROMPT_CHARS}. "
            "Shorten it and send the command again."
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


# ----------------------------------------------------------------------------- /approvals


@dataclass(frozen=True)
class ListPending:
    pass


@dataclass(frozen=True)
class ApprovalsHelp:
    pass


@dataclass(frozen=True)
class Export:
    """``/approvals export``: the audit log as a file. ``until`` is inclusive (the whole day)."""

    format: str = "jsonl"
    since: date | None = None
    until: date | None = None
    agent: str | None = None

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The UTC bounds to query: from ``since`` 00:00 to the end of ``until`` (exclusive next midnight)."""
        start = datetime.combine(self.since, time(), tzinfo=UTC) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC) if self.until else None
        return start, end

    def filters(self) -> dict[str, str]:
        """The filters as the export's header records them (the keys of the CLI and the API)."""
        start, end = self.window()
        values = {
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "agent": self.agent,
        }
        return {k: v for k, v in values.items() if v is not None}

    def describe(self) -> str:
        """The filters for a person (mrkdwn): "since 2026-11-01, until 2026-11-24 (inclusive)"."""
        parts = []
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()} (inclusive)")
        if self.agent:
            parts.append(f"agent `{_clip(self.agent)}`")
        return ", ".join(parts) if parts else "no filters: the whole log"


ApprovalsCommand = ListPending | ApprovalsHelp | Export | Usage


def approvals_help_text() -> str:
    return "\n".join(
        [
            f"*Usage of `{APPROVALS}`*",
            f"• `{APPROVALS}`: the decisions waiting for you, each linking to its card",
            f"• `{EXPORT_SYNTAX}`: the audit log as a file, sent to you in a DM (approvers only). "
            "JSONL (the default) carries the hash chain: `signoff audit verify FILE` checks it offline. "
            "Dates are UTC; `until` includes that day.",
            f"  e.g. `{APPROVALS} export csv since 2026-11-01 agent finance`",
            f"• `{APPROVALS} help`: this message",
        ]
    )


def _export_usage(problem: str) -> Usage:
    return Usage(f"{problem}\nType `{EXPORT_SYNTAX}`, e.g. `{APPROVALS} export jsonl since 2026-11-01`.")


def _parse_date(word: str, value: str | None) -> date | Usage:
    if value is None:
        return _export_usage(f"`{word}` needs a date after it (YYYY-MM-DD).")
    if not _DATE.fullmatch(value):
        return _export_usage(f"`{_clip(value)}` is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        return _export_usage(f"`{value}` is not a date of the calendar.")


def parse_export(words: list[str]) -> Export | Usage:
    """The words after ``export``: a format and ``since``/``until``/``agent`` pairs, in any order, once each."""
    fmt: str | None = None
    since: date | None = None
    until: date | None = None
    agent: str | None = None
    seen: set[str] = set()
    i = 0
    while i < len(words):
        word = words[i].lower()
        if word in EXPORT_FORMATS or word == "json":
            if fmt is not None:
                return _export_usage("Give one format, `csv` or `jsonl`.")
            if word == "json":
                return _export_usage("The format is `jsonl` (one JSON document a line) or `csv`.")
            fmt = word
            i += 1
            continue
        if word not in ("since", "until", "agent"):
            return _export_usage(
                f"I do not know `{_clip(words[i])}` here: "
                "give a format (`csv` or `jsonl`), `since`, `until` or `agent`."
            )
        if word in seen:
            return _export_usage(f"`{word}` is given twice.")
        seen.add(word)
        value = words[i + 1] if i + 1 < len(words) else None
        if word == "agent":
            if value is None or value.lower() in ("since", "until", "agent", *EXPORT_FORMATS):
                return _export_usage("`agent` needs an agent id after it, e.g. `agent finance`.")
            agent = value
        else:
            parsed = _parse_date(word, value)
            if isinstance(parsed, Usage):
                return parsed
            if word == "since":
                since = parsed
            else:
                until = parsed
        i += 2
    if since and until and since > until:
        return _export_usage(f"`since {since}` is after `until {until}`: nothing could match.")
    return Export(fmt or "jsonl", since, until, agent)


def parse_approvals(text: str | None) -> ApprovalsCommand:
    """Turn the text after ``/approvals`` into a command; never raises."""
    refused = _refused(text or "")
    if refused is not None:
        return refused
    words = (text or "").split()
    if not words:
        return ListPending()
    head = words[0].lower()
    if head in ("list", "mine") and len(words) == 1:
        return ListPending()
    if head in ("help", "-h", "--help", "?"):
        return ApprovalsHelp()
    if head == "export":
        return parse_export(words[1:])
    return Usage(f"I do not know `{APPROVALS} {_clip(' '.join(words))}`.\n" + approvals_help_text())
