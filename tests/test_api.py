"""The Approvals REST API against ``create_app(deps)``: auth, every error code, resolving like a click.

Real pieces throughout: SQLite and PostgreSQL, the local Redis (a queue of its own), a real RQ ``SimpleWorker``
that drives the run after an API decision, the local Slack stand-in whose ``chat.update`` calls
show the cards being updated, and Slack's ``usergroups.users.list`` for user-group approvers.
Time is an injected clock; nothing sleeps.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.deps import Deps, build_deps
from bot.settings import Settings
from bot.slack.notifier import SlackNotifier
from bot.web.api import ResolveIn, _decision
from bot.web.app import create_app
from bot.worker import make_worker
from runner import Agent, approval, runtime, tool
from runner.decisions import Action
from runner.listener import RunListener
from runner.registry import Registry
from storage import Database, NewRequirement, RequirementKind, RunStatus
from storage.errors import InvalidDecision, ToolConfigError
from storage.export import verify_lines
from storage.records import RequirementRecord
from tests.conftest import REDIS_URL, migrated
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.slack_server import FakeSlack

pytestmark = [pytest.mark.redis]

TOKEN = "test-token-0123456789"
OTHER_TOKEN = "second-token-abcdef"
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------- the agent

RAN: list[tuple[str, dict[str, Any]]] = []


@tool
@approval(type="required", when=lambda a: float(a.get("amount", 0)) > 100, expires_in=3600)
def refund(customer_id: str, amount: float) -> str:
    """Refund a customer; over $100 needs an approver."""
    RAN.append(("refund", {"customer_id": customer_id, "amount": amount}))
    return f"Refunded ${amount:.2f} to {customer_id}."


@tool
@approval(type="required", approvers=["S_ADMINS"], quorum=2)
def wire(account: str, amount: float, api_key: str = "") -> str:
    """Wire money; two admins (a Slack user group) must agree."""
    RAN.append(("wire", {"account": account, "amount": amount}))
    return f"Wired ${amount:.2f} to {account}."


@tool(requires_confirmation=True)
@approval(type="required", when=lambda a: float(a.get("amount", 0)) > 100)
def credit(customer_id: str, amount: float) -> str:
    """Credit an account: the requester confirms; over $100 an approver must sign off too."""
    RAN.append(("credit", {"customer_id": customer_id, "amount": amount}))
    return f"Credited ${amount:.2f} to {customer_id}."


payments = Agent(id="payments", name="Payments", tools=[refund, wire, credit], instructions="You move money.")
REGISTRY = Registry(targets={"payments": payments}, module="tests.test_api")


# ---------------------------------------------------------------------------------- fixtures


@dataclass
class Env:
    deps: Deps
    client: TestClient
    slack: FakeSlack
    openai: FakeOpenAI
    clock: Clock
    notifier: SlackNotifier
    posted: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def token_for(self, user: str, scopes: tuple[str, ...] = ("read", "decide")) -> str:
        """A token of the user's own (created once): the API decides as its principal."""
        key = f"{user}:{','.join(scopes)}"
        if key not in self.tokens:
            _, secret = self.db.create_token(name=user, principal_kind="user", principal_id=user, scopes=scopes)
            self.tokens[key] = secret
        return self.tokens[key]

    @property
    def db(self) -> Database:
        return self.deps.db

    def paused_run(self, call: Any, user: str = "U_ALICE", channel: str = "C_OPS") -> tuple[str, RequirementRecord]:
        """Run the agent until it pauses on ``call``; post its cards as the worker would."""
        self.openai.script(call)
        output = payments.run("do it", user_id=user)
        assert output.is_paused, output
        run = self.db.get_run(output.run_id)
        root = self.notifier.client.chat_postMessage(channel=channel, text="root")
        self.db.set_run_thread(run.id, channel, str(root["ts"]))
        run = self.db.get_run(run.id)
        (req,) = self.db.requirements_for_run(run.id)
        self.notifier.post_card(run, req)
        return run.id, req

    def approval_id(self, req: RequirementRecord) -> str:
        record = self.db.approval_for_requirement(req.id)
        assert record is not None
        return record.id

    def resolve(self, approval_id: str, *, as_user: str | None = None, **body: Any) -> Any:
        """Resolve with the token of ``as_user`` (default: the ``resolved_by`` the body names)."""
        user = as_user or body.get("resolved_by") or "U_BOB"
        headers = {"Authorization": f"Bearer {self.token_for(user)}"}
        return self.client.post(f"/api/approvals/{approval_id}/resolve", json=body, headers=headers)

    def work(self) -> None:
        make_worker(self.deps, forking=False).work(burst=True, logging_level="WARNING")

    def card_updates(self, req: RequirementRecord) -> list[Any]:
        assert self.deps.card_queue.drain(10), "the web process's queued card updates are done"
        cards = {(m.channel, m.ts) for m in self.db.slack_messages(requirement_id=req.id)}
        return [c for c in self.slack.calls_to("chat.update") if (c.args.get("channel"), c.args.get("ts")) in cards]


def make_settings(db_url: str, slack: FakeSlack, openai: FakeOpenAI, queue: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": REDIS_URL,
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": "api-test-secret",
        "slack_api_url": slack.base_url,
        "openai_base_url": openai.base_url,
        "openai_api_key": "sk-test-fake",
        "signoff_agents": "runner.examples",
        "signoff_approvers": ["U_BOB", "U_CAROL"],
        "signoff_approvals_channel": "C_APPROVALS",
        "signoff_api_token": f"{TOKEN},{OTHER_TOKEN}",
        "signoff_queue": queue,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def env(db_url: str, fake_openai: FakeOpenAI, queue_name: str) -> Iterator[Env]:
    """Each API test runs on SQLite and on PostgreSQL."""
    RAN.clear()
    clock = Clock()
    with FakeSlack() as slack:
        settings = make_settings(db_url, slack, fake_openai, queue_name)
        db = migrated(db_url, clock=clock)
        deps = build_deps(settings, db=db, registry=REGISTRY)
        app = create_app(deps)
        _, reader = db.create_token(name="reader", principal_kind="service", principal_id="reader",
                                    scopes=["read", "export"])
        client = TestClient(app, headers={"Authorization": f"Bearer {reader}"})
        notifier = SlackNotifier.from_settings(settings, db, REGISTRY)
        try:
            with runtime.using(deps.runtime):  # payments.run(...) in a test runs as the worker would
                yield Env(deps, client, slack, fake_openai, clock, notifier)
        finally:
            client.close()
            deps.queue.empty()
            deps.queue.delete(delete_jobs=True)
            db.dispose()


def seed_approvals(db: Database, n: int, *, agent: str = "payments", tool_name: str = "refund",
                   requester: str = "U_ALICE") -> list[str]:
    """``n`` pending required approvals straight in SQL (fast; no model involved)."""
    ids = []
    for i in range(n):
        run = db.create_run(kind="agent", target_id=agent, target_name=agent, input=f"run {i}", state={"v": 1},
                            requester=requester)
        spec = NewRequirement(call_key=f"t1:c{i}", kind=RequirementKind.CONFIRMATION, tool_call_id=f"c{i}",
                              tool_name=tool_name, tool_args={"customer_id": str(i), "amount": 150.0 + i},
                              approval_type="required", agent_id=agent)
        (req,) = db.create_requirements(run.id, 1, [spec], requester=requester, agent_id=agent)
        record = db.approval_for_requirement(req.id)
        assert record is not None
        ids.append(record.id)
    return ids


# ---------------------------------------------------------------------------------- auth


def test_no_token_configured_refuses_every_call_and_says_what_to_set(
    sqlite_url: str, fake_openai: FakeOpenAI, queue_name: str
) -> None:
    with FakeSlack() as slack:
        settings = make_settings(sqlite_url, slack, fake_openai, queue_name, signoff_api_token="")
        deps = build_deps(settings, registry=REGISTRY)
        client = TestClient(create_app(deps))
        try:
            for path in ("/api/approvals", "/api/approvals/count", "/api/approvals/x", "/api/runs/x",
                         "/api/audit/export"):
                response = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
                assert response.status_code == 503, path
                assert "signoff token create" in response.json()["detail"]
            posted = client.post("/api/approvals/x/resolve", json={"status": "approved", "resolved_by": "U_BOB"})
            assert posted.status_code == 503
            assert client.get("/healthz").status_code in (200, 503)  # not behind the API's auth
        finally:
            client.close()
            deps.close()
            deps.db.dispose()


def test_bearer_token_is_required_and_checked(env: Env) -> None:
    bare = TestClient(env.client.app)
    missing = bare.get("/api/approvals")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong = bare.get("/api/approvals", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid bearer token"
    basic = bare.get("/api/approvals", headers={"Authorization": "Basic dTpw"})
    assert basic.status_code == 401
    assert bare.get("/api/approvals", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}).status_code == 200
    assert env.client.get("/api/approvals").status_code == 200


def test_openapi_documents_the_api_and_its_security(env: Env) -> None:
    schema = env.client.get("/openapi.json").json()
    for path in ("/api/approvals", "/api/approvals/count", "/api/approvals/{approval_id}",
                 "/api/approvals/{approval_id}/resolve", "/api/runs/{run_id}", "/api/audit/export"):
        assert path in schema["paths"], path
    resolve = schema["paths"]["/api/approvals/{approval_id}/resolve"]["post"]
    assert {"200", "202", "401", "403", "404", "409", "410", "422", "503"} <= set(resolve["responses"])
    assert resolve["security"] == [{"HTTPBearer": []}]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    body = schema["components"]["schemas"]["ResolveIn"]
    assert set(body["required"]) == {"status"}


# ---------------------------------------------------------------------------------- reading


def test_list_filters_pagination_and_count(env: Env) -> None:
    first = seed_approvals(env.db, 3)
    env.clock.advance(60)
    later = seed_approvals(env.db, 2, tool_name="wire", requester="U_DAVE")
    page = env.client.get("/api/approvals", params={"limit": 2}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0
    assert len(page["items"]) == 2 and {i["id"] for i in page["items"]} <= set(later)
    rest = env.client.get("/api/approvals", params={"limit": 2, "offset": 2}).json()["items"]
    tail = env.client.get("/api/approvals", params={"limit": 2, "offset": 4}).json()["items"]
    seen = [i["id"] for i in page["items"] + rest + tail]
    assert sorted(seen) == sorted(first + later)  # every approval exactly once across pages

    def count(**params: Any) -> int:
        response = env.client.get("/api/approvals/count", params=params)
        assert response.status_code == 200, response.text
        listed = env.client.get("/api/approvals", params=params).json()
        assert listed["total"] == response.json()["count"]
        return int(response.json()["count"])

    assert count() == 5
    assert count(tool="wire") == 2
    assert count(requester="U_DAVE") == 2
    assert count(agent="payments", status="pending") == 5
    assert count(status="approved") == 0
    assert count(since=(T0 + timedelta(seconds=30)).isoformat()) == 2
    assert count(until=(T0 + timedelta(seconds=30)).isoformat()) == 3
    assert count(since="2026-11-24T12:00:30") == 2  # no zone: UTC
    assert env.client.get("/api/approvals", params={"status": "maybe"}).status_code == 422
    assert env.client.get("/api/approvals", params={"limit": 0}).status_code == 422
    assert env.client.get("/api/approvals", params={"limit": 501}).status_code == 422
    assert env.client.get("/api/approvals", params={"since": "yesterday"}).status_code == 422


def test_get_one_approval_redacts_sensitive_arguments(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900, "api_key": "sk-live-1"}))
    approval_id = env.approval_id(req)
    got = env.client.get(f"/api/approvals/{approval_id}")
    assert got.status_code == 200
    body = got.json()
    assert body["run_id"] == run_id and body["status"] == "pending" and body["quorum"] == 2
    assert body["tool_args"] == {"account": "DE89", "amount": 900.0, "api_key": "[redacted]"}
    assert body["approvers"] == ["S_ADMINS"] and body["votes"] == []
    assert body["requester"] == "U_ALICE"
    missing = env.client.get("/api/approvals/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


# ---------------------------------------------------------------------------------- resolving


def test_resolve_error_codes(env: Env) -> None:
    _, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    approval_id = env.approval_id(req)

    assert env.resolve("nope", status="approved", resolved_by="U_BOB").status_code == 404
    for bad in (
        {"status": "maybe", "resolved_by": "U_BOB"},
        {"status": "approved", "resolved_by": ""},
        {"status": "approved", "resolved_by": "U_BOB", "surprise": 1},
    ):
        assert env.resolve(approval_id, **bad).status_code == 422, bad
    wrong_shape = env.resolve(approval_id, status="approved", resolved_by="U_BOB", values={"x": 1})
    assert wrong_shape.status_code == 422 and "args" in wrong_shape.json()["detail"]
    reject_with_args = env.resolve(approval_id, status="rejected", resolved_by="U_BOB", args={"amount": 1})
    assert reject_with_args.status_code == 422

    stranger = env.resolve(approval_id, status="approved", resolved_by="U_DAVE")
    assert stranger.status_code == 403 and "U_DAVE may not decide" in stranger.json()["detail"]
    own = env.resolve(approval_id, status="approved", resolved_by="U_ALICE")
    assert own.status_code == 403 and "may not approve it themselves" in own.json()["detail"]
    assert env.db.get_requirement(req.id).is_pending  # nothing changed

    won = env.resolve(approval_id, status="approved", resolved_by="U_BOB", resolved_by_name="Bob", note="ok")
    assert won.status_code == 200, won.text
    late = env.resolve(approval_id, status="rejected", resolved_by="U_CAROL", note="no")
    assert late.status_code == 409
    assert late.json()["decided_by"] == "Bob" and late.json()["status"] == "approved"
    assert "already approved by Bob" in late.json()["detail"]

    refused = [(e.action, e.actor_id, e.outcome) for e in env.db.audit_events(run_id=req.run_id)
               if e.action == "decision.refused"]
    assert refused == [
        ("decision.refused", "U_DAVE", "NotAnApprover"),
        ("decision.refused", "U_ALICE", "SelfApproval"),
        ("decision.refused", "U_CAROL", "already_decided"),
    ]


def test_values_and_result_do_not_fit_an_approval(env: Env) -> None:
    """What ``values``/``result`` can reach through the API.

    The API lists and resolves *approvals*, and an approval row exists only for an
    ``@approval(type="required")`` tool call, which is always a confirmation: ``@approval(type="required")``
    cannot be combined with ``requires_user_input`` or ``external_execution`` (the tool definition is
    refused). So on every approval the API can reach, ``values`` and ``result`` are a clear 422 and
    nothing is decided; the input/external branches are covered below at the mapping level.
    """
    _, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    approval_id = env.approval_id(req)
    for extra in ({"values": {"customer_id": "43"}}, {"result": "done by hand"}, {"result": 0},
                  {"values": {}, "result": "x"}):
        response = env.resolve(approval_id, status="approved", resolved_by="U_BOB", **extra)
        assert response.status_code == 422, (extra, response.text)
        detail = response.json()["detail"]
        assert "not 'values' or 'result'" in detail and "'args'" in detail, detail
    for extra in ({"values": {"a": 1}}, {"result": "x"}):
        response = env.resolve(approval_id, status="rejected", resolved_by="U_BOB", **extra)
        assert response.status_code == 422 and "note only" in response.json()["detail"]
    assert env.db.get_requirement(req.id).is_pending  # none of that decided anything
    assert env.client.get(f"/api/approvals/{approval_id}").json()["status"] == "pending"
    assert env.deps.queue.job_ids == []


@pytest.mark.parametrize("flags", [{"requires_user_input": True}, {"external_execution": True}])
def test_required_approval_cannot_gate_input_or_external_tools(flags: dict[str, bool]) -> None:
    """Why no approval is ever a user-input or external-execution request."""

    def transfer(account: str) -> str:
        return account

    with pytest.raises(ToolConfigError, match="cannot be combined with external_execution or requires_user_input"):
        tool(**flags)(approval(type="required")(transfer))
    with pytest.raises(ToolConfigError):
        approval(type="required")(tool(**flags)(transfer))


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (RequirementKind.USER_INPUT, {"values": {"iban": "DE89"}}, (Action.ANSWER, {"values": {"iban": "DE89"}})),
        (RequirementKind.USER_INPUT, {}, "send its fields in 'values'"),
        (RequirementKind.EXTERNAL_EXECUTION, {"result": "wired"}, (Action.DONE, {"result": "wired"})),
        (RequirementKind.EXTERNAL_EXECUTION, {"result": 0}, (Action.DONE, {"result": 0})),
        (RequirementKind.EXTERNAL_EXECUTION, {}, "send its outcome in 'result'"),
        (RequirementKind.CONFIRMATION, {"args": {"amount": 1}}, (Action.EDIT, {"args": {"amount": 1}})),
        (RequirementKind.CONFIRMATION, {}, (Action.APPROVE, {})),
    ],
)
def test_resolve_body_maps_to_the_action_for_the_requirement_kind(
    sqlite_db: Database, kind: RequirementKind, body: dict[str, Any], expected: Any
) -> None:
    """``bot.web.api._decision`` for every kind (input and external kinds are not reachable through
    the API today: see ``test_values_and_result_do_not_fit_an_approval``)."""
    run = sqlite_db.create_run(kind="agent", target_id="payments", target_name="P", input="x", state={"v": 1})
    spec = NewRequirement(call_key="t1:c1", kind=kind, tool_call_id="c1", tool_name="wire", tool_args={})
    (req,) = sqlite_db.create_requirements(run.id, 1, [spec], requester="U_ALICE")
    decision = ResolveIn(status="approved", resolved_by="U_BOB", **body)
    if isinstance(expected, str):
        with pytest.raises(InvalidDecision, match=expected):
            _decision(req, decision)
    else:
        assert _decision(req, decision) == expected
    assert _decision(req, ResolveIn(status="rejected", resolved_by="U_BOB", note="no")) == (Action.REJECT, {})


def test_resolve_after_expiry_is_410_and_the_run_resumes(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    approval_id = env.approval_id(req)
    env.clock.advance(3601)
    gone = env.resolve(approval_id, status="approved", resolved_by="U_BOB")
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    assert env.db.get_requirement(req.id).status == "expired"
    assert f"continue-{run_id}-1" in env.deps.queue.job_ids
    again = env.resolve(approval_id, status="approved", resolved_by="U_CAROL")
    assert again.status_code == 410
    assert env.card_updates(req), "the cards show the expiry"
    env.openai.script(text("It expired; nothing was refunded."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED and RAN == []


def test_decision_through_the_api_updates_the_cards_and_resumes_the_run(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    cards = env.db.slack_messages(requirement_id=req.id)
    assert {m.channel for m in cards} == {"C_OPS", "C_APPROVALS"}  # thread and approvals channel
    approval_id = env.approval_id(req)

    response = env.resolve(approval_id, status="approved", resolved_by="U_BOB", resolved_by_name="Bob",
                           note="checked the ticket")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decided"] is True and body["run_ready"] is True
    assert body["approval"]["status"] == "approved" and body["approval"]["resolved_by"] == "U_BOB"
    job_id = f"continue-{run_id}-1"
    assert body["continue_job"] == job_id
    assert job_id in env.deps.queue.job_ids  # the same job id a click enqueues

    updates = env.card_updates(req)
    assert {(c.args["channel"]) for c in updates} == {"C_OPS", "C_APPROVALS"}  # every surface
    for update in updates:
        blocks = json.dumps(update.args["blocks"])
        assert "Approved" in blocks and "U_BOB" in blocks and "approve" not in [
            e.get("action_id") for b in update.args["blocks"] for e in b.get("elements", []) if isinstance(e, dict)
        ]

    env.openai.script(text("Refunded $500 to 42."))
    env.work()
    run = env.db.get_run(run_id)
    assert run.status is RunStatus.COMPLETED and run.content == "Refunded $500 to 42."
    assert RAN == [("refund", {"customer_id": "42", "amount": 500.0})]
    actions = [(e.action, e.actor_id) for e in env.db.audit_events(run_id=run_id)]
    assert ("requirement.approved", "U_BOB") in actions
    (decision,) = [e for e in env.db.audit_events(run_id=run_id) if e.action == "requirement.approved"]
    assert decision.details["via"] == "api" and decision.reason == "checked the ticket"
    assert actions[-1][0] == "run.completed"
    assert [a for a, _ in actions].index("requirement.approved") < [a for a, _ in actions].index("tool.executed")


def test_reject_through_the_api_reaches_the_model(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    response = env.resolve(env.approval_id(req), status="rejected", resolved_by="U_CAROL", note="wrong customer")
    assert response.status_code == 200 and response.json()["approval"]["note"] == "wrong customer"
    env.openai.script(text("Not refunded."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED and RAN == []
    tool_message = next(m for m in env.openai.last_messages() if m["role"] == "tool")
    assert "rejected" in tool_message["content"] and "wrong customer" in tool_message["content"]


def test_edit_and_approve_through_the_api(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    response = env.resolve(env.approval_id(req), status="approved", resolved_by="U_BOB", args={"amount": 450})
    assert response.status_code == 200, response.text
    bad = env.db.get_requirement(req.id)
    assert bad.resolution["edited_args"] == {"customer_id": "42", "amount": 450.0}
    env.openai.script(text("Refunded $450."))
    env.work()
    assert RAN == [("refund", {"customer_id": "42", "amount": 450.0})]
    edited = next(e for e in env.db.audit_events(run_id=run_id) if e.action == "requirement.edited")
    assert edited.arguments == {"before": {"customer_id": "42", "amount": 500.0},
                                "after": {"customer_id": "42", "amount": 450.0}}


def test_quorum_with_a_user_group_through_the_api(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900}))
    approval_id = env.approval_id(req)
    outsider = env.resolve(approval_id, status="approved", resolved_by="U_DAVE")
    assert outsider.status_code == 403  # S_ADMINS is U_BOB and U_CAROL in the Slack stand-in
    group = env.resolve(approval_id, status="approved", resolved_by="S_ADMINS")
    assert group.status_code == 403  # a group id is not a person: it cannot be named as the actor
    first = env.resolve(approval_id, status="approved", resolved_by="U_BOB")
    assert first.status_code == 202, first.text
    assert first.json() | {"approval": None} == {
        "approval": None, "decided": False, "escalated": False, "votes": 1, "quorum": 2, "run_ready": False,
        "continue_job": None,
    }
    assert env.deps.queue.job_ids == [] and not env.card_updates(req)
    repeat = env.resolve(approval_id, status="approved", resolved_by="U_BOB")
    assert repeat.status_code == 202 and repeat.json()["votes"] == 1  # one vote per approver
    second = env.resolve(approval_id, status="approved", resolved_by="U_CAROL")
    assert second.status_code == 200 and second.json()["votes"] == 2 and second.json()["decided"] is True
    votes = env.client.get(f"/api/approvals/{approval_id}").json()["votes"]
    assert [v["voter"] for v in votes] == ["U_BOB", "U_CAROL"]
    assert env.card_updates(req)
    env.openai.script(text("Wired."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED
    assert RAN == [("wire", {"account": "DE89", "amount": 900.0})]


def test_audit_only_approvals_cannot_be_resolved(env: Env) -> None:
    run = env.db.create_run(kind="agent", target_id="payments", target_name="P", input="x", state={"v": 1})
    record = env.db.record_audit_approval(run_id=run.id, call_key="t1:a", agent_id="payments", tool_name="export",
                                          tool_args={}, requester=None, sensitive_fields=[])
    response = env.resolve(record.id, status="approved", resolved_by="U_BOB")
    assert response.status_code == 409 and "nothing to decide" in response.json()["detail"]


# ---------------------------------------------------------------------------------- runs, export


def test_get_run_with_requirements_and_audit_trail(env: Env) -> None:
    run_id, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900, "api_key": "sk-live-1"}))
    body = env.client.get(f"/api/runs/{run_id}")
    assert body.status_code == 200
    run = body.json()
    assert run["id"] == run_id and run["status"] == "paused" and run["requester"] == "U_ALICE"
    assert "state" not in run
    (requirement,) = run["requirements"]
    assert requirement["id"] == req.id and requirement["approvers"] == ["S_ADMINS"]
    assert requirement["tool_args"]["api_key"] == "[redacted]"
    assert [a["requirement_id"] for a in run["approvals"]] == [req.id]
    actions = [e["action"] for e in run["audit"]]
    assert actions[:1] == ["run.started"] and "requirement.created" in actions
    assert all(e["run_id"] == run_id for e in run["audit"])
    assert "sk-live-1" not in body.text
    assert env.client.get("/api/runs/nope").status_code == 404


def test_audit_export_streams_csv_and_verifiable_jsonl(env: Env) -> None:
    env.paused_run(tool_call("refund", {"customer_id": "=HYPERLINK(\"x\")", "amount": 500}))
    seed_approvals(env.db, 2, agent="other")
    total = sum(1 for _ in env.db.audit_events())

    jsonl = env.client.get("/api/audit/export", params={"format": "jsonl"})
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in jsonl.headers["content-disposition"]
    result = verify_lines(jsonl.text.splitlines())
    # The export itself is recorded before it streams (who exported what), so it is in the file.
    assert result.ok and result.complete and result.rows == total + 1, result.summary()
    exported = [e for e in env.db.audit_events() if e.action == "audit.exported"]
    assert exported and exported[0].actor_id == "svc:reader" and exported[0].details["token_id"]

    filtered = env.client.get("/api/audit/export", params={"format": "jsonl", "agent": "other"})
    header = json.loads(filtered.text.splitlines()[0])
    assert header["complete"] is False and header["filters"] == {"agent": "other"}
    subset = verify_lines(filtered.text.splitlines())
    assert subset.ok and not subset.complete and 0 < subset.rows < total

    as_csv = env.client.get("/api/audit/export", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == total + 3, "the three exports so far are in the log too"
    created = next(r for r in rows if r["action"] == "requirement.created" and "HYPERLINK" in r["arguments"])
    assert json.loads(created["arguments"])["customer_id"] == "=HYPERLINK(\"x\")"  # inside JSON: inert
    assert env.client.get("/api/audit/export", params={"format": "xml"}).status_code == 422
    window = env.client.get("/api/audit/export", params={"since": "2100-01-01T00:00:00Z"})
    assert verify_lines(window.text.splitlines()).rows == 0



def test_the_service_listeners_replace_the_slack_sync(env: Env) -> None:
    seen: list[str] = []

    class Recorder(RunListener):
        def on_resolved(self, run: Any, requirement: RequirementRecord) -> None:
            seen.append(requirement.id)

    env.deps.service.listeners[:] = [Recorder()]
    _, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    before = len(env.slack.calls_to("chat.update"))
    assert env.resolve(env.approval_id(req), status="approved", resolved_by="U_BOB").status_code == 200
    assert seen == [req.id]
    assert len(env.slack.calls_to("chat.update")) == before

# ------------------------------------------------------------------ the approval boundary (attacks)


def test_a_token_decides_only_as_its_own_principal(env: Env) -> None:
    """Finding 3: one token posting two names used to satisfy a quorum of two."""
    run_id, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900}))
    approval_id = env.approval_id(req)
    bob = env.token_for("U_BOB")
    as_carol = env.client.post(
        f"/api/approvals/{approval_id}/resolve",
        json={"status": "approved", "resolved_by": "U_CAROL"},
        headers={"Authorization": f"Bearer {bob}"},
    )
    assert as_carol.status_code == 403 and "acts as U_BOB" in as_carol.json()["detail"]
    first = env.resolve(approval_id, as_user="U_BOB", status="approved")
    again = env.resolve(approval_id, as_user="U_BOB", status="approved")
    assert first.status_code == again.status_code == 202 and again.json()["votes"] == 1
    assert env.db.get_requirement(req.id).is_pending and RAN == []
    vote = next(e for e in env.db.audit_events(run_id=run_id) if e.action == "approval.vote")
    bob_token = next(t for t in env.db.list_tokens() if t.principal_id == "U_BOB")
    assert vote.actor_id == "U_BOB" and vote.details["token_id"] == bob_token.id and vote.details["via"] == "api"
    done = env.resolve(approval_id, as_user="U_CAROL", status="approved")
    assert done.status_code == 200 and done.json()["decided"] is True
    decided = next(e for e in env.db.audit_events(run_id=run_id) if e.action == "requirement.approved")
    assert decided.actor_id == "U_CAROL" and decided.details["token_id"] != bob_token.id


def test_scopes_revocation_and_the_read_only_environment_token(env: Env) -> None:
    _, req = env.paused_run(tool_call("refund", {"customer_id": "42", "amount": 500}))
    approval_id = env.approval_id(req)
    url = f"/api/approvals/{approval_id}/resolve"
    legacy = env.client.post(url, json={"status": "approved"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert legacy.status_code == 403 and "'decide' scope" in legacy.json()["detail"]
    assert env.client.get("/api/approvals", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    export = env.client.get("/api/audit/export", headers={"Authorization": f"Bearer {TOKEN}"})
    assert export.status_code == 403
    _, reader = env.db.create_token(name="dash", principal_kind="service", principal_id="dash", scopes=["read"])
    nope = env.client.post(url, json={"status": "approved"}, headers={"Authorization": f"Bearer {reader}"})
    assert nope.status_code == 403
    bob = env.token_for("U_BOB")
    token_id = next(t.id for t in env.db.list_tokens() if t.principal_id == "U_BOB")
    env.db.revoke_token(token_id)
    revoked = env.client.post(url, json={"status": "approved"}, headers={"Authorization": f"Bearer {bob}"})
    assert revoked.status_code == 401
    forged = bob[:-4] + "AAAA"
    assert env.client.get("/api/approvals", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert env.db.get_requirement(req.id).is_pending
    actions = [e.action for e in env.db.audit_events()]
    assert "token.created" in actions and "token.revoked" in actions


def test_an_edit_through_the_api_that_needs_an_approval_is_escalated(env: Env) -> None:
    """Finding 1 through the API: the requester confirms a small refund but edits it to a large one."""
    run_id, req = env.paused_run(tool_call("credit", {"customer_id": "42", "amount": 50}))
    assert req.approval_type is None  # only the requester must confirm $50
    # A plain confirmation has no approvals row: the API resolves approvals, so decide through the service.
    from storage.records import Principal, Surface

    outcome = env.deps.service.decide(
        req.id, Principal("U_ALICE"), Action.EDIT, surface=Surface.API, args={"amount": 250000}
    )
    assert outcome.escalated and not outcome.decided
    now = env.db.get_requirement(req.id)
    assert now.is_pending and now.approval_type == "required"
    assert now.proposed_args == {"customer_id": "42", "amount": 250000.0}
    approval_id = env.approval_id(now)
    own = env.resolve(approval_id, as_user="U_ALICE", status="approved")
    assert own.status_code == 403 and "themselves" in own.json()["detail"]
    detail = env.client.get(f"/api/runs/{run_id}").json()
    assert detail["requirements"][0]["tool_args"]["amount"] == 250000.0
    approved = env.resolve(approval_id, as_user="U_BOB", status="approved", args_hash=now.current_hash)
    assert approved.status_code == 200, approved.text
    env.openai.script(text("Refunded."))
    env.work()
    assert RAN == [("credit", {"customer_id": "42", "amount": 250000.0})]


def test_a_decision_is_bound_to_the_arguments_read(env: Env) -> None:
    """A vote counts only for the arguments it saw: an edit after GET makes the old hash stale (409)."""
    _, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900}))
    approval_id = env.approval_id(req)
    seen = env.client.get(f"/api/runs/{req.run_id}").json()["requirements"][0]["args_hash"]
    edit = env.resolve(approval_id, as_user="U_BOB", status="approved", args={"account": "MALLORY"})
    assert edit.status_code == 202 and edit.json()["votes"] == 1
    stale = env.resolve(approval_id, as_user="U_CAROL", status="approved", args_hash=seen)
    assert stale.status_code == 409 and stale.json()["args_hash"] != seen
    assert "changed" in stale.json()["detail"] and RAN == []
    votes = env.client.get(f"/api/approvals/{approval_id}").json()["votes"]
    assert [(v["voter"], v["counts"]) for v in votes] == [("U_BOB", True)]
    assert env.db.get_requirement(req.id).is_pending


def test_sensitive_values_from_an_edit_never_reach_the_log_the_api_or_exports(env: Env) -> None:
    """Finding 4: an edited sensitive field was written in clear into the append-only log."""
    run_id, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900, "api_key": "sk-model-1"}))
    approval_id = env.approval_id(req)
    env.resolve(approval_id, as_user="U_BOB", status="approved", args={"api_key": "sk-live-SECRET-EDIT"})
    env.resolve(approval_id, as_user="U_CAROL", status="approved")
    env.openai.script(text("Wired."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED
    for path in (f"/api/runs/{run_id}", f"/api/approvals/{approval_id}", "/api/approvals"):
        body = env.client.get(path).text
        assert "sk-live-SECRET-EDIT" not in body and "sk-model-1" not in body, path
    for fmt in ("jsonl", "csv"):
        exported = env.client.get("/api/audit/export", params={"format": fmt}).text
        assert "sk-live-SECRET-EDIT" not in exported and "sk-model-1" not in exported
    for event in env.db.audit_events():
        assert "sk-live-SECRET-EDIT" not in json.dumps(event.to_dict())
    told = [m["content"] for m in env.openai.last_messages() if m["role"] == "tool"]
    assert told and all("sk-live-SECRET-EDIT" not in c for c in told), "the model is not told the secret"


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 2**63},
        {"offset": -1},
        {"limit": 0},
        {"limit": 10_000},
        {"since": "9999-12-31T23:59:59-12:00"},
        {"until": "0001-01-01T00:00:00+14:00"},
        {"since": "not-a-date"},
    ],
)
def test_query_values_out_of_range_are_422_not_500(env: Env, params: dict[str, Any]) -> None:
    """Finding 8: offset >= 2**63 and dates near the limits with a zone used to answer 500."""
    response = env.client.get("/api/approvals", params=params)
    assert response.status_code == 422, response.text
    if "since" in params or "until" in params:
        assert env.client.get("/api/audit/export", params=params).status_code == 422


def test_every_datetime_in_a_response_has_a_time_zone(env: Env) -> None:
    _, req = env.paused_run(tool_call("wire", {"account": "DE89", "amount": 900}))
    approval_id = env.approval_id(req)
    env.resolve(approval_id, as_user="U_BOB", status="approved")
    body = env.client.get(f"/api/approvals/{approval_id}").json()
    stamps = [body["created_at"], body["expires_at"], *[v["created_at"] for v in body["votes"]]]
    run = env.client.get(f"/api/runs/{req.run_id}").json()
    stamps += [run["created_at"], run["updated_at"], *[r["created_at"] for r in run["requirements"]]]
    for stamp in stamps:
        if stamp is not None:
            assert datetime.fromisoformat(stamp).tzinfo is not None, stamp
