"""``Agent``: a model, instructions and tools, with the seed's run/continue_run API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from runner.listener import RunListener
from runner.loop import AgentLoop, new_state
from runner.protocols import Model, Scope, Steps
from runner.run_api import RunAPI
from runner.tools import Function, as_functions
from storage.database import Database


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "agent"


MARKDOWN_INSTRUCTION = "Use markdown to format your answers."
"""Agno's sentence for ``markdown=True``."""


class Agent(RunAPI):
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
        session_state: dict[str, Any] | None = None,
        markdown: bool = False,
        **_options: Any,
    ) -> None:
        self.id = id or (slug(name) if name else "agent")
        self.markdown = markdown
        """Ask the model to answer in Markdown (Agno's ``markdown=True``: one line in the system prompt)."""
        self.session_state = session_state
        """A new session's initial state (Agno's); ``{key}`` in the instructions reads from it."""
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
        parts = [self.instructions] if isinstance(self.instructions, str) else list(self.instructions or [])
        if getattr(self, "markdown", False):
            parts.append(MARKDOWN_INSTRUCTION)
        return "\n".join(parts) if parts else None

    # ------------------------------------------------------- Runnable hooks

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        return new_state(self.instructions_text(), input, requester)

    def advance(self, scope: Scope, state: dict[str, Any]) -> Steps:
        return AgentLoop(self, scope, state).advance()

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        return self.function(tool) if tool else None

    def __repr__(self) -> str:
        return f"<Agent {self.id}>"
