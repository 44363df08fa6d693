"""``Agent``: a model, instructions and tools, with the seed's run/continue_run API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

from runner import driver
from runner.events import RunEvent
from runner.listener import RunListener
from runner.loop import AgentLoop, Model, Scope, Steps, new_state
from runner.output import RunOutput
from runner.requirement import RunRequirement
from runner.runtime import Runtime, current
from runner.tools import Function, as_functions
from storage.database import Database


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "agent"


class Agent:
    kind = "agent"

    def __init__(
        self,
        id: str | None = None,
        name: str | None = None,
        model: Model | None = None,
        tools: Sequence[Any] | None = None,
        instructions: str | Sequence[str] | None = None,
        description: str | None = None,
        db: Database | None = None,
        listeners: Sequence[RunListener] | None = None,
        **_options: Any,
    ) -> None:
        self.id = id or (slug(name) if name else "agent")
        self.name = name or self.id
        self._model = model
        self.tools = list(tools or [])
        self.instructions = instructions
        self.description = description or (instructions if isinstance(instructions, str) else None)
        self.db = db
        self.listeners = list(listeners or [])
        self._functions: list[Function] | None = None

    # --------------------------------------------------------------- parts

    def get_model(self) -> Model:
        if self._model is None:
            from runner.models import OpenAIChat

            self._model = OpenAIChat()
        return self._model

    @property
    def model(self) -> Model:
        return self.get_model()

    def functions(self) -> list[Function]:
        if self._functions is None:
            self._functions = as_functions(self.tools)
        return self._functions

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions() if f.name == name), None)

    def tool_names(self) -> list[str]:
        return [f.name for f in self.functions()]

    def instructions_text(self) -> str | None:
        if self.instructions is None:
            return None
        if isinstance(self.instructions, str):
            return self.instructions
        return "\n".join(self.instructions)

    def runtime(self) -> Runtime:
        base = current() if self.db is None else Runtime(db=self.db)
        if self.db is not None and self.db is not base.db:
            base = Runtime(db=self.db, listeners=base.listeners)
        if self.listeners:
            return Runtime(db=base.db, listeners=[*base.listeners, *self.listeners])
        return base

    # ------------------------------------------------------- Runnable hooks

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        return new_state(self.instructions_text(), input, requester)

    def steps(self, scope: Scope, state: dict[str, Any]) -> Steps:
        return AgentLoop(self, scope, state).advance()

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        return self.function(tool) if tool else None

    def sensitive_fields(self) -> dict[str, list[str]]:
        return {f.name: f.sensitive_fields for f in self.functions() if f.sensitive_fields}

    # ------------------------------------------------------------ public API

    @overload
    def run(
        self,
        input: str,
        *,
        stream: Literal[False] = False,
        user_id: str | None = None,
        user_name: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> RunOutput: ...

    @overload
    def run(
        self,
        input: str,
        *,
        stream: Literal[True],
        user_id: str | None = None,
        user_name: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> Iterator[RunEvent]: ...

    def run(
        self,
        input: str,
        *,
        stream: bool = False,
        user_id: str | None = None,
        user_name: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> RunOutput | Iterator[RunEvent]:
        """Run until the answer or the first pause. ``user_id`` is the requester, kept for good."""
        events = driver.start(
            self,
            self.runtime(),
            input,
            requester=user_id,
            requester_name=user_name,
            channel=channel,
            thread_ts=thread_ts,
            stream=stream,
        )
        return events if stream else driver.collect(events)

    def continue_run(
        self,
        run_response: RunOutput | None = None,
        *,
        run_id: str | None = None,
        requirements: Sequence[RunRequirement] | None = None,
        stream: bool = False,
        user_id: str | None = None,
    ) -> Any:
        """Apply decisions and resume. Works from another process with ``run_id`` alone."""
        if run_response is not None:
            run_id = run_id or run_response.run_id
            if requirements is None:
                requirements = run_response.requirements
        if run_id is None:
            raise TypeError("continue_run needs a run response or run_id=...")
        events = driver.resume(self, self.runtime(), run_id, requirements, actor_id=user_id, stream=stream)
        return events if stream else driver.collect(events)

    def retry_run(self, run_id: str, *, stream: bool = False) -> Any:
        events = driver.retry(self, self.runtime(), run_id, stream=stream)
        return events if stream else driver.collect(events)

    def get_run_output(self, run_id: str) -> RunOutput:
        runtime = self.runtime()
        return driver.output_of(self, runtime, runtime.db.get_run(run_id))

    def __repr__(self) -> str:
        return f"<Agent {self.id}>"
