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
    StepExecutorPausedEvent,
    StepInput,
    StepOutput,
    StepPausedEvent,
    UserControlFlowTools,
    UserFeedbackTools,
    UserInputField,
    Workflow,
    approval,
    pprint,
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
    # As in Agno, the step after a skipped one sees no previous content (not the workflow input).
    assert done.status == "completed" and done.content.startswith("Sent: None")
    assert "Step 'draft_email' was skipped: rejected by sdk." in done.content


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


# -- small gaps found porting Agno's cookbook (tests/agno_cookbook) --------------------------------


def test_get_session_without_id_is_the_newest_runs_session(sqlite_db: Database) -> None:
    """Agno's examples read ``workflow.get_session().runs[-1]`` after a streamed run: without a
    session id it is the session of the newest run (a run without a session is one of its own)."""
    wf = review_workflow(sqlite_db)
    assert wf.get_session() is None
    events = list(wf.run("standup", stream=True))
    session = wf.get_session()
    assert session is not None and session.session_id == events[-1].run_id
    assert [r.run_id for r in session.runs] == [events[-1].run_id] and session.runs[-1].is_paused
    wf.run("retro", session_id="S2")
    later = wf.get_session()
    assert later is not None and later.session_id == "S2" and len(later.runs) == 1
    assert wf.get_session_state() == {}


def echo_user_input(step_input: StepInput) -> StepOutput:
    return StepOutput(content=str((step_input.additional_data or {}).get("user_input")))


def test_user_input_field_allowed_values_are_its_choices(sqlite_db: Database) -> None:
    """``UserInputField(allowed_values=[...])`` (Agno's name) limits the answer like ``choices``."""
    tone = UserInputField(name="tone", field_type="str", allowed_values=["formal", "casual"])
    assert tone.choices == ["formal", "casual"] and tone.to_dict()["choices"] == ["formal", "casual"]
    assert UserInputField.from_dict({"name": "x", "field_type": "str", "allowed_values": [1, 2]}).choices == ["1", "2"]
    wf = Workflow(name="prefs", db=sqlite_db, steps=[
        Step(name="write", executor=echo_user_input, requires_user_input=True, user_input_schema=[tone]),
    ])
    out = wf.run("topic")
    [req] = out.steps_requiring_user_input
    assert req.user_input_schema[0].allowed_values == ["formal", "casual"]
    with pytest.raises(ValueError):
        req.set_user_input(tone="shouty")
    req.set_user_input(tone="casual")
    assert wf.continue_run(out).content == "{'tone': 'casual'}"


def test_pprint_run_response_prints_the_answer(
    sqlite_db: Database, fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    """``from runner import pprint`` stands in for ``agno.utils.pprint``: a run, or a stream drained."""
    fake_openai.script(text("Hello from the run."), text("Hello from the stream."))
    agent = Agent(name="greeter", db=sqlite_db)
    pprint.pprint_run_response(agent.run("hi"))
    pprint.pprint_run_response(agent.run("hi again", stream=True))
    asyncio.run(pprint.apprint_run_response(agent.arun("quiet")))
    printed = capsys.readouterr().out
    assert "Hello from the run." in printed and "Hello from the stream." in printed


def test_member_runs_are_listed_in_the_session_under_their_team_run(sqlite_db: Database,
                                                                    fake_openai: FakeOpenAI) -> None:
    """Agno's member-run persistence, checked strictly: each delegation is a run of the member's
    own (its id, its answer, ``parent_run_id`` the team run), listed before the team's run."""
    from runner import Team

    deployed: list[tuple[str, str]] = []

    @tool(requires_confirmation=True)
    def deploy_to_env(service: str, environment: str) -> str:
        """Deploy a service."""
        deployed.append((service, environment))
        return f"Deployed {service} to {environment}"

    member = Agent(name="Deploy Agent", tools=[deploy_to_env])
    team = Team(name="DevOps Team", members=[member], db=sqlite_db)
    team_runs = []
    for service in ("auth", "payments"):
        fake_openai.script(tool_call("transfer_task_to_deploy_agent", {"task": f"Deploy {service}."}),
                           tool_call("deploy_to_env", {"service": service, "environment": "staging"}))
        out = team.run(f"Deploy {service}", session_id="S-members")
        assert out.is_paused
        out.active_requirements[0].confirm()
        fake_openai.script(text(f"{service} is live."), text(f"Team: {service} deployed."))
        done = team.continue_run(out)
        assert done.content == f"Team: {service} deployed."
        team_runs.append(done.run_id)
    session = team.get_session(session_id="S-members")
    assert session is not None
    members = [r for r in session.runs if r.parent_run_id]
    assert [(r.parent_run_id, r.agent_id, r.content) for r in members] == [
        (team_runs[0], "deploy-agent", "auth is live."), (team_runs[1], "deploy-agent", "payments is live.")]
    assert members[0].input == "Deploy auth." and members[0].status is RunStatus.COMPLETED
    assert [r.run_id for r in session.runs if not r.parent_run_id] == team_runs
    assert session.runs[-1].run_id == team_runs[1], "the team's own run stays last"
    assert deployed == [("auth", "staging"), ("payments", "staging")]


def test_user_control_flow_tools_ask_for_the_fields_the_model_names(
    sqlite_db: Database, fake_openai: FakeOpenAI
) -> None:
    """``UserControlFlowTools().get_user_input``: the model names the fields; the person answers
    exactly those (typed as the model said), and the answers are the tool's result."""
    fields = [
        {"field_name": "to_address", "field_type": "str", "field_description": "Who gets it"},
        {"field_name": "copies", "field_type": "int", "field_description": "How many"},
    ]
    fake_openai.script(tool_call("get_user_input", {"user_input_fields": fields}), text("Thanks, noted."))
    agent = Agent(name="mailer", db=sqlite_db, tools=[UserControlFlowTools()])
    out = agent.run("Send the report")
    [req] = out.active_requirements
    assert req.needs_user_input and [f.name for f in req.user_input_schema] == ["to_address", "copies"]
    assert [f.field_type for f in req.user_input_schema] == ["str", "int"]
    assert "to_address, copies" in (req.message or "")
    with pytest.raises(ValueError):
        req.provide_user_input({"to_address": "kim@example.com", "bcc": "x"})
    with pytest.raises(ValueError):
        req.provide_user_input({"copies": 2})
    req.provide_user_input({"to_address": "kim@example.com", "copies": 2})
    done = agent.continue_run(out)
    assert done.status == RunStatus.completed and done.content == "Thanks, noted."
    tool_message = fake_openai.requests[-1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"] == 'User input received: {"copies": 2, "to_address": "kim@example.com"}'


def test_user_control_flow_tools_check_the_models_field_list(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """The model's own call is checked against get_user_input's signature before anyone is asked."""
    fake_openai.script(tool_call("get_user_input", {"user_input_fields": "to_address"}), text("I will ask plainly."))
    out = Agent(name="mailer", db=sqlite_db, tools=[UserControlFlowTools()]).run("Send the report")
    assert out.status == RunStatus.completed and not out.requirements
    assert "invalid arguments for get_user_input" in fake_openai.requests[-1]["messages"][-1]["content"]


TRIP_QUESTIONS = [
    {"question": "Where to?", "header": "Destination",
     "options": [{"label": "Beach", "description": "Sun and sea"}, {"label": "Mountains"}], "multi_select": False},
    {"question": "What do you like?", "header": "Activities",
     "options": [{"label": "Hiking"}, {"label": "Food"}, {"label": "Museums"}], "multi_select": True},
]


def test_user_feedback_tools_ask_multiple_choice_questions(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """``UserFeedbackTools().ask_user``: the questions pause the run; the picks are checked against
    the options (one for a single-choice question) and reach the model as the tool's result."""
    fake_openai.script(tool_call("ask_user", {"questions": TRIP_QUESTIONS}), text("A beach trip with good food."))
    agent = Agent(name="travel", db=sqlite_db, tools=[UserFeedbackTools()])
    out = agent.run("Plan my holiday")
    [req] = out.active_requirements
    assert req.needs_user_feedback
    schema = req.user_feedback_schema
    assert schema is not None and [q.header for q in schema] == ["Destination", "Activities"]
    assert [(o.label, o.description) for o in schema[0].options] == [("Beach", "Sun and sea"), ("Mountains", None)]
    assert [q.multi_select for q in schema] == [False, True]
    with pytest.raises(ValueError):
        req.provide_user_feedback({"Where to?": ["Beach", "Mountains"]})
    with pytest.raises(ValueError):
        req.provide_user_feedback({"Where to?": ["Moon"]})
    req.provide_user_feedback({"Where to?": ["Beach"], "What do you like?": ["Food", "Hiking"]})
    done = agent.continue_run(out)
    assert done.status == RunStatus.completed and done.content == "A beach trip with good food."
    assert fake_openai.requests[-1]["messages"][-1]["content"] == (
        'User feedback received: {"What do you like?": ["Food", "Hiking"], "Where to?": "Beach"}'
    )


def test_user_feedback_is_not_other_user_input(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """A plain user-input tool is not feedback: no feedback schema, and the feedback setter refuses."""

    @tool(requires_user_input=True, user_input_fields=["city"])
    def book(city: str) -> str:
        return f"Booked {city}"

    fake_openai.script(tool_call("book", {}), text("Booked."))
    out = Agent(name="booker", db=sqlite_db, tools=[book]).run("Book it")
    [req] = out.active_requirements
    assert req.needs_user_input and not req.needs_user_feedback and req.user_feedback_schema is None
    with pytest.raises(ValueError):
        req.provide_user_feedback({"city": ["Paris"]})


def test_executor_pause_event_is_not_a_step_pause_event(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """As in Agno, ``StepExecutorPausedEvent`` and ``StepPausedEvent`` are separate classes: code
    that tests ``isinstance(event, StepPausedEvent)`` first still tells an agent's tool pause apart."""

    @tool(requires_confirmation=True)
    def send_alert(city: str) -> str:
        return f"Alert sent for {city}"

    fake_openai.script(tool_call("send_alert", {"city": "Tokyo"}), text("Sent."))
    alerter = Agent(name="AlertAgent", db=sqlite_db, tools=[send_alert])
    wf = Workflow(name="alerts", db=sqlite_db, steps=[Step(name="alert", agent=alerter)])
    events = list(wf.run("Alert Tokyo", stream=True))
    [paused] = [e for e in events if isinstance(e, StepExecutorPausedEvent)]
    assert not isinstance(paused, StepPausedEvent)
    assert (paused.step_name, paused.executor_name, paused.executor_type) == ("alert", "AlertAgent", "agent")
    assert not [e for e in events if isinstance(e, StepPausedEvent)]


def test_run_context_session_state_survives_the_pause_and_dependencies_are_never_stored(
        sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """A tool declaring ``run_context`` gets the session's state (its changes saved with the run,
    seen by the session's next run and its instructions) and the caller's ``dependencies``,
    which are never written anywhere: a token passed in them stays out of SQL."""
    from runner import RunContext

    seen: list[str | None] = []

    @tool(requires_confirmation=True)
    def add_to_watchlist(run_context: RunContext, symbol: str) -> str:
        """Add a symbol."""
        assert run_context.session_state is not None
        seen.append((run_context.dependencies or {}).get("token"))
        run_context.session_state["watchlist"] = [*run_context.session_state.get("watchlist", []), symbol]
        return f"watchlist: {run_context.session_state['watchlist']}"

    agent = Agent(name="Broker", tools=[add_to_watchlist], session_state={"watchlist": []}, db=sqlite_db,
                  instructions="The watchlist is {watchlist}; keep {braces} as they are.")
    assert "run_context" not in json_schema_of(agent)
    fake_openai.script(tool_call("add_to_watchlist", {"symbol": "AAPL"}))
    out = agent.run("add AAPL", session_id="S-watch", dependencies={"token": "Bearer secret-123"})
    assert out.is_paused and seen == []
    out.requirements[0].confirm()
    fake_openai.script(text("AAPL added."))
    done = agent.continue_run(out, dependencies={"token": "Bearer secret-123"})
    assert done.content == "AAPL added." and seen == ["Bearer secret-123"]
    assert agent.get_session_state("S-watch") == {"watchlist": ["AAPL"]}
    fake_openai.script(text("You watch AAPL."))
    agent.run("what do I watch?", session_id="S-watch")
    system = fake_openai.requests[-1]["messages"][0]["content"]
    assert system == "The watchlist is ['AAPL']; keep {braces} as they are."
    with sqlite_db.engine.connect() as conn:
        from sqlalchemy import text as sql

        dumped = " ".join(str(row) for table in ("runs", "requirements", "audit_events", "tool_executions")
                          for row in conn.execute(sql(f"SELECT * FROM {table}")))
    assert "AAPL" in dumped, "the dump is of the tables that hold the run"
    assert "secret-123" not in dumped


def json_schema_of(agent: Agent) -> str:
    import json

    return json.dumps([f.parameters for f in agent.functions()])
