"""Chaos: real ``signoff worker`` processes SIGKILLed at chosen points, Redis flushed under
waiting decisions. Nothing runs twice, every run ends finished or waiting on a person within a
minute, every waiting decision completes once.

Each kill point gets ten runs at once: ten burst workers (no recovery loop of their own) each take
one run on a queue of their own and block at the point (``tests/chaos_agents.py``); the test
SIGKILLs each worker's process group and its work horse. Two surviving workers on the main queue
run the recovery pass every ``RECOVERY_INTERVAL_S`` with the real ``HEARTBEAT_STALE_S``. Redis is
a dedicated database number, flushed with ``FLUSHDB``. The measured figures are written to
``$SIGNOFF_CHAOS_FIGURES`` (default: the system temp directory), for docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from runner.decisions import Action, DecisionService
from runner.jobs import enqueue_start, make_queue
from runner.registry import load
from storage import Database, RequirementStatus, RunStatus
from storage.records import Principal, RequirementKind
from tests.conftest import REDIS_URL, migrated

pytestmark = [pytest.mark.slow, pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
CHAOS_REDIS_DB = 13
"""A Redis database of its own: FLUSHDB here never touches another test's queues."""
RUNS_PER_POINT = 10
LIMIT_S = 60.0
FIGURES = Path(os.environ.get("SIGNOFF_CHAOS_FIGURES", Path(tempfile.gettempdir()) / "signoff-chaos-figures.json"))


def _redis_url() -> str:
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/{CHAOS_REDIS_DB}"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


@dataclass
class Chaos:
    dir: Path
    db_url: str
    db: Database
    redis: Redis
    queue: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, queue: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SIGNOFF_", "OPENAI_"))}
        env |= {
            "DATABASE_URL": self.db_url,
            "REDIS_URL": _redis_url(),
            "SIGNOFF_AGENTS": "tests.chaos_agents",
            "SIGNOFF_QUEUE": queue,
            "CHAOS_DIR": str(self.dir),
            "PYTHONPATH": str(ROOT),
        }
        return env

    def worker(self, queue: str, *, burst: bool = False) -> subprocess.Popen[bytes]:
        args = [str(ROOT / ".venv" / "bin" / "signoff"), "worker", "--skip-model-check"]
        if burst:
            args.append("--burst")
        log = open(self.dir / f"worker-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(args, cwd=self.dir, env=self.env(queue), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def runs(self, target: str, point: str, n: int, queue: str) -> list[tuple[str, str]]:
        """``n`` queued runs of ``target`` blocking at ``point``: (run id, token) each."""
        q = make_queue(self.redis, queue)
        made = []
        for _ in range(n):
            token = uuid.uuid4().hex[:10]
            run = self.db.create_run(kind="agent", target_id=target, target_name=target, input=f"{point} {token}",
                                     state={}, requester="U_ALICE", status=RunStatus.QUEUED)
            # The agent's own initial state, as a start through the service would store it.
            agent = load("tests.chaos_agents").get(target)
            assert agent is not None
            self.db.save_run(run.id, expected_version=run.version, state=agent.initial_state(run.input, "U_ALICE"))
            enqueue_start(q, run.id)
            made.append((run.id, token))
        return made

    def effects(self) -> Counter[str]:
        path = self.dir / "effects"
        return Counter(path.read_text().split()) if path.exists() else Counter()

    def settled(self, run_id: str) -> bool:
        """Finished, or waiting on a person (a pending requirement) with no worker on it."""
        run = self.db.get_run(run_id)
        if run.is_finished:
            return True
        return run.status is RunStatus.PAUSED and self.db.count_pending(run_id) > 0


@pytest.fixture
def chaos(pg_url: str, tmp_path: Path) -> Iterator[Chaos]:
    db = migrated(pg_url)
    redis = Redis.from_url(_redis_url())
    redis.flushdb()
    c = Chaos(tmp_path, pg_url, db, redis, f"chaos-{uuid.uuid4().hex[:8]}")
    try:
        yield c
    finally:
        for proc in c.procs:
            if proc.poll() is None:
                c.kill(proc)
        redis.flushdb()
        db.dispose()


def _figures(name: str, values: dict[str, Any]) -> None:
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[name] = values
    FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True))


def _all_exist(paths: list[Path]) -> Callable[[], bool]:
    return lambda: all(p.exists() for p in paths)


def _recovered_at(db: Database, run_id: str) -> float | None:
    for event in db.audit_events(run_id=run_id):
        if event.action == "run.recovered":
            return datetime.fromisoformat(event.ts).timestamp()
    return None


def test_sigkill_at_three_points(chaos: Chaos) -> None:
    survivors = [chaos.worker(chaos.queue) for _ in range(2)]
    killed_at: dict[str, float] = {}
    batches: dict[str, list[tuple[str, str]]] = {}
    for point in ("model", "tool", "after"):
        queue = f"{chaos.queue}-victims-{point}"
        batch = chaos.runs("chaos", point, RUNS_PER_POINT, queue)
        batches[point] = batch
        victims = [chaos.worker(queue, burst=True) for _ in batch]
        markers = [chaos.dir / f"{token}.at-{point}" for _, token in batch]
        wait_for(_all_exist(markers), 120, f"{RUNS_PER_POINT} workers at '{point}'")
        horses = [int(m.read_text()) for m in markers]
        now = time.time()
        for victim in victims:
            chaos.kill(victim)
        for pid in horses:  # RQ's work horse has a process group of its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for run_id, _ in batch:
            killed_at[run_id] = now
        effects = chaos.effects()
        assert all(effects[t] == (1 if point == "after" else 0) for _, t in batch)

    everything = [r for batch in batches.values() for r in batch]
    settled_at: dict[str, float] = {}

    def all_settled() -> bool:
        for run_id, _ in everything:
            if run_id not in settled_at and chaos.settled(run_id):
                settled_at[run_id] = time.time()
        return len(settled_at) == len(everything)

    wait_for(all_settled, LIMIT_S + 30, "every run finished or waiting on a person", step=0.2)
    takeover = {r: (_recovered_at(chaos.db, r) or settled_at[r]) - killed_at[r] for r, _ in everything}
    to_settled = {r: settled_at[r] - killed_at[r] for r, _ in everything}

    effects = chaos.effects()
    for run_id, token in batches["model"]:
        assert chaos.db.get_run(run_id).status is RunStatus.COMPLETED
        assert effects[token] == 1
    for point, expected in (("tool", 0), ("after", 1)):
        for run_id, token in batches[point]:
            (doubt,) = chaos.db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
            assert doubt.kind is RequirementKind.IN_DOUBT
            assert effects[token] == expected, (point, token)
    assert all(v < LIMIT_S for v in to_settled.values()), sorted(to_settled.values())

    # The people settle them: the tool ones did not run (so they run now, once), the others ran.
    service = DecisionService(chaos.db, registry=load("tests.chaos_agents"),
                              queue=make_queue(chaos.redis, chaos.queue))
    for point, action in (("tool", Action.NOT_RUN), ("after", Action.RAN)):
        for run_id, token in batches[point]:
            (doubt,) = chaos.db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
            service.decide(doubt.id, Principal("U_ALICE"), action, surface="slack", result=f"effect {token}")
    wait_for(lambda: all(chaos.db.get_run(r).status is RunStatus.COMPLETED for r, _ in everything), 60,
             "every run to complete")
    effects = chaos.effects()
    assert all(effects[t] == 1 for _, t in everything), effects
    assert max(effects.values()) == 1

    values = sorted(takeover.values())
    _figures("sigkill", {
        "runs": len(everything),
        "per_point": RUNS_PER_POINT,
        "takeover_median_s": round(statistics.median(values), 1),
        "takeover_max_s": round(max(values), 1),
        "settled_median_s": round(statistics.median(to_settled.values()), 1),
        "settled_max_s": round(max(to_settled.values()), 1),
        "lost": 0,
        "doubled": sum(1 for v in effects.values() if v > 1),
        "in_doubt_asked": 2 * RUNS_PER_POINT,
    })
    for proc in survivors:
        chaos.kill(proc)


def test_redis_flushed_with_decisions_waiting(chaos: Chaos) -> None:
    survivors = [chaos.worker(chaos.queue) for _ in range(2)]
    batch = chaos.runs("confirmed", "none", RUNS_PER_POINT, chaos.queue)
    wait_for(lambda: all(chaos.db.count_pending(r) == 1 for r, _ in batch), 90, "every run to pause")
    for proc in survivors:  # nobody takes the continue jobs before Redis loses them
        chaos.kill(proc)
    service = DecisionService(chaos.db, registry=load("tests.chaos_agents"),
                              queue=make_queue(chaos.redis, chaos.queue))
    for run_id, _ in batch:
        (req,) = chaos.db.requirements_for_run(run_id, status=RequirementStatus.PENDING)
        assert service.decide(req.id, Principal("U_ALICE"), Action.APPROVE, surface="slack").continue_job
    assert make_queue(chaos.redis, chaos.queue).count == RUNS_PER_POINT
    chaos.redis.flushdb()
    flushed = time.time()
    survivors = [chaos.worker(chaos.queue) for _ in range(2)]
    wait_for(lambda: all(chaos.db.get_run(r).status is RunStatus.COMPLETED for r, _ in batch), LIMIT_S + 30,
             "every run to complete after the flush")
    took = time.time() - flushed
    effects = chaos.effects()
    assert all(effects[t] == 1 for _, t in batch), effects
    _figures("redis_flush", {"runs": len(batch), "completed": len(batch), "lost": 0,
                             "doubled": sum(1 for v in effects.values() if v > 1),
                             "all_completed_after_s": round(took, 1)})
    for proc in survivors:
        chaos.kill(proc)


def test_chaos_agents_import_without_a_chaos_dir() -> None:
    """The agents module loads in a plain process too (``signoff worker`` imports it)."""
    out = subprocess.run([sys.executable, "-c", "import tests.chaos_agents as m; print(m.chaos.id)"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "chaos"


def test_web_restarted_in_a_burst_of_clicks(chaos: Chaos) -> None:
    """Clicks keep coming while the web process is stopped and started again: each click is
    recorded, or refused (no answer, or the card still pending) and clicked again. None is lost,
    none counts twice, every run completes once."""
    from bot.slack import cards
    from tests.fakes import signing
    from tests.fakes.slack_server import FakeSlack
    from tests.slack_harness import free_port

    survivors = [chaos.worker(chaos.queue) for _ in range(2)]
    batch = chaos.runs("confirmed", "none", 2 * RUNS_PER_POINT, chaos.queue)
    wait_for(lambda: all(chaos.db.count_pending(r) == 1 for r, _ in batch), 90, "every run to pause")
    requirements = [chaos.db.requirements_for_run(r, status=RequirementStatus.PENDING)[0] for r, _ in batch]
    secret = "chaos-signing-secret"
    port = free_port()
    with FakeSlack() as fake:
        env = chaos.env(chaos.queue) | {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": fake.base_url,
        }

        def web() -> subprocess.Popen[bytes]:
            log = open(chaos.dir / f"web-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "uvicorn"), "--factory", "bot.web.app:create_app",
                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                cwd=chaos.dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            chaos.procs.append(proc)
            return proc

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        server = web()
        wait_for(up, 60, "the web process")
        refused = retried_after_ack = 0
        for index, req in enumerate(requirements):
            if index == len(requirements) // 2:
                server.send_signal(signal.SIGTERM)  # a deploy: stop, start again, clicks keep coming
            while True:
                body = signing.block_action_body(cards.APPROVE, cards.approve_value(req), "U_ALICE",
                                                 "C_CHAOS", f"{index}.000100")
                try:
                    answer = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body,
                                        headers=signing.sign(secret, body), timeout=5)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if not ok:
                    refused += 1
                    if server.poll() is not None:  # it has stopped: the new one starts
                        server = web()
                    time.sleep(0.2)
                    continue
                try:
                    wait_for(lambda req=req: not chaos.db.get_requirement(req.id).is_pending, 3, "the decision")
                    break
                except AssertionError:
                    retried_after_ack += 1  # acknowledged but not recorded: the card is still pending
        wait_for(lambda: all(chaos.db.get_run(r).status is RunStatus.COMPLETED for r, _ in batch), 90,
                 "every run to complete")
        server.send_signal(signal.SIGTERM)
    events = [e for r, _ in batch for e in chaos.db.audit_events(run_id=r)]
    approved = Counter(e.requirement_id for e in events if e.action == "requirement.approved")
    assert all(approved[req.id] == 1 for req in requirements), approved
    effects = chaos.effects()
    assert all(effects[t] == 1 for _, t in batch), effects
    _figures("web_restart", {"clicks": len(requirements), "refused_and_retried": refused,
                             "acknowledged_but_not_recorded": retried_after_ack, "lost": 0,
                             "doubled": sum(1 for v in approved.values() if v > 1)})
    for proc in survivors:
        chaos.kill(proc)
