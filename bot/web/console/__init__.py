"""The admin console: server-rendered pages on the same FastAPI app, under ``/console``.

Pending decisions (approve, reject with a reason, edit & approve, answer, mark done), runs (a
timeline, retry, cancel), starting a run, and the audit log (filters, export, the chain's
verification). People sign in with Slack (OpenID Connect) or a one-time link from
``signoff console invite U123``; every decision goes through the decision service as them.

Routes live in small modules (``login``, ``pending``, ``runs``, ``audit``); templates in
``templates/``, one stylesheet and one tiny optional script (live refresh) in ``static/``.
Every page works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from bot.deps import Deps
from bot.web.console import audit, login, pending, runs
from bot.web.console.common import PREFIX, STATIC, Console, make_templates
from bot.web.console.sessions import CsrfRefused, NeedLogin, Sessions, secret_key

__all__ = ["install_console"]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self' https://slack.com",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a login link's secret is in the URL: never send it on
    "Cache-Control": "no-store",
}


def install_console(app: FastAPI, deps: Deps) -> Console:
    """Mount the console on ``app``: its routes, its static files, its session handling."""
    settings = deps.settings
    key = settings.signoff_secret_key.get_secret_value() if settings.signoff_secret_key else None
    public = settings.signoff_public_url or ""
    console = Console(
        deps=deps,
        sessions=Sessions(secret_key(key), deps.clock, secure=public.startswith("https://")),
        templates=make_templates(),
        slack_sign_in=bool(settings.slack_client_id and settings.slack_client_secret),
    )
    app.state.console = console
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(STATIC)), name="console-static")
    for module in (login, pending, runs, audit):
        app.include_router(module.router(console), include_in_schema=False)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        console.session(request).say(exc.reason)
        if request.method == "GET" and not request.url.path.endswith(".json"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)
        return console.render(request, "error.html", {"title": "Signed out", "message": exc.reason},
                              status_code=401)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        message = "This form is out of date or did not come from the console (missing or wrong CSRF token)."
        return console.render(request, "error.html", {"title": "Refused", "message": message}, status_code=403)

    @app.middleware("http")
    async def console_sessions(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if not path.startswith(PREFIX) or path.startswith(f"{PREFIX}/static"):
            return await call_next(request)
        session = console.session(request)
        polled = path.endswith("/live.json") or request.headers.get("x-signoff-live") == "1"
        if not polled:  # live refresh is not activity: an open tab still times out
            console.sessions.touch(session)
        response = await call_next(request)
        console.sessions.save(session, response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return console
