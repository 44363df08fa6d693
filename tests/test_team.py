"""Teams: a leader delegating to members, where any member (or the leader) can wait for a person.

The model is the real ``openai`` SDK against ``FakeOpenAI``; the leader and the members send
their requests to the same fake, in the order the run makes them, so each test scripts the
conversation turn by turn (leader delegates, member calls its tool, member answers, leader
answers). State lives in SQLite; one test continues the run from a separate process.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from runner import (
    Agent,
    RunCompleted,
    RunContent,
    RunContinued,
    RunError,
    RunEvent,
    RunListener,
    RunOutput,
    RunPaused,
    RunStarted,
    Team,
    ToolCallCompleted,
    ToolCallStarted,
    tool,
)
from storage import Database, RequirementStatus, RunStatus
from storage.errors import InvalidDecision, ToolConfigError
from storage.records import RequirementRecord, RunRecord
from tests.calls import CALLS, calls_of, record, reset_calls  # noqa: F401 (reset_calls is autouse)
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call, tool_calls

REPO = Path(__file__).resolve().parent.parent
SEED_NAME = "seeds/000_ef3b28df90efbf6b.txt"
SEED = next(
    (base / SEED_NAME for base in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared"))
     if (base / SEED_NAME).exists()),
    Path(__file__).resolve().parents[2] / "shared" / SEED_NAME,
)
"""The seed document: shared/ sits beside the checkout, in development and in CI."""
STREAM = pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])


# ------------------------------------------------------------------------------ the team


@tool
def list_churned_users() -> str:
    """List users who cancelled this month."""
    record("list_churned_users")
    return "u1 ($30), u2 ($45)"


@tool(requires_confirmation=True)
def process_refund(customer_id: str, amount: float) -> str:
    """Refund a customer."""
    record("process_refund", customer_id=customer_id, amount=amount)
    return f"Refunded ${amount:.2f} to {customer_id}."


@tool(requires_confirmation=True)
def send_email(to: str, body: str) -> str:
    """Email a customer."""
    record("send_email", to=to, body=body)
    return f"Emailed {to}."


@tool(requires_confirmation=True)
def close_ticket(ticket_id: str) -> str:
    """Close the support ticket (the team leader's own tool)."""
    record("close_ticket", ticket_id=ticket_id)
    return f"Ticket {ticket_id} closed."


def build_team() -> Team:
    """The team every test uses; a separate process builds the same one to continue a run."""
    finance = Agent(id="finance", name="Finance", tools=[process_refund],
                    instructions="You process refunds.", description="refunds")
    comms = Agent(id="comms", name="Comms", tools=[send_email], instructions="You email customers.")
    analyst = Agent(id="analyst", name="Analyst", tools=[list_churned_users])
    return Team(id="support", name="Support", members=[finance, comms, analyst],
                tools=[close_ticket], instructions="You run customer support.")


# ---------------------------------------------------------------------------- helpers


def check_stream(events: list[RunEvent]) -> None:
    assert events and len({e.run_id for e in events}) == 1
    terminal = events[-1]
    assert isinstance(terminal, RunPaused | RunCompleted | RunError), events
    assert terminal.output is not None
    assert all(not e.is_paused for e in events[:-1])
    assert terminal.is_paused is isinstance(terminal, RunPaused)
    started = [e.tool_name for e in events if isinstance(e, ToolCallStarted)]
    assert started == [e.tool_name for e in events if isinstance(e, ToolCallCompleted)]


def run(target: Any, input: str, stream: bool, **kw: Any) -> tuple[RunOutput, list[RunEvent]]:
    """``target.run`` either way; the streamed variant returns the terminal event's output."""
    if not stream:
        return target.run(input, **kw), []
    events = list(target.run(input, stream=True, **kw))
    assert isinstance(events[0], RunStarted)
    check_stream(events)
    output = events[-1].output  # type: ignore[attr-defined]
    assert output is not None
    return output, events


def cont(target: Any, stream: bool, response: RunOutput | None = None,
         **kw: Any) -> tuple[RunOutput, list[RunEvent]]:
    if not stream:
        return target.continue_run(response, **kw), []
    events = list(target.continue_run(response, stream=True, **kw))
    check_stream(events)
    output = events[-1].output  # type: ignore[attr-defined]
    assert output is not None
    return output, events


def system_of(request: dict[str, Any]) -> str:
    first = request["messages"][0]
    return str(first["content"]) if first["role"] == "system" else ""


def tool_names(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools") or []]


def continue_in_subprocess(code: str, timeout: float = 90) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (same DATABASE_URL / OPENAI_BASE_URL); its last
    stdout line is JSON."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class Recorder(RunListener):
    """What the Slack side sees: the hooks, with the requirement records they carry."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, list[RequirementRecord]]] = []

    def on_paused(self, run: RunRecord, requirements: Sequence[RequirementRecord]) -> None:
        self.events.append(("paused", run.kind, list(requirements)))

    def on_completed(self, run: RunRecord) -> None:
        self.events.append(("completed", run.kind, []))

    def on_cancelled(self, run: RunRecord) -> None:
        self.events.append(("cancelled", run.kind, []))


# ------------------------------------------------------------------------------ tests


def test_leader_gets_one_delegate_tool_per_member() -> None:
    team = build_team()
    names = [f.name for f in team.functions()]
    assert names == ["close_ticket", "transfer_task_to_finance", "transfer_task_to_comms",
                     "transfer_task_to_analyst"]
    delegate = team.function("transfer_task_to_finance")
    assert delegate is not None and delegate.member is team.members[0]  # type: ignore[attr-defined]
    assert delegate.parameters["required"] == ["task"]
    assert team.kind == "team" and team.id == "support"
    assert "transfer_task_to_comms" in team.instructions_text()
    with pytest.raises(ToolConfigError, match="no members"):
        Team(name="Empty", members=[])
    with pytest.raises(ToolConfigError, match="named 'A'"):
        Team(name="Twins", members=[Agent(id="a1", name="A"), Agent(id="a2", name="A")])
    with pytest.raises(ToolConfigError, match="transfer_task_to_a_b"):
        Team(name="Lookalikes", members=[Agent(id="a-b", name="AB1"), Agent(id="a_b", name="AB2")]).functions()


@STREAM
def test_member_confirmation_pauses_the_whole_team(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                   stream: bool) -> None:
    fake_openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}, id="call_lead"),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}, id="call_refund"),
    )
    team = build_team()
    recorder = Recorder()
    team.listeners.append(recorder)
    response, events = run(team, "Process refunds for churned users", stream, user_id="U_ALICE")

    assert response.is_paused and response.status is RunStatus.PAUSED
    [req] = response.active_requirements
    assert req.member_agent_name == "Finance"
    assert req.tool_execution.tool_name == "process_refund"
    assert req.tool_execution.member_agent_name == "Finance"
    assert req.tool_args == {"customer_id": "u1", "amount": 30}
    assert req.needs_confirmation
    assert CALLS == [], "nothing runs before a person confirms"
    # The leader saw its tools and the roster; the member saw only its own tool and the task.
    leader_request, member_request = fake_openai.requests
    assert "transfer_task_to_finance" in tool_names(leader_request)
    assert "Support" in system_of(leader_request)
    assert tool_names(member_request) == ["process_refund"]
    assert system_of(member_request).startswith("You process refunds.")
    assert member_request["messages"][-1] == {"role": "user", "content": "Refund u1 $30"}
    # The Slack side hears one pause with the member's requirement.
    [(hook, kind, records)] = recorder.events
    assert (hook, kind) == ("paused", "team")
    assert [(r.member_agent_name, r.tool_name) for r in records] == [("Finance", "process_refund")]
    assert sqlite_db.get_run(response.run_id).kind == "team"
    if stream:
        assert isinstance(events[-1], RunPaused) and events[-1].active_requirements[0].id == req.id

    req.confirm()
    fake_openai.script(text("Refunded u1."), text("All churned users were refunded."))
    done, events = cont(team, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert done.content == "All churned users were refunded."
    assert calls_of("process_refund") == [{"customer_id": "u1", "amount": 30.0}]
    # The member resumed first (its tool result), then the leader got the member's answer.
    member_again, leader_again = fake_openai.requests[2:]
    assert member_again["messages"][-1] == {"role": "tool", "tool_call_id": "call_refund",
                                            "content": "Refunded $30.00 to u1."}
    assert leader_again["messages"][-1] == {"role": "tool", "tool_call_id": "call_lead",
                                            "content": "Refunded u1."}
    assert recorder.events[-1][:2] == ("completed", "team")
    if stream:
        assert isinstance(events[0], RunContinued)
        started = [e for e in events if isinstance(e, ToolCallStarted)]
        assert [(e.tool_name, e.member_agent_name) for e in started] == [("process_refund", "Finance")]
        streamed = "".join(e.content for e in events if isinstance(e, RunContent))
        assert streamed.endswith("All churned users were refunded.")


@STREAM
def test_unresolved_requirements_keep_the_team_paused(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                      stream: bool) -> None:
    fake_openai.script(
        tool_calls(("transfer_task_to_finance", {"task": "Refund u2 $45"}),
                   ("transfer_task_to_comms", {"task": "Tell u2"})),
        tool_call("process_refund", {"customer_id": "u2", "amount": 45}),
        tool_call("send_email", {"to": "u2", "body": "Refund on its way"}),
    )
    team = build_team()
    response, _ = run(team, "Refund u2 and tell them", stream)
    assert response.is_paused
    by_member = {r.member_agent_name: r for r in response.active_requirements}
    assert sorted(by_member) == ["Comms", "Finance"]
    assert by_member["Comms"].tool_name == "send_email"

    by_member["Finance"].confirm()
    still, _ = cont(team, stream, response)
    assert still.is_paused, "one requirement is still open: the team stays paused"
    assert [r.member_agent_name for r in still.active_requirements] == ["Comms"]
    assert sqlite_db.get_requirement(by_member["Finance"].id).status is RequirementStatus.APPROVED
    assert CALLS == [], "nothing runs until every requirement of the round is decided"
    assert len(fake_openai.requests) == 3

    still.active_requirements[0].reject("Do not email churned users.")
    fake_openai.script(text("Refunded."), text("I did not email them."), text("Refunded u2; no email."))
    done, _ = cont(team, stream, still)
    assert done.status is RunStatus.COMPLETED and done.content == "Refunded u2; no email."
    assert calls_of("process_refund") == [{"customer_id": "u2", "amount": 45.0}]
    assert calls_of("send_email") == []
    comms_resumed = fake_openai.requests[4]
    assert "Do not email churned users." in comms_resumed["messages"][-1]["content"]


@STREAM
def test_leader_tools_need_confirmation_too(sqlite_db: Database, fake_openai: FakeOpenAI,
                                            stream: bool) -> None:
    fake_openai.script(tool_call("close_ticket", {"ticket_id": "T-9"}, id="call_close"))
    team = build_team()
    response, _ = run(team, "Close T-9", stream)
    [req] = response.active_requirements
    assert req.tool_name == "close_ticket" and req.member_agent_name is None
    assert req.function is not None and req.function.name == "close_ticket"
    req.reject("Customer still waiting on a reply.")
    fake_openai.script(text("I left the ticket open."))
    done, _ = cont(team, stream, response)
    assert done.content == "I left the ticket open."
    assert calls_of("close_ticket") == []
    last = fake_openai.requests[-1]["messages"][-1]
    assert last["tool_call_id"] == "call_close"
    assert "Customer still waiting on a reply." in last["content"]


def test_member_tools_are_found_so_edits_and_inputs_validate(sqlite_db: Database,
                                                              fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
    )
    team = build_team()
    response = team.run("Refund u1")
    [req] = response.active_requirements
    assert req.function is not None and req.function.name == "process_refund"
    assert team.lookup("Finance", "process_refund") is req.function
    assert team.lookup("Comms", "process_refund") is None
    assert team.lookup(None, "transfer_task_to_finance") is None, "a delegation is never a requirement"
    with pytest.raises(InvalidDecision, match="amount"):
        req.confirm({"amount": "thirty"})
    req.confirm({"amount": "25"})
    fake_openai.script(text("Refunded $25."), text("Done."))
    done = team.continue_run(response)
    assert done.content == "Done."
    assert calls_of("process_refund") == [{"customer_id": "u1", "amount": 25.0}]
    member_resumed = fake_openai.requests[2]["messages"][-1]["content"]
    assert "edited the arguments" in member_resumed and "25" in member_resumed


def test_plain_member_runs_without_pausing(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_call("transfer_task_to_analyst", {"task": "Who churned?"}),
        tool_call("list_churned_users", {}),
        text("u1 and u2 churned."),
        text("Two users churned: u1 and u2."),
    )
    done = build_team().run("Who churned?")
    assert done.status is RunStatus.COMPLETED and done.content == "Two users churned: u1 and u2."
    assert calls_of("list_churned_users") == [{}]


def test_streamed_member_content_is_labelled(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """A streamed team run says whose words each piece is: a member's, or the leader's (None)."""
    fake_openai.script(
        tool_call("transfer_task_to_analyst", {"task": "Who churned?"}),
        tool_call("list_churned_users", {}),
        text("u1 and u2 churned."),
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
    )
    team = build_team()
    response, events = run(team, "Refund the churned users", True)
    [req] = response.active_requirements
    first = [(e.member_agent_name, e.content) for e in events if isinstance(e, RunContent)]
    assert first and {name for name, _ in first} == {"Analyst"}
    assert "".join(piece for _, piece in first) == "u1 and u2 churned."

    req.confirm()
    fake_openai.script(text("Refunded u1."), text("u1 was refunded $30."))
    done, events = cont(team, True, response)
    assert done.content == "u1 was refunded $30."
    pieces = [(e.member_agent_name, e.content) for e in events if isinstance(e, RunContent)]
    said: dict[str | None, str] = {}
    order: list[str | None] = []
    for name, piece in pieces:
        said[name] = said.get(name, "") + piece
        if not order or order[-1] != name:
            order.append(name)
    assert said == {"Finance": "Refunded u1.", None: "u1 was refunded $30."}
    assert order == ["Finance", None]  # the member resumes first, then the leader answers
    # A plain agent's stream is unlabelled: the label is only for a member's words.
    fake_openai.script(text("Balance is fine."))
    solo = Agent(id="solo", name="Solo")
    solo_pieces = [e for e in solo.run("Balance?", stream=True) if isinstance(e, RunContent)]
    assert solo_pieces and all(e.member_agent_name is None for e in solo_pieces)


def test_nested_team_member_pauses_the_outer_team(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    inner = build_team()
    outer = Team(id="hq", name="HQ", members=[inner], instructions="You run the company.")
    fake_openai.script(
        tool_call("transfer_task_to_support", {"task": "Refund u1 $30"}),
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
    )
    response = outer.run("Refund u1")
    [req] = response.active_requirements
    assert req.member_agent_name == "Finance" and req.function is not None
    req.confirm()
    fake_openai.script(text("Refunded."), text("Support refunded u1."), text("HQ: done."))
    done = outer.continue_run(response)
    assert done.content == "HQ: done."
    assert calls_of("process_refund") == [{"customer_id": "u1", "amount": 30.0}]


def test_continue_in_a_separate_process(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
        text("Refunded u1."),
        text("Done: u1 refunded."),
    )
    team = build_team()
    response = team.run("Refund u1", user_id="U_ALICE")
    assert response.is_paused
    code = f"""
import json
from tests.test_team import CALLS, build_team
team = build_team()
paused = team.get_run_output({response.run_id!r})
assert paused.is_paused and paused.active_requirements[0].member_agent_name == "Finance"
for requirement in paused.active_requirements:
    requirement.confirm()
done = team.continue_run(run_id={response.run_id!r}, requirements=paused.requirements,
                         user_id="U_BOB")
print(json.dumps({{"status": str(done.status), "content": done.content, "calls": CALLS}}))
"""
    result = continue_in_subprocess(code)
    assert result == {"status": "completed", "content": "Done: u1 refunded.",
                      "calls": [["process_refund", {"customer_id": "u1", "amount": 30.0}]]}
    assert CALLS == [], "the tool ran in the other process, not here"
    final = team.get_run_output(response.run_id)
    assert final.status is RunStatus.COMPLETED and final.requester == "U_ALICE"
    [decided] = sqlite_db.requirements_for_run(response.run_id)
    assert decided.status is RequirementStatus.APPROVED and decided.resolved_by == "U_BOB"


# ------------------------------------------------------------------- the seed's snippet

SEED_TEAM_SNIPPET = """\
run_response = team.run("Process refunds for churned users")
if run_response.is_paused:
    for requirement in run_response.active_requirements:
        if requirement.needs_confirmation:
            print(
                f"Agent '{requirement.member_agent_name}' wants to call "
                f"'{requirement.tool_execution.tool_name}'"
            )
            requirement.confirm()
    run_response = team.continue_run(run_response)
"""


def test_seed_snippet_is_the_seeds() -> None:
    assert SEED.exists(), f"the seed document is expected at {SEED} (shared/ beside the checkout)"
    seed_lines = {line.strip() for line in SEED.read_text().splitlines()}
    for line in SEED_TEAM_SNIPPET.splitlines():
        assert line.strip() in seed_lines, line


def test_seed_team_snippet_runs(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund u1 $30"}),
        tool_call("process_refund", {"customer_id": "u1", "amount": 30}),
        text("Refunded u1."),
        text("Refunds processed."),
    )
    namespace: dict[str, Any] = {"team": build_team()}
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(SEED_TEAM_SNIPPET, "seed-team", "exec"), namespace)
    assert out.getvalue() == "Agent 'Finance' wants to call 'process_refund'\n"
    final = namespace["run_response"]
    assert final.status is RunStatus.COMPLETED and final.content == "Refunds processed."
    assert calls_of("process_refund") == [{"customer_id": "u1", "amount": 30.0}]
