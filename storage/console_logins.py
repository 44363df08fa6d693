"""One-time console login links: ``signoff console invite U123`` makes one, the console redeems it.

A link reads ``/console/login/<id>_<secret>``. Only the SHA-256 of the secret is stored; the link
is shown once. Redeeming is one conditional UPDATE (unused, unexpired, matching hash), so a link
signs in once, however many browsers race with it. Both ends are audited (``console.invited``,
``console.login``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import insert, select, update

from storage import schema as t
from storage.audit_log import AuditLog
from storage.codec import aware
from storage.errors import InvalidInput
from storage.records import Actor
from storage.timeouts import CONSOLE_INVITE_TTL_S

_USER_ID = re.compile(r"[UW][A-Z0-9_]{1,31}")
"""A Slack user id (``U012ABCDEF``; ``W`` for Enterprise Grid)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_login(token: str) -> tuple[str, str] | None:
    """``<id>_<secret>`` -> (id, secret); None for anything else."""
    login_id, sep, secret = token.partition("_")
    if not sep or not login_id or not secret or len(login_id) > 16 or len(secret) > 128:
        return None
    return login_id, secret


class ConsoleLoginStore(AuditLog):
    """Create and redeem one-time console login links."""

    def create_console_login(
        self, user_id: str, *, created_by: str | None = None, ttl_s: int = CONSOLE_INVITE_TTL_S
    ) -> str:
        """Returns ``<id>_<secret>``: the link's last part, never shown again."""
        if not _USER_ID.fullmatch(user_id or ""):
            raise InvalidInput(f"{user_id!r} is not a Slack user id (like U012ABCDEF)", "user")
        login_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + timedelta(seconds=ttl_s)
        with self.transaction() as conn:
            conn.execute(
                insert(t.console_logins).values(
                    id=login_id,
                    secret_hash=_hash(secret),
                    user_id=user_id,
                    created_by=created_by,
                    created_at=now,
                    expires_at=expires,
                )
            )
            self._append(
                conn,
                action="console.invited",
                actor=Actor(created_by, None) if created_by else Actor.system("signoff cli"),
                outcome="created",
                details={"login_id": login_id, "user": user_id, "expires_at": expires.isoformat()},
            )
        return f"{login_id}_{secret}"

    def peek_console_login(self, token: str) -> str | None:
        """The user a live, unused link would sign in (for the confirmation page), or None."""
        parts = split_login(token)
        if parts is None:
            return None
        login_id, secret = parts
        with self.engine.connect() as conn:
            row = conn.execute(select(t.console_logins).where(t.console_logins.c.id == login_id)).mappings().first()
        expected = row["secret_hash"] if row is not None else _hash("x" * 43)
        if row is None or not hmac.compare_digest(expected, _hash(secret)) or row["used_at"] is not None:
            return None
        expires = aware(row["expires_at"])
        return str(row["user_id"]) if expires is not None and expires > self.clock() else None

    def redeem_console_login(self, token: str, *, via: str = "invite") -> str | None:
        """Use a link once: the user id it signs in, or None (unknown, wrong, used or expired).

        A refused attempt on a known link is audited too (``console.login`` with outcome
        ``refused``), so a replayed link shows in the log."""
        parts = split_login(token)
        if parts is None:
            return None
        login_id, secret = parts
        now = self.clock()
        with self.transaction() as conn:
            row = conn.execute(select(t.console_logins).where(t.console_logins.c.id == login_id)).mappings().first()
            expected = row["secret_hash"] if row is not None else _hash("x" * 43)
            if row is None or not hmac.compare_digest(expected, _hash(secret)):
                return None
            used = conn.execute(
                update(t.console_logins)
                .where(
                    t.console_logins.c.id == login_id,
                    t.console_logins.c.used_at.is_(None),
                    t.console_logins.c.expires_at > now,
                )
                .values(used_at=now)
            )
            user_id = str(row["user_id"])
            ok = used.rowcount == 1
            self._append(
                conn,
                action="console.login",
                actor=Actor(user_id, None),
                outcome="signed_in" if ok else ("refused_used" if row["used_at"] is not None else "refused_expired"),
                details={"via": via, "login_id": login_id},
            )
        return user_id if ok else None
