"""Approver policy: quorum, self-approval, user groups, conditional gates, default approvers,
expiry, and the binding of a decision to the exact tool call (run, call id, argument hash).

Decisions go through ``runner.decisions.resolve``, the function both Slack and the REST API call.
Races run in real threads on both backends; time moves through an injected clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from runner import Agent, approval, tool
from runner.decisions import Action, DecisionResult, resolve
from runner.examples import finance
from runner.policy import StaticDirectory, approvers_for
from storage import Actor, Database, NewRequirement, RequirementKind, RequirementStatus, RunStatus
from storage import schema as t
from storage.codec import dumps, loads
from storage.errors import (
    AlreadyDecided,
    ApprovalPending,
    NotAnApprover,
    RequirementExpired,
    SelfApproval,
    ToolConfigError,
)
from storage.records import RequirementRecord
from tests.conftest import migrated
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.openai_server import text as reply

ADMINS = StaticDirectory({"S_ADMINS": {"U_BOB", "U_CAROL", "U_ERIN"}, "S_EMPTY": set()})


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def race(n: int, fn: Callable[[int], Any]) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(n)

    def one(i: int) -> tuple[str, Any]:
        barrier.wait()
        try:
            return "ok", fn(i)
        except Exception as exc:  # collected for the assertions
            return "err", exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def required(db: Database, *, approvers: list[str] | None = None, quorum: int = 1, requester: str = "U_ALICE",
             key: str = "t1:c1", expires_in_s: float | None = None) -> RequirementRecord:
    """A paused run with one pending ``required`` approval, straight in SQL."""
    run = db.create_run(kind="agent", target_id="payments", target_name="Payments", input="wire", state={"v": 1},
                        requester=requester)
    spec = NewRequirement(call_key=key, kind=RequirementKind.CONFIRMATION, tool_call_id="c1", tool_name="wire",
                          tool_args={"account": "DE89", "amount": 900.0}, approval_type="required",
                          approvers=approvers or [], quorum=quorum, expires_in_s=expires_in_s, agent_id="payments")
    (req,) = db.create_requirements(run.id, 1, [spec], requester=requester, agent_id="payments")
    db.save_run(run.id, expected_version=db.get_run(run.id).version, status=RunStatus.PAUSED)
    return req


def actions(db: Database, run_id: str) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.actor_id, e.outcome) for e in db.audit_events(run_id=run_id)]


# ----------------------------------------------------------------------------- quorum


def test_quorum_of_two_with_three_approvers_racing(db: Database) -> None:
    voters = ["U_BOB", "U_CAROL", "U_ERIN"]
    for n in range(5):  # several rounds: the interleavings differ
        req = required(db, approvers=voters, quorum=2, key=f"t1:{n}")
        results = race(3, lambda i, r=req: resolve(db, r.id, Actor(voters[i]), Action.APPROVE, directory=ADMINS))
        decided = [v for kind, v in results if kind == "ok" and v.decided]
        pending_votes = [v for kind, v in results if kind == "ok" and not v.decided]
        errors = [v for kind, v in results if kind == "err"]
        assert len(decided) == 1, results
        assert all(isinstance(e, AlreadyDecided) for e in errors), errors
        assert all(v.votes == 1 for v in pending_votes), pending_votes  # only a first vote waits
        assert len(decided) + len(pending_votes) + len(errors) == 3
        final = db.get_requirement(req.id)
        assert final.status is RequirementStatus.APPROVED and final.resolved_by in voters
        record = db.approval_for_requirement(req.id)
        assert record is not None and record.status == "approved"
        votes = db.votes(record.id)
        assert len(votes) >= 2 and len({v["voter"] for v in votes}) == len(votes)  # distinct approvers
        approved = [a for a in actions(db, req.run_id) if a[0] == "requirement.approved"]
        assert len(approved) == 1


def test_two_approvers_racing_always_reach_a_quorum_of_two(db: Database) -> None:
    """Each voter must see the other's vote: two racing votes never leave the request pending."""
    for i in range(8):
        req = required(db, approvers=["U_BOB", "U_CAROL"], quorum=2, key=f"t1:{i}")
        results = race(2, lambda n, r=req: resolve(db, r.id, Actor(["U_BOB", "U_CAROL"][n]), Action.APPROVE))
        assert db.get_requirement(req.id).status is RequirementStatus.APPROVED, results
        assert sum(1 for kind, v in results if kind == "ok" and v.decided) == 1, results


def test_same_approver_twice_counts_once(sqlite_db: Database) -> None:
    req = required(sqlite_db, approvers=["U_BOB", "U_CAROL"], quorum=2)
    first = resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE)
    again = resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE)
    assert (first.decided, first.votes, again.decided, again.votes) == (False, 1, False, 1)
    assert sqlite_db.get_requirement(req.id).is_pending
    done = resolve(sqlite_db, req.id, Actor("U_CAROL"), Action.APPROVE)
    assert done.decided and done.votes == 2 and done.run_ready


def test_any_reject_ends_a_quorum(sqlite_db: Database) -> None:
    req = required(sqlite_db, approvers=["U_BOB", "U_CAROL", "U_ERIN"], quorum=2)
    vote = resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE)
    assert not vote.decided
    rejected = resolve(sqlite_db, req.id, Actor("U_CAROL"), Action.REJECT, note="too much")
    assert rejected.decided and rejected.run_ready
    assert rejected.requirement.status is RequirementStatus.REJECTED
    assert rejected.requirement.resolution == {"note": "too much"}
    with pytest.raises(AlreadyDecided) as info:
        resolve(sqlite_db, req.id, Actor("U_ERIN"), Action.APPROVE)
    assert info.value.status == "rejected" and info.value.decided_by == "U_CAROL"
    assert [a[0] for a in actions(sqlite_db, req.run_id)][-3:] == [
        "approval.vote", "requirement.rejected", "decision.refused"
    ]


def test_quorum_declaration_is_checked() -> None:
    with pytest.raises(ToolConfigError, match="at least 2 distinct approvers"):
        approval(type="required", approvers=["U_BOB"], quorum=2)
    with pytest.raises(ToolConfigError, match="quorum must be at least 1"):
        approval(type="required", quorum=0)
    with pytest.raises(ToolConfigError, match="must be positive"):
        approval(type="required", expires_in=0)
    approval(type="required", approvers=["S_ADMINS"], quorum=3)  # a group may hold enough people


# ----------------------------------------------------------------------------- who may decide


def test_self_approval_is_refused_and_recorded(sqlite_db: Database) -> None:
    req = required(sqlite_db, approvers=["U_ALICE", "U_BOB"])  # even when listed as an approver
    with pytest.raises(SelfApproval) as info:
        resolve(sqlite_db, req.id, Actor("U_ALICE"), Action.APPROVE)
    assert "may not approve it themselves" in info.value.message
    with pytest.raises(SelfApproval):
        resolve(sqlite_db, req.id, Actor("U_ALICE"), Action.REJECT)
    assert sqlite_db.get_requirement(req.id).is_pending
    refused = [a for a in actions(sqlite_db, req.run_id) if a[0] == "decision.refused"]
    assert refused == [("decision.refused", "U_ALICE", "SelfApproval")] * 2
    assert resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE).decided


def test_user_group_approver(sqlite_db: Database) -> None:
    req = required(sqlite_db, approvers=["S_ADMINS"])
    with pytest.raises(NotAnApprover) as info:
        resolve(sqlite_db, req.id, Actor("U_DAVE"), Action.APPROVE, directory=ADMINS)
    assert info.value.allowed == ["S_ADMINS"]
    with pytest.raises(NotAnApprover):  # without a directory a group resolves to nobody
        resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE)
    outcome = resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE, directory=ADMINS)
    assert outcome.decided and outcome.requirement.resolved_by == "U_BOB"


def test_empty_or_unknown_group_lets_nobody_through(sqlite_db: Database) -> None:
    req = required(sqlite_db, approvers=["S_EMPTY", "S_UNKNOWN"])
    for user in ("U_BOB", "U_ALICE", "S_EMPTY"):
        with pytest.raises(NotAnApprover):
            resolve(sqlite_db, req.id, Actor(user), Action.APPROVE, directory=ADMINS)


def test_signoff_approvers_is_the_default(sqlite_db: Database) -> None:
    req = required(sqlite_db)  # the tool names no approvers
    assert approvers_for(req, ["U_BOB"]) == ["U_BOB"]
    with pytest.raises(NotAnApprover) as none_configured:
        resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE)
    assert none_configured.value.allowed == []  # no SIGNOFF_APPROVERS: nobody may decide
    with pytest.raises(NotAnApprover):
        resolve(sqlite_db, req.id, Actor("U_CAROL"), Action.APPROVE, default_approvers=["U_BOB"])
    assert resolve(sqlite_db, req.id, Actor("U_BOB"), Action.APPROVE, default_approvers=["U_BOB"]).decided
    own = required(sqlite_db, approvers=["U_CAROL"], key="t1:own")
    with pytest.raises(NotAnApprover):  # a tool's own approvers replace the default
        resolve(sqlite_db, own.id, Actor("U_BOB"), Action.APPROVE, default_approvers=["U_BOB"])


# ----------------------------------------------------------------------------- conditional gate


def test_conditional_gate_below_and_above_the_threshold(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    ran: list[float] = []

    @tool
    @approval(type="required", when=lambda a: float(a["amount"]) > 100)
    def refund(customer_id: str, amount: float) -> str:
        """Refund."""
        ran.append(amount)
        return f"refunded {amount}"

    agent = Agent(id="payments", tools=[refund], db=sqlite_db)
    fake_openai.script(tool_call("refund", {"customer_id": "42", "amount": 100}), reply("done"))
    below = agent.run("refund 100", user_id="U_ALICE")
    assert below.status is RunStatus.COMPLETED and ran == [100.0]
    assert sqlite_db.requirements_for_run(below.run_id) == []

    fake_openai.script(tool_call("refund", {"customer_id": "42", "amount": 100.01}))
    above = agent.run("refund 100.01", user_id="U_ALICE")
    assert above.is_paused and ran == [100.0]
    (req,) = sqlite_db.requirements_for_run(above.run_id)
    assert req.approval_type == "required"
    record = sqlite_db.approval_for_requirement(req.id)
    assert record is not None and record.status == "pending"


def test_finance_example_confirmation_below_admin_approval_above(sqlite_db: Database,
                                                                  fake_openai: FakeOpenAI) -> None:
    agent = Agent(id=finance.id, tools=finance.tools, db=sqlite_db)
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}))
    small = agent.run("refund 50", user_id="U_ALICE")
    (small_req,) = sqlite_db.requirements_for_run(small.run_id)
    assert small_req.approval_type is None
    assert resolve(sqlite_db, small_req.id, Actor("U_ALICE"), Action.APPROVE).decided  # the requester confirms

    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 500}))
    big = agent.run("refund 500", user_id="U_ALICE")
    (big_req,) = sqlite_db.requirements_for_run(big.run_id)
    assert big_req.approval_type == "required"
    with pytest.raises(SelfApproval):
        resolve(sqlite_db, big_req.id, Actor("U_ALICE"), Action.APPROVE, default_approvers=["U_BOB"])


# ----------------------------------------------------------------------------- expiry


def test_expires_in_from_the_policy_and_a_late_decision(tmp_path: Any) -> None:
    clock = Clock()
    db = migrated(f"sqlite:///{tmp_path / 'e.db'}", clock=clock)
    try:
        req = required(db, approvers=["U_BOB"], expires_in_s=600)
        assert req.expires_at == clock.now + timedelta(seconds=600)
        clock.advance(599)
        assert db.expire_due() == []
        clock.advance(1)
        with pytest.raises(RequirementExpired):
            resolve(db, req.id, Actor("U_BOB"), Action.APPROVE)
        assert db.get_requirement(req.id).status is RequirementStatus.EXPIRED
        with pytest.raises(AlreadyDecided) as info:
            resolve(db, req.id, Actor("U_BOB"), Action.APPROVE)
        assert info.value.status == "expired"
        other = required(db, approvers=["U_BOB"], expires_in_s=60, key="t1:other")
        clock.advance(61)
        assert [r.id for r in db.expire_due()] == [other.id]
        assert ("requirement.expired", "system", "expired") in actions(db, other.run_id)
    finally:
        db.dispose()


# ----------------------------------------------------------------------------- binding


@pytest.fixture
def wire_agent(fake_openai: FakeOpenAI) -> Iterator[tuple[Callable[[Database], Agent], list[dict[str, Any]]]]:
    ran: list[dict[str, Any]] = []

    @tool
    @approval(type="required", approvers=["U_BOB", "U_CAROL", "U_ERIN"], quorum=2)
    def wire(account: str, amount: float) -> str:
        """Wire money."""
        ran.append({"account": account, "amount": amount})
        return f"wired {amount} to {account}"

    yield (lambda db: Agent(id="payments", tools=[wire], db=db)), ran


def test_racing_quorum_runs_the_tool_once(db: Database, fake_openai: FakeOpenAI,
                                          wire_agent: tuple[Callable[[Database], Agent], list[Any]]) -> None:
    make, ran = wire_agent
    agent = make(db)
    fake_openai.script(tool_call("wire", {"account": "DE89", "amount": 900}), reply("wired"), reply("wired"))
    paused = agent.run("wire 900", user_id="U_ALICE")
    (req,) = db.requirements_for_run(paused.run_id)
    voters = ["U_BOB", "U_CAROL", "U_ERIN"]
    results = race(3, lambda i: resolve(db, req.id, Actor(voters[i]), Action.APPROVE))
    ready = [v for kind, v in results if kind == "ok" and isinstance(v, DecisionResult) and v.run_ready]
    assert len(ready) == 1
    # Every "ready" signal (and a duplicate one) continues the run: the tool still runs once.
    outputs = race(2, lambda _: agent.continue_run(run_id=paused.run_id))
    assert ran == [{"account": "DE89", "amount": 900.0}], outputs
    assert db.get_run(paused.run_id).status is RunStatus.COMPLETED
    assert len(db.executions_for_run(paused.run_id)) == 1


def _set_state_arguments(db: Database, run_id: str, arguments: str) -> None:
    state = db.get_run(run_id).state
    state["pending"][0]["arguments"] = arguments
    with db.engine.begin() as conn:
        conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(state=dumps(state)))


def _approve_and_continue(db: Database, agent: Agent, req: RequirementRecord, **kwargs: Any) -> Any:
    for voter in ("U_BOB", "U_CAROL"):
        resolve(db, req.id, Actor(voter), Action.EDIT if kwargs else Action.APPROVE, lookup=agent.lookup, **kwargs)
    return agent.continue_run(run_id=req.run_id)


def _refusals(db: Database, run_id: str) -> list[tuple[str | None, str | None]]:
    return [(e.outcome, e.reason) for e in db.audit_events(run_id=run_id) if e.action == "tool.refused"]


def test_changed_arguments_in_the_saved_state_break_the_binding(
    db: Database, fake_openai: FakeOpenAI, wire_agent: tuple[Callable[[Database], Agent], list[Any]]
) -> None:
    make, ran = wire_agent
    agent = make(db)
    fake_openai.script(tool_call("wire", {"account": "DE89", "amount": 900}), reply("not done"))
    paused = agent.run("wire 900", user_id="U_ALICE")
    (req,) = db.requirements_for_run(paused.run_id)
    resolve(db, req.id, Actor("U_BOB"), Action.APPROVE)
    resolve(db, req.id, Actor("U_CAROL"), Action.APPROVE)
    # After the approval, someone with database access swaps the destination account.
    _set_state_arguments(db, paused.run_id, '{"account": "MALLORY", "amount": 900}')
    out = agent.continue_run(run_id=paused.run_id)
    assert ran == [] and out.status is RunStatus.COMPLETED
    assert _refusals(db, paused.run_id) == [
        ("binding_mismatch", "the arguments about to run differ from the approved ones")
    ]
    tool_message = next(m for m in fake_openai.last_messages() if m["role"] == "tool")
    assert "was not run" in tool_message["content"]
    assert db.executions_for_run(paused.run_id) == []


def test_changed_args_hash_on_the_requirement_breaks_the_binding(
    db: Database, fake_openai: FakeOpenAI, wire_agent: tuple[Callable[[Database], Agent], list[Any]]
) -> None:
    make, ran = wire_agent
    agent = make(db)
    fake_openai.script(tool_call("wire", {"account": "DE89", "amount": 900}), reply("not done"))
    paused = agent.run("wire 900", user_id="U_ALICE")
    (req,) = db.requirements_for_run(paused.run_id)
    with db.engine.begin() as conn:
        conn.execute(update(t.requirements).where(t.requirements.c.id == req.id).values(args_hash="0" * 64))
    _approve_and_continue(db, agent, req)
    assert ran == []
    assert [o for o, _ in _refusals(db, paused.run_id)] == ["binding_mismatch"]


def test_altered_edited_arguments_break_the_binding(
    db: Database, fake_openai: FakeOpenAI, wire_agent: tuple[Callable[[Database], Agent], list[Any]]
) -> None:
    make, ran = wire_agent
    agent = make(db)
    fake_openai.script(tool_call("wire", {"account": "DE89", "amount": 900}), reply("not done"))
    paused = agent.run("wire 900", user_id="U_ALICE")
    (req,) = db.requirements_for_run(paused.run_id)
    resolve(db, req.id, Actor("U_BOB"), Action.EDIT, args={"amount": 800}, lookup=agent.lookup)
    resolve(db, req.id, Actor("U_CAROL"), Action.EDIT, args={"amount": 800}, lookup=agent.lookup)
    decided = db.get_requirement(req.id)
    assert decided.resolution["edited_args"] == {"account": "DE89", "amount": 800.0}
    resolution = dict(decided.resolution, edited_args={"account": "MALLORY", "amount": 800.0})
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE requirements SET resolution = :r WHERE id = :i"),
                      {"r": dumps(resolution), "i": req.id})
    agent.continue_run(run_id=paused.run_id)
    assert ran == []
    assert _refusals(db, paused.run_id) == [("binding_mismatch", "edited arguments do not match their hash")]
    assert loads(dumps(db.get_requirement(req.id).resolution))["edited_args"]["account"] == "MALLORY"


def test_unchanged_binding_runs_the_edited_arguments(
    sqlite_db: Database, fake_openai: FakeOpenAI, wire_agent: tuple[Callable[[Database], Agent], list[Any]]
) -> None:
    make, ran = wire_agent
    agent = make(sqlite_db)
    fake_openai.script(tool_call("wire", {"account": "DE89", "amount": 900}), reply("done"))
    paused = agent.run("wire 900", user_id="U_ALICE")
    (req,) = sqlite_db.requirements_for_run(paused.run_id)
    _approve_and_continue(sqlite_db, agent, req, args={"amount": 800})
    assert ran == [{"account": "DE89", "amount": 800.0}]
    assert _refusals(sqlite_db, paused.run_id) == []


def test_an_sdk_edit_that_needs_an_approval_stays_paused(sqlite_db: Database, fake_openai: FakeOpenAI) -> None:
    """The script path decides through the same service: confirming a $50 refund edited to $250,000
    sends it to the approvers; the run stays paused and the tool does not run."""
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), reply("refunded"))
    paused = finance.run("Refund $50 to 42", user_id="U_ALICE")
    (req,) = paused.active_requirements
    assert req.approval_type is None
    req.confirm(args={"amount": 250000})
    after = finance.continue_run(paused)
    assert after.is_paused, "an approver must now sign off"
    (still,) = after.active_requirements
    assert still.approval_type == "required" and still.record.proposed_args is not None
    assert still.record.proposed_args["amount"] == 250000.0
    assert not [e for e in sqlite_db.audit_events(run_id=paused.run_id) if e.action == "tool.executed"]
    with pytest.raises(ApprovalPending):
        still.confirm()
        finance.continue_run(after)


def test_a_worker_refuses_approved_arguments_that_need_an_approval_never_given(
    sqlite_db: Database, fake_openai: FakeOpenAI
) -> None:
    """Defence in depth: a row forged to 'approved' with edited arguments over the threshold does
    not run the tool (tool.refused approval_missing)."""
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), reply("not done"))
    paused = finance.run("Refund $50 to 42", user_id="U_ALICE")
    (req,) = paused.active_requirements
    edited = {"customer_id": "42", "amount": 250000.0, "reason": ""}
    with sqlite_db.engine.begin() as conn:
        conn.execute(
            update(t.requirements)
            .where(t.requirements.c.id == req.id)
            .values(status="approved", resolution=dumps({"edited_args": edited}), resolved_by="U_ALICE")
        )
    finance.continue_run(run_id=paused.run_id)
    refused = [(e.outcome) for e in sqlite_db.audit_events(run_id=paused.run_id) if e.action == "tool.refused"]
    assert refused == ["approval_missing"]
    assert not [e for e in sqlite_db.audit_events(run_id=paused.run_id) if e.action == "tool.executed"]
