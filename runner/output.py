"""``RunOutput``: what a run returns, built from SQL so any process sees the same answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.run_requirement import RunRequirement, ToolExecution
from runner.tools import Function
from storage.database import Database
from storage.records import RequirementKind, RequirementStatus, RunRecord, RunStatus


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
    session_id: str | None = None
    session_state: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    """``metadata["approval"]``: the run's approval rows (Agno's ``get_approval`` shape), if any."""
    input: str | None = None
    step_results: list[dict[str, Any]] = field(default_factory=list)
    paused_at: str | None = None
    """A workflow's finished steps, in order: ``{"step_name", "content", "status"}``."""

    @property
    def is_paused(self) -> bool:
        return self.status is RunStatus.PAUSED

    @property
    def is_cancelled(self) -> bool:
        return self.status is RunStatus.CANCELLED

    @property
    def workflow_id(self) -> str:
        return self.agent_id

    @property
    def team_id(self) -> str:
        return self.agent_id

    @property
    def steps_requiring_user_input(self) -> list[RunRequirement]:
        return [r for r in self.active_requirements if r.step_name and r.needs_user_input]

    @property
    def steps_requiring_output_review(self) -> list[RunRequirement]:
        return [r for r in self.active_requirements if r.needs_output_review]

    @property
    def paused_step_name(self) -> str | None:
        """The workflow step the run waits on (None when not paused at a step)."""
        if not self.is_paused:
            return None
        return self.paused_at or next((r.step_name for r in self.active_requirements if r.step_name), None)

    @property
    def tools_requiring_confirmation(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_confirmation and t.confirmed is None]

    @property
    def tools_requiring_user_input(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_user_input and not t.answered]

    @property
    def tools_awaiting_external_execution(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.external_execution_required and t.result is None]

    def get_content_as_string(self) -> str:
        return self.content or ""

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
    by_key = {r.call_key: r for r in db.requirements_for_run(run.id)}
    executed = []
    for e in db.executions_for_run(run.id):
        source = by_key.get(e.get("call_key") or "")
        executed.append(ToolExecution(
            tool_name=e["tool_name"],
            tool_args=dict(source.current_args) if source is not None else {},
            tool_call_id=source.tool_call_id if source is not None else None,
            result=e["result"],
            status=e["status"],
            tool_call_error=e["status"] == "failed",
            member_agent_name=source.member_agent_name if source is not None else None,
            requires_confirmation=(source.kind is RequirementKind.CONFIRMATION) or None if source else None,
            confirmed=(source.status is RequirementStatus.APPROVED) if source is not None
            and source.kind is RequirementKind.CONFIRMATION else None,
        ))
    # The paused calls, with Agno's flags, after the ones that ran, and the decided calls that did
    # not run (rejected, expired), with ``confirmed`` False. A step's checkpoint is not a tool.
    ran = {e.get("call_key") for e in db.executions_for_run(run.id)}
    paused = [r.tool_execution for r in requirements
              if r.record.is_pending and not r.kind.value.startswith("step_")]
    paused += [RunRequirement(r, None).tool_execution for r in by_key.values()
               if not r.is_pending and r.call_key not in ran and not r.kind.value.startswith("step_")]
    state = run.state
    approval_rows = [approval_dict(a) for a in db.approvals_for_run(run.id)]
    return RunOutput(
        run_id=run.id,
        agent_id=run.target_id,
        status=run.status,
        content=run.content,
        requirements=requirements,
        tools=executed + paused,
        error=run.error,
        error_kind=run.error_kind,
        requester=run.requester,
        messages=list(state.get("messages", [])),
        session_id=run.session_id,
        session_state=run.session_state,
        metadata={"approval": approval_rows[-1], "approvals": approval_rows} if approval_rows else {},
        input=run.input,
        step_results=[dict(h) for h in state.get("history", []) if isinstance(h, dict)],
        paused_at=state.get("paused_step") if run.status is RunStatus.PAUSED else None,
    )


def approval_dict(approval: Any) -> dict[str, Any]:
    """An approval row in Agno's dict shape (``id``, ``status``, ``approval_type``, ``resolved_by`` ...)."""
    from storage.approvals import agno_approval

    return agno_approval(approval)
