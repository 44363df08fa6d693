"""Typed events of a streamed run. Every event has ``run_id`` and ``is_paused``, so a loop over a
stream can test ``event.is_paused`` on anything it receives, as in the seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.output import RunOutput
    from runner.run_requirement import RunRequirement


@dataclass
class RunEvent:
    run_id: str

    @property
    def is_paused(self) -> bool:
        return False

    @property
    def event(self) -> str:
        return type(self).__name__


@dataclass
class RunStarted(RunEvent):
    agent_id: str = ""


@dataclass
class RunContinued(RunEvent):
    agent_id: str = ""


@dataclass
class RunContent(RunEvent):
    content: str = ""
    member_agent_name: str | None = None
    """The team member (or workflow step agent) whose model is speaking; None for the run's own."""


@dataclass
class ToolCallStarted(RunEvent):
    tool_name: str = ""
    tool_args: dict[str, Any] = field(default_factory=dict)
    member_agent_name: str | None = None


@dataclass
class ToolCallCompleted(RunEvent):
    tool_name: str = ""
    result: str = ""
    status: str = "succeeded"
    member_agent_name: str | None = None


@dataclass
class RunPaused(RunEvent):
    requirements: list[RunRequirement] = field(default_factory=list)
    output: RunOutput | None = None

    @property
    def is_paused(self) -> bool:
        return True

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements if not r.is_resolved]


@dataclass
class RunCompleted(RunEvent):
    content: str | None = None
    output: RunOutput | None = None


@dataclass
class RunError(RunEvent):
    error: str = ""
    kind: str | None = None
    output: RunOutput | None = None
