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
from storage.errors import RunBusy
from storage.records import Actor, NewRequirement, RequirementRecord
from storage.runs import CallResult

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
    session_id: str | None = None
    session_state: dict[str, Any] | None = None
    """The run's session state: a tool's ``run_context.session_state`` (changes are saved)."""
    dependencies: dict[str, Any] | None = None
    """What the caller passed to ``run``/``continue_run`` for tools (never stored)."""
    unsaved: bool = False
    """The state moved since the last write (a model turn) and nothing has run since: the next
    write (a claim's checkpoint, the pause, the completion) saves it, one transaction fewer."""
    finished: list[CallResult] = field(default_factory=list)
    """Tool results not yet written: they ride with the next checkpoint (before anything else
    runs or the model is asked again), in the same transaction as the state that holds them."""

    def checkpoint(self, root_state: dict[str, Any]) -> None:
        calls, self.finished = self.finished, []
        try:
            # The results are written even when the lease is gone (RunBusy): never twice.
            run = self.db.save_run(self.run_id, expected_version=self.version, state=root_state, calls=calls)
        except RunBusy:
            raise
        except Exception:
            self.finished = calls + self.finished  # not written: the run's last write takes them
            raise
        self.version = run.version
        self.unsaved = False

    def flush(self, root_state: dict[str, Any]) -> None:
        """Write what is pending before something happens that a crash must not repeat (a claim)."""
        if self.unsaved or self.finished:
            self.checkpoint(root_state)


class Runnable(Protocol):
    """An agent, a team or a workflow: something the driver can start, advance and continue."""

    kind: str
    id: str
    name: str
    description: str | None

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]: ...

    def advance(self, scope: Scope, state: dict[str, Any]) -> Steps: ...

    def lookup(self, member: str | None, tool: str | None) -> Function | None: ...
