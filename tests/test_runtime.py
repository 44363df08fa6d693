"""The runner, end to end against a scripted OpenAI-compatible server, as a demanding user checks it.

Every flow of the seed runs synchronously and streamed (``stream`` parameter). The model is the
real ``openai`` SDK talking to ``FakeOpenAI``; state lives in SQLite (``sqlite_db``), and a few
flows run again on PostgreSQL with ``Agent(db=Database(pg_url))``.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from runner import (
    Agent,
    RunCompleted,
    RunContent,
    RunContinued,
    RunError,
    RunEvent,
    RunOutput,
    RunPaused,
    RunRequirement,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
    approval,
    tool,
)
from runner.models import OpenAIChat
from storage import Database, RequirementStatus, RunStatus, chain
from storage.errors import (
    AlreadyDecided,
    ApprovalPending,
    InvalidDecision,
    RunBusy,
    ToolConfigError,
)
from tests.calls import CALLS, calls_of, record, reset_calls  # noqa: F401 (reset_calls is autouse)
from tests.conftest import migrated
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, delay, error, text, tool_call, tool_calls

STREAM = pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])


# ------------------------------------------------------------------------------ tools


@tool
def lookup_customer(customer_id: str) -> str:
    """Look up a customer by id."""
    record("lookup_customer", customer_id=customer_id)
    return f"Customer {customer_id}: Dana Example, plan Pro."


@tool(requires_confirmation=True)
def delete_record(record_id: str) -> str:
    """Permanently delete a record from the database."""
    record("delete_record", record_id=record_id)
    return f"Record {record_id} deleted."


@tool(requires_user_input=True, user_input_fields=["to_address"])
def send_payment(amount: float, to_address: str) -> str:
    """Send a payment."""
    record("send_payment", amount=amount, to_address=to_address)
    return f"Sent {amount} to {to_address}."


@tool(requires_user_input=True, user_input_fields=["limit", "reason"])
def set_credit_limit(customer_id: str, limit: float, reason: str) -> str:
    """Set a customer's credit limit."""
    record("set_credit_limit", customer_id=customer_id, limit=limit, reason=reason)
    return f"Limit for {customer_id} set to {limit}."


@tool(external_execution=True)
def rotate_credentials(service: str) -> str:
    """Rotate a service's credentials (done by the on-call engineer by hand)."""
    record("rotate_credentials", service=service)
    raise AssertionError("an external tool must never run inside signoff")


@tool
@approval(type="required")
def process_refund(customer_id: str, amount: float) -> str:
    """Process a refund for a customer. Requires admin approval."""
    record("process_refund", customer_id=customer_id, amount=amount)
    return f"Refund of ${amount} processed for customer {customer_id}"


@approval(type="audit")
@tool
def export_customer_data(customer_id: str) -> str:
    """Export customer data. Executes immediately but creates an audit record."""
    record("export_customer_data", customer_id=customer_id)
    return f"Data exported for customer {customer_id}"


@tool(requires_confirmation=lambda args: args["amount"] > 100)
def transfer_funds(account: str, amount: float) -> str:
    """Transfer funds to an account."""
    record("transfer_funds", account=account, amount=amount)
    return f"Transferred {amount} to {account}."


@tool
@approval(when=lambda args: args["amount"] > 100)
def issue_credit(customer_id: str, amount: float) -> str:
    """Issue account credit; large credits need an admin."""
    record("issue_credit", customer_id=customer_id, amount=amount)
    return f"Credit of {amount} issued to {customer_id}."


@tool(requires_confirmation=True, stop_after_tool_call=True)
def restart_server(host: str) -> str:
    """Restart a production server."""
    record("restart_server", host=host)
    return f"Server {host} restarted."


@tool
def flaky_lookup(query: str) -> str:
    """Look something up in a backend that is down."""
    record("flaky_lookup", query=query)
    raise ValueError("backend down")


ALL_TOOLS = [lookup_customer, delete_record, send_payment, set_credit_limit, rotate_credentials,
             process_refund, export_customer_data, transfer_funds, issue_credit, restart_server,
             flaky_lookup]


def make_agent(**kw: Any) -> Agent:
    kw.setdefault("tools", ALL_TOOLS)
    return Agent(id="ops", name="Ops", instructions="You help with operations.", **kw)


# ---------------------------------------------------------------------------- helpers


def check_stream(events: list[RunEvent], *, continued: bool = False) -> None:
    """The shape every stream must have: typed events, one run, one terminal event with the output."""
    assert events, "a stream yields at least one event"
    run_ids = {e.run_id for e in events}
    assert len(run_ids) == 1, run_ids
    terminal = events[-1]
    assert isinstance(terminal, RunPaused | RunCompleted | RunError), events
    assert terminal.output is not None
    assert all(not isinstance(e, RunPaused | RunCompleted | RunError) for e in events[:-1]), events
    assert terminal.is_paused is isinstance(terminal, RunPaused)
    assert all(not e.is_paused for e in events[:-1])
    if isinstance(terminal, RunCompleted):
        assert terminal.content == terminal.output.content
        # When the answer comes from a model turn in this stream, it arrives as RunContent pieces
        # (a replay of a finished run, or a stop_after_tool_call result, streams no model text).
        streamed = "".join(e.content for e in events if isinstance(e, RunContent))
        if streamed:
            assert streamed == (terminal.content or ""), "the streamed text is the answer"
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    completed = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert [e.tool_name for e in started] == [e.tool_name for e in completed]
    if continued:
        assert isinstance(events[0], RunContinued | RunPaused | RunCompleted | RunError)


def run(agent: Agent, input: str, stream: bool, **kw: Any) -> tuple[RunOutput, list[RunEvent]]:
    if not stream:
        return agent.run(input, **kw), []
    events = list(agent.run(input, stream=True, **kw))
    assert isinstance(events[0], RunStarted)
    check_stream(events)
    output = events[-1].output  # type: ignore[attr-defined]
    assert output is not None
    return output, events


def cont(agent: Agent, stream: bool, response: RunOutput | None = None,
         **kw: Any) -> tuple[RunOutput, list[RunEvent]]:
    if not stream:
        return agent.continue_run(response, **kw), []
    events = list(agent.continue_run(response, stream=True, **kw))
    check_stream(events, continued=True)
    output = events[-1].output  # type: ignore[attr-defined]
    assert output is not None
    return output, events


def tool_messages(fake: FakeOpenAI, request: int = -1) -> list[dict[str, Any]]:
    return [m for m in fake.requests[request]["messages"] if m["role"] == "tool"]


def assert_valid_conversation(messages: list[dict[str, Any]]) -> None:
    """What OpenAI itself enforces: each assistant tool_calls turn is answered, in order, by one
    tool message per call id, and no tool message appears anywhere else."""
    i = 0
    while i < len(messages):
        msg = messages[i]
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            ids = [c["id"] for c in msg["tool_calls"]]
            answers = messages[i + 1 : i + 1 + len(ids)]
            assert [m.get("role") for m in answers] == ["tool"] * len(ids), messages
            assert sorted(m["tool_call_id"] for m in answers) == sorted(ids), messages
            i += 1 + len(ids)
            continue
        assert msg["role"] != "tool", f"orphan tool message at {i}: {messages}"
        i += 1


def tools_sent(fake: FakeOpenAI, name: str, request: int = 0) -> dict[str, Any]:
    for entry in fake.requests[request]["tools"]:
        if entry["function"]["name"] == name:
            return entry["function"]
    raise AssertionError(f"{name} was not offered to the model")


def only(reqs: list[RunRequirement]) -> RunRequirement:
    assert len(reqs) == 1, reqs
    return reqs[0]


# ------------------------------------------------------------------------- confirm


@STREAM
def test_confirm(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}, id="call_del"),
                       text("Record 8821 is gone."))
    agent = make_agent()
    response, events = run(agent, "Delete record ID 8821", stream)

    assert response.is_paused and response.status is RunStatus.PAUSED
    req = only(response.active_requirements)
    assert req is response.requirements[0]
    assert req.tool_name == "delete_record" and req.tool_args == {"record_id": "8821"}
    assert req.tool_execution.tool_name == "delete_record"
    assert req.tool_execution.tool_args == {"record_id": "8821"}
    assert req.needs_confirmation and not req.needs_user_input and not req.needs_external_execution
    assert req.member_agent_name is None and req.approval_type is None
    assert CALLS == [], "nothing runs before a person confirms"
    assert len(fake_openai.requests) == 1
    if stream:
        paused = events[-1]
        assert isinstance(paused, RunPaused) and paused.is_paused
        assert paused.run_id == response.run_id
        assert [r.id for r in paused.active_requirements] == [req.id]
    assert sqlite_db.get_run(response.run_id).status is RunStatus.PAUSED

    req.confirm()
    done, events = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED and not done.is_paused
    assert done.content == "Record 8821 is gone."
    assert calls_of("delete_record") == [{"record_id": "8821"}]
    assert tool_messages(fake_openai) == [
        {"role": "tool", "tool_call_id": "call_del", "content": "Record 8821 deleted."}]
    assert_valid_conversation(fake_openai.last_messages())
    assert [(t.tool_name, t.result, t.status) for t in done.tools] == [
        ("delete_record", "Record 8821 deleted.", "succeeded")]
    stored = sqlite_db.get_requirement(req.id)
    assert stored.status is RequirementStatus.APPROVED
    if stream:
        assert isinstance(events[0], RunContinued)
        started = [e for e in events if isinstance(e, ToolCallStarted)]
        assert [(e.tool_name, e.tool_args) for e in started] == [("delete_record", {"record_id": "8821"})]
        finished = [e for e in events if isinstance(e, ToolCallCompleted)]
        assert [(e.result, e.status) for e in finished] == [("Record 8821 deleted.", "succeeded")]
        assert any(isinstance(e, RunContent) for e in events)
    run_record = sqlite_db.get_run(done.run_id)
    assert run_record.status is RunStatus.COMPLETED and run_record.content == "Record 8821 is gone."


@STREAM
def test_reject_with_note_reaches_the_model(sqlite_db: Database, fake_openai: FakeOpenAI,
                                            stream: bool) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}, id="call_del"),
                       text("OK, I did not delete it."))
    agent = make_agent()
    response, _ = run(agent, "Delete record ID 8821", stream)
    req = only(response.active_requirements)
    req.reject("Record 8821 is under legal hold")
    done, _ = cont(agent, stream, response)

    assert done.status is RunStatus.COMPLETED and done.content == "OK, I did not delete it."
    assert calls_of("delete_record") == []
    (msg,) = tool_messages(fake_openai)
    assert msg["tool_call_id"] == "call_del"
    assert "Record 8821 is under legal hold" in msg["content"]
    assert "rejected" in msg["content"] and "not run" in msg["content"]
    stored = sqlite_db.get_requirement(req.id)
    assert stored.status is RequirementStatus.REJECTED
    assert stored.resolution.get("note") == "Record 8821 is under legal hold"


@STREAM
def test_reject_without_note_has_a_clear_default(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                 stream: bool) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Not deleted."))
    agent = make_agent()
    response, _ = run(agent, "Delete record ID 8821", stream)
    only(response.active_requirements).reject()
    done, _ = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("delete_record") == []
    (msg,) = tool_messages(fake_openai)
    content = msg["content"]
    assert "delete_record" in content and "rejected" in content
    assert "not run" in content.lower()
    assert "do not retry" in content.lower()


# ---------------------------------------------------------------------- user input


@STREAM
def test_user_input(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_call("send_payment", {"amount": 25.5}, id="call_pay"), text("Paid."))
    agent = make_agent()
    response, _ = run(agent, "Pay 25.50 to my landlord", stream)

    schema = tools_sent(fake_openai, "send_payment")["parameters"]
    assert "to_address" not in schema["properties"], "the human's field is hidden from the model"
    assert "to_address" not in schema.get("required", [])
    assert "amount" in schema["properties"]

    req = only(response.active_requirements)
    assert req.needs_user_input and not req.needs_confirmation
    assert [(f.name, f.field_type, f.value) for f in req.user_input_schema] == [("to_address", "str", None)]
    assert req.tool_args == {"amount": 25.5}

    req.provide_user_input({"to_address": "DE89 3704 0044 0532 0130 00"})
    assert req.user_input_schema[0].value == "DE89 3704 0044 0532 0130 00"
    done, _ = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED and done.content == "Paid."
    assert calls_of("send_payment") == [{"amount": 25.5, "to_address": "DE89 3704 0044 0532 0130 00"}]
    (msg,) = tool_messages(fake_openai)
    assert msg == {"role": "tool", "tool_call_id": "call_pay",
                   "content": "Sent 25.5 to DE89 3704 0044 0532 0130 00."}
    assert sqlite_db.get_requirement(req.id).status is RequirementStatus.ANSWERED


def test_user_input_is_validated_against_field_types(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_calls(("set_credit_limit", {"customer_id": "42"}),
                                  ("send_payment", {"amount": 10})),
                       text("Done."))
    agent = make_agent()
    response = agent.run("Raise the limit of customer 42 and pay 10")
    by_tool = {r.tool_name: r for r in response.active_requirements}
    limit_req, pay_req = by_tool["set_credit_limit"], by_tool["send_payment"]
    assert [(f.name, f.field_type) for f in limit_req.user_input_schema] == [("limit", "float"), ("reason", "str")]

    with pytest.raises(InvalidDecision) as bad_type:
        limit_req.provide_user_input({"limit": "abc", "reason": "good payer"})
    assert bad_type.value.field == "limit"
    assert "limit" in str(bad_type.value)

    with pytest.raises(InvalidDecision) as missing:
        limit_req.provide_user_input({"limit": 500})
    assert missing.value.field == "reason" and "reason" in str(missing.value)

    with pytest.raises(InvalidDecision) as missing_one:
        pay_req.provide_user_input({})
    assert missing_one.value.field == "to_address"

    with pytest.raises(InvalidDecision) as unknown:
        pay_req.provide_user_input({"to_address": "x", "amount": 1_000_000})
    assert unknown.value.field == "amount", "only the asked-for fields can be given"

    assert not limit_req.is_resolved and not pay_req.is_resolved, "a refused input records nothing"
    limit_req.provide_user_input({"limit": "1500.5", "reason": "good payer"})
    pay_req.provide_user_input({"to_address": "acct-9"})
    done = agent.continue_run(response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("set_credit_limit") == [{"customer_id": "42", "limit": 1500.5, "reason": "good payer"}]
    assert calls_of("send_payment") == [{"amount": 10.0, "to_address": "acct-9"}]


# -------------------------------------------------------------- external execution


@STREAM
def test_external_execution(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_call("rotate_credentials", {"service": "billing"}, id="call_rot"),
                       text("Credentials rotated by on-call."))
    agent = make_agent()
    response, _ = run(agent, "Rotate the billing credentials", stream)
    req = only(response.active_requirements)
    assert req.needs_external_execution and not req.needs_confirmation and not req.needs_user_input
    req.set_external_execution_result("rotated; new key id k-77")
    done, events = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("rotate_credentials") == [], "the tool itself never runs"
    assert tool_messages(fake_openai) == [
        {"role": "tool", "tool_call_id": "call_rot", "content": "rotated; new key id k-77"}]
    assert not [e for e in events if isinstance(e, ToolCallStarted)]
    assert sqlite_db.get_requirement(req.id).status is RequirementStatus.DONE_EXTERNALLY


# ------------------------------------------------------------------- @approval


@STREAM
def test_required_approval_blocks_until_an_approver_decides(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                           stream: bool) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 120}, id="call_ref"),
                       text("Refund done."))
    agent = make_agent()
    response, _ = run(agent, "Refund $120 to customer 42", stream, user_id="U_REQ")
    req = only(response.active_requirements)
    assert req.approval_type == "required" and req.needs_confirmation
    assert req.approval_id is not None
    pending = sqlite_db.get_approval(req.approval_id)
    assert pending.status == "pending" and pending.requester == "U_REQ"
    assert pending.tool_args == {"customer_id": "42", "amount": 120}

    # The requester confirms it themselves: that must not get past the approver.
    req.confirm()
    with pytest.raises(ApprovalPending) as info:
        cont(agent, stream, run_id=response.run_id, requirements=response.requirements)
    assert isinstance(info.value, RuntimeError)
    assert req.approval_id in str(info.value)
    assert calls_of("process_refund") == []
    assert sqlite_db.get_requirement(req.id).status is RequirementStatus.PENDING
    assert sqlite_db.get_approval(req.approval_id).status == "pending"
    assert sqlite_db.get_run(response.run_id).status is RunStatus.PAUSED
    assert len(fake_openai.requests) == 1

    resolved = sqlite_db.update_approval(req.approval_id, expected_status="pending", status="approved",
                                         resolved_by="admin_user_id", resolved_at=int(time.time()))
    assert resolved is not None and resolved.status == "approved"
    done, _ = cont(agent, stream, run_id=response.run_id, requirements=response.requirements)
    assert done.status is RunStatus.COMPLETED and done.content == "Refund done."
    assert calls_of("process_refund") == [{"customer_id": "42", "amount": 120.0}]
    (msg,) = tool_messages(fake_openai)
    assert msg["tool_call_id"] == "call_ref"
    assert msg["content"].startswith("Refund of $120") and msg["content"].endswith("processed for customer 42")

    again, _ = cont(agent, stream, run_id=response.run_id, requirements=response.requirements)
    assert again.status is RunStatus.COMPLETED
    assert len(calls_of("process_refund")) == 1, "approved once, run once"


@STREAM
def test_required_approval_rejected_note_reaches_the_model(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                          stream: bool) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 5000}, id="call_ref"),
                       text("The refund was declined."))
    agent = make_agent()
    response, _ = run(agent, "Refund $5000 to customer 42", stream)
    req = only(response.active_requirements)
    assert req.approval_id is not None
    sqlite_db.update_approval(req.approval_id, expected_status="pending", status="rejected",
                              resolved_by="admin_user_id", resolved_at=int(time.time()),
                              note="Refunds over $1000 need a manager's ticket")
    done, _ = cont(agent, stream, run_id=response.run_id, requirements=response.requirements)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("process_refund") == []
    (msg,) = tool_messages(fake_openai)
    assert msg["tool_call_id"] == "call_ref"
    assert "Refunds over $1000 need a manager's ticket" in msg["content"]
    assert "rejected" in msg["content"]


def test_required_approval_cannot_be_bypassed_in_a_batch(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """A caller who confirms everything, required approval included, applies nothing at all."""
    fake_openai.script(tool_calls(("process_refund", {"customer_id": "42", "amount": 120}),
                                  ("delete_record", {"record_id": "7"})),
                       text("Both done."))
    agent = make_agent()
    response = agent.run("Refund 42 and delete record 7")
    assert len(response.active_requirements) == 2
    for req in response.active_requirements:
        req.confirm()
    with pytest.raises(ApprovalPending):
        agent.continue_run(response)
    assert all(sqlite_db.get_requirement(r.id).is_pending for r in response.requirements)
    assert CALLS == []

    refund = next(r for r in response.requirements if r.tool_name == "process_refund")
    assert refund.approval_id is not None
    sqlite_db.update_approval(refund.approval_id, status="approved", resolved_by="admin",
                              resolved_at=int(time.time()))
    done = agent.continue_run(response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("process_refund") == [{"customer_id": "42", "amount": 120.0}]
    assert calls_of("delete_record") == [{"record_id": "7"}]


@STREAM
def test_audit_approval_runs_at_once_and_is_recorded(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                     stream: bool) -> None:
    fake_openai.script(tool_call("export_customer_data", {"customer_id": "42"}), text("Exported."))
    agent = make_agent()
    done, events = run(agent, "Export customer 42's data", stream, user_id="U_REQ")
    assert done.status is RunStatus.COMPLETED and not done.requirements
    assert calls_of("export_customer_data") == [{"customer_id": "42"}]
    (logged,) = sqlite_db.approvals_for_run(done.run_id)
    assert logged.approval_type == "audit" and logged.status == "logged"
    assert logged.tool_name == "export_customer_data" and logged.tool_args == {"customer_id": "42"}
    assert logged.requester == "U_REQ" and logged.requirement_id is None
    actions = [e.action for e in sqlite_db.audit_events(run_id=done.run_id)]
    assert "approval.audit_logged" in actions and "tool.executed" in actions
    assert actions.index("approval.audit_logged") < actions.index("tool.executed")
    assert chain.first_break([e.to_dict() for e in sqlite_db.audit_events()]) is None
    if stream:
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["export_customer_data"]


# ------------------------------------------------------------------ conditional


@pytest.mark.parametrize(("amount", "pauses"), [(100, False), (100.01, True), (20, False), (5000, True)])
def test_conditional_confirmation(sqlite_db: Database, fake_openai: FakeOpenAI, amount: float,
                                  pauses: bool) -> None:
    fake_openai.script(tool_call("transfer_funds", {"account": "acc-1", "amount": amount}), text("Done."))
    agent = make_agent()
    response = agent.run(f"Transfer {amount} to acc-1")
    if pauses:
        req = only(response.active_requirements)
        assert req.tool_name == "transfer_funds" and req.approval_type is None
        assert CALLS == []
        req.confirm()
        response = agent.continue_run(response)
    else:
        assert response.requirements == []
    assert response.status is RunStatus.COMPLETED
    assert calls_of("transfer_funds") == [{"account": "acc-1", "amount": float(amount)}]


@pytest.mark.parametrize(("amount", "gated"), [(50, False), (100, False), (250, True)])
def test_conditional_approval(sqlite_db: Database, fake_openai: FakeOpenAI, amount: float, gated: bool) -> None:
    fake_openai.script(tool_call("issue_credit", {"customer_id": "42", "amount": amount}), text("Credited."))
    agent = make_agent()
    response = agent.run(f"Credit customer 42 with {amount}")
    if not gated:
        assert response.status is RunStatus.COMPLETED and response.requirements == []
        assert calls_of("issue_credit") == [{"customer_id": "42", "amount": float(amount)}]
        assert sqlite_db.approvals_for_run(response.run_id) == []
        return
    req = only(response.active_requirements)
    assert req.approval_type == "required" and req.approval_id is not None
    assert CALLS == []
    sqlite_db.update_approval(req.approval_id, status="approved", resolved_by="admin",
                              resolved_at=int(time.time()))
    done = agent.continue_run(run_id=response.run_id, requirements=response.requirements)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("issue_credit") == [{"customer_id": "42", "amount": float(amount)}]


# ---------------------------------------------------------------- edited arguments


@STREAM
def test_edited_arguments(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_call("transfer_funds", {"account": "acc-1", "amount": 500}, id="call_tr"),
                       text("Transferred 50 instead."))
    agent = make_agent()
    response, _ = run(agent, "Transfer 500 to acc-1", stream, user_id="U_REQ")
    req = only(response.active_requirements)

    with pytest.raises(InvalidDecision) as bad:
        req.confirm(args={"amount": "a lot"})
    assert bad.value.field == "amount"
    with pytest.raises(InvalidDecision) as unknown:
        req.confirm(args={"currency": "EUR"})
    assert unknown.value.field == "currency"
    assert not req.is_resolved, "an invalid edit records nothing"

    req.confirm(args={"amount": 50})
    assert req.tool_args == {"account": "acc-1", "amount": 50.0}
    done, events = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("transfer_funds") == [{"account": "acc-1", "amount": 50.0}]
    (msg,) = tool_messages(fake_openai)
    assert msg["tool_call_id"] == "call_tr"
    assert "edited" in msg["content"]
    assert "500" in msg["content"] and "50" in msg["content"]
    assert "Transferred 50.0 to acc-1." in msg["content"]
    stored = sqlite_db.get_requirement(req.id)
    assert stored.status is RequirementStatus.APPROVED
    assert stored.resolution["original_args"] == {"account": "acc-1", "amount": 500}
    assert stored.resolution["edited_args"] == {"account": "acc-1", "amount": 50.0}
    approved = [e for e in sqlite_db.audit_events(run_id=done.run_id) if e.action == "requirement.edited"]
    assert approved and approved[0].details["edited_args"] == {"account": "acc-1", "amount": 50.0}
    assert approved[0].details["via"] == "sdk"
    if stream:
        started = [e for e in events if isinstance(e, ToolCallStarted)]
        assert [e.tool_args for e in started] == [{"account": "acc-1", "amount": 50.0}]


# ------------------------------------------------------------------- batches


@STREAM
def test_mixed_batch_plain_runs_once_paused_waits(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                  stream: bool) -> None:
    fake_openai.script(tool_calls(("lookup_customer", {"customer_id": "42"}, "call_look"),
                                  ("delete_record", {"record_id": "42"}, "call_del")),
                       text("Looked up and deleted."))
    agent = make_agent()
    response, events = run(agent, "Look up customer 42 and delete their record", stream)
    assert response.is_paused
    assert calls_of("lookup_customer") == [{"customer_id": "42"}], "the plain tool ran"
    assert calls_of("delete_record") == []
    assert only(response.active_requirements).tool_name == "delete_record"
    if stream:
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["lookup_customer"]

    only(response.active_requirements).confirm()
    done, events = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("lookup_customer") == [{"customer_id": "42"}], "the plain tool is not run again"
    assert calls_of("delete_record") == [{"record_id": "42"}]
    assert tool_messages(fake_openai) == [
        {"role": "tool", "tool_call_id": "call_look", "content": "Customer 42: Dana Example, plan Pro."},
        {"role": "tool", "tool_call_id": "call_del", "content": "Record 42 deleted."},
    ]
    assert_valid_conversation(fake_openai.last_messages())
    if stream:
        assert [e.tool_name for e in events if isinstance(e, ToolCallStarted)] == ["delete_record"]


@STREAM
def test_several_requirements_resolved_one_at_a_time(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                     stream: bool) -> None:
    fake_openai.script(tool_calls(("delete_record", {"record_id": "1"}, "call_1"),
                                  ("delete_record", {"record_id": "2"}, "call_2"),
                                  ("rotate_credentials", {"service": "crm"}, "call_3")),
                       text("All handled."))
    agent = make_agent()
    response, _ = run(agent, "Delete records 1 and 2, rotate crm", stream)
    reqs = response.active_requirements
    assert [r.tool_args for r in reqs] == [{"record_id": "1"}, {"record_id": "2"}, {"service": "crm"}]
    first, second, third = reqs

    first.confirm()
    still, events = cont(agent, stream, response)
    assert still.is_paused and still.status is RunStatus.PAUSED
    assert sqlite_db.get_requirement(first.id).status is RequirementStatus.APPROVED, "the resolved one is applied"
    assert sqlite_db.get_requirement(second.id).status is RequirementStatus.PENDING, "never an implicit rejection"
    assert sqlite_db.get_requirement(third.id).status is RequirementStatus.PENDING
    assert [r.id for r in still.active_requirements] == [second.id, third.id]
    assert len(fake_openai.requests) == 1, "no model call while someone is still deciding"
    assert CALLS == []
    if stream:
        assert len(events) == 1 and isinstance(events[0], RunPaused)

    still.active_requirements[0].reject("keep record 2")
    still, _ = cont(agent, stream, still)
    assert still.is_paused
    assert [r.id for r in still.active_requirements] == [third.id]

    still.active_requirements[0].set_external_execution_result("rotated")
    done, _ = cont(agent, stream, still)
    assert done.status is RunStatus.COMPLETED and done.content == "All handled."
    assert calls_of("delete_record") == [{"record_id": "1"}]
    contents = [m["content"] for m in tool_messages(fake_openai)]
    assert contents[0] == "Record 1 deleted."
    assert "keep record 2" in contents[1]
    assert contents[2] == "rotated"
    assert_valid_conversation(fake_openai.last_messages())


@STREAM
def test_multi_round_pauses(sqlite_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "1"}, id="call_a"),
                       tool_call("delete_record", {"record_id": "2"}, id="call_b"),
                       text("Both records deleted."))
    agent = make_agent()
    response, _ = run(agent, "Delete record 1, then record 2", stream)
    assert sqlite_db.get_run(response.run_id).round == 1
    only(response.active_requirements).confirm()

    response, _ = cont(agent, stream, response)
    assert response.is_paused
    assert sqlite_db.get_run(response.run_id).round == 2
    req = only(response.active_requirements)
    assert req.tool_args == {"record_id": "2"}
    assert [r.tool_args for r in response.requirements] == [{"record_id": "2"}], "only this round's asks"
    assert calls_of("delete_record") == [{"record_id": "1"}]
    req.confirm()

    done, _ = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED and done.content == "Both records deleted."
    assert calls_of("delete_record") == [{"record_id": "1"}, {"record_id": "2"}]
    assert sqlite_db.get_run(done.run_id).round == 2
    assert len(fake_openai.requests) == 3
    assert_valid_conversation(fake_openai.last_messages())


# -------------------------------------------------------------- at most once


@STREAM
def test_decision_delivered_twice_runs_the_tool_once(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                     stream: bool) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Deleted."))
    agent = make_agent()
    response, _ = run(agent, "Delete record ID 8821", stream)
    only(response.active_requirements).confirm()
    first, _ = cont(agent, stream, response)
    second, _ = cont(agent, stream, response)
    assert first.status is second.status is RunStatus.COMPLETED
    assert second.content == first.content == "Deleted."
    assert calls_of("delete_record") == [{"record_id": "8821"}]
    assert len(fake_openai.requests) == 2


def test_stale_decision_delivered_in_a_later_round_changes_nothing(sqlite_db: Database,
                                                                   fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "1"}),
                       tool_call("delete_record", {"record_id": "2"}),
                       text("Done."))
    agent = make_agent()
    round1 = agent.run("Delete records 1 and 2")
    only(round1.active_requirements).confirm()
    round2 = agent.continue_run(round1)
    assert round2.is_paused
    replay = agent.continue_run(round1)  # the round-1 click arrives again
    assert replay.is_paused
    assert calls_of("delete_record") == [{"record_id": "1"}]
    assert only(replay.active_requirements).tool_args == {"record_id": "2"}
    assert sqlite_db.get_requirement(round2.requirements[0].id).is_pending


def test_concurrent_continues_run_the_tool_once(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Deleted."))
    agent = make_agent()
    response = agent.run("Delete record ID 8821")
    only(response.active_requirements).confirm()
    barrier = threading.Barrier(8)

    def deliver(_: int) -> Any:
        barrier.wait()
        try:
            return agent.continue_run(response)
        except RunBusy as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(deliver, range(8)))
    outputs = [r for r in results if isinstance(r, RunOutput)]
    assert outputs, results
    assert all(isinstance(r, RunOutput | RunBusy) for r in results), results
    assert all(o.status is RunStatus.COMPLETED and o.content == "Deleted." for o in outputs), outputs
    assert calls_of("delete_record") == [{"record_id": "8821"}]
    assert len(fake_openai.requests) == 2
    final = sqlite_db.get_run(response.run_id)
    assert final.status is RunStatus.COMPLETED and final.content == "Deleted."


def test_requester_survives_continue(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "1"}),
                       tool_call("delete_record", {"record_id": "2"}),
                       text("Done."))
    agent = make_agent()
    response = agent.run("Delete records 1 and 2", user_id="U_ALICE", user_name="Alice")
    assert response.requester == "U_ALICE"
    only(response.active_requirements).confirm()
    response = agent.continue_run(response)
    assert response.requester == "U_ALICE"
    only(response.active_requirements).confirm()
    done = agent.continue_run(run_id=response.run_id, requirements=response.requirements, user_id="U_BOB")
    assert done.requester == "U_ALICE", "the decider is not the requester"
    record_ = sqlite_db.get_run(done.run_id)
    assert record_.requester == "U_ALICE" and record_.requester_name == "Alice"
    assert sqlite_db.get_requirement(response.requirements[0].id).resolved_by == "U_BOB"
    assert agent.get_run_output(done.run_id).requester == "U_ALICE"
    assert all(r.requester == "U_ALICE" for r in sqlite_db.requirements_for_run(done.run_id))


@STREAM
def test_stop_after_tool_call_holds_after_confirmation(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                       stream: bool) -> None:
    fake_openai.script(tool_call("restart_server", {"host": "db-1"}), text("should never be asked for"))
    agent = make_agent()
    response, _ = run(agent, "Restart db-1", stream)
    only(response.active_requirements).confirm()
    done, _ = cont(agent, stream, response)
    assert done.status is RunStatus.COMPLETED
    assert done.content == "Server db-1 restarted."
    assert calls_of("restart_server") == [{"host": "db-1"}]
    assert len(fake_openai.requests) == 1, "no model call after a stop_after_tool_call tool"
    assert fake_openai.remaining() == 1


# ------------------------------------------------------------- misuse is refused


def test_contradicting_tool_flags_raise_at_decoration() -> None:
    def f(x: str) -> str:
        return x

    with pytest.raises(ToolConfigError):
        tool(requires_confirmation=True, external_execution=True)(f)
    with pytest.raises(ToolConfigError):
        tool(requires_user_input=True, external_execution=True)(f)
    with pytest.raises(ToolConfigError):
        tool(requires_confirmation=True, requires_user_input=True)(f)
    with pytest.raises(ToolConfigError):
        tool(user_input_fields=["not_a_parameter"])(f)
    with pytest.raises(ToolConfigError):
        tool(external_execution=True)(approval(type="required")(f))
    with pytest.raises(ToolConfigError):
        approval(type="required")(tool(external_execution=True)(f))
    with pytest.raises(ToolConfigError):
        approval(type="sometimes")
    with pytest.raises(ToolConfigError):
        tool(requires_confirmation="yes")(f)  # type: ignore[call-overload]
    assert issubclass(ToolConfigError, ValueError)


def test_a_setter_that_does_not_fit_raises(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_calls(("delete_record", {"record_id": "1"}),
                                  ("send_payment", {"amount": 1}),
                                  ("rotate_credentials", {"service": "crm"})))
    response = make_agent().run("Do three things")
    by_tool = {r.tool_name: r for r in response.active_requirements}
    confirm, user_input, external = (by_tool["delete_record"], by_tool["send_payment"],
                                     by_tool["rotate_credentials"])
    with pytest.raises(InvalidDecision, match="confirm"):
        confirm.provide_user_input({"to_address": "x"})
    with pytest.raises(InvalidDecision):
        confirm.set_external_execution_result("done")
    with pytest.raises(InvalidDecision, match="provide_user_input"):
        user_input.confirm()
    with pytest.raises(InvalidDecision):
        user_input.reject("no")
    with pytest.raises(InvalidDecision, match="set_external_execution_result"):
        external.confirm()
    with pytest.raises(InvalidDecision):
        external.provide_user_input({})
    assert not any(r.is_resolved for r in (confirm, user_input, external))


def test_a_setter_on_a_decided_requirement_says_who_decided(sqlite_db: Database,
                                                            fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 120}))
    agent = make_agent()
    response = agent.run("Refund 42")
    req = only(response.active_requirements)
    assert req.approval_id is not None
    sqlite_db.update_approval(req.approval_id, status="rejected", resolved_by="admin",
                              resolved_by_name="Admin", resolved_at=int(time.time()))
    fresh = only(agent.get_run_output(response.run_id).requirements)
    with pytest.raises(AlreadyDecided) as info:
        fresh.confirm()
    assert info.value.decided_by == "Admin" and info.value.status == "rejected"


# ------------------------------------------------------------------ model errors


MODEL_ERRORS = {
    "429": (lambda: error(429, "Rate limit reached for gpt-4o-mini"), {"max_retries": 0},
            "rate_limited", ["429", "Rate limit reached"]),
    "500": (lambda: error(500, "The server had an error"), {"max_retries": 0},
            "server_error", ["500", "The server had an error"]),
    "timeout": (lambda: delay(2, text("too late")), {"timeout": 0.3, "max_retries": 0},
                "timeout", ["timed out"]),
    "malformed": (lambda: tool_call("delete_record", '{"record_id": "88'), {},
                  "malformed_tool_arguments", ["malformed", "delete_record"]),
}


@STREAM
@pytest.mark.parametrize("case", list(MODEL_ERRORS))
def test_model_errors_fail_the_run_keep_state_and_retry(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                        case: str, stream: bool) -> None:
    reply, options, kind, words = MODEL_ERRORS[case]
    fake_openai.script(reply())
    agent = make_agent(model=OpenAIChat(**options))
    failed, events = run(agent, "Delete record ID 8821", stream, user_id="U_REQ")
    assert failed.status is RunStatus.FAILED and not failed.is_paused
    assert failed.error_kind == kind
    for word in words:
        assert word in (failed.error or ""), failed.error
    if stream:
        terminal = events[-1]
        assert isinstance(terminal, RunError)
        assert terminal.kind == kind and terminal.error == failed.error
    stored = sqlite_db.get_run(failed.run_id)
    assert stored.status is RunStatus.FAILED and stored.error == failed.error
    assert {"role": "user", "content": "Delete record ID 8821"} in stored.state["messages"], "state kept"
    assert "run.failed" in [e.action for e in sqlite_db.audit_events(run_id=failed.run_id)]
    assert CALLS == []

    fake_openai.script(text("Sorry, the record was not deleted."))
    retried = agent.retry_run(failed.run_id, stream=stream)
    if stream:
        retried_events = list(retried)
        check_stream(retried_events, continued=True)
        retried = retried_events[-1].output
    assert retried.status is RunStatus.COMPLETED
    assert retried.content == "Sorry, the record was not deleted."
    assert retried.requester == "U_REQ"
    last = fake_openai.last_messages()
    assert {"role": "user", "content": "Delete record ID 8821"} in last
    assert_valid_conversation(last)


def test_retry_of_a_run_that_is_not_failed_is_refused(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text("Hello."))
    agent = make_agent()
    done = agent.run("Hi")
    with pytest.raises(Exception) as info:
        agent.retry_run(done.run_id)
    assert "completed" in str(info.value)
    assert len(fake_openai.requests) == 1


@STREAM
def test_a_tool_that_raises_gives_the_model_an_error_result(sqlite_db: Database, fake_openai: FakeOpenAI,
                                                            stream: bool) -> None:
    fake_openai.script(tool_call("flaky_lookup", {"query": "x"}, id="call_f"), text("The backend is down."))
    agent = make_agent()
    done, events = run(agent, "Look x up", stream)
    assert done.status is RunStatus.COMPLETED and done.content == "The backend is down."
    assert calls_of("flaky_lookup") == [{"query": "x"}]
    (msg,) = tool_messages(fake_openai)
    assert msg["tool_call_id"] == "call_f"
    assert msg["content"].startswith("Error")
    assert "ValueError" in msg["content"] and "backend down" in msg["content"]
    assert [(t.tool_name, t.status) for t in done.tools] == [("flaky_lookup", "failed")]
    if stream:
        (finished,) = [e for e in events if isinstance(e, ToolCallCompleted)]
        assert finished.status == "failed"


# -------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    database = migrated(pg_url)
    try:
        yield database
    finally:
        database.dispose()


@STREAM
def test_pg_confirm_flow(pg_db: Database, fake_openai: FakeOpenAI, stream: bool) -> None:
    fake_openai.script(tool_calls(("lookup_customer", {"customer_id": "42"}),
                                  ("delete_record", {"record_id": "42"})),
                       text("Done on Postgres."))
    agent = make_agent(db=pg_db)
    response, _ = run(agent, "Look up and delete 42", stream, user_id="U_PG")
    assert response.is_paused
    assert pg_db.get_run(response.run_id).status is RunStatus.PAUSED
    only(response.active_requirements).confirm()
    done, _ = cont(agent, stream, response)
    again, _ = cont(agent, stream, response)
    assert done.status is again.status is RunStatus.COMPLETED
    assert done.content == "Done on Postgres." and done.requester == "U_PG"
    assert calls_of("lookup_customer") == [{"customer_id": "42"}]
    assert calls_of("delete_record") == [{"record_id": "42"}]
    assert chain.first_break([e.to_dict() for e in pg_db.audit_events()]) is None


def test_pg_required_approval_flow(pg_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 120}),
                       text("Refunded."))
    agent = make_agent(db=pg_db)
    response = agent.run("Refund 120 to 42", user_id="U_REQ")
    req = only(response.active_requirements)
    req.confirm()
    with pytest.raises(ApprovalPending):
        agent.continue_run(run_id=response.run_id, requirements=response.requirements)
    assert req.approval_id is not None
    results = []
    for admin in ("admin_a", "admin_b"):
        results.append(pg_db.update_approval(req.approval_id, expected_status="pending", status="approved",
                                             resolved_by=admin, resolved_at=int(time.time())))
    assert results[0] is not None and results[1] is None
    done = agent.continue_run(run_id=response.run_id, requirements=response.requirements)
    assert done.status is RunStatus.COMPLETED
    assert calls_of("process_refund") == [{"customer_id": "42", "amount": 120.0}]


def test_pg_concurrent_continues_run_the_tool_once(pg_db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("delete_record", {"record_id": "8821"}), text("Deleted."))
    agent = make_agent(db=pg_db)
    response = agent.run("Delete record ID 8821")
    only(response.active_requirements).confirm()
    barrier = threading.Barrier(8)

    def deliver(_: int) -> Any:
        barrier.wait()
        try:
            return agent.continue_run(response)
        except RunBusy as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(deliver, range(8)))
    assert any(isinstance(r, RunOutput) for r in results), results
    assert calls_of("delete_record") == [{"record_id": "8821"}]
    assert pg_db.get_run(response.run_id).status is RunStatus.COMPLETED


def test_model_arguments_meet_the_tool_signature(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """Wrong types from the model never reach the tool or a card; coercible ones are coerced."""
    seen: list[Any] = []

    @tool(requires_confirmation=True)
    def refund(customer_id: str, amount: float) -> str:
        """Refund a customer."""
        seen.append(amount)
        return f"refunded {amount!r}"

    agent = Agent(tools=[refund])
    fake_openai.script(
        tool_call("refund", {"customer_id": "42", "amount": "lots"}),
        tool_call("refund", {"customer_id": "42", "amount": "120"}),
        text("Refunded."),
    )
    output = agent.run("refund 42")
    # The bad call was answered with an error the model can act on; nobody was asked about it.
    first_error = fake_openai.requests[1]["messages"][-1]
    assert first_error["role"] == "tool" and "invalid arguments for refund" in first_error["content"]
    assert "amount" in first_error["content"]
    assert output.is_paused and len(output.active_requirements) == 1
    req = output.active_requirements[0]
    assert req.tool_args == {"customer_id": "42", "amount": 120.0}
    req.confirm()
    final = agent.continue_run(output)
    assert final.status is RunStatus.COMPLETED
    assert seen == [120.0]
