"""signoff's agent runtime: tools that wait for people, runs that pause and resume from SQL.

Names follow the seed document so its snippets run with only their imports changed.
"""

from runner.agent import Agent
from runner.approval import approval
from runner.events import (
    RunCompleted,
    RunContent,
    RunContinued,
    RunError,
    RunEvent,
    RunPaused,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from runner.listener import RunListener
from runner.output import RunOutput, RunResponse
from runner.run_requirement import RunRequirement, ToolExecution
from runner.team import Team
from runner.tools import Function, Toolkit, UserInputField, tool
from runner.workflow import OnReject, Step, Workflow, WorkflowRunOutput

__all__ = [
    "Agent",
    "Function",
    "OnReject",
    "RunCompleted",
    "RunContent",
    "RunContinued",
    "RunError",
    "RunEvent",
    "RunListener",
    "RunOutput",
    "RunPaused",
    "RunRequirement",
    "RunResponse",
    "RunStarted",
    "Step",
    "Team",
    "ToolCallCompleted",
    "ToolCallStarted",
    "ToolExecution",
    "Toolkit",
    "UserInputField",
    "Workflow",
    "WorkflowRunOutput",
    "approval",
    "tool",
]
