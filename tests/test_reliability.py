"""Nothing silent: heartbeats and takeover, in-doubt calls settled by a person, reminders and
escalation, the deadline in the decision's UPDATE, and a database that is down during a click.

Time moves through an injected clock (``Database(clock=...)``); nothing sleeps except the one
test of the real heartbeat thread (a few tens of milliseconds).
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from bot.slack import cards, modals
from bot.slack.notifier import SlackNotifier
from bot.worker import recovery_pass
from runner import Agent, approval, jobs, tool
from runner.approval import Reminders
from runner.decisions import Action, DecisionService
from runner.driver import Heartbeat
from runner.jobs import make_queue, schedule_nudges
from runner.listener import RunListener
from runner.protocols import Scope
from runner.recovery import nudge_requirement, recover
from runner.registry import Registry
from runner.runtime import Runtime, using
from runner.workflow import Step, Workflow
from storage import Actor, Database, RequirementStatus, RunStatus
from storage.codec import utcnow
from storage.errors import InvalidDecision, NotAnApprover, SelfApproval
from storage.records import Principal, RequirementKind, RequirementRecord, RunRecord
from storage.timeouts import HEARTBEAT_INTERVAL_S, HEARTBEAT_STALE_S, RECOVERY_INTERVAL_S
from tests.conftest import PG_URL, REDIS_URL, migrated
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.slack_harness import Bot, bot, bot_factory, slack, wait_until  # noqa: F401


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Recorder(RunListener):
    """What Slack would have been told."""

    reminded: list[str] = field(default_factory=list)
    escalated: list[tuple[str, list[str]]] = field(default_factory=list)

    def on_reminded(self, run: RunRecord, req: RequirementRecord) -> None:
        self.reminded.append(req.id)

    def on_escalated_to(self, run: RunRecord, req: RequirementRecord, added: list[str]) -> None:
        self.escalated.append((req.id, list(added)))


@dataclass
class Env:
    db: Database
    queue: Queue
    clock: Clock
    effects: list[str]
    agent: Agent
    runtime: Runtime
    service: DecisionService
    recorder: Recorder

    def work(self) -> None:
        ctx = jobs.JobContext(self.runtime, Registry(targets={self.agent.id: self.agent}), queue=self.queue)
        with jobs.job_context(ctx):
            SimpleWorker([self.queue], connection=self.queue.connection, serializer=JSONSerializer).work(burst=True)

    def paused_run(self, fake_openai: FakeOpenAI, name: str = "refund", user: str = "U_ALICE") -> str:
        fake_openai.script(tool_call(name, {"customer_id": "42"}))
        with using(self.runtime):
            output = self.agent.run(f"{name} 42", user_id=user)
        assert output.is_paused
        return output.run_id

    def crash_mid_tool(self, run_id: str, call_key: str, tool_name: str) -> None:
        """What a worker leaves behind when it dies while the tool runs, then the takeover."""
        self.db.acquire_run(run_id, from_statuses=[RunStatus.PAUSED])
        self.db.claim_execution(run_id, call_key, tool_name=tool_name, args_hash="x")
        self.clock.advance(HEARTBEAT_STALE_S + 1)
        assert recover(self.db, self.queue).released == [run_id]


@pytest.fixture
def env(tmp_path: Path, fake_openai: FakeOpenAI, queue_name: str) -> Iterator[Env]:
    clock = Clock()
    effects: list[str] = []

    @tool(requires_confirmation=True, remind_after=600, escalate_after=1800, escalate_to=["U_BOSS"])
    def refund(customer_id: str) -> str:
        """Refund a customer."""
        effects.append(f"refund {customer_id}")
        return f"refunded {customer_id}"

    @approval(approvers=["U_APPROVER"])
    @tool
    def wire(customer_id: str) -> str:
        """Wire money to a customer (an approver signs off)."""
        effects.append(f"wire {customer_id}")
        return f"wired {customer_id}"

    @tool
    def lookup(customer_id: str) -> str:
        """Read a customer (no human step)."""
        effects.append(f"lookup {customer_id}")
        return f"customer {customer_id}"

    db = migrated(f"sqlite:///{tmp_path / 'r.db'}", clock=clock)
    queue = make_queue(Redis.from_url(REDIS_URL), queue_name)
    agent = Agent(id="payments", tools=[refund, wire, lookup])
    recorder = Recorder()
    runtime = Runtime(db, [recorder], approvers=["U_ADMIN"])
    service = DecisionService(
        db, registry=Registry(targets={agent.id: agent}), queue=queue, default_approvers=["U_ADMIN"],
        listeners=[recorder],
    )
    yield Env(db, queue, clock, effects, agent, runtime, service, recorder)
    queue.empty()
    queue.delete(delete_jobs=True)
    db.dispose()


# ------------------------------------------------------------------------------ heartbeats


def test_takeover_fits_in_a_minute() -> None:
    """The worst case: the heartbeat goes stale, then the next recovery pass takes the run over."""
    assert HEARTBEAT_INTERVAL_S * 3 <= HEARTBEAT_STALE_S
    assert HEARTBEAT_STALE_S + RECOVERY_INTERVAL_S < 60


def test_a_beating_run_is_not_taken_over_and_a_silent_one_is(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = env.paused_run(fake_openai)
    run = env.db.acquire_run(run_id, from_statuses=[RunStatus.PAUSED])
    for _ in range(10):  # five minutes of a long tool: no write but the heartbeat
        env.clock.advance(HEARTBEAT_STALE_S / 2)
        assert env.db.heartbeat(run_id, version=run.version)
        assert recover(env.db, env.queue).released == []
    env.clock.advance(HEARTBEAT_STALE_S - 1)
    assert recover(env.db, env.queue).released == []
    env.clock.advance(2)
    assert recover(env.db, env.queue).released == [run_id]
    # The old worker's lease is gone: its beats match nothing, the run stays with recovery.
    assert not env.db.heartbeat(run_id, version=run.version)
    assert env.db.get_run(run_id).status is RunStatus.PAUSED


def test_the_heartbeat_thread_beats_under_the_current_lease(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = env.paused_run(fake_openai)
    run = env.db.acquire_run(run_id, from_statuses=[RunStatus.PAUSED])
    scope = Scope(db=env.db, run_id=run_id, version=run.version, requester=None, agent_id="payments")
    env.clock.advance(100)
    with Heartbeat(env.db, scope, interval=0.01):
        deadline = time.monotonic() + 5
        while env.db.get_run(run_id).heartbeat_at != env.clock.now and time.monotonic() < deadline:
            time.sleep(0.01)
    assert env.db.get_run(run_id).heartbeat_at == env.clock.now


# ------------------------------------------------------------------------------ in doubt


def _in_doubt(env: Env, fake_openai: FakeOpenAI, name: str = "refund", approve_as: str = "U_ALICE") -> str:
    """A confirmed call whose worker died while it ran; the takeover pauses the run on a question."""
    run_id = env.paused_run(fake_openai, name)
    (req,) = env.db.requirements_for_run(run_id)
    env.service.decide(req.id, Principal(approve_as), Action.APPROVE, surface="slack", resume=False)
    env.crash_mid_tool(run_id, req.call_key, name)
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.PAUSED
    return run_id


def _doubt(env: Env, run_id: str) -> RequirementRecord:
    (doubt,) = env.db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
    assert doubt.kind is RequirementKind.IN_DOUBT
    return doubt


def test_in_doubt_call_becomes_a_question_with_its_worker_time(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = _in_doubt(env, fake_openai)
    doubt = _doubt(env, run_id)
    assert doubt.tool_name == "refund" and doubt.tool_args == {"customer_id": "42"}
    assert doubt.message == "It may have run when its worker died at 10:02 UTC. Did it happen?"
    assert env.effects == []
    actions = [e.action for e in env.db.audit_events(run_id=run_id)]
    assert "run.recovered" in actions and "tool.in_doubt" in actions
    # The reminders of the tool apply to the question too (the settings' defaults otherwise).
    assert doubt.remind_at is None or doubt.remind_at > doubt.created_at


def test_it_ran_tells_the_model_the_result_the_person_entered(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = _in_doubt(env, fake_openai)
    doubt = _doubt(env, run_id)
    with pytest.raises(InvalidDecision):
        env.service.decide(doubt.id, Principal("U_ALICE"), Action.RAN, surface="slack", result="  ")
    result = env.service.decide(doubt.id, Principal("U_ALICE"), Action.RAN, surface="slack",
                                result="refund 42 went out (ref R-9)")
    assert result.run_ready
    fake_openai.script(text("The refund went out."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED
    assert env.effects == []  # never run again
    told = fake_openai.last_messages()[-1]
    assert told["role"] == "tool" and "refund 42 went out (ref R-9)" in told["content"]
    assert "U_ALICE confirmed" in told["content"]
    (claim,) = env.db.executions_for_run(run_id)
    assert claim["status"] == "succeeded"
    actions = [(e.action, e.actor_id) for e in env.db.audit_events(run_id=run_id)]
    assert ("requirement.in_doubt.ran", "U_ALICE") in actions and ("tool.settled", "U_ALICE") in actions


def test_it_did_not_run_runs_it_now_exactly_once(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = _in_doubt(env, fake_openai)
    doubt = _doubt(env, run_id)
    env.service.decide(doubt.id, Principal("U_ALICE"), Action.NOT_RUN, surface="slack",
                       seen_hash=doubt.current_hash)
    fake_openai.script(text("Refunded."))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED
    assert env.effects == ["refund 42"]
    assert fake_openai.last_messages()[-1]["content"] == "refunded 42"
    claims = {c["call_key"]: c["status"] for c in env.db.executions_for_run(run_id)}
    assert sorted(claims.values()) == ["abandoned", "succeeded"]
    # A second continue of the same round (a retried job) runs nothing again.
    env.service.resume_if_ready(env.db.get_run(run_id))
    env.work()
    assert env.effects == ["refund 42"]


def test_the_rerun_dying_too_asks_again(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = _in_doubt(env, fake_openai)
    doubt = _doubt(env, run_id)
    env.service.decide(doubt.id, Principal("U_ALICE"), Action.NOT_RUN, surface="slack", resume=False)
    env.crash_mid_tool(run_id, doubt.call_key.removesuffix("#in_doubt") + "#rerun", "refund")
    # crash_mid_tool claimed the rerun key before any worker settled the first claim: settle it
    env.work()
    again = _doubt(env, run_id)
    assert again.call_key.endswith("#rerun#in_doubt")
    env.service.decide(again.id, Principal("U_ALICE"), Action.RAN, surface="slack", result="done by hand")
    fake_openai.script(text("ok"))
    env.work()
    assert env.db.get_run(run_id).status is RunStatus.COMPLETED
    assert env.effects == []


def test_fail_the_run_fails_it_with_a_clear_error(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = _in_doubt(env, fake_openai)
    doubt = _doubt(env, run_id)
    env.service.decide(doubt.id, Principal("U_ADMIN"), Action.FAIL_RUN, surface="slack", note="cannot tell")
    env.work()
    run = env.db.get_run(run_id)
    assert run.status is RunStatus.FAILED and run.error_kind == "in_doubt"
    assert "U_ADMIN failed the run" in (run.error or "") and "refund" in (run.error or "")
    assert env.effects == []


def test_in_doubt_keeps_the_original_policy(env: Env, fake_openai: FakeOpenAI) -> None:
    """A ``required`` approval's call in doubt is settled by an approver, never the requester."""
    run_id = _in_doubt(env, fake_openai, "wire", approve_as="U_APPROVER")
    doubt = _doubt(env, run_id)
    assert doubt.approval_type == "required" and doubt.approvers == ["U_APPROVER"]
    assert env.db.approval_for_requirement(doubt.id) is None  # a question of fact, not a vote
    with pytest.raises(SelfApproval):
        env.service.decide(doubt.id, Principal("U_ALICE"), Action.NOT_RUN, surface="slack")
    with pytest.raises(NotAnApprover):
        env.service.decide(doubt.id, Principal("U_MALLORY"), Action.RAN, surface="api", result="x")
    with pytest.raises(InvalidDecision):  # the actions of other kinds do not fit
        env.service.decide(doubt.id, Principal("U_APPROVER"), Action.APPROVE, surface="slack")
    refused = [e for e in env.db.audit_events(run_id=run_id) if e.action == "decision.refused"]
    assert {e.actor_id for e in refused} >= {"U_ALICE", "U_MALLORY"}
    env.service.decide(doubt.id, Principal("U_APPROVER"), Action.NOT_RUN, surface="slack")
    fake_openai.script(text("Wired."))
    env.work()
    assert env.effects == ["wire 42"]


def test_a_plain_tool_in_doubt_is_asked_too(env: Env, fake_openai: FakeOpenAI) -> None:
    run = env.db.create_run(kind="agent", target_id="payments", target_name="payments", input="look 7",
                            state=env.agent.initial_state("look 7", "U_ALICE"), requester="U_ALICE",
                            status=RunStatus.QUEUED)
    # The worker dies inside lookup: simulate with a claim made before the job runs the tool.
    env.db.claim_execution(run.id, "t1:call_1", tool_name="lookup", args_hash="x")
    jobs.enqueue_start(env.queue, run.id)
    fake_openai.script(tool_call("lookup", {"customer_id": "7"}, id="call_1"))
    env.work()
    doubt = _doubt(env, run.id)
    assert doubt.approval_type is None
    env.service.decide(doubt.id, Principal("U_ALICE"), Action.RAN, surface="slack", result="customer 7")
    fake_openai.script(text("Found."))
    env.work()
    assert env.db.get_run(run.id).status is RunStatus.COMPLETED and env.effects == []


def test_a_workflow_step_in_doubt_is_asked_and_runs_once(tmp_path: Path, queue_name: str) -> None:
    clock = Clock()
    done: list[str] = []

    def publish(text_: str) -> str:
        done.append(text_)
        return "published"

    flow = Workflow(id="pipeline", steps=[Step(name="Publish", executor=publish)])
    db = migrated(f"sqlite:///{tmp_path / 'w.db'}", clock=clock)
    queue = make_queue(Redis.from_url(REDIS_URL), queue_name)
    runtime = Runtime(db)
    try:
        run = db.create_run(kind="workflow", target_id=flow.id, target_name=flow.name, input="go",
                            state=flow.initial_state("go", "U_ALICE"), requester="U_ALICE", status=RunStatus.QUEUED)
        db.claim_execution(run.id, "s0:run#0", tool_name="Publish", args_hash="x")  # a worker died in it
        jobs.enqueue_start(queue, run.id)
        ctx = jobs.JobContext(runtime, Registry(targets={flow.id: flow}), queue=queue)

        def work() -> None:
            with jobs.job_context(ctx):
                SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)

        work()
        (doubt,) = db.requirements_for_run(run.id, status=RequirementStatus.PENDING)
        assert doubt.kind is RequirementKind.IN_DOUBT and doubt.tool_name == "Publish"
        service = DecisionService(db, registry=Registry(targets={flow.id: flow}), queue=queue)
        service.decide(doubt.id, Principal("U_ALICE"), Action.NOT_RUN, surface="slack")
        work()
        assert db.get_run(run.id).status is RunStatus.COMPLETED
        assert done == ["go"]
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)
        db.dispose()


# ------------------------------------------------------------------------------ reminders


def test_reminder_then_escalation_each_once_audited(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = env.paused_run(fake_openai)
    (req,) = env.db.requirements_for_run(run_id)
    assert req.remind_at == req.created_at + timedelta(seconds=600)
    assert req.escalate_at == req.created_at + timedelta(seconds=1800) and req.escalate_to == ["U_BOSS"]
    env.clock.advance(599)
    assert recover(env.db, env.queue, env.runtime).reminded == []
    env.clock.advance(2)
    report = recover(env.db, env.queue, env.runtime)
    assert report.reminded == [req.id] and env.recorder.reminded == [req.id]
    assert recover(env.db, env.queue, env.runtime).reminded == []  # once
    assert nudge_requirement(env.runtime, req.id) == "not_due"  # the scheduled job, late: nothing
    # U_BOSS may not decide yet.
    with pytest.raises(NotAnApprover):
        env.service.decide(req.id, Principal("U_BOSS"), Action.APPROVE, surface="slack", resume=False)
    env.clock.advance(1200)
    report = recover(env.db, env.queue, env.runtime)
    assert report.escalated == [req.id]
    assert env.recorder.escalated == [(req.id, ["U_BOSS"])]
    escalated = env.db.get_requirement(req.id)
    # The default approvers (who decided a request naming none) stay deciders.
    assert escalated.approvers == ["U_ADMIN", "U_BOSS"] and escalated.escalated_at == env.clock.now
    assert recover(env.db, env.queue, env.runtime).escalated == []
    env.service.decide(req.id, Principal("U_BOSS"), Action.APPROVE, surface="slack", resume=False)
    actions = [(e.action, e.actor_id) for e in env.db.audit_events(run_id=run_id)]
    assert actions.count(("requirement.reminded", "system")) == 1
    assert actions.count(("requirement.escalated_to", "system")) == 1
    assert ("requirement.approved", "U_BOSS") in actions


def test_decided_requests_are_never_reminded(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = env.paused_run(fake_openai)
    (req,) = env.db.requirements_for_run(run_id)
    env.service.decide(req.id, Principal("U_ALICE"), Action.REJECT, surface="slack", resume=False)
    env.clock.advance(3600)
    report = recover(env.db, env.queue, env.runtime)
    assert report.reminded == report.escalated == [] and env.recorder.reminded == []


def test_settings_give_the_defaults_and_rq_schedules_them(env: Env, fake_openai: FakeOpenAI) -> None:
    env.runtime.reminders = Reminders(remind_after=120, escalate_after=None, escalate_to=("S_LEADS",))
    fake_openai.script(tool_call("wire", {"customer_id": "9"}))
    run = env.db.create_run(kind="agent", target_id="payments", target_name="payments", input="wire 9",
                            state=env.agent.initial_state("wire 9", "U_ALICE"), requester="U_ALICE",
                            status=RunStatus.QUEUED)
    jobs.enqueue_start(env.queue, run.id)
    env.work()
    (req,) = env.db.requirements_for_run(run.id, status=RequirementStatus.PENDING)
    assert req.remind_at == req.created_at + timedelta(seconds=120)
    assert req.escalate_at is None and req.escalate_to == ["S_LEADS"]
    # The start job scheduled the reminder with RQ's scheduler (the worker runs it).
    scheduled = env.queue.scheduled_job_registry.get_job_ids()
    assert f"remind-{req.id}" in scheduled
    assert schedule_nudges(env.queue, [req]) == 1  # idempotent: the same job id again


def test_the_deadline_holds_in_the_update_itself(env: Env, fake_openai: FakeOpenAI) -> None:
    run_id = env.paused_run(fake_openai)
    (req,) = env.db.requirements_for_run(run_id)
    assert req.expires_at is not None
    late = req.expires_at + timedelta(seconds=1)
    with env.db.transaction() as conn:
        assert not env.db._transition(conn, req.id, RequirementStatus.APPROVED, Actor("U_ALICE"), {}, late)
    assert env.db.get_requirement(req.id).is_pending


# ------------------------------------------------------------------------------ through Slack


def test_slack_in_doubt_card_it_ran_modal(bot: Bot, sqlite_url: str) -> None:
    """The question is a card in the run's thread; "It ran" opens a modal for the result; the
    requester of a ``required`` approval may not answer it; the run finishes with the result."""
    bot.openai.script(tool_call("apply_production_change", {"service": "api", "change": "scale to 8"}))
    run = bot.start("infra Scale api to 8 replicas")
    (req,) = bot.pending(run)
    bot.click(cards.APPROVE, cards.approve_value(req), "U_BOB", bot.card(req))
    wait_until(lambda: bot.deps.queue.count > 0, what="the continue job")
    bot.deps.queue.empty()  # the worker died with it: it claimed the call and stopped beating
    db = bot.deps.db
    db.acquire_run(run.id, from_statuses=[RunStatus.PAUSED])
    db.claim_execution(run.id, req.call_key, tool_name="apply_production_change", args_hash=req.args_hash)
    later = migrated(sqlite_url, clock=lambda: utcnow() + timedelta(seconds=HEARTBEAT_STALE_S + 1))
    try:
        notifier = SlackNotifier.from_settings(bot.deps.settings, later, bot.deps.registry)
        assert recovery_pass(later, bot.deps.queue, notifier).released == [run.id]
    finally:
        later.dispose()
    bot.drain()
    (doubt,) = bot.pending(run)
    assert doubt.kind is RequirementKind.IN_DOUBT
    card = bot.card(doubt)
    shown = json.dumps(card["blocks"])
    assert "may have run when its worker died at" in shown and "apply_production_change(" in shown
    assert cards.RAN in shown and cards.NOT_RUN in shown and cards.FAIL_RUN in shown
    bot.click(cards.RAN, doubt.id, "U_ALICE", card)
    bot.ephemeral_for("U_ALICE", "cannot approve it yourself")
    bot.click(cards.RAN, doubt.id, "U_BOB", card)
    view = bot.opened_view(modals.RAN_VIEW)
    bot.submit(view, {modals.RESULT_BLOCK: "scaled to 8 at 10:03"}, "U_BOB")
    bot.wait_card_update(card, "It ran")
    bot.drain()
    final = bot.deps.db.get_run(run.id)
    assert final.status is RunStatus.COMPLETED and "scaled to 8 at 10:03" in (final.content or "")
    actions = [(e.action, e.actor_id) for e in bot.deps.db.audit_events(run_id=run.id)]
    assert ("requirement.in_doubt.ran", "U_BOB") in actions


def test_slack_click_while_the_database_is_down(bot_factory: Any, pg_url: str) -> None:
    """The clicker is told to try again, nothing is enqueued, no card changes; once the database
    is back the same click is recorded."""
    bot = bot_factory(db_url=pg_url)
    bot.openai.script(tool_call("apply_production_change", {"service": "api", "change": "scale to 8"}))
    run = bot.start("infra Scale api to 8 replicas")
    (req,) = bot.pending(run)
    card = bot.card(req)
    schema = pg_url.rsplit("%3D", 1)[1]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    updates = len(bot.slack.calls_to("chat.update"))
    try:
        with admin.connect() as conn:
            conn.execute(sql(f"ALTER SCHEMA {schema} RENAME TO {schema}_away"))
        bot.click(cards.APPROVE, cards.approve_value(req), "U_BOB", card)
        bot.ephemeral_for("U_BOB", "Could not record your decision")
        assert bot.deps.queue.count == 0
        assert len(bot.slack.calls_to("chat.update")) == updates
    finally:
        with admin.connect() as conn:
            conn.execute(sql(f"ALTER SCHEMA {schema}_away RENAME TO {schema}"))
        admin.dispose()
    assert bot.deps.db.get_requirement(req.id).is_pending
    bot.click(cards.APPROVE, cards.approve_value(req), "U_BOB", card)
    bot.wait_card_update(card, "Approved")
    wait_until(lambda: bot.deps.queue.count == 1, what="the continue job")
