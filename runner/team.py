"""``Team``: a leader agent that hands work to member agents through tool calls.

The leader is an ordinary agent loop whose tools are its own tools plus one delegate tool per
member (``transfer_task_to_<member>``, with a ``task`` string). A delegate tool carries the
member on its ``.member`` attribute; the agent loop runs that member as a nested loop inside the
same run (its state saved in the team's state, its call keys prefixed by the delegate call's
key). So a member that hits a human requirement pauses the whole team run, every requirement
carries the member's name, and ``continue_run`` resumes the member first and then the leader,
all from the one run row in SQL.

A ``Team`` also quacks like an ``Agent`` for the loop (``get_model``, ``functions``,
``instructions_text``...), so a team can itself be a member of a team or a workflow step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

from runner import driver
from runner.agent import slug
from runner.events import RunEvent
from runner.listener import RunListener
from runner.loop import AgentLoop, Model, Scope, Steps, new_state
from runner.output import RunOutput
from runner.requirement import RunRequirement
from runner.runtime import Runtime, current
from runner.tools import Function, as_functions
from storage.database import Database
from storage.errors import ToolConfigError

Member = Any
"""An ``Agent`` or a ``Team`` (anything the agent loop can run)."""


class RunAPI:
    """The seed's public run API (run / continue_run / retry_run / get_run_output), shared.

    ``Agent`` has the same methods; teams and workflows get them from here so the three behave
    identically from a script, a worker and another process.
    """

    db: Database | None
    listeners: list[RunListener]

    def runtime(self) -> Runtime:
        base = current() if self.db is None else Runtime(db=self.db)
        if self.db is not None and self.db is not base.db:
            base = Runtime(db=self.db, listeners=base.listeners)
        if self.listeners:
            return Runtime(db=base.db, listeners=[*base.listeners, *self.listeners])
        return base

    @overload
    def run(self, input: str, *, stream: Literal[False] = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> RunOutput: ...

    @overload
    def run(self, input: str, *, stream: Literal[True], user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> Iterator[RunEvent]: ...

    def run(self, input: str, *, stream: bool = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> RunOutput | Iterator[RunEvent]:
        """Run until the answer or the first pause. ``user_id`` is the requester, kept for good."""
        events = driver.start(self, self.runtime(), input,  # type: ignore[arg-type]
                              requester=user_id, requester_name=user_name, channel=channel,
                              thread_ts=thread_ts, stream=stream)
        return events if stream else driver.collect(events)

    def continue_run(self, run_response: RunOutput | None = None, *, run_id: str | None = None,
                     requirements: Sequence[RunRequirement] | None = None, stream: bool = False,
                     user_id: str | None = None) -> Any:
        """Apply decisions and resume. Works from another process with ``run_id`` alone.

        Requirements left undecided keep the run paused (the returned output says so); they
        are never taken as rejections.
        """
        if run_response is not None:
            run_id = run_id or run_response.run_id
            if requirements is None:
                requirements = run_response.requirements
        if run_id is None:
            raise TypeError("continue_run needs a run response or run_id=...")
        events = driver.resume(self, self.runtime(), run_id,  # type: ignore[arg-type]
                               requirements, actor_id=user_id, stream=stream)
        return events if stream else driver.collect(events)

    def retry_run(self, run_id: str, *, stream: bool = False) -> Any:
        """Resume a failed run from its last checkpoint; tools that already ran do not rerun."""
        events = driver.retry(self, self.runtime(), run_id, stream=stream)  # type: ignore[arg-type]
        return events if stream else driver.collect(events)

    def get_run_output(self, run_id: str) -> RunOutput:
        """The run as SQL has it now (any process): status, content, open requirements."""
        runtime = self.runtime()
        return driver.output_of(self, runtime, runtime.db.get_run(run_id))  # type: ignore[arg-type]


def delegate_tool_name(member: Member) -> str:
    """``transfer_task_to_<member id>``, squeezed into the model API's 64-character names."""
    base = re.sub(r"[^a-zA-Z0-9_]+", "_", str(member.id)).strip("_") or "member"
    return f"transfer_task_to_{base}"[:64]


def delegate_function(member: Member) -> Function:
    """The leader's tool for one member; the loop sees ``.member`` and runs the member nested."""
    about = getattr(member, "description", None) or member.name
    fn = Function(
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
    )
    fn.member = member  # type: ignore[attr-defined]
    return fn


def find_function(owner: Any, member: str | None, tool: str | None) -> Function | None:
    """Find ``tool`` of the agent called ``member`` anywhere under ``owner`` (teams nest).

    ``member`` None means the owner itself (a team leader's own tool). Delegate tools are not
    returned: a requirement is never about a delegation.
    """
    if tool is None:
        return None
    if member is None or member == owner.name:
        fn: Function | None = owner.function(tool)
        if fn is not None and getattr(fn, "member", None) is None:
            return fn
    if member is None:
        return None
    for sub in getattr(owner, "members", []):
        found = find_function(sub, member, tool)
        if found is not None:
            return found
    return None


class Team(RunAPI):
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
        self.tools = list(tools or [])
        self.instructions = instructions
        self.description = description or (instructions if isinstance(instructions, str) else None)
        self._model = model
        self.db = db
        self.listeners = list(listeners or [])
        self._functions: list[Function] | None = None

    # ------------------------------------------------- the leader, as an agent

    def get_model(self) -> Model:
        if self._model is None:
            from runner.models import OpenAIChat

            self._model = OpenAIChat()
        return self._model

    @property
    def model(self) -> Model:
        return self.get_model()

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

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions() if f.name == name), None)

    def tool_names(self) -> list[str]:
        return [f.name for f in self.functions()]

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name or m.id == name), None)

    def instructions_text(self) -> str:
        """The leader's system prompt: the team's instructions and who it can delegate to."""
        own = self.instructions
        text = own if isinstance(own, str) else "\n".join(own) if own else ""
        roster = "\n".join(
            f"- {m.name}: use {delegate_tool_name(m)}"
            + (f" ({m.description})" if getattr(m, "description", None) else "")
            for m in self.members
        )
        lead = (f"You lead the team {self.name!r}. Delegate work to its members with their "
                f"transfer tools, then answer from what they report.\nMembers:\n{roster}")
        return f"{text}\n\n{lead}" if text else lead

    # ---------------------------------------------------------- Runnable hooks

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        return new_state(self.instructions_text(), input, requester)

    def steps(self, scope: Scope, state: dict[str, Any]) -> Steps:
        return AgentLoop(self, scope, state).advance()  # type: ignore[arg-type]

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        """The Function behind a requirement, so an edit or an input is validated by its tool."""
        return find_function(self, member, tool)

    def sensitive_fields(self) -> dict[str, list[str]]:
        """Fields to redact in the audit log, by tool name, for the leader and every member."""
        out: dict[str, list[str]] = {}
        parts = [{f.name: f.sensitive_fields for f in self.functions()}]
        parts += [m.sensitive_fields() for m in self.members]
        for part in parts:
            for name, fields in part.items():
                merged = out.setdefault(name, [])
                merged.extend(f for f in fields if f not in merged)
        return {name: fields for name, fields in out.items() if fields}

    def __repr__(self) -> str:
        return f"<Team {self.id} members={[m.name for m in self.members]}>"


__all__ = ["RunAPI", "Team", "delegate_function", "delegate_tool_name", "find_function"]
