"""Benchmark: runs end to end through Slack, the web process and RQ workers (issue 14).

Run by hand, not in the test suite::

    PYTHONPATH=. .venv/bin/python bench/throughput.py --runs 1000                 # web + 2 workers, PostgreSQL
    PYTHONPATH=. .venv/bin/python bench/throughput.py --unloaded --runs 30 \\
        --worker-class fork,simple                                                # one run at a time

Every repeat starts from nothing: a fresh PostgreSQL schema (``--database-url``, SQLite with
``--sqlite``), a fresh RQ queue on the local Redis, ``FakeSlack`` and ``FakeOpenAI`` (``tests/fakes``:
real HTTP stand-ins, answering at once) in this process, the real web app (``bot.web.app``) under
uvicorn in a subprocess and ``--workers`` worker subprocesses (``bot.worker.run_worker``, the code
behind ``signoff worker``, with the chosen ``--worker-class``). The agent is this module's
``bench`` agent: one tool, ``refund``, that needs the requester's confirmation; the model (scripted
in ``FakeOpenAI``) calls it once with the run's token, then answers ``Done <token>``.

What a run goes through, as in production: a signed ``/agent bench refund <token>`` to the web app
(ack, root message, run row, start job), a worker (model call, pause, the card posted with
``chat.postMessage``), the requester's signed Approve click on that card as soon as it appears (the
decision, the card update, the continue job), a worker again (the tool, the model, the answer in
the thread).

* ``--unloaded``: one run at a time. *pause to card* is from the model's reply with the gated call
  leaving ``FakeOpenAI`` to the card's ``chat.postMessage`` reaching ``FakeSlack``; *click to tool*
  from sending the click to the tool's first line running in a worker (``time.monotonic`` is the
  machine's monotonic clock, the same in every process).
* default: ``--runs`` started by ``--starters`` clients as fast as the web app acks them, each card
  clicked as soon as it appears (at most ``--clickers`` clicks in flight); runs/min is runs / (first
  command sent to the last answer posted).

Checked at the end of every repeat, through SQL and the tool's own record: every run completed,
each tool call ran exactly once (the tool appends its token to a Redis list; ``tool.executed``
audit events per run), nothing lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from runner.agent import Agent  # noqa: E402
from runner.tools import tool  # noqa: E402

SECRET = "bench-signing-secret"
REQUESTER = "U_ALICE"
CHANNEL = "C_OPS"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
TOKEN = re.compile(r"tok-[0-9a-f]{12}")
APPROVE_ID = "signoff_approve"  # bot.slack.cards.APPROVE (not imported here: workers import this module)
MAX_RUNS = 5000
REQUEST_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = float(os.environ.get("BENCH_RUN_TIMEOUT_S", "300"))
STARTUP_TIMEOUT_S = 60.0

# ----------------------------------------------------------------------------- the agent (SIGNOFF_AGENTS)

_redis: Any = None


@tool(requires_confirmation=True)
def refund(customer_id: str, amount: float) -> str:
    """Refund a customer (the benchmark's gated tool: it records when it started, and that it ran)."""
    global _redis
    started = time.monotonic()
    if _redis is None:
        from redis import Redis

        _redis = Redis.from_url(os.environ["BENCH_REDIS_URL"])
    _redis.rpush(os.environ["BENCH_TOOL_KEY"], json.dumps([customer_id, started, os.getpid()]))
    return f"Refunded ${amount:.2f} to {customer_id}."


bench = Agent(
    id="bench",
    name="Bench",
    tools=[refund],
    description="The throughput benchmark's agent: one gated refund per run.",
    instructions="Refund the customer named in the request.",
)

agents = [bench]


# ----------------------------------------------------------------------------- processes


def settings_for(config: dict[str, Any]) -> Any:
    from pydantic import SecretStr

    from bot.settings import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=config["database_url"],
        redis_url=config["redis_url"],
        slack_bot_token=config["slack_token"],
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=config["slack_api_url"],
        openai_base_url=config["openai_base_url"],
        openai_api_key=SecretStr("sk-bench-fake"),
        signoff_agents="bench.throughput",
        signoff_queue=config["queue"],
        signoff_runs_per_minute=10_000,  # one benchmark user starts every run (the most allowed)
        signoff_max_queued_per_agent=1_000_000,
    )


def profile_on_signal(name: str) -> None:
    """With ``BENCH_PROFILE`` (a directory): yappi over every thread, written there on SIGUSR1."""
    where = os.environ.get("BENCH_PROFILE")
    if not where:
        return
    import signal

    import yappi

    def dump(*_: object) -> None:
        yappi.stop()
        with open(Path(where) / f"{name}-{os.getpid()}.txt", "w") as out:
            columns = {0: ("name", 100), 1: ("ncall", 10), 2: ("tsub", 8), 3: ("ttot", 8), 4: ("tavg", 8)}
            yappi.get_func_stats().sort("tsub").print_all(out=out, columns=columns)
            yappi.get_thread_stats().print_all(out=out)

    signal.signal(signal.SIGUSR1, dump)
    yappi.set_clock_type("cpu")
    yappi.start()


def serve(config: dict[str, Any]) -> None:
    """In a subprocess: the web app under uvicorn, as the Procfile runs it."""
    import uvicorn

    from bot.deps import build_deps
    from bot.web.app import create_app

    app = create_app(build_deps(settings_for(config)))
    profile_on_signal("web")
    uvicorn.run(app, host="127.0.0.1", port=int(config["port"]), log_level="warning")


def work(config: dict[str, Any]) -> None:
    """In a subprocess: ``signoff worker`` (its recovery loop included, no scheduler)."""
    from bot.worker import run_worker

    profile_on_signal("worker")
    run_worker(settings_for(config), with_scheduler=False, check_model=False, kind=config["worker_class"])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **extra, "PYTHONPATH": path}


def spawn(mode: str, config: dict[str, Any], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen([sys.executable, __file__, mode, json.dumps(config)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


# ----------------------------------------------------------------------------- the stand-ins, watched


@dataclass
class Run:
    token: str
    sent: float = 0.0
    model_paused: float | None = None  # FakeOpenAI answered with the gated call
    card: float | None = None  # the card's chat.postMessage reached FakeSlack
    card_at: tuple[str, str] | None = None
    clicked: float | None = None
    tool_started: float | None = None
    answered: float | None = None
    card_seen: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Watch:
    """What the stand-ins saw, per run token, handed to the event loop that waits for it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()

    def add(self, token: str) -> Run:
        run = Run(token)
        with self.lock:
            self.runs[token] = run
        return run

    def model_replied(self, token: str, when: float) -> None:
        with self.lock:
            run = self.runs.get(token)
            if run is not None and run.model_paused is None:
                run.model_paused = when

    def posted(self, args: dict[str, Any], answer: dict[str, Any], when: float) -> None:
        found = TOKEN.search(json.dumps(args.get("blocks") or "") + str(args.get("text") or ""))
        if found is None:
            return
        with self.lock:
            run = self.runs.get(found.group(0))
        if run is None:
            return
        text = str(args.get("text") or "")
        if APPROVE_ID in json.dumps(args.get("blocks") or "") and run.card is None:
            run.card = when
            run.card_at = (str(answer.get("channel")), str(answer.get("ts")))
            self.loop.call_soon_threadsafe(run.card_seen.set)
        elif run.answered is None and (
            text.startswith("Done ") or "Done " + run.token in json.dumps(args.get("blocks") or "")
        ):
            run.answered = when
            self.loop.call_soon_threadsafe(run.done.set)


def make_slack(watch: Watch) -> Any:
    from tests.fakes.slack_server import FakeSlack

    class WatchedSlack(FakeSlack):
        def _handle_api(self, method: str, args: dict[str, Any], token: str | None) -> Any:
            arrived = time.monotonic()
            answer = super()._handle_api(method, args, token)
            body = answer[2]
            if method == "chat.postMessage" and body.get("ok"):
                watch.posted(args, body, arrived)
            return answer

    return WatchedSlack()


def responder(watch: Watch) -> Any:
    from tests.fakes.openai_server import text, tool_call

    def answer(body: dict[str, Any]) -> Any:
        messages = body.get("messages") or []
        found = TOKEN.search(json.dumps(messages))
        token = found.group(0) if found else "tok-000000000000"
        if any(m.get("role") == "tool" for m in messages):
            return text(f"Done {token}.")
        watch.model_replied(token, time.monotonic())
        return tool_call("refund", {"customer_id": token, "amount": 5})

    return answer


# ----------------------------------------------------------------------------- clients


def approve_click(slack: Any, run: Run) -> str:
    """The requester's signed Approve click on the run's card, built from the card itself."""
    from bot.slack import cards
    from tests.fakes import signing

    assert run.card_at is not None
    channel, ts = run.card_at
    message = slack.message(channel, ts)
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == cards.APPROVE:
                return signing.block_action_body(
                    cards.APPROVE, element["value"], REQUESTER, channel, ts, block_id=block.get("block_id", ""),
                    message=message, thread_ts=message.get("thread_ts"), button_text="Approve",
                )
    raise RuntimeError(f"the card of {run.token} has no Approve button")


async def post(client: httpx.AsyncClient, body: str) -> None:
    from tests.fakes import signing

    response = await client.post("/slack/events", content=body, headers=signing.sign(SECRET, body))
    if response.status_code != 200:
        raise RuntimeError(f"the web app answered {response.status_code}: {response.text[:200]}")


async def start(client: httpx.AsyncClient, watch: Watch) -> Run:
    from tests.fakes import signing

    run = watch.add(f"tok-{uuid.uuid4().hex[:12]}")
    body = signing.slash_command_body("/agent", f"bench refund customer {run.token} $5", user_id=REQUESTER,
                                      channel_id=CHANNEL)
    run.sent = time.monotonic()
    await post(client, body)
    return run


async def click(client: httpx.AsyncClient, slack: Any, run: Run, limit: asyncio.Semaphore) -> None:
    await asyncio.wait_for(run.card_seen.wait(), RUN_TIMEOUT_S)
    async with limit:
        body = approve_click(slack, run)
        run.clicked = time.monotonic()
        await post(client, body)
    await asyncio.wait_for(run.done.wait(), RUN_TIMEOUT_S)


async def drive(url: str, slack: Any, watch: Watch, args: argparse.Namespace) -> tuple[list[Run], float]:
    limits = httpx.Limits(max_connections=args.starters + args.clickers)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        began = time.monotonic()
        if args.unloaded:
            runs = []
            one = asyncio.Semaphore(1)
            for _ in range(args.runs):
                run = await start(client, watch)
                await click(client, slack, run, one)
                runs.append(run)
            return runs, time.monotonic() - began
        todo = iter(range(args.runs))
        clickers = asyncio.Semaphore(args.clickers)
        followups: list[asyncio.Task[None]] = []
        runs = []

        async def starter() -> None:
            for _ in todo:
                run = await start(client, watch)
                runs.append(run)
                followups.append(asyncio.create_task(click(client, slack, run, clickers)))

        await asyncio.gather(*(starter() for _ in range(args.starters)))
        await asyncio.gather(*followups)
        return runs, max(r.answered or 0.0 for r in runs) - began


# ----------------------------------------------------------------------------- one repeat


def one_repeat(args: argparse.Namespace, worker_class: str, workdir: Path, tag: str) -> dict[str, Any]:
    from redis import Redis

    from bench.schemas import drop_schema, fresh_database
    from storage.database import Database
    from tests.fakes.openai_server import FakeOpenAI

    base = None if args.sqlite else args.database_url
    db_url, schema = fresh_database(base, workdir, tag)
    queue = f"signoff-bench-{uuid.uuid4().hex[:10]}"
    tool_key = f"{queue}:tool-started"
    redis = Redis.from_url(args.redis_url)
    processes: list[subprocess.Popen[bytes]] = []
    loop = asyncio.new_event_loop()
    watch = Watch(loop)
    db = Database(db_url)
    try:
        db.upgrade()
        with make_slack(watch) as slack, FakeOpenAI() as openai:
            openai.set_responder(responder(watch))
            config = {"database_url": db_url, "redis_url": args.redis_url, "slack_token": slack.bot_token,
                      "slack_api_url": slack.base_url, "openai_base_url": openai.base_url, "queue": queue,
                      "port": free_port(), "worker_class": worker_class}
            env = child_env({"BENCH_REDIS_URL": args.redis_url, "BENCH_TOOL_KEY": tool_key,
                             "OPENAI_BASE_URL": openai.base_url, "OPENAI_API_KEY": "sk-bench-fake"})
            processes.append(spawn("--serve", config, workdir / f"web-{tag}.log", env))
            for i in range(args.workers):
                processes.append(spawn("--work", config, workdir / f"worker-{tag}-{i}.log", env))
            url = f"http://127.0.0.1:{config['port']}"

            def healthy() -> bool:
                for p in processes:
                    if p.poll() is not None:
                        logs = "\n".join(f.read_text(errors="replace")[-1500:] for f in workdir.glob(f"*-{tag}*.log"))
                        raise RuntimeError(f"a process exited ({p.returncode}):\n{logs}")
                try:
                    return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(healthy, STARTUP_TIMEOUT_S, "the web app")
            wait_until(lambda: len(redis.smembers(f"rq:workers:{queue}")) >= args.workers, STARTUP_TIMEOUT_S,
                       "the workers")
            uptime = os.getloadavg()[0]
            try:
                runs, wall = loop.run_until_complete(drive(url, slack, watch, args))
            except TimeoutError:
                stuck = [r for r in watch.runs.values() if r.answered is None][:3]
                logs = "\n".join(f.read_text(errors="replace")[-1500:] for f in workdir.glob(f"*-{tag}*.log"))
                posted = [c.args for c in slack.calls_to("chat.postMessage")][-3:]
                states = [(r.status, r.error) for r in db.list_runs(limit=3)]
                raise RuntimeError(f"runs did not finish, e.g. {stuck}\nruns: {states}\nlast posts: {posted}\n"
                                   f"{logs}") from None
            time.sleep(1.0)  # anything doubled would show up now
            started = [json.loads(x) for x in redis.lrange(tool_key, 0, -1)]
        by_token = Counter(token for token, _, _ in started)
        for token, when, _ in started:
            run = watch.runs.get(token)
            if run is not None and run.tool_started is None:
                run.tool_started = when
        return summarise(args, worker_class, runs, wall, by_token, db, uptime)
    finally:
        if os.environ.get("BENCH_PROFILE"):
            import signal

            for p in processes:
                p.send_signal(signal.SIGUSR1)
            time.sleep(20)
        for p in processes:
            stop(p)
        loop.close()
        for logfile in workdir.glob(f"*-{tag}*.log"):
            logged = logfile.read_text(errors="replace")
            if "Traceback" in logged:
                print(f"  warning: {logfile.name} logged errors:\n{logged[-1500:]}", file=sys.stderr)
        queue_keys = [*redis.keys(f"rq:*{queue}*"), tool_key.encode()]
        redis.delete(*queue_keys)
        db.dispose()
        if schema:
            drop_schema(args.database_url, schema)


def summarise(
    args: argparse.Namespace, worker_class: str, runs: list[Run], wall: float, tools: Counter[str], db: Any,
    load: float,
) -> dict[str, Any]:
    from storage.records import RunStatus

    finished = db.list_runs(limit=10 * len(runs) + 10)
    completed = sum(1 for r in finished if r.status == RunStatus.COMPLETED)
    executed = counts_per_run(db)
    tokens = [r.token for r in runs]
    return {
        "worker_class": worker_class,
        "runs": len(runs),
        "completed": completed,
        "tool_once": sum(1 for t in tokens if tools[t] == 1),
        "tool_doubled": sum(1 for t in tokens if tools[t] > 1),
        "tool_missing": sum(1 for t in tokens if tools[t] == 0),
        "claimed_once": sum(1 for r in finished if executed["claims"][r.id] == 1),
        "audit_executed_once": sum(1 for r in finished if executed["audit"][r.id] == 1),
        "runs_per_min": 60 * len(runs) / wall,
        "pause_to_card": ms([r.card - r.model_paused for r in runs if r.card and r.model_paused]),
        "slash_to_card": ms([r.card - r.sent for r in runs if r.card]),
        "click_to_tool": ms([r.tool_started - r.clicked for r in runs if r.tool_started and r.clicked]),
        "click_to_answer": ms([r.answered - r.clicked for r in runs if r.answered and r.clicked]),
        "load": load,
    }


def counts_per_run(db: Any) -> dict[str, Counter[str]]:
    """Per run: the tool's claim rows that succeeded, and its ``tool.executed`` audit events
    (chained or still waiting for the sealer)."""
    from sqlalchemy import func, select

    from storage import schema as t

    out: dict[str, Counter[str]] = {"claims": Counter(), "audit": Counter()}
    with db.engine.connect() as conn:
        claims = select(t.tool_executions.c.run_id, func.count()).where(
            t.tool_executions.c.status == "succeeded").group_by(t.tool_executions.c.run_id)
        out["claims"].update(dict(conn.execute(claims).all()))
        for table in (t.audit_events, getattr(t, "audit_pending", None)):
            if table is None:
                continue
            events = select(table.c.run_id, func.count()).where(table.c.action == "tool.executed").group_by(
                table.c.run_id)
            out["audit"].update(dict(conn.execute(events).all()))
    return out


def ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    ordered = sorted(values)
    return {"p50": 1000 * statistics.median(ordered), "p95": 1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)],
            "max": 1000 * ordered[-1]}


# ----------------------------------------------------------------------------- report


def report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    backend = "sqlite" if args.sqlite else "postgresql"
    mode = "unloaded (one run at a time)" if args.unloaded else (
        f"{args.starters} starters, {args.clickers} clicks in flight")
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {backend}, web + {args.workers} workers, {mode}\n")
    print("| worker | repeat | runs | runs/min | pause→card p50 | slash→card p50 | click→tool p50 / p95 | "
          "click→answer p50 | completed | tool once | doubled | missing | claims once | audit once | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, r in enumerate(rows):
        print(f"| {r['worker_class']} | {i} | {r['runs']} | {r['runs_per_min']:.0f} | "
              f"{r['pause_to_card']['p50']:.1f} | {r['slash_to_card']['p50']:.1f} | "
              f"{r['click_to_tool']['p50']:.1f} / {r['click_to_tool']['p95']:.1f} | "
              f"{r['click_to_answer']['p50']:.1f} | {r['completed']} | {r['tool_once']} | {r['tool_doubled']} | "
              f"{r['tool_missing']} | {r['claimed_once']} | {r['audit_executed_once']} | {r['load']:.1f} |")
    for kind in dict.fromkeys(r["worker_class"] for r in rows):
        mine = [r for r in rows if r["worker_class"] == kind]
        print(f"\n{kind}: medians of {len(mine)} repeats: "
              f"runs/min {statistics.median(r['runs_per_min'] for r in mine):.0f}, "
              f"pause→card p50 {statistics.median(r['pause_to_card']['p50'] for r in mine):.1f} ms, "
              f"click→tool p50 {statistics.median(r['click_to_tool']['p50'] for r in mine):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL base URL (a fresh schema per repeat)")
    parser.add_argument("--sqlite", action="store_true", help="an SQLite file instead of PostgreSQL")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="simple", help="comma-separated: fork, simple (alternated)")
    parser.add_argument("--unloaded", action="store_true", help="one run at a time (latencies, not throughput)")
    parser.add_argument("--starters", type=int, default=8, help="clients sending /agent commands")
    parser.add_argument("--clickers", type=int, default=16, help="Approve clicks in flight at most")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(json.loads(args.serve))
        return
    if args.work:
        work(json.loads(args.work))
        return
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be between 1 and {MAX_RUNS}")
    for url in (args.database_url, args.redis_url):
        if httpx.URL(url.replace("postgresql+psycopg", "postgresql")).host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"loopback only: {url}")
    rows = []
    classes = args.worker_class.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for kind in classes if i % 2 == 0 else list(reversed(classes)):
                row = one_repeat(args, kind, Path(tmp), f"{i}-{kind}")
                print(json.dumps({"repeat": i, **row}), file=sys.stderr)
                rows.append(row)
    report(args, rows)


if __name__ == "__main__":
    main()
