"""``signoff dev``: the web app and a worker together, for a local try-out.

Checks what is missing first (Slack credentials, Redis) and says so in one line instead of a
traceback; then starts ``signoff worker`` as a subprocess and the web app under uvicorn.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bot.settings import Settings
from bot.worker import connect_redis


def preflight(settings: Settings) -> None:
    """Raise ConfigError naming the first thing that is missing."""
    settings.require_slack()
    connect_redis(settings.redis_url).close()


def worker_command() -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; main()", "worker"]


def run_dev(settings: Settings, port: int = 3000) -> None:
    preflight(settings)
    import uvicorn

    from bot.app import create_app
    from bot.deps import build_deps

    app = create_app(build_deps(settings))
    worker = subprocess.Popen(worker_command(), env=os.environ.copy())
    print(f"signoff dev: web on http://127.0.0.1:{port} (Slack: POST /slack/events), worker pid {worker.pid}")
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
