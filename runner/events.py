"""Typed events of a streamed run. Every event has ``run_id``, ``session_id``, ``content`` and
``is_paused``, so a loop over a stream can test ``event.is_paused`` on anything it receives, as in
the seed. Agno's class names (``RunPausedEvent``, ``RunContentEvent``, ``ToolCallStartedEvent``,
``StepStartedEvent`` ...) are aliases of these classes; ``event.event`` is Agno's event name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.run_requirement import PausedTools

if TYPE_CHECKING:
    from runner.output import RunOutput
    from runner.run_requirement import RunRequirement, ToolExecution


@dataclass
class RunEvent:
    run_id: str
    session_id: str | None = field(default=None, kw_only=True)
    content: Any = field(default=None, kw_only=True)

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
    content: Any = ""
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
class RunPaused(PausedTools, RunEvent):
    requirements: list[RunRequirement] = field(default_factory=list)
    output: RunOutput | None = None

    @property
    def is_paused(self) -> bool:
        return True

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements if not r.is_resolved]

    @property
    def tools(self) -> list[ToolExecution]:
        """The paused calls, with Agno's flags (set ``confirmed`` and pass them back)."""
        return self.output.tools if self.output is not None else [r.tool_execution for r in self.requirements]


    def __getattr__(self, name: str) -> Any:
        # A workflow's paused event answers what its output answers (steps_requiring_...).
        output = self.__dict__.get("output")
        if output is not None and not name.startswith("_"):
            return getattr(output, name)
        raise AttributeError(name)


@dataclass
class RunCompleted(RunEvent):
    content: Any = None
    output: RunOutput | None = None

    @property
    def tools(self) -> list[ToolExecution]:
        return self.output.tools if self.output is not None else []


@dataclass
class RunError(RunEvent):
    error: str = ""
    kind: str | None = None
    output: RunOutput | None = None


@dataclass
class RunCancelled(RunCompleted):
    """The run ended ``cancelled`` (a workflow checkpoint turned down with on_reject="cancel")."""


# -- workflow events (Agno's names) ------------------------------------------------------------


@dataclass
class WorkflowStarted(RunStarted):
    workflow_name: str = ""


@dataclass
class WorkflowCompleted(RunCompleted):
    workflow_name: str = ""


@dataclass
class WorkflowCancelled(RunCancelled):
    workflow_name: str = ""


@dataclass
class StepStarted(RunEvent):
    step_name: str = ""
    step_index: int = 0


@dataclass
class StepCompleted(RunEvent):
    step_name: str = ""
    step_index: int = 0


@dataclass
class _StepPause(RunEvent):
    """What a step pause says, shared by ``StepPaused`` and ``StepExecutorPaused`` (which Agno keeps
    as separate classes, so neither is an instance of the other)."""

    step_name: str = ""
    step_index: int = 0
    requires_confirmation: bool = False
    requires_user_input: bool = False
    requires_output_review: bool = False
    requires_route_selection: bool = False
    requires_error_decision: bool = False
    confirmation_message: str | None = None
    user_input_message: str | None = None
    executor_name: str | None = None
    executor_type: str | None = None
    """``agent``, ``team`` or ``function``: what runs the step."""
    executor_requirements: list[Any] = field(default_factory=list)
    """A paused executor's tool requirements (its agent's ``RunRequirement``s, by call)."""


@dataclass
class StepPaused(_StepPause):
    """A step waits for a person (confirmation, input, output review); the run's RunPaused follows."""


@dataclass
class StepExecutorPaused(_StepPause):
    """A step's executor (its agent or team) paused on a tool requirement. Not a ``StepPaused``,
    as in Agno: code that handles ``StepPausedEvent`` first still sees executor pauses apart."""


@dataclass
class StepOutputReview(StepPaused):
    """A step ran and its output waits for a person's review before it flows on."""

    step_output: Any = None


@dataclass
class RouterPaused(StepPaused):
    """A Router waits for a person to choose its route(s) among ``available_choices``."""

    available_choices: list[str] = field(default_factory=list)
    allow_multiple_selections: bool = False


@dataclass
class StepError(StepPaused):
    """A step failed under ``on_error="pause"``: a person says retry or skip."""

    error: str = ""
    error_type: str | None = None


@dataclass
class StepContinued(RunEvent):
    step_name: str = ""
    step_index: int = 0
    executor_name: str | None = None
    executor_type: str | None = None


@dataclass
class StepExecutorContinued(StepContinued):
    """A step's executor resumed after its tool requirements were decided."""


# -- Agno's event class names, as aliases ------------------------------------------------------

RunStartedEvent = RunStarted
RunContinuedEvent = RunContinued
RunContentEvent = RunContent
RunPausedEvent = RunPaused
RunCompletedEvent = RunCompleted
RunCancelledEvent = RunCancelled
RunErrorEvent = RunError
ToolCallStartedEvent = ToolCallStarted
ToolCallCompletedEvent = ToolCallCompleted
TeamRunStartedEvent = RunStarted
TeamRunContinuedEvent = RunContinued
TeamRunContentEvent = RunContent
TeamRunPausedEvent = RunPaused
TeamRunCompletedEvent = RunCompleted
TeamRunErrorEvent = RunError
TeamToolCallStartedEvent = ToolCallStarted
TeamToolCallCompletedEvent = ToolCallCompleted
WorkflowStartedEvent = WorkflowStarted
WorkflowCompletedEvent = WorkflowCompleted
WorkflowCancelledEvent = WorkflowCancelled
StepStartedEvent = StepStarted
StepCompletedEvent = StepCompleted
StepPausedEvent = StepPaused
StepExecutorPausedEvent = StepExecutorPaused
StepContinuedEvent = StepContinued
StepExecutorContinuedEvent = StepExecutorContinued
StepOutputReviewEvent = StepOutputReview
RouterPausedEvent = RouterPaused
StepErrorEvent = StepError
