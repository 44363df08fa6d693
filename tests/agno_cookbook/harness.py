"""What the cookbook tests share: the table's row type, the human at the keyboard, the store reader.

An example is run as a script (``runpy.run_path(..., run_name="__main__")``) in a temp directory,
as a user would run it: the model is the scripted OpenAI-compatible fake, the keyboard is a queue of
typed lines (``input`` and rich's ``Prompt.ask``), and Hacker News is a canned ``httpx.get``.
Afterwards the test reads what the example left in its database(s) through ``Stored``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from storage import Database
from storage.schema import approvals, requirements, runs, tool_executions
from tests.fakes.openai_server import Reply

EXAMPLES_DIR = Path(__file__).parent / "examples"


def aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones; compare them as aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    """Rows the example left behind, over every database it opened (SQLite files and the PG schema)."""

    runs: list[tuple[str, str]]
    """(kind, status) per run, oldest first."""
    requirements: list[tuple[str, str | None, str]]
    """(kind, tool_name, status) per human step."""
    approvals: list[tuple[str, str, str]]
    """(approval_type, tool_name, status) per approval row."""
    executions: Counter[str]
    """How many times each tool ran to success (the claim rows)."""

    @classmethod
    def read(cls, databases: list[Database]) -> Stored:
        """Read every database; runs and requirements are put in creation order across all of them
        (an example may write to several files)."""
        run_rows: list[tuple[datetime, str, str]] = []
        requirement_rows: list[tuple[datetime, str, str | None, str]] = []
        found = cls([], [], [], Counter())
        for db in databases:
            with db.engine.connect() as conn:
                run_rows.extend(
                    (aware(r.created_at), r.kind, r.status)
                    for r in conn.execute(select(runs.c.created_at, runs.c.kind, runs.c.status))
                )
                requirement_rows.extend(
                    (aware(r.created_at), r.kind, r.tool_name, r.status)
                    for r in conn.execute(
                        select(
                            requirements.c.created_at,
                            requirements.c.kind,
                            requirements.c.tool_name,
                            requirements.c.status,
                        )
                    )
                )
                found.approvals.extend(
                    (r.approval_type, r.tool_name, r.status)
                    for r in conn.execute(select(approvals.c.approval_type, approvals.c.tool_name, approvals.c.status))
                )
                found.executions.update(
                    r.tool_name
                    for r in conn.execute(
                        select(tool_executions.c.tool_name).where(tool_executions.c.status == "succeeded")
                    )
                )
        found.runs.extend((kind, status) for _at, kind, status in sorted(run_rows, key=lambda row: row[0]))
        found.requirements.extend(row[1:] for row in sorted(requirement_rows, key=lambda row: row[0]))
        return found

    def run_statuses(self, kind: str | None = None) -> list[str]:
        return [status for k, status in self.runs if kind is None or k == kind]


def nothing_to_check(_stored: Stored) -> None:
    """For examples whose outcome is all on screen (the table still says so explicitly)."""


@dataclass(frozen=True)
class Example:
    """One cookbook example: what the model says, what the person types, what they then check."""

    path: str
    """Relative to ``examples/`` (and to Agno's ``cookbook/``)."""
    replies: tuple[Reply, ...]
    """The scripted model's turns: the tool calls a real model makes for the prompt, then its text."""
    typed: tuple[str, ...]
    """The lines the person types, in order (``input()`` and ``Prompt.ask``); all must be asked for."""
    printed: tuple[str, ...]
    """Text a user would look for in what the example printed."""
    stored: Callable[[Stored], None]
    """Assertions on the database once the example has finished."""
    model_saw: tuple[str, ...] = ()
    """Text the model must have been sent (a tool's result, the person's answer; any request, since a
    team member's tool result reaches the member's model, not the leader's)."""
    random_value: float | None = None
    """What ``random.random()`` returns while the example runs (examples that fail at random)."""
    xfail: str | None = None
    """What signoff lacks for this example (strict xfail: a fix shows up as an unexpected pass)."""

    @property
    def file(self) -> Path:
        return EXAMPLES_DIR / self.path

    @property
    def uses_postgres(self) -> bool:
        return "PostgresDb" in self.file.read_text()


@dataclass
class Keyboard:
    """The person at the terminal: answers prompts from a script and remembers what was asked."""

    lines: list[str]
    asked: list[str] = field(default_factory=list)

    def answer(self, prompt: object = "") -> str:
        """As at a terminal: the prompt is shown and the typed line echoed, so the captured output
        reads like the session a user sees."""
        self.asked.append(str(prompt))
        if not self.lines:
            raise AssertionError(f"the example asked {str(prompt)!r} but the script has no more typed lines")
        line = self.lines.pop(0)
        print(f"{prompt}{line}")
        return line

    def prompt_ask(self, prompt: object = "", *_args: Any, **_kwargs: Any) -> str:
        return self.answer(prompt)


HN_STORIES = {1: "Signoff ships thread sessions", 2: "SQLite is enough", 3: "A third story"}
"""The canned Hacker News front page the examples' ``httpx.get`` sees (no network in tests)."""


def fake_hn_get(url: str, *_args: Any, **_kwargs: Any) -> httpx.Response:
    """``httpx.get`` for the Hacker News API URLs the examples fetch; anything else fails loudly."""
    request = httpx.Request("GET", url)
    if url.endswith("/topstories.json"):
        return httpx.Response(200, json=list(HN_STORIES), request=request)
    if "/item/" in url:
        story_id = int(url.rsplit("/", 1)[1].removesuffix(".json"))
        story = {"id": story_id, "title": HN_STORIES[story_id], "text": "body", "score": 100 + story_id}
        return httpx.Response(200, json=story, request=request)
    raise AssertionError(f"unexpected network call in an example: {url}")
