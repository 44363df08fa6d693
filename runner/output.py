"""``RunOutput``: what a run returns, built from SQL so any process sees the same answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.run_requirement import RunRequirement, ToolExecution
from runner.tools import Function
from storage.database import Database
from storage.records import RunRecord, RunStatus


@dataclass
class RunOutput:
    run_id: str
    agent_id: str
    status: RunStatus
    content: str | None = None
    requirements: list[RunRequirement] = field(default_factory=list)
    tools: list[ToolExecution] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    requester: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_paused(self) -> bool:
        return self.status is RunStatus.PAUSED

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements if not r.is_resolved]

    @property
    def steps_requiring_confirmation(self) -> list[RunRequirement]:
        return [r for r in self.active_requirements if r.step_name and r.needs_confirmation]

    @property
    def step_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements if r.step_name]


RunResponse = RunOutput
"""The seed's name for the same thing."""


def build_output(
    db: Database, run: RunRecord, lookup: Callable[[str | None, str | None], Function | None]
) -> RunOutput:
    """Read a run's answer, its current round's requirements and its executed tools from SQL.

    ``lookup(member_agent_name, tool_name)`` finds the Function, so edits and inputs can be
    validated against the tool's own signature.
    """
    records = db.requirements_for_run(run.id, round=run.round) if run.round else []
    approvals = {a.requirement_id: a.id for a in db.approvals_for_run(run.id) if a.requirement_id}
    requirements = [RunRequirement(r, lookup(r.member_agent_name, r.tool_name), approvals.get(r.id)) for r in records]
    executed = [
        ToolExecution(tool_name=e["tool_name"], tool_args={}, result=e["result"], status=e["status"])
        for e in db.executions_for_run(run.id)
    ]
    return RunOutput(
        run_id=run.id,
        agent_id=run.target_id,
        status=run.status,
        content=run.content,
        requirements=requirements,
        tools=executed,
        error=run.error,
        error_kind=run.error_kind,
        requester=run.requester,
        messages=list(run.state.get("messages", [])),
    )
