"""The web process: FastAPI with Slack at ``POST /slack/events`` (and over Socket Mode when
``SLACK_APP_TOKEN`` is set), the REST API, the admin console (``/console``, ``bot.web.console``)
and ``/healthz``.

FastAPI only translates here: Slack traffic goes to bolt's ``AsyncApp`` (``bot.slack.app``), API
calls to ``bot.web.api``; both call the same domain functions in ``runner``. Every request body is bounded
(``bot.web.limits``: 413 past ``MAX_REQUEST_BODY_BYTES``, before anything parses it).
``uvicorn --factory bot.web.app:create_app`` builds the app from the environment's settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.deps import Deps, build_deps
from bot.preflight import Report
from bot.settings import load_settings
from bot.web.limits import install_limits
from storage.timeouts import HEALTHCHECK_TIMEOUT_S

log = logging.getLogger(__name__)


async def _probe(check: Any) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout=HEALTHCHECK_TIMEOUT_S)
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


@asynccontextmanager
async def socket_mode_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``SLACK_APP_TOKEN``: Socket Mode on the same bolt app (``app.state.slack``), connected at
    start-up and closed at shutdown (``bot.slack.socket_mode``). A token Slack refuses is one error line;
    HTTP mode goes on either way. At shutdown the card updates already queued are finished too."""
    bolt = getattr(app.state, "slack", None)
    if bolt is None:  # Slack is not configured: nothing to connect
        app.state.socket_mode = None
        yield
        return
    from bot.slack.socket_mode import socket_mode

    try:
        async with socket_mode(bolt, app.state.deps.settings) as connection:
            app.state.socket_mode = connection
            yield
    finally:
        aclose = getattr(bolt.client, "aclose", None)  # the keep-alive session (bot.slack.app)
        if aclose is not None:
            await aclose()
        await asyncio.to_thread(app.state.deps.close_card_queue)  # the decisions' cards, updated before exit


def create_app(deps: Deps | None = None) -> FastAPI:
    """The web app (``uvicorn --factory bot.web.app:create_app``): from the environment's settings,
    or from the container a test or ``signoff dev`` built."""
    if deps is None:
        deps = deps_from_environment()
    app = FastAPI(
        title="signoff",
        version="0.1.0",
        description="Human sign-off for AI agents: approvals, runs and the audit log.",
        docs_url=None,  # served below from the installed Swagger UI, not a CDN
        lifespan=socket_mode_lifespan,
    )
    app.state.deps = deps
    install_docs(app)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        """Somewhere useful: the console (which asks people to sign in)."""
        return RedirectResponse("/console/", status_code=307)

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

    from bot.slack.app import mount_slack
    from bot.web.api import install_api
    from bot.web.console import install_console

    install_api(app, deps)
    install_console(app, deps)
    if deps.settings.slack_configured:
        mount_slack(app, deps)
    else:
        log.warning("Slack is not configured (%s): serving the API only",
                    ", ".join(v for v, _ in deps.settings.slack_problems()))
    # Added last, so it is the outermost layer: a body over MAX_REQUEST_BODY_BYTES is a 413 before
    # any other middleware or route reads a byte of it.
    install_limits(app)
    return app


def deps_from_environment() -> Deps:
    """The container for ``uvicorn --factory``: settings from the environment, checked at once
    (every problem in one error), then built."""
    from bot.preflight import check, load_registry

    settings = load_settings()
    report = Report()
    registry = load_registry(settings, report)
    if registry is not None:
        report, db = check(settings, registry, need_slack=False, model=False, create_database=True)
        if db is not None:
            db.dispose()
    report.raise_problems()
    for warning in report.warnings:
        log.warning("%s", warning)
    return build_deps(settings, registry=registry)


def install_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the ``swagger-ui-bundle`` package, so it works offline."""
    import swagger_ui_bundle

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="signoff API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )
