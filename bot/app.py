"""The web process: FastAPI with Slack at ``POST /slack/events``, the REST API and ``/healthz``.

FastAPI only translates here: Slack traffic goes to bolt's ``AsyncApp`` (``bot.slack_app``), API
calls to ``bot.api``; both call the same domain functions in ``runner``. Every request body is bounded
(``bot.limits``: 413 past ``MAX_REQUEST_BODY_BYTES``, before anything parses it).
``uvicorn --factory bot.app:create_app`` builds the app from the environment's settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.deps import Deps, build_deps
from bot.limits import install_limits
from bot.settings import load_settings
from storage.timeouts import HEALTHCHECK_TIMEOUT_S


async def _probe(check: Any) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout=HEALTHCHECK_TIMEOUT_S)
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def create_app(deps: Deps | None = None) -> FastAPI:
    """The web app (``uvicorn --factory bot.app:create_app``): from the environment's settings,
    or from the container a test or ``signoff dev`` built."""
    if deps is None:
        settings = load_settings()
        settings.require_slack()
        deps = build_deps(settings)
    app = FastAPI(
        title="signoff", version="0.1.0", description="Human sign-off for AI agents: approvals, runs and the audit log."
    )
    app.state.deps = deps
    install_limits(app)  # every route: a body over MAX_REQUEST_BODY_BYTES is a 413 before parsing

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:
        """Database and Redis reachability; 503 when either is down."""
        db_state = await _probe(deps.db.ping)
        redis_state = await _probe(deps.redis.ping)
        healthy = db_state == "ok" and redis_state == "ok"
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "database": db_state, "redis": redis_state},
            status_code=200 if healthy else 503,
        )

    from bot.api import build_router, install_error_handler
    from bot.slack_app import mount_slack

    app.include_router(build_router(deps, deps.service))
    install_error_handler(app)
    mount_slack(app, deps)
    return app
