"""Console sessions: a signed cookie, an idle timeout, and a CSRF token per session.

The cookie holds the Slack user id the person signed in as (an invite link or "Sign in with
Slack"), when they signed in and when they last did something, and a random CSRF token. It is
signed with ``SIGNOFF_SECRET_KEY`` (itsdangerous), HttpOnly and SameSite=Lax. Times come from the
database's clock, so a test moves them without sleeping. A session idle for
``CONSOLE_IDLE_TIMEOUT_S`` (or older than ``CONSOLE_SESSION_MAX_S``) is refused; the live-refresh
poll does not count as activity, or an open tab would never time out.

Every POST form carries the session's CSRF token in a hidden field; a POST without it, or with
another one, is a 403 before anything else is read from the form.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import FormData
from starlette.responses import Response

from storage.records import Principal
from storage.timeouts import CONSOLE_IDLE_TIMEOUT_S, CONSOLE_SESSION_MAX_S

log = logging.getLogger(__name__)

COOKIE = "signoff_console"
CSRF_FIELD = "csrf"
_SALT = "signoff.console.session.v1"


class NeedLogin(Exception):
    """No signed-in person (or the session timed out): GET pages redirect to the login page."""

    def __init__(self, reason: str = "Sign in to use the console.") -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A POST without the session's CSRF token: 403."""


@dataclass
class Session:
    """What the cookie carries. ``user_id`` is None before sign-in (the CSRF token is still there,
    so the login forms are protected too)."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user_id: str | None = None
    name: str | None = None
    issued: float | None = None
    seen: float | None = None
    flash: str | None = None
    oidc: dict[str, Any] | None = None
    expired: bool = False
    """Set when the cookie held a session that timed out (not stored)."""
    dirty: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"c": self.csrf}
        for key, value in (("u", self.user_id), ("n", self.name), ("i", self.issued), ("s", self.seen),
                           ("f", self.flash), ("o", self.oidc)):
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(
            csrf=str(data["c"]),
            user_id=data.get("u"),
            name=data.get("n"),
            issued=data.get("i"),
            seen=data.get("s"),
            flash=data.get("f"),
            oidc=data.get("o"),
        )

    def sign_in(self, user_id: str, name: str | None, now: datetime) -> None:
        """A new session for this person: a fresh CSRF token (no fixation of a pre-login one)."""
        self.csrf = secrets.token_urlsafe(24)
        self.user_id, self.name = user_id, name
        self.issued = self.seen = now.timestamp()
        self.oidc = None
        self.dirty = True

    def sign_out(self) -> None:
        self.csrf = secrets.token_urlsafe(24)
        self.user_id = self.name = self.issued = self.seen = None
        self.dirty = True

    def say(self, message: str) -> None:
        """A one-line message shown on the next page (after a redirect)."""
        self.flash = message
        self.dirty = True

    def pop_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message is not None:
            self.dirty = True
        return message

    @property
    def principal(self) -> Principal | None:
        return Principal(self.user_id, self.name) if self.user_id else None


class Sessions:
    """Reads, checks and writes the session cookie."""

    def __init__(self, secret: str, clock: Callable[[], datetime], *, secure: bool = False,
                 idle_s: int = CONSOLE_IDLE_TIMEOUT_S, max_s: int = CONSOLE_SESSION_MAX_S) -> None:
        self.serializer = URLSafeSerializer(secret, salt=_SALT)
        self.clock = clock
        self.secure = secure
        self.idle_s = idle_s
        self.max_s = max_s

    def load(self, request: Request) -> Session:
        """The request's session (cached on the request); a new anonymous one when there is none,
        it is not ours, or it timed out."""
        found = getattr(request.state, "console_session", None)
        if isinstance(found, Session):
            return found
        session = self._read(request.cookies.get(COOKIE))
        request.state.console_session = session
        return session

    def _read(self, raw: str | None) -> Session:
        if not raw:
            return Session(dirty=True)
        try:
            data = self.serializer.loads(raw)
            session = Session.from_dict(data)
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return Session(dirty=True)
        if session.user_id is not None:
            now = self.clock().timestamp()
            idle = now - float(session.seen or 0)
            age = now - float(session.issued or 0)
            if idle > self.idle_s or age > self.max_s or idle < -60:
                session.sign_out()
                session.expired = True
        return session

    def touch(self, session: Session) -> None:
        """Something the person did: the idle clock starts again."""
        if session.user_id is not None:
            session.seen = self.clock().timestamp()
            session.dirty = True

    def save(self, session: Session, response: Response) -> None:
        if not session.dirty:
            return
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(session.to_dict()),
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def user(self, request: Request) -> Principal:
        """The signed-in person, or ``NeedLogin``."""
        session = self.load(request)
        principal = session.principal
        if principal is None:
            if session.expired:
                raise NeedLogin("Your session ended (idle too long): sign in again.")
            raise NeedLogin()
        return principal

    @staticmethod
    def check_csrf(session: Session, form: FormData) -> None:
        given = form.get(CSRF_FIELD)
        if not isinstance(given, str) or not given or not hmac.compare_digest(given, session.csrf):
            raise CsrfRefused()


def secret_key(configured: str | None) -> str:
    """``SIGNOFF_SECRET_KEY``, or (in development) a random key for this process, with a warning."""
    if configured:
        return configured
    log.warning(
        "SIGNOFF_SECRET_KEY is not set: console sessions are signed with a random key of this process "
        "(they end when it restarts, and several web processes will not share them)"
    )
    return secrets.token_urlsafe(48)
