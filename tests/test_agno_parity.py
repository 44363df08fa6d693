"""Agno parity beyond the ported tests (tests/agno_port): the workflow step protocol and output
review, sessions, async streaming, Agno's event names and the approval store helpers.

The table of every Agno example and test, passing or out of scope (and why), is docs/agno_parity.md.
"""

# ruff: noqa: F811

from __future__ import annotations

import asyncio

import pytest

from runner import (
    Agent,
    HumanReview,
    OnReject,
    RunPausedEvent,
    RunStatus,
    Step,
    StepInput,
    StepOutput,
    Workflow,
    approval,
    tool,
)
from runner.decisions import Action, DecisionService
from runner.events import StepCompleted, StepPaused, WorkflowCompleted, WorkflowStarted
from storage import Database
from storage.errors import InvalidDecision
from storage.records import Principal, RequirementKind, Surface
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call


def draft(step_input: StepInput) -> StepOutput:
    return StepOutput(content=f"Draft about {step_input.input}")


def send(step_input: StepInput) -> StepOutput:
    return StepOutput(content=f"Sent: {step_input.previous_step_content}")


def review_workflow(db: Database, on_reject: OnReject = OnReject.cancel) -> Workflow:
    return Workflow(name="email", db=db, steps=[
        Step(name="draft_email", executor=draft,
             human_review=HumanReview(requires_output_review=True, output_review_message="Review the draft",
                                      on_reject=on_reject, max_retries=2)),
        Step(name="send_email", executor=send),
    ])


def test_output_review_confirm_flows_on(sqlite_db: Database) -> None:
    wf = review_workflow(sqlite_db)
    out = wf.run("standup")
    assert out.is_paused and out.status == RunStatus.paused and out.status == "paused"
    [req] = out.steps_requiring_output_review
    assert req.step_name == "draft_email" and out.paused_step_name == "draft_email"
    assert req.step_output is not None and req.step_output.content == "Draft about standup"
    req.confirm()
    done = wf.continue_run(out)
    assert done.status == RunStatus.completed
    assert done.content == "Sent: Draft about standup"


def test_output_review_edit_replaces_the_output(sqlite_db: Database) -> None:
    wf = review_workflow(sqlite_db)
    out = wf.run("standup")
    out.steps_requiring_output_review[0].edit("Standup moves to Monday.")
    done = wf.continue_run(out)
    assert done.content == "Sent: Standup moves to Monday."


def test_output_review_edit_through_the_decision_service(sqlite_db: Database) -> None:
    """Slack and the API decide through the DecisionService: EDIT carries the new output."""
    wf = review_workflow(sqlite_db)
    out = wf.run("standup")
    req = out.steps_requiring_output_review[0]
    assert req.kind is RequirementKind.STEP_OUTPUT_REVIEW
    service = DecisionService(sqlite_db, lookup=wf.lookup)
    service.decide(req.id, Principal("U1"), Action.EDIT, surface=Surface.SDK, resume=False,
                   args={"output": "Edited by U1"})
    assert wf.continue_run(run_id=out.run_id).content == "Sent: Edited by U1"


def test_output_review_reject_retry_then_cancel(sqlite_db: Database) -> None:
    wf = review_workflow(sqlite_db, OnReject.retry)
    out = wf.run("standup")
    for attempt in range(3):
        [req] = out.steps_requiring_output_review
        assert req.retry_count == attempt
        req.reject(feedback="shorter")
        out = wf.continue_run(out)
    assert out.status == RunStatus.cancelled


def test_output_review_reject_skip(sqlite_db: Database) -> None:
    wf = review_workflow(sqlite_db, OnReject.skip)
    out = wf.run("standup")
    out.steps_requiring_output_review[0].reject()
    done = wf.continue_run(out)
    assert done.status == "completed" and done.content.startswith("Sent: standup")


def test_output_review_setters_that_do_not_fit_raise_value_error(sqlite_db: Database) -> None:
    out = review_workflow(sqlite_db).run("standup")
    req = out.steps_requiring_output_review[0]
    with pytest.raises(ValueError):
        req.provide_user_input({"x": 1})
    assert issubclass(InvalidDecision, ValueError)


def test_plain_str_executors_still_work_and_events_have_agno_names(sqlite_db: Database) -> None:
    wf = Workflow(name="plain", db=sqlite_db, steps=[lambda s: s.upper(), Step(name="x", executor=str.strip)])
    events = list(wf.run("  hi ", stream=True, session_id="S1"))
    assert isinstance(events[0], WorkflowStarted) and isinstance(events[-1], WorkflowCompleted)
    assert [e.step_name for e in events if isinstance(e, StepCompleted)] == ["<lambda>", "x"]
    assert all(e.session_id == "S1" for e in events)
    assert events[-1].content == "HI"


def test_stream_pauses_with_step_paused_event(sqlite_db: Database) -> None:
    events = list(review_workflow(sqlite_db).run("standup", stream=True))
    assert any(isinstance(e, StepPaused) and e.requires_output_review for e in events)
    assert isinstance(events[-1], RunPausedEvent) and events[-1].is_paused


def test_session_history_reaches_the_model(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text("Nice to meet you, Ada."), text("Your name is Ada."))
    agent = Agent(name="chat", db=sqlite_db)
    agent.run("My name is Ada.", session_id="T1")
    second = agent.run("What is my name?", session_id="T1")
    contents = [m.get("content") for m in fake_openai.last_messages()]
    assert "My name is Ada." in contents and "Nice to meet you, Ada." in contents
    assert second.session_id == "T1"
    session = agent.get_session("T1")
    assert session is not None and len(session.runs) == 2
    last = agent.get_last_run_output(session_id="T1")
    assert last is not None and last.run_id == second.run_id


def test_async_run_and_streaming_continue(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    @tool(requires_confirmation=True)
    def wipe(name: str) -> str:
        return f"wiped {name}"

    fake_openai.script(tool_call("wipe", {"name": "db"}), text("Wiped."))
    agent = Agent(name="ops", tools=[wipe], db=sqlite_db)

    async def go() -> list[object]:
        paused = await agent.arun("wipe db", session_id="A1")
        assert paused.is_paused
        paused.active_requirements[0].confirm()
        return [e async for e in agent.acontinue_run(paused, stream=True)]

    events = asyncio.run(go())
    assert events[-1].content == "Wiped." and all(e.session_id == "A1" for e in events)


def test_audit_approval_with_confirmation_records_outcome(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    @approval(type="audit")
    @tool(requires_confirmation=True)
    def delete_user_data(user_id: str) -> str:
        return f"Deleted data for user {user_id}"

    fake_openai.script(tool_call("delete_user_data", {"user_id": "U-100"}), text("Done."),
                       tool_call("delete_user_data", {"user_id": "U-200"}), text("Not done."))
    agent = Agent(tools=[delete_user_data], db=sqlite_db)
    out = agent.run("Delete all data for user U-100.")
    out.active_requirements[0].confirm()
    out = agent.continue_run(run_id=out.run_id, requirements=out.requirements)
    assert not out.is_paused and out.metadata["approval"]["status"] == "approved"
    items, total = sqlite_db.get_approvals(approval_type="audit")
    assert total == 1 and items[0]["status"] == "approved" and items[0]["approval_type"] == "audit"
    out = agent.run("Delete all data for user U-200.")
    out.active_requirements[0].reject("Rejected by admin: not authorized")
    agent.continue_run(run_id=out.run_id, requirements=out.requirements)
    items, total = sqlite_db.get_approvals(approval_type="audit")
    assert total == 2 and [a["status"] for a in items if a["status"] == "rejected"] == ["rejected"]
    assert sqlite_db.get_pending_approval_count() == 0
    assert sqlite_db.get_approval(items[0]["id"])["status"] in ("approved", "rejected")
