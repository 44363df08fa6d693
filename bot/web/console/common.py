"""What every console route shares: the container, the sessions, the templates, small formatters.

Routes translate only: they read the signed-in person from the session, call the decision
service or the database, and render a template. Sensitive values are masked through
``storage.redaction`` before anything reaches a template.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from bot.deps import Deps
from bot.web.console.sessions import CSRF_FIELD, Session, Sessions
from runner import policy
from storage.errors import NotAnApprover
from storage.records import Principal, RequirementRecord
from storage.timeouts import CONSOLE_POLL_INTERVAL_S

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = "/console"


def visible(text: str) -> str:
    """Invisible and control characters (bidi overrides, zero-width, NUL...) shown as ⟦U+XXXX⟧,
    so what a person reads is every character there is (newlines and tabs stay)."""
    out = []
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            out.append(f"⟦U+{ord(ch):04X}⟧")
        else:
            out.append(ch)
    return "".join(out)


def has_hidden(text: str) -> bool:
    return visible(text) != text


def pretty(value: Any) -> str:
    """JSON for people (already masked by the caller), every character visible."""
    return visible(json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False))


def short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "—"
    seconds = int((now - then).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        text = f"{seconds}s"
    elif seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 86400:
        text = f"{seconds // 3600} h {seconds % 3600 // 60} min"
    else:
        text = f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    return f"in {text}" if future else f"{text} ago"


def stamp(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_next(value: Any, default: str = PREFIX + "/") -> str:
    """A redirect target inside the console only (never another site)."""
    text = str(value or "")
    if text.startswith(PREFIX + "/") and "//" not in text and "\\" not in text:
        return text
    return default


@dataclass
class Console:
    """The console's shared pieces, built once by ``install_console``."""

    deps: Deps
    sessions: Sessions
    templates: Jinja2Templates
    slack_sign_in: bool

    # -- sessions -------------------------------------------------------------------------------

    def session(self, request: Request) -> Session:
        return self.sessions.load(request)

    def user(self, request: Request) -> Principal:
        return self.sessions.user(request)

    async def form(self, request: Request) -> FormData:
        """The POSTed form, after its CSRF token matched the session's (else ``CsrfRefused``)."""
        form = await request.form()
        self.sessions.check_csrf(self.session(request), form)
        return form

    # -- policy, for what to show (the service checks again on every decision) -----------------

    def may_decide(self, req: RequirementRecord, who: Principal) -> bool:
        try:
            policy.check(req, who.id, self.deps.service.default_approvers, self.deps.service.directory)
        except NotAnApprover:  # SelfApproval is one too
            return False
        return True

    def is_approver(self, who: Principal) -> bool:
        return policy.is_approver(who.id, self.deps.service.default_approvers, self.deps.service.directory)

    # -- rendering ------------------------------------------------------------------------------

    def render(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        session = self.session(request)
        base = {
            "user": session.principal,
            "csrf": session.csrf,
            "csrf_field": CSRF_FIELD,
            "flash": session.pop_flash(),
            "poll_ms": CONSOLE_POLL_INTERVAL_S * 1000,
            "now": self.deps.clock(),
            "path": request.url.path,
        }
        return self.templates.TemplateResponse(request, name, base | context, status_code=status_code)

    def redirect(self, request: Request, to: str, message: str | None = None) -> Response:
        if message:
            self.session(request).say(message)
        return RedirectResponse(to, status_code=303)

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Blocking work (SQL, Slack, RQ) off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["visible"] = visible
    env.filters["pretty"] = pretty
    env.filters["short"] = short
    env.filters["stamp"] = stamp
    env.globals["ago"] = ago
    env.globals["PREFIX"] = PREFIX
    return templates
