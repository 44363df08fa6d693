"""Benchmark: how fast the web app acknowledges Slack (Slack drops a request not acked in 3 s).

Run by hand, not in the test suite::

    PYTHONPATH=. .venv/bin/python bench/slack_latency.py                      # SQLite file
    PYTHONPATH=. .venv/bin/python bench/slack_latency.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/test              # a fresh schema per repeat
    PYTHONPATH=. .venv/bin/python bench/slack_latency.py --mix --repeat 3     # beside a bare bolt app

Each repeat starts from nothing: a fresh database (an SQLite file, or a PostgreSQL schema), a
fresh RQ queue name on the local Redis, a fresh ``FakeSlack`` (``tests/fakes``, a real HTTP
stand-in for Slack's Web API) and the real web app (``bot.web.app.create_app``) under uvicorn in a
subprocess on a free 127.0.0.1 port, built as in production (uvicorn's defaults, bolt's
``AsyncApp`` at ``POST /slack/events``, signature verification on). An ``httpx.AsyncClient``
(keep-alive) then sends requests signed as Slack signs them and times each one until its HTTP
response arrives, which is Slack's ack:

* ``slash``: ``/agent finance Refund $50 to customer 42`` (the app acks, then posts the root
  message, creates the run and enqueues its start job);
* ``click``: an Approve click (a ``block_actions`` payload built from the real card in FakeSlack,
  value = the requirement id) on a pending requirement. The cards come from the slash phases:
  their runs are drained by an RQ ``SimpleWorker`` in this process, the bundled finance agent
  talking to ``FakeOpenAI`` scripted to call ``process_refund`` with amount 50, which pauses
  for the requester's confirmation. After the ack the app resolves the decision, updates the
  card (``chat.update``) and enqueues the continue; the time from the click to that
  ``chat.update`` reaching FakeSlack is reported as well.

``--mix`` instead compares acks under load with a bare bolt app (verifying the signature and
acking only, the same stack) in the same run: a load generator in its own process keeps 10 and 50
clients busy, half ``/agent help`` and half Approve clicks on a card already decided, on each app
in turn; the report gives each repeat's p99 ratio. ``--bursts`` adds bursts of 16 clicks sent at
once (click to card update). ``BENCH_PROFILE=<prefix>`` (with ``yappi`` importable) writes each
server's profile at the end.

Each kind runs once with one request in flight (``--concurrency 1``, the next request is sent
as soon as the previous one is acked) and once with ``--concurrency`` in flight. Reported per
phase: p50/p95/p99/max ack latency and ack throughput; for clicks also the card-update latency
and the completion throughput (clicks / time until the last card was updated). Medians over
``--repeat`` repeats. Everything is bounded (request count, concurrency, per-request timeout,
waits) and only talks to loopback addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.schemas import drop_schema, fresh_database  # noqa: E402
from tests.fakes import signing  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, tool_call  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
COMMAND_TEXT = "finance Refund $50 to customer 42"
REQUESTER = "U_ALICE"  # a $50 refund needs the requester's confirmation: she clicks Approve
CHANNEL = "C_OPS"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
MAX_REQUESTS = 2000
MAX_CONCURRENCY = 64
MAX_REPEAT = 10
REQUEST_TIMEOUT_S = 10.0
PHASE_TIMEOUT_S = 300.0
SETTLE_TIMEOUT_S = 180.0
STARTUP_TIMEOUT_S = 30.0
BURST = 16  # clicks sent at once in a burst (the card-update figure)
BURST_GAP_S = 0.5


# ----------------------------------------------------------------------------- the server


def serve(config: dict[str, Any]) -> None:
    """In the subprocess: the real web app under uvicorn, as the Procfile runs it."""
    import uvicorn
    from pydantic import SecretStr

    from bot.deps import build_deps
    from bot.settings import Settings
    from bot.web.app import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=config["database_url"],
        redis_url=config["redis_url"],
        slack_bot_token=config["slack_token"],
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=config["slack_api_url"],
        openai_base_url=config["openai_base_url"],
        openai_api_key=SecretStr("sk-bench-fake"),
        signoff_agents="runner.examples",
        signoff_approvers=["S_ADMINS"],
        signoff_queue=config["queue"],
        signoff_runs_per_minute=10_000,  # one benchmark user sends hundreds of commands a minute
        signoff_max_queued_per_agent=1_000_000,
    )
    app = create_app(build_deps(settings))
    profile_on_signal("signoff")
    uvicorn.run(app, host="127.0.0.1", port=int(config["port"]), log_level="warning")


def profile_on_signal(name: str) -> None:
    """With ``BENCH_PROFILE`` (a path prefix): yappi, CPU time of every thread, written to
    ``<prefix>-<name>.txt`` on SIGUSR1 (sent before the SIGTERM, which uvicorn re-raises)."""
    prefix = os.environ.get("BENCH_PROFILE")
    if not prefix:
        return
    import signal

    import yappi

    def dump(*_: object) -> None:
        yappi.stop()
        with open(f"{prefix}-{name}.txt", "w") as out:
            columns = {0: ("name", 100), 1: ("ncall", 10), 2: ("tsub", 8), 3: ("ttot", 8), 4: ("tavg", 8)}
            yappi.get_func_stats().sort("tsub").print_all(out=out, columns=columns)
            yappi.get_thread_stats().print_all(out=out)

    signal.signal(signal.SIGUSR1, dump)
    yappi.set_clock_type("cpu")
    yappi.start()


def serve_bare(config: dict[str, Any]) -> None:
    """In the subprocess: the comparison, a bolt app that verifies the signature and acks only.

    The same stack as signoff's web app (FastAPI, bolt's ``AsyncApp`` with its verification
    middleware, uvicorn's defaults) and the same replies in the acks (`/agent help` answers with
    the same help text), with nothing after the ack.
    """
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack import cards, commands

    client = AsyncWebClient(token=config["slack_token"], base_url=config["slack_api_url"])
    bolt = AsyncApp(client=client, signing_secret=SECRET, request_verification_enabled=True,
                    process_before_response=False, name="bare")
    help_text = commands.help_text(["finance"])

    @bolt.command("/agent")
    async def agent(ack: Any) -> None:
        await ack(response_type="ephemeral", text=help_text, blocks=cards.notice(help_text)[1])

    @bolt.action(cards.APPROVE)
    async def approve(ack: Any) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)
    app = FastAPI()

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    # plain Starlette routes: FastAPI cannot resolve these functions' (local) annotations
    app.router.add_route("/slack/events", events, methods=["POST"])
    app.router.add_route("/healthz", healthz, methods=["GET"])

    profile_on_signal("bare")
    uvicorn.run(app, host="127.0.0.1", port=int(config["port"]), log_level="warning")


def load(config: dict[str, Any]) -> None:
    """In the subprocess: ``concurrency`` clients for ``duration`` seconds, alternating the bodies
    (each signed just before it is sent); prints the latencies as JSON. A process of its own, so
    the clients do not share a GIL with FakeSlack."""

    async def go() -> dict[str, Any]:
        bodies: list[str] = config["bodies"]
        kinds: list[str] = config["kinds"]
        latencies: dict[str, list[float]] = {k: [] for k in kinds}
        errors: list[str] = []
        limits = httpx.Limits(max_connections=config["concurrency"], max_keepalive_connections=config["concurrency"])
        counter = iter(range(10**9))
        async with httpx.AsyncClient(base_url=config["url"], timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
            async def lane(measure_until: float | None) -> None:
                while True:
                    now = time.monotonic()
                    if measure_until is not None and now >= measure_until:
                        return
                    i = next(counter)
                    kind, body = kinds[i % len(kinds)], bodies[i % len(bodies)]
                    started = time.monotonic()
                    try:
                        response = await client.post("/slack/events", content=body, headers=signing.sign(SECRET, body))
                        took = time.monotonic() - started
                        good = response.status_code == 200 and (
                            kind != "help" or str(response.json().get("text", "")).startswith("*Usage of"))
                        if good:
                            if measure_until is not None:
                                latencies[kind].append(took)
                        else:
                            errors.append(f"{kind} {response.status_code} {response.text[:100]}")
                    except httpx.HTTPError as exc:
                        errors.append(f"{kind} {type(exc).__name__}: {exc}")
                    if measure_until is None:
                        return

            # every connection opened (and bolt warmed up) before the clock starts
            await asyncio.gather(*(lane(None) for _ in range(config["concurrency"])))
            start = time.monotonic()
            until = start + float(config["duration"])
            await asyncio.gather(*(lane(until) for _ in range(config["concurrency"])))
            wall = time.monotonic() - start
        return {"latencies": latencies, "errors": errors, "wall": wall}

    print(json.dumps(asyncio.run(go())))


def child_env() -> dict[str, str]:
    """The environment of a subprocess: this one, with the checkout first on PYTHONPATH."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TimedSlack(FakeSlack):
    """FakeSlack that also notes when each Web API call arrived (``time.monotonic``)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str, str]] = []  # (when, method, ts argument)

    def _handle_api(self, method: str, args: dict[str, Any], token: str | None) -> Any:
        arrived = time.monotonic()
        answer = super()._handle_api(method, args, token)
        with self._lock:
            self.arrivals.append((arrived, method, str(args.get("ts") or "")))
        return answer

    def first_updates(self) -> dict[str, float]:
        """Card ts -> when its first chat.update arrived."""
        with self._lock:
            found: dict[str, float] = {}
            for when, method, ts in self.arrivals:
                if method == "chat.update" and ts not in found:
                    found[ts] = when
            return found


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


# ----------------------------------------------------------------------------- databases




# ----------------------------------------------------------------------------- measuring


@dataclass
class Sent:
    started: float
    acked: float | None = None
    status: int | None = None
    ok: bool = False
    error: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.acked is None else self.acked - self.started


@dataclass
class Phase:
    kind: str
    concurrency: int
    sent: list[Sent] = field(default_factory=list)
    wall: float = 0.0
    updates: list[float] = field(default_factory=list)  # click -> chat.update, seconds
    completion_wall: float | None = None  # first click -> last chat.update

    def summary(self) -> dict[str, Any]:
        latencies = [s.latency for s in self.sent if s.ok and s.latency is not None]
        row: dict[str, Any] = {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "requests": len(self.sent),
            "failed": sum(1 for s in self.sent if not s.ok),
            "ack_throughput": len(latencies) / self.wall if self.wall else 0.0,
            **{f"ack_{k}": v for k, v in percentiles(latencies).items()},
        }
        if self.kind in ("click", "burst"):
            row["updated"] = len(self.updates)
            row.update({f"update_{k}": v for k, v in percentiles(self.updates).items()})
            row["completion_throughput"] = len(self.updates) / self.completion_wall if self.completion_wall else 0.0
        return row


def percentiles(values: list[float]) -> dict[str, float]:
    """Nearest-rank percentiles, in milliseconds."""
    if not values:
        return {"p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": ordered[-1] * 1000}


async def send_all(
    client: httpx.AsyncClient,
    bodies: list[str],
    concurrency: int,
    check: Callable[[httpx.Response], bool],
    secret: str = SECRET,
) -> tuple[list[Sent], float]:
    """Send every body, ``concurrency`` in flight, each signed just before it is sent."""
    results: list[Sent | None] = [None] * len(bodies)
    todo = iter(enumerate(bodies))

    async def lane() -> None:
        for i, body in todo:  # one shared iterator: each lane takes the next body
            headers = signing.sign(secret, body)
            sent = Sent(started=time.monotonic())
            try:
                response = await client.post("/slack/events", content=body, headers=headers)
                sent.acked = time.monotonic()
                sent.status = response.status_code
                sent.ok = check(response)
                if not sent.ok:
                    sent.error = response.text[:200]
            except httpx.HTTPError as exc:
                sent.error = f"{type(exc).__name__}: {exc}"
            results[i] = sent

    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(lane() for _ in range(concurrency))), PHASE_TIMEOUT_S)
    wall = time.monotonic() - start
    return [r for r in results if r is not None], wall


def replied(prefix: str) -> Callable[[httpx.Response], bool]:
    def check(response: httpx.Response) -> bool:
        try:
            return response.status_code == 200 and str(response.json().get("text", "")).startswith(prefix)
        except ValueError:
            return False

    return check


def click_ok(response: httpx.Response) -> bool:
    return response.status_code == 200  # bolt answers an ack() with an empty 200


def refused(response: httpx.Response) -> bool:
    return response.status_code == 401


# ----------------------------------------------------------------------------- one repeat


@dataclass
class Env:
    slack: TimedSlack
    openai: FakeOpenAI
    deps: Any  # bot.deps.Deps for this process (drain, checks)
    url: str


def build_click(env: Env, req_id: str) -> tuple[str, str]:
    """The Approve click on the requirement's real card: (body, card ts)."""
    from bot.slack import cards

    found = [m for m in env.deps.db.slack_messages(requirement_id=req_id) if m.purpose == "card"]
    if not found:
        raise RuntimeError(f"no card for requirement {req_id}")
    card = found[0]
    message = env.slack.message(card.channel, card.ts)
    buttons = [
        (block.get("block_id", ""), element["value"])
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("action_id") == cards.APPROVE
    ]
    if not buttons:
        raise RuntimeError(f"the card of requirement {req_id} has no Approve button")
    block_id, value = buttons[0]
    body = signing.block_action_body(
        cards.APPROVE,
        value,
        REQUESTER,
        card.channel,
        card.ts,
        block_id=block_id,
        message=message,
        thread_ts=message.get("thread_ts"),
        button_text="Approve",
    )
    return body, card.ts


def drain(env: Env) -> None:
    """Run every queued start job here (the worker, with the Slack listener installed)."""
    from bot.worker import make_worker

    make_worker(env.deps, forking=False).work(burst=True, logging_level="WARNING")


def forget_queue(redis: Any, queue: Any) -> None:
    """Delete this run's queue, its jobs and RQ's registries for it (the name is unique to the run)."""
    queue.empty()
    queue.delete(delete_jobs=True)
    keys = [k.decode() for k in redis.keys(f"rq:*:{queue.name}")]
    for key in keys:
        if redis.type(key) == b"zset":
            for job_id in redis.zrange(key, 0, -1):
                redis.delete(f"rq:job:{job_id.decode()}", f"rq:results:{job_id.decode()}")
    if keys:
        redis.delete(*keys)


def run_count(env: Env) -> int:
    return len(env.deps.db.list_runs(limit=10 * MAX_REQUESTS))


async def measure_slash(env: Env, client: httpx.AsyncClient, n: int, concurrency: int) -> Phase:
    before_runs = run_count(env)
    bodies = [signing.slash_command_body("/agent", COMMAND_TEXT, user_id=REQUESTER, channel_id=CHANNEL)
              for _ in range(n)]
    phase = Phase("slash", concurrency)
    phase.sent, phase.wall = await send_all(client, bodies, concurrency, replied("Starting"))
    # let the after-ack work (root message, run row, start job) finish before the next phase
    expected = before_runs + sum(1 for s in phase.sent if s.ok)
    await asyncio.to_thread(wait_until, lambda: run_count(env) >= expected, SETTLE_TIMEOUT_S, "the runs")
    return phase


async def measure_click(env: Env, client: httpx.AsyncClient, req_ids: list[str], concurrency: int) -> Phase:
    from storage.records import RequirementStatus

    built = [build_click(env, r) for r in req_ids]
    phase = Phase("click", concurrency)
    phase.sent, phase.wall = await send_all(client, [b for b, _ in built], concurrency, click_ok)
    card_ts = [ts for _, ts in built]

    def all_updated() -> bool:
        updates = env.slack.first_updates()
        return all(ts in updates for ts, s in zip(card_ts, phase.sent, strict=True) if s.ok)

    await asyncio.to_thread(wait_until, all_updated, SETTLE_TIMEOUT_S, "the card updates")
    updates = env.slack.first_updates()
    phase.updates = [updates[ts] - s.started for ts, s in zip(card_ts, phase.sent, strict=True) if ts in updates]
    if phase.sent and updates:
        phase.completion_wall = max(updates[ts] for ts in card_ts if ts in updates) - phase.sent[0].started
    statuses = [env.deps.db.get_requirement(r).status for r in req_ids]
    approved = sum(1 for s in statuses if s == RequirementStatus.APPROVED)
    if approved != len(req_ids):
        print(f"  warning: {approved}/{len(req_ids)} requirements approved", file=sys.stderr)
    return phase


async def measure(env: Env, n: int, concurrency: int, bursts: int = 0) -> list[Phase]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=env.url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        # warm-up (not measured): bolt's lazy auth.test, imports, the connection pools, and
        # `concurrency` keep-alive connections opened
        def help_bodies() -> list[str]:
            return [signing.slash_command_body("/agent", "help", user_id=REQUESTER) for _ in range(concurrency)]

        await send_all(client, help_bodies(), concurrency, lambda r: True)
        await measure_slash(env, client, 3, 1)

        # baselines, one in flight: the HTTP stack and bolt's signature check alone (a request
        # signed with the wrong secret, refused with 401 before any listener runs), and a listener
        # that only acks (`/agent help` answers in its ack and does nothing after it)
        phases = []
        for kind, secret, check in (("bad-signature", "wrong-secret", refused), ("help", SECRET, replied("*Usage of"))):
            phase = Phase(kind, 1)
            bodies = [signing.slash_command_body("/agent", "help", user_id=REQUESTER) for _ in range(n)]
            phase.sent, phase.wall = await send_all(client, bodies, 1, check, secret=secret)
            phases.append(phase)

        phases += [await measure_slash(env, client, n, 1), await measure_slash(env, client, n, concurrency)]
        extra = BURST * bursts
        if extra:
            await measure_slash(env, client, extra, concurrency)  # the cards the bursts click (unmeasured)

        drain(env)  # in the main thread (RQ installs signal handlers); nothing is in flight
        # uvicorn closes keep-alive connections idle for 5 s: open them again, unmeasured
        await send_all(client, help_bodies(), concurrency, lambda r: True)
        pending = env.deps.db.pending_requirements(limit=2 * n + extra + 10)
        if len(pending) < 2 * n + extra:
            raise RuntimeError(f"only {len(pending)} pending requirements after the drain, need {2 * n + extra}")
        ids = [r.id for r in pending]
        phases.append(await measure_click(env, client, ids[:n], 1))
        phases.append(await measure_click(env, client, ids[n : 2 * n], concurrency))
        if bursts:
            phases.append(await measure_bursts(env, client, ids[2 * n : 2 * n + extra]))
        return phases


async def measure_bursts(env: Env, client: httpx.AsyncClient, req_ids: list[str]) -> Phase:
    """Bursts of ``BURST`` Approve clicks sent at once, each burst after the previous one's cards
    were all updated (and a pause): click to card update, over every click of every burst."""
    phase = Phase("burst", BURST)
    for start in range(0, len(req_ids), BURST):
        await asyncio.sleep(BURST_GAP_S)
        one = await measure_click(env, client, req_ids[start : start + BURST], BURST)
        phase.sent += one.sent
        phase.updates += one.updates
        phase.wall += one.wall
        phase.completion_wall = (phase.completion_wall or 0.0) + (one.completion_wall or 0.0)
    return phase


def one_repeat(args: argparse.Namespace, workdir: Path, tag: str) -> list[dict[str, Any]]:
    from bot.deps import build_deps
    from bot.settings import Settings
    from storage.database import Database

    db_url, schema = fresh_database(args.database_url, workdir, tag)
    queue = f"signoff-bench-{uuid.uuid4().hex[:10]}"
    log_path = workdir / f"server-{tag}.log"
    server: subprocess.Popen[bytes] | None = None
    deps = None
    slack = TimedSlack()
    with slack, FakeOpenAI() as openai:
        openai.set_responder(lambda _body: tool_call("process_refund", {"customer_id": "42", "amount": 50}))
        # the agents' model reads these (this process drains the runs; the web app calls no model)
        os.environ.update({"OPENAI_BASE_URL": openai.base_url, "OPENAI_API_KEY": "sk-bench-fake"})
        os.environ.pop("OPENAI_MODEL", None)
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=db_url,
                redis_url=args.redis_url,
                slack_bot_token=slack.bot_token,  # type: ignore[arg-type]
                slack_signing_secret=SECRET,  # type: ignore[arg-type]
                slack_api_url=slack.base_url,
                openai_base_url=openai.base_url,
                openai_api_key="sk-bench-fake",  # type: ignore[arg-type]
                signoff_agents="runner.examples",
                signoff_approvers=["S_ADMINS"],
                signoff_queue=queue,
                signoff_runs_per_minute=10_000,
                signoff_max_queued_per_agent=1_000_000,
            )
            fresh = Database(db_url)
            fresh.upgrade()  # `signoff db upgrade`, before the server starts
            deps = build_deps(settings, db=fresh)
            port = free_port()
            config = {
                "database_url": db_url,
                "redis_url": args.redis_url,
                "slack_token": slack.bot_token,
                "slack_api_url": slack.base_url,
                "openai_base_url": openai.base_url,
                "queue": queue,
                "port": port,
            }
            with log_path.open("wb") as log:
                server = subprocess.Popen(
                    [sys.executable, __file__, "--serve", json.dumps(config)],
                    stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                )
            url = f"http://127.0.0.1:{port}"

            def healthy() -> bool:
                if server is not None and server.poll() is not None:
                    raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
                try:
                    return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(healthy, STARTUP_TIMEOUT_S, "the server to start")
            env = Env(slack=slack, openai=openai, deps=deps, url=url)
            phases = asyncio.run(measure(env, args.requests, args.concurrency, args.bursts))
            errors = [e for e in slack.ephemerals if e["text"].startswith((":warning:", ":x:"))]
            if errors:
                print(f"  warning: {len(errors)} error ephemerals, e.g. {errors[0]['text'][:120]}", file=sys.stderr)
            return [p.summary() for p in phases]
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)
                logged = log_path.read_text(errors="replace") if log_path.exists() else ""
                if "Traceback" in logged or "ERROR" in logged:
                    print(f"  warning: the server logged errors:\n{logged[-2000:]}", file=sys.stderr)
            if deps is not None:
                forget_queue(deps.redis, deps.queue)
                deps.db.dispose()
            if schema:
                drop_schema(args.database_url, schema)


# ----------------------------------------------------------------------------- acks under load, beside bare bolt


def start_server(mode: str, config: dict[str, Any], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``--serve`` (signoff) or ``--serve-bare`` in a subprocess; returns it once /healthz answers."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, __file__, mode, json.dumps(config)],
            stdout=log, stderr=subprocess.STDOUT, env=child_env(),
        )
    url = f"http://127.0.0.1:{config['port']}"

    def healthy() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, STARTUP_TIMEOUT_S, "the server to start")
    return server, url


def stop_server(server: subprocess.Popen[bytes], log_path: Path) -> None:
    if os.environ.get("BENCH_PROFILE"):
        import signal

        server.send_signal(signal.SIGUSR1)
        time.sleep(20)
    server.terminate()
    try:
        server.wait(timeout=120 if os.environ.get("BENCH_PROFILE") else 10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    logged = log_path.read_text(errors="replace") if log_path.exists() else ""
    if "Traceback" in logged or "ERROR" in logged:
        print(f"  warning: the server logged errors:\n{logged[-2000:]}", file=sys.stderr)


def run_load(url: str, bodies: list[str], kinds: list[str], concurrency: int, duration: float) -> dict[str, Any]:
    config = {"url": url, "bodies": bodies, "kinds": kinds, "concurrency": concurrency, "duration": duration}
    done = subprocess.run(
        [sys.executable, __file__, "--load", json.dumps(config)],
        capture_output=True, timeout=duration + PHASE_TIMEOUT_S, check=True,
        env=child_env(),
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def quiet(slack: TimedSlack, for_s: float = 1.0) -> None:
    """Wait until the Slack stand-in has had no call for ``for_s`` (the after-ack work is done)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        with slack._lock:
            last = slack.arrivals[-1][0] if slack.arrivals else 0.0
        if time.monotonic() - last >= for_s:
            return
        time.sleep(0.2)


def mix_repeat(args: argparse.Namespace, workdir: Path, tag: str) -> list[dict[str, Any]]:
    """signoff and a bare bolt app, side by side, under the same mixed load (half `/agent help`,
    half Approve clicks on a card already decided), at each concurrency; alternating which goes
    first. Returns one row per (app, concurrency)."""
    from bot.deps import build_deps
    from bot.settings import Settings
    from storage.database import Database

    db_url, schema = fresh_database(args.database_url, workdir, tag)
    queue = f"signoff-bench-{uuid.uuid4().hex[:10]}"
    servers: dict[str, tuple[subprocess.Popen[bytes], str, Path]] = {}
    deps = None
    rows: list[dict[str, Any]] = []
    slack = TimedSlack()
    with slack, FakeOpenAI() as openai:
        openai.set_responder(lambda _body: tool_call("process_refund", {"customer_id": "42", "amount": 50}))
        os.environ.update({"OPENAI_BASE_URL": openai.base_url, "OPENAI_API_KEY": "sk-bench-fake"})
        os.environ.pop("OPENAI_MODEL", None)
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=db_url, redis_url=args.redis_url,
                slack_bot_token=slack.bot_token,  # type: ignore[arg-type]
                slack_signing_secret=SECRET,  # type: ignore[arg-type]
                slack_api_url=slack.base_url, openai_base_url=openai.base_url,
                openai_api_key="sk-bench-fake",  # type: ignore[arg-type]
                signoff_agents="runner.examples", signoff_approvers=["S_ADMINS"], signoff_queue=queue,
                signoff_runs_per_minute=10_000, signoff_max_queued_per_agent=1_000_000,
            )
            fresh = Database(db_url)
            fresh.upgrade()
            deps = build_deps(settings, db=fresh)
            for mode in ("--serve", "--serve-bare"):
                config = {"database_url": db_url, "redis_url": args.redis_url, "slack_token": slack.bot_token,
                          "slack_api_url": slack.base_url, "openai_base_url": openai.base_url, "queue": queue,
                          "port": free_port()}
                log_path = workdir / f"server-{tag}{mode}.log"
                server, url = start_server(mode, config, log_path)
                servers[mode] = (server, url, log_path)
            signoff_url = servers["--serve"][1]
            # one card, decided: the clicks of the load land on it (each is refused: already decided)
            body = signing.slash_command_body("/agent", COMMAND_TEXT, user_id=REQUESTER, channel_id=CHANNEL)
            httpx.post(f"{signoff_url}/slack/events", content=body, headers=signing.sign(SECRET, body), timeout=10)
            wait_until(lambda: run_count_of(deps) >= 1, SETTLE_TIMEOUT_S, "the run")
            from bot.worker import make_worker

            make_worker(deps, forking=False).work(burst=True, logging_level="WARNING")
            env = Env(slack=slack, openai=openai, deps=deps, url=signoff_url)
            pending = deps.db.pending_requirements(limit=5)
            click, card_ts = build_click(env, pending[0].id)
            httpx.post(f"{signoff_url}/slack/events", content=click, headers=signing.sign(SECRET, click), timeout=10)
            wait_until(lambda: card_ts in slack.first_updates(), SETTLE_TIMEOUT_S, "the card update")
            help_body = signing.slash_command_body("/agent", "help", user_id=REQUESTER, channel_id=CHANNEL)
            order = ["--serve", "--serve-bare"] if int(tag) % 2 == 0 else ["--serve-bare", "--serve"]
            for concurrency in args.mix_concurrency:
                for mode in order:
                    quiet(slack)
                    result = run_load(servers[mode][1], [help_body, click], ["help", "click"],
                                      concurrency, args.duration)
                    every = result["latencies"]["help"] + result["latencies"]["click"]
                    rows.append({
                        "app": "signoff" if mode == "--serve" else "bare bolt",
                        "concurrency": concurrency,
                        "requests": len(every),
                        "failed": len(result["errors"]),
                        "ack_throughput": len(every) / result["wall"],
                        **{f"ack_{k}": v for k, v in percentiles(every).items()},
                        **{f"help_{k}": v for k, v in percentiles(result["latencies"]["help"]).items()},
                        **{f"click_{k}": v for k, v in percentiles(result["latencies"]["click"]).items()},
                    })
                    if result["errors"]:
                        print(f"  warning: {len(result['errors'])} errors, e.g. {result['errors'][0]}", file=sys.stderr)
            quiet(slack)
            bare = {r["concurrency"]: r["ack_p99"] for r in rows if r["app"] == "bare bolt"}
            for r in rows:  # this repeat's ratio: the report shows the median of the repeats' ratios
                r["p99_ratio"] = r["ack_p99"] / bare[r["concurrency"]]
            return sorted(rows, key=lambda r: (r["concurrency"], r["app"] != "signoff"))
        finally:
            for server, _, log_path in servers.values():
                stop_server(server, log_path)
            if deps is not None:
                forget_queue(deps.redis, deps.queue)
                deps.db.dispose()
            if schema:
                drop_schema(args.database_url, schema)


def run_count_of(deps: Any) -> int:
    return len(deps.db.list_runs(limit=10))


def mix_report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {backend}, load {os.getloadavg()[0]:.2f}\n")
    print(f"Medians of {args.repeat} repeats of {args.duration:.0f} s per app and concurrency; failed = summed.\n")
    print("| app | clients | p50 ms | p95 ms | p99 ms | max ms | acks/s | failed | p99 ratio (median of repeats) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['app']} | {r['concurrency']} | {r['ack_p50']:.1f} | {r['ack_p95']:.1f} | {r['ack_p99']:.1f} | "
              f"{r['ack_max']:.1f} | {r['ack_throughput']:.0f} | {r['failed']} | {r['p99_ratio']:.2f} |")


# ----------------------------------------------------------------------------- report

KINDS = {
    "bad-signature": "baseline: bad signature (401, no listener)",
    "help": "baseline: `/agent help` (ack only)",
    "slash": "`/agent finance Refund $50 to customer 42`",
    "click": "Approve click",
    "burst": "Approve clicks, bursts of 16 at once",
}


def median_rows(repeats: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for i, first in enumerate(repeats[0]):
        row = dict(first)
        for key, value in first.items():
            if isinstance(value, float):
                row[key] = statistics.median(r[i][key] for r in repeats)
        row["failed"] = sum(r[i]["failed"] for r in repeats)
        rows.append(row)
    return rows


def report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.system()} {platform.release()} "
          f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {backend}\n")
    print(f"Medians of {args.repeat} repeats, {args.requests} requests per phase; failed = summed over repeats.\n")
    print("| request | in flight | p50 ms | p95 ms | p99 ms | max ms | responses/s | failed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {KINDS[r['kind']]} | {r['concurrency']} | {r['ack_p50']:.1f} | {r['ack_p95']:.1f} | "
              f"{r['ack_p99']:.1f} | {r['ack_max']:.1f} | {r['ack_throughput']:.0f} | {r['failed']} |")
    print("\nApprove click until the card update (`chat.update`) reaches FakeSlack:\n")
    print("| in flight | p50 ms | p95 ms | p99 ms | max ms | cards updated/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["kind"] in ("click", "burst"):
            flight = r["concurrency"] if r["kind"] == "click" else f"bursts of {BURST}"
            print(f"| {flight} | {r['update_p50']:.1f} | {r['update_p95']:.1f} | {r['update_p99']:.1f} | "
                  f"{r['update_max']:.1f} | {r['completion_throughput']:.0f} |")


def bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None,
                        help=f"PostgreSQL base URL, e.g. {DEFAULT_PG} (default: an SQLite file)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="a loopback Redis; a fresh queue name is used")
    parser.add_argument("--requests", type=bounded(1, MAX_REQUESTS), default=200, help="requests per phase")
    parser.add_argument("--concurrency", type=bounded(2, MAX_CONCURRENCY), default=16,
                        help="requests in flight in the concurrent phases")
    parser.add_argument("--repeat", type=bounded(1, MAX_REPEAT), default=3, help="fresh repeats; medians reported")
    parser.add_argument("--bursts", type=bounded(0, 50), default=10,
                        help="bursts of 16 clicks at once, after the other phases (card updates)")
    parser.add_argument("--mix", action="store_true",
                        help="acks under load beside bare bolt: half `/agent help`, half clicks on a decided card")
    parser.add_argument("--duration", type=float, default=10.0, help="--mix: seconds of load per app and concurrency")
    parser.add_argument("--mix-concurrency", type=lambda v: [int(x) for x in v.split(",")], default=[10, 50],
                        help="--mix: the client counts, comma-separated")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(json.loads(args.serve))
        return
    if args.serve_bare:
        serve_bare(json.loads(args.serve_bare))
        return
    if args.load:
        load(json.loads(args.load))
        return
    for url in (args.database_url, args.redis_url):
        host = httpx.URL(url.replace("postgresql+psycopg", "postgresql")).host if url else "127.0.0.1"
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"loopback only: {url}")
    repeats = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            rows = (mix_repeat if args.mix else one_repeat)(args, Path(tmp), str(i))
            for row in rows:
                print(json.dumps({"repeat": i, **{k: round(v, 2) if isinstance(v, float) else v
                                                  for k, v in row.items()}}), file=sys.stderr)
            repeats.append(rows)
    (mix_report if args.mix else report)(args, median_rows(repeats))


if __name__ == "__main__":
    main()
