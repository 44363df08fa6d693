"""Recovery: lost jobs (Redis loss), dead workers and expiry, proved with a real RQ worker.

Time moves through an injected clock; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from runner import Agent, jobs, tool
from runner.decisions import Action, resolve
from runner.jobs import make_queue
from runner.recovery import recover
from runner.registry import Registry
from runner.runtime import Runtime
from storage import Actor, Database, RequirementStatus, RunStatus
from storage.timeouts import HEARTBEAT_STALE_S, QUEUED_GRACE_S, REQUIREMENT_DEFAULT_EXPIRY_S
from tests.conftest import REDIS_URL, migrated
from tests.fakes.openai_server import FakeOpenAI, text, tool_call


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def refunds() -> list[str]:
    return []


@pytest.fixture
def agent(refunds: list[str]) -> Agent:
    @tool(requires_confirmation=True)
    def refund(customer_id: str) -> str:
        """Refund a customer."""
        refunds.append(customer_id)
        return f"refunded {customer_id}"

    return Agent(id="payments", tools=[refund])


@pytest.fixture
def env(
    tmp_path: Path, clock: Clock, agent: Agent, fake_openai: FakeOpenAI, queue_name: str
) -> Iterator[tuple[Database, Queue]]:
    db = migrated(f"sqlite:///{tmp_path / 'r.db'}", clock=clock)
    redis = Redis.from_url(REDIS_URL)
    queue = make_queue(redis, queue_name)
    CONTEXT.append(jobs.JobContext(Runtime.for_database(db), Registry(targets={agent.id: agent})))
    yield db, queue
    CONTEXT.clear()
    queue.empty()
    queue.delete(delete_jobs=True)
    db.dispose()


CONTEXT: list[jobs.JobContext] = []
"""The job context of the current test's worker."""


def work(queue: Queue) -> None:
    with jobs.job_context(CONTEXT[0]):
        SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)


def paused_run(db: Database, agent: Agent, fake_openai: FakeOpenAI) -> str:
    fake_openai.script(tool_call("refund", {"customer_id": "42"}))
    output = Agent(id=agent.id, tools=agent.tools, db=db).run("refund 42", user_id="U_ALICE")
    assert output.is_paused
    return output.run_id


def test_lost_start_job_is_enqueued_again(env: tuple[Database, Queue], clock: Clock, fake_openai: FakeOpenAI) -> None:
    db, queue = env
    run = db.create_run(
        kind="agent",
        target_id="payments",
        target_name="payments",
        input="hello",
        state=Agent(id="payments").initial_state("hello", "U_ALICE"),
        requester="U_ALICE",
        status=RunStatus.QUEUED,
    )
    # The start job never reached Redis. Within the grace period, recovery leaves it alone.
    assert recover(db, queue).started == []
    clock.advance(QUEUED_GRACE_S + 1)
    report = recover(db, queue)
    assert report.started == [run.id]
    fake_openai.script(text("Hi there"))
    work(queue)
    assert db.get_run(run.id).status is RunStatus.COMPLETED
    assert db.get_run(run.id).content == "Hi there"


def test_lost_continue_job_is_recovered(
    env: tuple[Database, Queue], agent: Agent, fake_openai: FakeOpenAI, refunds: list[str]
) -> None:
    db, queue = env
    run_id = paused_run(db, agent, fake_openai)
    req = db.requirements_for_run(run_id)[0]
    outcome = resolve(db, req.id, Actor("U_ALICE"), Action.APPROVE)
    assert outcome.run_ready  # the caller would enqueue continue_run here; pretend Redis lost it
    report = recover(db, queue)
    assert report.continued == [run_id]
    # A second pass over the same stuck state does not enqueue a second job.
    assert len(queue.jobs) == 1
    recover(db, queue)
    assert len(queue.jobs) == 1
    fake_openai.script(text("Refunded."))
    work(queue)
    assert refunds == ["42"]
    assert db.get_run(run_id).status is RunStatus.COMPLETED


def _crash_mid_run(db: Database, run_id: str, *, tool_finished: bool) -> None:
    """What a worker leaves behind when it dies after claiming the tool call."""
    run = db.acquire_run(run_id, from_statuses=[RunStatus.PAUSED])
    req = db.requirements_for_run(run_id)[0]
    db.claim_execution(run_id, req.call_key, tool_name="refund", args_hash=req.args_hash, requirement_id=req.id)
    if tool_finished:
        db.finish_execution(run_id, req.call_key, status="succeeded", result="refunded 42")
    assert db.get_run(run_id).status is RunStatus.RUNNING
    assert run.version < db.get_run(run_id).version + 1


@pytest.mark.parametrize("tool_finished", [False, True])
def test_dead_worker_is_taken_over_without_running_the_tool_again(
    env: tuple[Database, Queue],
    agent: Agent,
    clock: Clock,
    fake_openai: FakeOpenAI,
    refunds: list[str],
    tool_finished: bool,
) -> None:
    db, queue = env
    run_id = paused_run(db, agent, fake_openai)
    req = db.requirements_for_run(run_id)[0]
    resolve(db, req.id, Actor("U_ALICE"), Action.APPROVE)
    _crash_mid_run(db, run_id, tool_finished=tool_finished)
    # A live worker is not robbed of its run.
    assert recover(db, queue).released == []
    clock.advance(HEARTBEAT_STALE_S + 1)
    report = recover(db, queue)
    assert report.released == [run_id]
    fake_openai.script(text("Done."))
    work(queue)
    assert refunds == []  # the claim row says it was started: never run twice
    if not tool_finished:
        # In doubt: nobody knows whether the refund happened, so a person is asked (see
        # tests/test_reliability.py for the answers); the model is not told "unknown".
        assert db.get_run(run_id).status is RunStatus.PAUSED
        (doubt,) = db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
        assert doubt.kind == "in_doubt" and doubt.tool_name == "refund"
        actions = [e.action for e in db.audit_events(run_id=run_id)]
        assert "tool.in_doubt" in actions and "run.recovered" in actions
        return
    assert db.get_run(run_id).status is RunStatus.COMPLETED
    tool_message = fake_openai.last_messages()[-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"] == "refunded 42"


def test_expired_requirement_resumes_the_run_with_its_own_outcome(
    env: tuple[Database, Queue], agent: Agent, clock: Clock, fake_openai: FakeOpenAI, refunds: list[str]
) -> None:
    db, queue = env
    run_id = paused_run(db, agent, fake_openai)
    clock.advance(REQUIREMENT_DEFAULT_EXPIRY_S + 1)
    report = recover(db, queue)
    assert len(report.expired) == 1 and report.continued == [run_id]
    req = db.requirements_for_run(run_id)[0]
    assert req.status is RequirementStatus.EXPIRED
    fake_openai.script(text("Nobody approved; nothing was refunded."))
    work(queue)
    assert refunds == []
    assert "expired" in fake_openai.last_messages()[-1]["content"]
    assert db.get_run(run_id).status is RunStatus.COMPLETED
