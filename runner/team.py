"""``Team``: a leader agent that hands work to member agents through tool calls.

The leader is an ordinary agent loop whose tools are its own tools plus one delegate tool per
member (``transfer_task_to_<member>``, with a ``task`` string). A delegate tool's ``Function``
names its member (``Function.member``); the agent loop runs that member as a nested loop inside the
same run (its state saved in the team's state, its call keys prefixed by the delegate call's
key). So a member that hits a human requirement pauses the whole team run, every requirement
carries the member's name, and ``continue_run`` resumes the member first and then the leader,
all from the one run row in SQL.

A ``Team`` also quacks like an ``Agent`` for the loop (``get_model``, ``functions``,
``instructions_text``...), so a team can itself be a member of a team or a workflow step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from runner.agent import Agent, slug
from runner.listener import RunListener
from runner.protocols import Model
from runner.tools import Function, as_functions
from storage.database import Database
from storage.errors import ToolConfigError

Member = Agent
"""A team member: an ``Agent``, or a ``Team`` (which is an Agent whose tools delegate)."""


def delegate_tool_name(member: Member) -> str:
    """``transfer_task_to_<member id>``, squeezed into the model API's 64-character names."""
    base = re.sub(r"[^a-zA-Z0-9_]+", "_", str(member.id)).strip("_") or "member"
    return f"transfer_task_to_{base}"[:64]


def delegate_function(member: Member) -> Function:
    """The leader's tool for one member; the loop sees ``.member`` and runs the member nested."""
    about = member.description or member.name
    return Function(
        None,
        name=delegate_tool_name(member),
        description=(f"Hand a task to team member {member.name!r} ({about}). The member works "
                     "on it with its own tools and returns its answer."),
        parameters={
            "type": "object",
            "properties": {"task": {
                "type": "string",
                "description": "What the member should do, with every detail it needs: it does "
                               "not see this conversation.",
            }},
            "required": ["task"],
            "additionalProperties": False,
        },
        member=member,
    )


def find_function(owner: Agent, member: str | None, tool: str | None) -> Function | None:
    """Find ``tool`` of the agent called ``member`` anywhere under ``owner`` (teams nest).

    ``member`` None means the owner itself (a team leader's own tool). Delegate tools are not
    returned: a requirement is never about a delegation.
    """
    if tool is None:
        return None
    if member is None or member == owner.name:
        fn: Function | None = owner.function(tool)
        if fn is not None and fn.member is None:
            return fn
    if member is None:
        return None
    for sub in owner.members if isinstance(owner, Team) else []:
        found = find_function(sub, member, tool)
        if found is not None:
            return found
    return None


class Team(Agent):
    """A leader model that delegates to ``members``; ``tools`` are the leader's own tools."""

    kind = "team"

    def __init__(
        self,
        id: str | None = None,
        name: str | None = None,
        members: Sequence[Member] | None = None,
        tools: Sequence[Any] | None = None,
        instructions: str | Sequence[str] | None = None,
        model: Model | None = None,
        description: str | None = None,
        db: Database | None = None,
        listeners: Sequence[RunListener] | None = None,
        **_options: Any,
    ) -> None:
        self.id = id or (slug(name) if name else "team")
        self.name = name or self.id
        self.members: list[Member] = list(members or [])
        if not self.members:
            raise ToolConfigError(f"team {self.name!r} has no members")
        names = [m.name for m in self.members]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ToolConfigError(f"team {self.name!r}: two members are named {clashes[0]!r}; "
                                  "requirements name their member, so names must be unique")
        super().__init__(id=self.id, name=self.name, model=model, tools=tools, instructions=instructions,
                         description=description, db=db, listeners=listeners)

    # ------------------------------------------------- the leader, as an agent

    def functions(self) -> list[Function]:
        """The leader's own tools, then one delegate tool per member."""
        if self._functions is None:
            own = as_functions(self.tools)
            delegates = [delegate_function(m) for m in self.members]
            names = [f.name for f in own + delegates]
            clash = sorted({n for n in names if names.count(n) > 1})
            if clash:
                raise ToolConfigError(f"team {self.name!r}: two tools would be named {clash[0]!r} "
                                      "(a leader tool, or members whose ids differ only in punctuation)")
            self._functions = own + delegates
        return self._functions

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name or m.id == name), None)

    def instructions_text(self) -> str:
        """The leader's system prompt: the team's instructions and who it can delegate to."""
        own = self.instructions
        text = own if isinstance(own, str) else "\n".join(own) if own else ""
        roster = "\n".join(
            f"- {m.name}: use {delegate_tool_name(m)}"
            + (f" ({m.description})" if m.description else "")
            for m in self.members
        )
        lead = (f"You lead the team {self.name!r}. Delegate work to its members with their "
                f"transfer tools, then answer from what they report.\nMembers:\n{roster}")
        return f"{text}\n\n{lead}" if text else lead

    # ---------------------------------------------------------- Runnable hooks

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        """The Function behind a requirement, so an edit or an input is validated by its tool."""
        return find_function(self, member, tool)

    def __repr__(self) -> str:
        return f"<Team {self.id} members={[m.name for m in self.members]}>"


__all__ = ["Team", "delegate_function", "delegate_tool_name", "find_function"]
