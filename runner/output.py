"""``RunOutput``: what a run returns, built from SQL so any process sees the same answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.run_requirement import PausedTools, RunRequirement, ToolExecution
from runner.tools import Function
from storage.database import Database
from storage.records import RequirementKind, RequirementStatus, RunRecord, RunStatus


class Message(dict[str, Any]):
    """One message of the conversation as the model API has it (a dict), readable as Agno's
    ``Message`` too: ``m.role``, ``m.content``, ``m.tool_calls`` (None when absent)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


@dataclass
class RunOutput(PausedTools):
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
    step_results: list[Any] = field(default_factory=list)
    """A workflow's top-level steps, in order, as Agno's ``StepOutput`` (``step_name``,
    ``content``, ``success``: False for a skipped or cancelled step)."""
    paused_at: str | None = None
    step_index: int | None = None
    """A workflow's current top-level step (the one it waits on when paused)."""
    paused_executor: dict[str, Any] | None = None
    """The agent or team (``name``, ``type``) a paused workflow step waits on, if any."""
    parent_run_id: str | None = None
    """A team member's run: the team run it ran inside (its id is ``<team run>/<delegate call>``)."""
    step_history: list[RunRequirement] = field(default_factory=list)
    """Every step checkpoint of the run so far, decided ones included (Agno's accumulated
    ``step_requirements``); the pending ones are the same objects as in ``requirements``."""

    def __post_init__(self) -> None:
        self.step_results = _step_tree(self.step_results)

    def to_dict(self) -> dict[str, Any]:
        """The output as plain JSON values (Agno's ``to_dict``; arguments masked as everywhere)."""
        return {
            "run_id": self.run_id, "agent_id": self.agent_id, "status": str(self.status), "content": self.content,
            "error": self.error, "session_id": self.session_id, "input": self.input, "paused_at": self.paused_at,
            "step_index": self.step_index, "requirements": [r.to_dict() for r in self.requirements],
            "step_requirements": [r.to_dict() for r in self.step_history],
            "step_results": [{"step_name": r.step_name, "content": r.content, "success": r.success}
                             for r in self.step_results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunOutput:
        from runner.step_types import StepOutput

        return cls(
            run_id=data["run_id"], agent_id=data["agent_id"], status=RunStatus(data["status"]),
            content=data.get("content"), error=data.get("error"), session_id=data.get("session_id"),
            input=data.get("input"), paused_at=data.get("paused_at"), step_index=data.get("step_index"),
            requirements=[RunRequirement.from_dict(r) for r in data.get("requirements", [])],
            step_history=[RunRequirement.from_dict(r) for r in data.get("step_requirements", [])],
            step_results=[StepOutput(content=r.get("content"), step_name=r.get("step_name"),
                                     success=bool(r.get("success", True))) for r in data.get("step_results", [])],
        )

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
    def steps_requiring_route(self) -> list[RunRequirement]:
        """A Router waiting for a person to choose its route(s)."""
        return [r for r in self.active_requirements if r.needs_route_selection]

    @property
    def steps_with_errors(self) -> list[RunRequirement]:
        """Failed steps (``on_error="pause"``) waiting for retry() or skip()."""
        return [r for r in self.active_requirements if r.kind is RequirementKind.STEP_ERROR]

    @property
    def error_requirements(self) -> list[RunRequirement]:
        return self.steps_with_errors

    @property
    def paused_step_index(self) -> int | None:
        """The top-level index of the step the workflow waits on."""
        return self.step_index if self.is_paused else None

    @property
    def steps_requiring_output_review(self) -> list[RunRequirement]:
        return [r for r in self.active_requirements if r.needs_output_review]

    @property
    def paused_step_name(self) -> str | None:
        """The workflow step the run waits on (None when not paused at a step)."""
        if not self.is_paused:
            return None
        return self.paused_at or next((r.step_name for r in self.active_requirements if r.step_name), None)


    def get_content_as_string(self) -> str:
        return self.content or ""

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements if not r.is_resolved]

    @property
    def steps_requiring_confirmation(self) -> list[RunRequirement]:
        return [r for r in self.active_requirements if r.step_name and r.needs_confirmation]

    @property
    def step_requirements(self) -> list[Any]:
        """The workflow's step checkpoints; a step whose agent or team paused on its tools is one
        more entry (Agno's executor requirement) holding those tools' requirements."""
        steps: list[Any] = list(self.step_history) or [r for r in self.requirements if r.step_name]
        tools = [r for r in self.requirements if not r.step_name]
        if self.paused_executor and tools and self.paused_at:
            steps.append(StepExecutorRequirement(
                step_name=self.paused_at, executor_name=self.paused_executor.get("name"),
                executor_type=self.paused_executor.get("type"), executor_requirements=tools))
        return steps


@dataclass
class StepExecutorRequirement:
    """A workflow step whose agent or team waits on its own tool requirements: decide each of
    ``executor_requirements`` (``confirm()``, ``provide_user_input``...) and continue the run."""

    step_name: str
    executor_name: str | None
    executor_type: str | None
    executor_requirements: list[RunRequirement]
    requires_executor_input: bool = True
    requires_confirmation: bool = False
    requires_user_input: bool = False
    requires_output_review: bool = False
    requires_route_selection: bool = False
    needs_confirmation: bool = False
    needs_user_input: bool = False
    needs_output_review: bool = False
    needs_route_selection: bool = False
    confirmed: bool | None = None
    confirmation_message: str | None = None
    user_input_message: str | None = None
    user_input_schema: list[Any] | None = None
    step_output: Any = None
    is_post_execution: bool = False

    @property
    def is_resolved(self) -> bool:
        return all(r.is_resolved for r in self.executor_requirements)

    @property
    def needs_executor_resolution(self) -> bool:
        return not self.is_resolved


RunResponse = RunOutput
"""The seed's name for the same thing."""


def build_output(
    db: Database, run: RunRecord, lookup: Callable[[str | None, str | None], Function | None]
) -> RunOutput:
    """Read a run's answer, its current round's requirements and its executed tools from SQL.

    ``lookup(member_agent_name, tool_name)`` finds the Function, so edits and inputs can be
    validated against the tool's own signature.
    """
    # One read of the three tables (a snapshot), whatever the run holds.
    all_records, approval_records, executions = db.run_details(run.id)
    records = [r for r in all_records if r.round == run.round] if run.round else []
    approvals = {a.requirement_id: a.id for a in approval_records if a.requirement_id}
    requirements = [RunRequirement(r, lookup(r.member_agent_name, r.tool_name), approvals.get(r.id)) for r in records]
    current = {r.id: r for r in requirements}
    by_key = {r.call_key: r for r in all_records}
    executed = []
    for e in executions:
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
    ran = {e.get("call_key") for e in executions}
    paused = [r.tool_execution for r in requirements
              if r.record.is_pending and not r.kind.value.startswith("step_")]
    paused += [RunRequirement(r, None).tool_execution for r in by_key.values()
               if not r.is_pending and r.call_key not in ran and not r.kind.value.startswith("step_")]
    state = run.state
    approval_rows = [approval_dict(a) for a in approval_records]
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
        messages=[Message(m) for m in state.get("messages", [])],
        session_id=run.session_id,
        session_state=run.session_state,
        metadata={"approval": approval_rows[-1], "approvals": approval_rows} if approval_rows else {},
        input=run.input,
        step_results=[dict(h) for h in state.get("history", []) if isinstance(h, dict)],
        paused_at=state.get("paused_step") if run.status is RunStatus.PAUSED else None,
        step_index=state.get("index") if isinstance(state.get("index"), int) else None,
        paused_executor=state.get("paused_executor") if run.status is RunStatus.PAUSED else None,
        step_history=[current.get(r.id) or RunRequirement(r, lookup(None, r.tool_name), approvals.get(r.id))
                      for r in all_records if r.kind.value.startswith("step_")],
    )


def member_outputs(run: RunRecord) -> list[RunOutput]:
    """The member runs a team run holds (Agno stores them in the session): one per delegation,
    nested teams' members after their team's, each with ``parent_run_id`` the team run."""
    found: list[RunOutput] = []

    def walk(state: dict[str, Any], prefix: str) -> None:
        for key, sub in (state.get("members") or {}).items():
            if not isinstance(sub, dict):
                continue
            who = sub.get("member") or {}
            messages = list(sub.get("messages", []))
            last = messages[-1] if messages else {}
            finished = last.get("role") == "assistant" and not last.get("tool_calls") and not sub.get("pending")
            found.append(RunOutput(
                run_id=f"{run.id}/{prefix}{key}", agent_id=str(who.get("id") or key), parent_run_id=run.id,
                status=RunStatus.COMPLETED if finished else run.status,
                content=str(last.get("content") or "") if finished else None,
                messages=messages, session_id=run.session_id, input=_first_user(messages),
            ))
            walk(sub, f"{prefix}{key}/")

    walk(run.state, "")
    return found


def _first_user(messages: list[dict[str, Any]]) -> str | None:
    return next((str(m.get("content")) for m in messages if m.get("role") == "user"), None)


def _step_tree(entries: list[Any], parent: str | None = None) -> list[Any]:
    """History entries as Agno's ``StepOutput``s: a container's own results under ``steps``."""
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            out.append(entry)
            continue
        path = str(entry.get("path", ""))
        owner = path.rsplit("-", 1)[0].split("~")[0] if "-" in path else None
        if owner != parent:
            continue
        result = _step_result(entry)
        if path:
            result.steps = _step_tree([e for e in entries if isinstance(e, dict)
                                       and str(e.get("path", "")).startswith(path)], path) or None
        out.append(result)
    return out


def _step_result(entry: Any) -> Any:
    from runner.step_types import StepOutput

    if not isinstance(entry, dict):
        return entry
    name = entry.get("step_name") or entry.get("step")
    ok = entry.get("status") == "completed"
    return StepOutput(content=entry.get("content") if ok else entry.get("reason"), step_name=name, success=ok,
                      error=None if ok else entry.get("reason"))


def approval_dict(approval: Any) -> dict[str, Any]:
    """An approval row in Agno's dict shape (``id``, ``status``, ``approval_type``, ``resolved_by`` ...)."""
    from storage.approvals import agno_approval

    return agno_approval(approval)
