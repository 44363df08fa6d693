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
from runner.requirement import RunRequirement, ToolExecution
from runner.tools import Function, Toolkit, UserInputField, tool

__all__ = [
    "Agent",
    "Function",
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
    "ToolCallCompleted",
    "ToolCallStarted",
    "ToolExecution",
    "Toolkit",
    "UserInputField",
    "approval",
    "tool",
]
