"""The runtime's typed boundary: what a runnable is, what the agent loop needs of an agent and a
model, and what one advance of a run works with.

``Agent``, ``Team`` and ``Workflow`` are ``Runnable``s: the driver (``runner.driver``) creates,
leases, pauses and finishes their runs and calls ``advance`` to move one forward. ``Agent`` and
``Team`` are also ``LoopAgent``s: what ``runner.loop.AgentLoop`` drives turn by turn. Nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from runner.events import RunEvent
from runner.settings import ModelDefaults
from storage.database import Database
from storage.records import Actor, NewRequirement, RequirementRecord

if TYPE_CHECKING:
    from runner.models import ModelResponse
    from runner.tools import Function


class Model(Protocol):
    """A chat model: one turn in, one ``ModelResponse`` out (or streamed deltas, then it)."""

    id: str

    def response(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelResponse: ...

    def response_stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> Iterator[str | ModelResponse]: ...


@runtime_checkable
class LoopAgent(Protocol):
    """What the agent loop needs of an agent (an ``Agent``, or a ``Team`` as its leader)."""

    id: str
    name: str
    description: str | None

    def get_model(self) -> Model: ...

    def functions(self) -> list[Function]: ...

    def function(self, name: str) -> Function | None: ...

    def tool_names(self) -> list[str]: ...

    def instructions_text(self) -> str | None: ...


@dataclass
class Paused:
    """The advance stopped for people; ``new`` are the requirements to create with the pause."""

    new: list[NewRequirement] = field(default_factory=list)


@dataclass
class Completed:
    content: str | None


@dataclass
class Cancelled(Completed):
    """The run ends ``cancelled`` (a workflow checkpoint turned down with on_reject="cancel")."""

    by: Actor | None = None


Outcome = Paused | Completed
"""How one advance of a run ended."""

Steps = Generator[RunEvent, None, Outcome]
"""An advance: the events it streams, returning its outcome."""


@dataclass
class Scope:
    """One advance of one run: its lease (version), requester, its requirements by call_key, and
    the model server an ``OpenAIChat`` without explicit arguments uses."""

    db: Database
    run_id: str
    version: int
    requester: str | None
    agent_id: str
    stream: bool = False
    decisions: dict[str, RequirementRecord] = field(default_factory=dict)
    model_defaults: ModelDefaults = field(default_factory=ModelDefaults)

    def checkpoint(self, root_state: dict[str, Any]) -> None:
        run = self.db.save_run(self.run_id, expected_version=self.version, state=root_state)
        self.version = run.version


class Runnable(Protocol):
    """An agent, a team or a workflow: something the driver can start, advance and continue."""

    kind: str
    id: str
    name: str
    description: str | None

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]: ...

    def advance(self, scope: Scope, state: dict[str, Any]) -> Steps: ...

    def lookup(self, member: str | None, tool: str | None) -> Function | None: ...
