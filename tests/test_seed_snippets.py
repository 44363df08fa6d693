"""The seed document's agent snippets, run with only their import lines changed.

Each test body holds one snippet as the seed prints it (indentation restored); the only edits are
the imports (``agno.agent`` -> ``runner``, ``agno.tools`` -> ``runner``, ``agno.models.openai`` ->
``runner.models``; the two ``runner`` lines merged into one, as the import sorter wants). Lines
marked ``# test`` are the harness around a snippet: scripting the fake model, answering the
prompt, and checking what happened. ``rich.prompt.Prompt.ask`` is replaced by a scripted answer
and ``httpx.post`` by a stand-in, so nothing reaches a terminal or the network.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from storage import Database, RunStatus
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call


def answer_prompts(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[tuple[Any, ...]]:
    """Replace ``Prompt.ask`` with scripted answers; returns the list of prompts it was asked."""
    asked: list[tuple[Any, ...]] = []
    queue = list(answers)

    def ask(*args: Any, **kwargs: Any) -> str:
        asked.append((*args, kwargs.get("choices")))
        return queue.pop(0)

    monkeypatch.setattr("rich.prompt.Prompt.ask", ask)
    return asked


def tool_results(fake: FakeOpenAI) -> list[str]:
    return [m["content"] for m in fake.last_messages() if m["role"] == "tool"]


# ----------------------------------------------------------- tool-level confirmation


def test_send_customer_email(sqlite_db: Database, fake_openai: FakeOpenAI,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake_openai.script(  # test
        tool_call("send_customer_email", {"customer_id": "42", "subject": "Hi", "body": "Thanks!"}),
        text("The email is on its way."),
    )

    import httpx

    from runner import Agent, tool

    @tool(requires_confirmation=True)
    def send_customer_email(customer_id: str, subject: str, body: str) -> str:
        """Send an email to a customer."""
        # This will not execute until a human confirms
        response = httpx.post(
            "https://api.yourservice.com/emails",
            json={"customer_id": customer_id, "subject": subject, "body": body}
        )
        return response.json()

    agent = Agent(tools=[send_customer_email])

    posted: list[tuple[str, Any]] = []  # test: from here on, httpx.post stands in for the email API

    def fake_post(url: str, **kwargs: Any) -> httpx.Response:
        posted.append((url, kwargs.get("json")))
        return httpx.Response(200, json={"id": "email_1", "status": "queued"}, request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", fake_post)
    paused = agent.run("Email customer 42 a thank-you note")
    assert paused.is_paused and posted == [], "nothing is sent before a human confirms"
    (requirement,) = paused.active_requirements
    assert requirement.tool_name == "send_customer_email"
    assert requirement.tool_args == {"customer_id": "42", "subject": "Hi", "body": "Thanks!"}
    requirement.confirm()
    done = agent.continue_run(paused)
    assert done.status is RunStatus.COMPLETED and done.content == "The email is on its way."
    assert posted == [("https://api.yourservice.com/emails",
                       {"customer_id": "42", "subject": "Hi", "body": "Thanks!"})]
    assert [json.loads(r) for r in tool_results(fake_openai)] == [{"id": "email_1", "status": "queued"}]


@pytest.mark.parametrize("decision", ["yes", "no"])
def test_delete_record_loop_with_prompt(sqlite_db: Database, fake_openai: FakeOpenAI,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        decision: str) -> None:
    asked = answer_prompts(monkeypatch, decision)  # test
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Finished."))  # test

    from rich.prompt import Prompt

    from runner import Agent, RunResponse, tool

    @tool(requires_confirmation=True)
    def delete_record(record_id: str) -> str:
        """Permanently delete a record from the database."""
        # deletion logic here
        return f"Record {record_id} deleted."

    agent = Agent(tools=[delete_record])
    response: RunResponse = agent.run("Delete record ID 8821")
    while response.is_paused:
        for requirement in response.requirements:
            print(f"\nAgent wants to call: {requirement.tool_name}")
            print(f"With arguments: {requirement.tool_args}")
            decision = Prompt.ask("Allow this action?", choices=["yes", "no"])
            if decision == "yes":
                requirement.confirm()
            else:
                requirement.reject()
        response = agent.continue_run(response)

    assert asked == [("Allow this action?", ["yes", "no"])]  # test: checks from here on
    out = capsys.readouterr().out
    assert "Agent wants to call: delete_record" in out
    assert "With arguments: {'record_id': '8821'}" in out
    assert response.status is RunStatus.COMPLETED and response.content == "Finished."
    (result,) = tool_results(fake_openai)
    if decision == "yes":
        assert result == "Record 8821 deleted."
        assert [(t.tool_name, t.status) for t in response.tools] == [("delete_record", "succeeded")]
    else:
        assert "rejected" in result and "not run" in result
        # As in Agno, the rejected call is listed with confirmed=False; it never ran (no status).
        assert [(t.tool_name, t.status, t.confirmed) for t in response.tools] == [("delete_record", None, False)]


def test_delete_record_streaming_loop(sqlite_db: Database, fake_openai: FakeOpenAI,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answer_prompts(monkeypatch, "yes")  # test
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Record deleted."))  # test

    from rich.prompt import Prompt

    from runner import Agent, tool

    @tool(requires_confirmation=True)
    def delete_record(record_id: str) -> str:
        """Permanently delete a record from the database."""
        # deletion logic here
        return f"Record {record_id} deleted."

    agent = Agent(tools=[delete_record])

    for run_event in agent.run("Delete record ID 8821", stream=True):
        if run_event.is_paused:
            for requirement in run_event.active_requirements:
                decision = Prompt.ask("Allow this action?", choices=["yes", "no"])
                if decision == "yes":
                    requirement.confirm()
                else:
                    requirement.reject()
            response = agent.continue_run(
                run_id=run_event.run_id,
                requirements=run_event.requirements,
                stream=True
            )

    events = list(response)  # test: the snippet leaves the continued stream to the caller
    assert asked == [("Allow this action?", ["yes", "no"])]
    names = [type(e).__name__ for e in events]
    assert names[0] == "RunContinued" and names[-1] == "RunCompleted", names
    assert "ToolCallStarted" in names and "ToolCallCompleted" in names and "RunContent" in names
    assert events[-1].content == "Record deleted."
    assert "".join(e.content for e in events if type(e).__name__ == "RunContent") == "Record deleted."
    assert tool_results(fake_openai) == ["Record 8821 deleted."]


def test_get_started_snippet(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("your_sensitive_tool", {"param": "p"}), text("ok"))  # test

    from runner import tool

    @tool(requires_confirmation=True)
    def your_sensitive_tool(param: str) -> str:
        """Your tool description."""
        ...

    from runner import Agent  # test: drive it

    agent = Agent(tools=[your_sensitive_tool])
    paused = agent.run("go")
    assert paused.is_paused and paused.active_requirements[0].tool_name == "your_sensitive_tool"
    paused.active_requirements[0].confirm()
    assert agent.continue_run(paused).status is RunStatus.COMPLETED


# ------------------------------------------------------------------------ approvals


def approvals_snippet() -> tuple[Any, Callable[..., Any], Callable[..., Any]]:
    """The seed's approvals snippet, as printed (imports changed); returns agent and tools."""
    from runner import Agent, approval, tool
    from runner.models import OpenAIChat

    @tool
    @approval(type="required")
    def process_refund(customer_id: str, amount: float) -> str:
        """Process a refund for a customer. Requires admin approval."""
        # Will not execute until approved via the Approvals API
        return f"Refund of ${amount} processed for customer {customer_id}"

    @tool
    @approval(type="audit")
    def export_customer_data(customer_id: str) -> str:
        """Export customer data. Executes immediately but creates an audit record."""
        return f"Data exported for customer {customer_id}"

    agent = Agent(
        model=OpenAIChat(id="gpt-4o"),
        tools=[process_refund, export_customer_data],
    )
    return agent, process_refund, export_customer_data


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_required_approval_resolved_with_update_approval(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                         status: str) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 120.0}),  # test
                       text("All set."))
    agent, _, _ = approvals_snippet()
    run = agent.run("Refund $120 to customer 42")  # test: the run the snippet resolves
    assert run.is_paused
    (requirement,) = run.active_requirements
    assert requirement.approval_type == "required"
    db = sqlite_db
    (approval_id,) = [a.id for a in db.list_approvals(status="pending")]
    assert approval_id == requirement.approval_id
    assert fake_openai.requests[0]["model"] == "gpt-4o"

    import time

    db.update_approval(
        approval_id,
        expected_status="pending",  # Prevents race conditions
        status=status,  # or "rejected"
        resolved_by="admin_user_id",
        resolved_at=int(time.time()),
    )

    run = agent.continue_run(run_id=run.run_id, requirements=run.requirements)

    assert run.status is RunStatus.COMPLETED and run.content == "All set."  # test: checks
    (result,) = tool_results(fake_openai)
    if status == "approved":
        assert result == "Refund of $120.0 processed for customer 42"
    else:
        assert "rejected" in result and "not run" in result
    assert db.get_approval(approval_id).status == status
    assert db.get_approval(approval_id).resolved_by == "admin_user_id"
    # The guard: a second admin resolving the same request gets None.
    assert db.update_approval(approval_id, expected_status="pending", status="approved",
                              resolved_by="second_admin", resolved_at=int(time.time())) is None
    assert all(r["model"] == "gpt-4o" for r in fake_openai.requests)


def test_required_approval_still_pending_raises_runtime_error(sqlite_db: Database,
                                                              fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 120.0}))  # test
    agent, _, _ = approvals_snippet()
    run = agent.run("Refund $120 to customer 42")
    for requirement in run.active_requirements:
        requirement.confirm()
    with pytest.raises(RuntimeError):
        run = agent.continue_run(run_id=run.run_id, requirements=run.requirements)
    assert sqlite_db.get_run(run.run_id).status is RunStatus.PAUSED
    assert len(fake_openai.requests) == 1


def test_audit_approval_runs_and_records(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("export_customer_data", {"customer_id": "42"}), text("Exported."))  # test
    agent, _, _ = approvals_snippet()
    run = agent.run("Export the data of customer 42")
    assert run.status is RunStatus.COMPLETED and not run.is_paused
    assert tool_results(fake_openai) == ["Data exported for customer 42"]
    (logged,) = sqlite_db.list_approvals(status="logged")
    assert logged.approval_type == "audit" and logged.tool_name == "export_customer_data"
    assert fake_openai.requests[0]["model"] == "gpt-4o"
