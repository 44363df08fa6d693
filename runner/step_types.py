"""Agno's workflow step protocol: what an executor receives (``StepInput``) and may return
(``StepOutput``), and a step's human review settings (``HumanReview``).

An executor may still take a plain ``str`` and return a ``str``; one whose first parameter is
annotated ``StepInput`` (or named ``step_input``) gets a ``StepInput``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OnReject(StrEnum):
    """What a rejected checkpoint does to the workflow."""

    skip = "skip"
    """Do not run the step (or component); continue with the previous output."""
    cancel = "cancel"
    """End the workflow, status ``cancelled``, content saying where and by whom."""
    retry = "retry"
    """Output and iteration review: run again (up to ``max_retries``) with the reviewer's note."""
    else_branch = "else"
    """A ``Condition``'s default: run its ``else_steps`` (skip when it has none)."""


class OnError(StrEnum):
    """What a step that raised does to the workflow."""

    fail = "fail"
    """The run fails with the step's error (signoff's default: nothing fails silently)."""
    skip = "skip"
    """Record the error and go on with the previous output."""
    pause = "pause"
    """Ask a person: retry the step, or skip it."""


class OnTimeout(StrEnum):
    """What a checkpoint nobody answered within ``hitl_timeout`` does."""

    cancel = "cancel"
    skip = "skip"
    approve = "approve"
    """Go on as if approved (the expiry is audited; the step still runs at most once)."""


@dataclass
class StepOutput:
    """A step's result. ``success=False`` fails the step; ``stop=True`` ends the workflow here."""

    content: Any = None
    step_name: str | None = None
    success: bool = True
    stop: bool = False
    error: str | None = None
    steps: list[StepOutput] | None = None
    """A container's (Router, Condition, Loop, Steps) own steps' outputs."""

    def get_content_as_string(self) -> str:
        from runner.tools import render_result

        return "" if self.content is None else render_result(self.content)


@dataclass
class StepInput:
    """What a step gets: the workflow's input, the previous step's output, every earlier output."""

    input: Any = None
    previous_step_content: Any = None
    previous_step_outputs: dict[str, StepOutput] = field(default_factory=dict)
    additional_data: dict[str, Any] = field(default_factory=dict)

    def get_step_content(self, step_name: str) -> Any:
        output = self.previous_step_outputs.get(step_name)
        return output.content if output is not None else None

    def get_step_output(self, step_name: str) -> StepOutput | None:
        return self.previous_step_outputs.get(step_name)

    def get_input_as_string(self) -> str:
        return "" if self.input is None else str(self.input)


@dataclass
class HumanReview:
    """A step's human checkpoints in one object (Agno's ``HumanReview``): confirmation before it
    runs, user input, and output review after it ran (approve, reject, or edit the output)."""

    requires_confirmation: bool = False
    confirmation_message: str | None = None
    requires_user_input: bool = False
    user_input_message: str | None = None
    user_input_schema: list[Any] | None = None
    requires_output_review: bool = False
    output_review_message: str | None = None
    on_reject: Any = None
    max_retries: int = 3
    timeout: float | None = None
    on_timeout: Any = None
    requires_iteration_review: bool = False
    iteration_review_message: str | None = None


__all__ = ["HumanReview", "OnError", "OnReject", "OnTimeout", "StepInput", "StepOutput"]
