"""Workflows: steps in sequence, checkpoints between them, agents and teams that pause inside.

The step agents talk to ``FakeOpenAI`` in the order the workflow runs them, so each test scripts
the replies step by step. State lives in SQLite; one test continues from a separate process.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import builtins
import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runner import (
    Agent,
    OnReject,
    RunContinued,
    RunPaused,
    Step,
    ToolCallStarted,
    UserInputField,
    Workflow,
    WorkflowRunOutput,
    tool,
)
from storage import Database, RequirementKind, RequirementStatus, RunStatus
from storage.errors import InvalidDecision, ToolConfigError
from storage.timeouts import REQUIREMENT_DEFAULT_EXPIRY_S
from tests.conftest import migrated
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.test_team import CALLS as TEAM_CALLS
from tests.test_team import (
    SEED,
    STREAM,
    Recorder,
    build_team,
    cont,
    continue_in_subprocess,
    run,
)
from tests.test_team import calls_of as team_calls_of

CALLS: list[tuple[str, Any]] = []


@pytest.fixture(autouse=True)
def _reset_calls() -> Iterator[None]:
    CALLS.clear()
    TEAM_CALLS.clear()
    yield
    CALLS.clear()
    TEAM_CALLS.clear()


@tool(requires_confirmation=True)
def send_report(recipients: str, report: str) -> str:
    """Email the report."""
    CALLS.append(("send_report", {"recipients": recipients, "report": report}))
    return f"Report sent to {recipients}."


def collect(text_in: str) -> str:
    CALLS.append(("collect", text_in))
    return "rows: 120"


def transform(text_in: str) -> str:
    CALLS.append(("transform", text_in))
    return f"{text_in} | cleaned"


def publish(text_in: str) -> str:
    CALLS.append(("publish", text_in))
    return f"published [{text_in}]"


def pipeline(on_reject: str = "cancel") -> Workflow:
    """The seed's data pipeline: collect -> transform -> (checkpoint) publish."""
    return Workflow(id="pipeline", name="Data pipeline", steps=[
        Step(name="Collect", executor=collect),
        Step(name="Transform", executor=transform),
        Step(name="Publish", executor=publish, requires_confirmation=True, on_reject=on_reject,
             confirmation_message="Check the transformed data before it goes to production."),
    ])


def report_workflow() -> Workflow:
    """The seed's report workflow: a data agent, then a send agent behind a checkpoint."""
    data_agent = Agent(id="data", name="Data", instructions="You collect the weekly numbers.")
    send_agent = Agent(id="sender", name="Sender", tools=[send_report],
                       instructions="You send reports to customers.")
    return Workflow(id="weekly-report", name="Weekly report", steps=[
        Step(name="Collect Data", agent=data_agent),
        Step(name="Send to Customers", agent=send_agent, requires_confirmation=True,
             confirmation_message="Review the data above before sending to customers."),
    ])


# ------------------------------------------------------------------------------ tests


def test_step_configuration_is_checked() -> None:
    with pytest.raises(ToolConfigError, match="exactly one"):
        Step(name="x")
    with pytest.raises(ToolConfigError, match="exactly one"):
        Step(name="x", agent=Agent(name="A"), executor=collect)
    with pytest.raises(ToolConfigError, match="on_reject"):
        Step(name="x", executor=collect, on_reject="ignore")
    with pytest.raises(ToolConfigError, match="no steps"):
        Workflow(name="empty", steps=[])
    with pytest.raises(ToolConfigError, match="named 'x'"):
        Workflow(steps=[Step(name="x", executor=collect), Step(name="x", executor=publish, requires_confirmation=True)])
    # A name nobody is asked about may repeat (Agno's Router packages share step names).
    assert len(Workflow(steps=[Step(name="x", executor=collect), Step(name="x", executor=publish)]).steps) == 2
    assert Step(name="x", executor=collect).on_reject is OnReject.cancel
    wf = Workflow(steps=[collect, Agent(id="a", name="A")])
    assert [s.name for s in wf.steps] == ["collect", "A"]
    assert wf.kind == "workflow" and wf.id == "workflow"
    assert WorkflowRunOutput.__name__ == "RunOutput"


@STREAM
def test_checkpoint_pauses_before_the_step_and_shows_the_previous_output(
        sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    workflow = pipeline()
    recorder = Recorder()
    workflow.listeners.append(recorder)
    output, events = run(workflow, "nightly load", stream, user_id="U_ALICE")

    assert output.is_paused and output.status is RunStatus.PAUSED
    assert [c[0] for c in CALLS] == ["collect", "transform"], "publish has not run"
    [req] = output.steps_requiring_confirmation
    assert req.step_name == "Publish" and req.kind is RequirementKind.STEP_CONFIRMATION
    assert req.confirmation_message == "Check the transformed data before it goes to production."
    assert req.tool_args == {"previous_output": "rows: 120 | cleaned"}
    assert req.member_agent_name is None and req.needs_confirmation
    assert output.step_requirements == [req] and output.active_requirements == [req]
    [(hook, kind, records)] = recorder.events
    assert (hook, kind) == ("paused", "workflow")
    assert [(r.kind, r.tool_name, r.message) for r in records] == [
        (RequirementKind.STEP_CONFIRMATION, "Publish", req.confirmation_message)]
    if stream:
        paused = events[-1]
        assert isinstance(paused, RunPaused) and paused.output is not None
        assert [r.step_name for r in paused.output.steps_requiring_confirmation] == ["Publish"]
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["Collect", "Transform"]
    with pytest.raises(InvalidDecision, match="no arguments"):
        req.confirm({"previous_output": "x"})

    req.confirm()
    done, events = cont(workflow, stream, output)
    assert done.status is RunStatus.COMPLETED
    assert done.content == "published [rows: 120 | cleaned]"
    assert CALLS[-1] == ("publish", "rows: 120 | cleaned")
    assert [c[0] for c in CALLS] == ["collect", "transform", "publish"], "no step ran twice"
    assert recorder.events[-1][:2] == ("completed", "workflow")
    assert sqlite_db.get_requirement(req.id).status is RequirementStatus.APPROVED
    if stream:
        assert isinstance(events[0], RunContinued)
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["Publish"]


@STREAM
def test_rejected_step_is_skipped(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    workflow = Workflow(id="skipper", steps=[
        Step(name="Collect", executor=collect),
        Step(name="Publish", executor=publish, requires_confirmation=True, on_reject="skip"),
        Step(name="Transform", executor=transform),
    ])
    output, _ = run(workflow, "go", stream)
    [req] = output.steps_requiring_confirmation
    assert req.confirmation_message == "Confirm step 'Publish' before it runs."
    req.reject("numbers look off")
    done, _ = cont(workflow, stream, output, user_id="U_BOB")
    assert done.status is RunStatus.COMPLETED
    assert [c[0] for c in CALLS] == ["collect", "transform"]
    assert CALLS[-1] == ("transform", "rows: 120"), "the step after a skip gets the previous output"
    assert done.content == ("rows: 120 | cleaned\n\n"
                            "Step 'Publish' was skipped: rejected by U_BOB (numbers look off).")


@STREAM
def test_rejected_step_cancels_the_workflow(sqlite_db: Database, fake_openai: FakeOpenAI,
                                            stream: bool) -> None:
    workflow = pipeline(on_reject="cancel")
    recorder = Recorder()
    workflow.listeners.append(recorder)
    output, _ = run(workflow, "nightly load", stream)
    output.steps_requiring_confirmation[0].reject()
    done, _ = cont(workflow, stream, output, user_id="U_CAROL")
    assert done.status is RunStatus.CANCELLED and not done.is_paused
    assert done.content == "Workflow cancelled at step 'Publish': rejected by U_CAROL."
    assert [c[0] for c in CALLS] == ["collect", "transform"], "publish never ran"
    assert recorder.events[-1][:2] == ("cancelled", "workflow")
    run_record = sqlite_db.get_run(done.run_id)
    assert run_record.status is RunStatus.CANCELLED and run_record.content == done.content
    cancelled = [e for e in sqlite_db.audit_events() if e.action == "run.cancelled"]
    assert [(e.actor_id, e.run_id) for e in cancelled] == [("U_CAROL", done.run_id)]
    again = workflow.continue_run(run_id=done.run_id)
    assert again.status is RunStatus.CANCELLED, "a finished run is reported as it is"


@STREAM
def test_user_input_step(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    workflow = Workflow(id="inputs", steps=[
        Step(name="Collect", executor=collect),
        Step(name="Publish", executor=publish, requires_user_input=True,
             user_input_message="Where should this go, and how many copies?",
             user_input_schema=[
                 UserInputField(name="destination", field_type="str", description="bucket"),
                 {"name": "copies", "field_type": "int", "description": "how many"},
             ]),
    ])
    output, _ = run(workflow, "go", stream)
    assert output.is_paused and output.steps_requiring_confirmation == []
    [req] = output.step_requirements
    assert req.kind is RequirementKind.STEP_USER_INPUT and req.needs_user_input
    assert req.step_name == "Publish" and req.message == "Where should this go, and how many copies?"
    assert req.tool_args == {"previous_output": "rows: 120"}
    assert [(f.name, f.field_type, f.description) for f in req.user_input_schema] == [
        ("destination", "str", "bucket"), ("copies", "int", "how many")]
    with pytest.raises(InvalidDecision, match="copies"):
        req.provide_user_input({"destination": "s3://prod", "copies": "many"})
    with pytest.raises(InvalidDecision, match="missing value for 'copies'"):
        req.provide_user_input({"destination": "s3://prod"})
    req.provide_user_input({"destination": "s3://prod", "copies": "2"})
    assert [f.value for f in req.user_input_schema] == ["s3://prod", 2]
    done, _ = cont(workflow, stream, output, user_id="U_DAN")
    assert done.status is RunStatus.COMPLETED
    assert CALLS[-1] == ("publish", "rows: 120\n\nInput provided by U_DAN:\n"
                                    "- destination: s3://prod\n- copies: 2")


def test_confirmation_and_input_on_one_step_are_asked_in_turn(sqlite_db: Database,
                                                              fake_openai: FakeOpenAI) -> None:
    workflow = Workflow(id="both", steps=[
        Step(name="Publish", executor=publish, requires_confirmation=True,
             requires_user_input=True, user_input_schema=["note"]),
    ])
    first = workflow.run("data")
    [confirm] = first.active_requirements
    assert confirm.kind is RequirementKind.STEP_CONFIRMATION
    confirm.confirm()
    second = workflow.continue_run(first)
    [ask] = second.active_requirements
    assert ask.kind is RequirementKind.STEP_USER_INPUT and ask.message == "Step 'Publish' needs: note."
    ask.provide_user_input({"note": "ship it"})
    done = workflow.continue_run(second)
    assert done.status is RunStatus.COMPLETED
    assert CALLS == [("publish", "data\n\nInput provided by sdk:\n- note: ship it")]


@STREAM
def test_agent_step_that_pauses_on_a_tool_pauses_the_workflow(sqlite_db: Database,
                                                               fake_openai: FakeOpenAI,
                                                               stream: bool) -> None:
    fake_openai.script(text("Weekly numbers: 42 signups."))
    workflow = report_workflow()
    output, _ = run(workflow, "Run the weekly customer report", stream)
    [checkpoint] = output.steps_requiring_confirmation
    assert checkpoint.tool_args == {"previous_output": "Weekly numbers: 42 signups."}
    assert len(fake_openai.requests) == 1, "the send agent has not been called"
    checkpoint.confirm()

    fake_openai.script(tool_call("send_report", {"recipients": "all", "report": "42 signups"},
                                 id="call_send"))
    paused, _ = cont(workflow, stream, output)
    assert paused.is_paused
    [req] = paused.active_requirements
    assert req.kind is RequirementKind.CONFIRMATION and req.step_name is None
    assert req.member_agent_name == "Sender" and req.tool_name == "send_report"
    assert req.function is not None and req.function.name == "send_report"
    assert paused.steps_requiring_confirmation == []
    send_request = fake_openai.requests[1]
    assert send_request["messages"][-1] == {"role": "user", "content": "Weekly numbers: 42 signups."}
    assert CALLS == []
    with pytest.raises(InvalidDecision, match="nobody"):
        req.confirm({"nobody": 1})
    req.confirm({"recipients": "customers@example.com"})

    fake_openai.script(text("Sent to customers."))
    done, events = cont(workflow, stream, paused)
    assert done.status is RunStatus.COMPLETED and done.content == "Sent to customers."
    assert CALLS == [("send_report", {"recipients": "customers@example.com", "report": "42 signups"})]
    assert fake_openai.requests[2]["messages"][-1]["tool_call_id"] == "call_send"
    if stream:
        started = [e for e in events if isinstance(e, ToolCallStarted)]
        assert [(e.tool_name, e.member_agent_name) for e in started] == [("send_report", "Sender")]


def test_team_step_member_pauses_the_workflow(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    workflow = Workflow(id="churn", steps=[
        Step(name="Collect", executor=lambda _: "u1 churned, owed $30"),
        Step(name="Refund", team=build_team()),
        Step(name="Publish", executor=publish),
    ])
    fake_openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
    )
    output = workflow.run("churn report")
    [req] = output.active_requirements
    assert req.member_agent_name == "Finance" and req.tool_name == "process_refund"
    assert req.function is not None
    assert fake_openai.requests[0]["messages"][-1]["content"] == "u1 churned, owed $30"
    req.confirm()
    fake_openai.script(text("Refunded u1."), text("Team: u1 refunded."))
    done = workflow.continue_run(output)
    assert done.status is RunStatus.COMPLETED
    assert done.content == "published [Team: u1 refunded.]"
    assert team_calls_of("process_refund") == [{"customer_id": "u1", "amount": 30.0}]


@pytest.mark.parametrize("on_reject", ["skip", "cancel"])
def test_an_expired_checkpoint_is_its_own_outcome(sqlite_url: str, fake_openai: FakeOpenAI,
                                                  on_reject: str) -> None:
    now = [datetime(2026, 11, 24, 12, 0, tzinfo=UTC)]
    db = migrated(sqlite_url, clock=lambda: now[0])
    try:
        workflow = Workflow(id="expiring", db=db, steps=[
            Step(name="Collect", executor=collect),
            Step(name="Publish", executor=publish, requires_confirmation=True, on_reject=on_reject),
        ])
        output = workflow.run("go")
        [req] = output.steps_requiring_confirmation
        now[0] += timedelta(seconds=REQUIREMENT_DEFAULT_EXPIRY_S + 1)
        assert [r.id for r in db.expire_due()] == [req.id]
        done = workflow.continue_run(run_id=output.run_id)
        assert [c[0] for c in CALLS] == ["collect"], "publish never ran"
        if on_reject == "skip":
            assert done.status is RunStatus.COMPLETED
            assert done.content == ("rows: 120\n\n"
                                    "Step 'Publish' was skipped: nobody decided before the request expired.")
        else:
            assert done.status is RunStatus.CANCELLED
            assert done.content == ("Workflow cancelled at step 'Publish': "
                                    "nobody decided before the request expired.")
        assert db.get_requirement(req.id).status is RequirementStatus.EXPIRED
    finally:
        db.dispose()


def test_a_failing_executor_fails_the_run_and_retry_runs_it_again(sqlite_db: Database,
                                                                  fake_openai: FakeOpenAI) -> None:
    attempts: list[str] = []

    def flaky(text_in: str) -> str:
        attempts.append(text_in)
        if len(attempts) == 1:
            raise ConnectionError("warehouse unreachable")
        return "loaded"

    workflow = Workflow(id="flaky", steps=[Step(name="Collect", executor=collect),
                                           Step(name="Load", executor=flaky)])
    failed = workflow.run("go")
    assert failed.status is RunStatus.FAILED and failed.error_kind == "step_failed"
    assert "warehouse unreachable" in (failed.error or "")
    done = workflow.retry_run(failed.run_id)
    assert done.status is RunStatus.COMPLETED and done.content == "loaded"
    assert attempts == ["rows: 120", "rows: 120"]
    assert [c[0] for c in CALLS] == ["collect"], "the step that succeeded did not run again"


def test_continue_in_a_separate_process(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text("Weekly numbers: 42 signups."))
    workflow = report_workflow()
    output = workflow.run("Run the weekly customer report", user_id="U_ALICE")
    assert output.is_paused
    fake_openai.script(
        tool_call("send_report", {"recipients": "all", "report": "42"}),
        text("Report sent."),
    )
    code = f"""
import json
from tests.test_workflow import CALLS, report_workflow
workflow = report_workflow()
paused = workflow.get_run_output({output.run_id!r})
[step] = paused.steps_requiring_confirmation
assert step.step_name == "Send to Customers"
step.confirm()
paused = workflow.continue_run(run_id={output.run_id!r}, requirements=paused.requirements)
[req] = paused.active_requirements
assert req.member_agent_name == "Sender"
req.confirm()
done = workflow.continue_run(run_id={output.run_id!r}, requirements=paused.requirements)
print(json.dumps({{"status": str(done.status), "content": done.content, "calls": CALLS}}))
"""
    result = continue_in_subprocess(code)
    assert result == {"status": "completed", "content": "Report sent.",
                      "calls": [["send_report", {"recipients": "all", "report": "42"}]]}
    final = workflow.get_run_output(output.run_id)
    assert final.status is RunStatus.COMPLETED and final.requester == "U_ALICE"


# ------------------------------------------------------------------- the seed's snippet

SEED_WORKFLOW_SNIPPET = """\
from runner import Workflow, Step
data_collection_step = Step(name="Collect Data", agent=data_agent)
review_step = Step(
    name="Send to Customers",
    agent=send_agent,
    requires_confirmation=True,
    confirmation_message="Review the data above before sending to customers."
)
workflow = Workflow(steps=[data_collection_step, review_step])
run_output = workflow.run("Run the weekly customer report")
if run_output.is_paused:
    for requirement in run_output.steps_requiring_confirmation:
        print(f"\\nStep '{requirement.step_name}' requires confirmation")
        print(f"Message: {requirement.confirmation_message}")
        user_input = input("Continue? (yes/no): ").strip().lower()
        if user_input in ("yes", "y"):
            requirement.confirm()
        else:
            requirement.reject()
    run_output = workflow.continue_run(run_output)
"""


def test_seed_snippet_is_the_seeds() -> None:
    assert SEED.exists(), f"the seed document is expected at {SEED} (shared/ beside the checkout)"
    seed_lines = {line.strip() for line in SEED.read_text().splitlines()}
    for line in SEED_WORKFLOW_SNIPPET.splitlines():
        if line.startswith("from runner"):
            assert "from agno.workflows import Workflow, Step" in seed_lines
            continue
        assert line.strip() in seed_lines, line


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_seed_workflow_snippet_runs(sqlite_db: Database, fake_openai: FakeOpenAI,
                                    monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    data_agent = Agent(name="Data", instructions="You collect the weekly numbers.")
    send_agent = Agent(name="Sender", instructions="You write the customer email.")
    fake_openai.script(text("42 signups this week."), text("Email sent to customers."))
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr(builtins, "input", fake_input)
    namespace: dict[str, Any] = {"data_agent": data_agent, "send_agent": send_agent}
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(SEED_WORKFLOW_SNIPPET, "seed-workflow", "exec"), namespace)
    assert out.getvalue() == ("\nStep 'Send to Customers' requires confirmation\n"
                              "Message: Review the data above before sending to customers.\n")
    assert prompts == ["Continue? (yes/no): "]
    final = namespace["run_output"]
    if answer == "yes":
        assert final.status is RunStatus.COMPLETED and final.content == "Email sent to customers."
        assert fake_openai.requests[1]["messages"][-1]["content"] == "42 signups this week."
    else:
        assert final.status is RunStatus.CANCELLED
        assert final.content == "Workflow cancelled at step 'Send to Customers': rejected by sdk."
        assert len(fake_openai.requests) == 1
