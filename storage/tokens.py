"""API tokens: bearer secrets that belong to a principal, stored hashed, created and revoked.

A token reads ``so_<id>_<secret>``. Only the SHA-256 of the secret is stored; the whole token is
shown once, when it is created. Looking a token up is by its id, then a constant-time comparison
of the hash, so neither the lookup nor the comparison says how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import insert, select, update

from storage import schema as t
from storage.audit_log import AuditLog
from storage.codec import dumps
from storage.errors import InvalidInput, NotFound
from storage.records import Actor, ApiToken

TOKEN_PREFIX = "so_"
SCOPES = ("read", "decide", "export")
"""read: list and read approvals and runs; decide: approve, reject, edit, answer; export: the audit log."""

PRINCIPAL_KINDS = ("user", "service")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``so_<id>_<secret>`` -> (id, secret); None for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not token_id or not secret or len(token_id) > 16:
        return None
    return token_id, secret


class TokenStore(AuditLog):
    """Create, list, revoke and authenticate API tokens; every change is audited."""

    def create_token(
        self,
        *,
        name: str,
        principal_kind: str,
        principal_id: str,
        scopes: Sequence[str],
        principal_name: str | None = None,
        created_by: str | None = None,
    ) -> tuple[ApiToken, str]:
        """Returns the token's record and the whole token, which is never shown again."""
        if principal_kind not in PRINCIPAL_KINDS:
            raise InvalidInput(f"principal kind must be one of {', '.join(PRINCIPAL_KINDS)}", "kind")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown or not scopes:
            got = ", ".join(scopes) or "none"
            raise InvalidInput(f"scopes must be some of {', '.join(SCOPES)} (got {got})", "scopes")
        if principal_kind == "service" and not principal_id.startswith("svc:"):
            principal_id = f"svc:{principal_id}"
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.transaction() as conn:
            conn.execute(
                insert(t.api_tokens).values(
                    id=token_id,
                    name=name,
                    principal_kind=principal_kind,
                    principal_id=principal_id,
                    principal_name=principal_name,
                    scopes=dumps(sorted(set(scopes))),
                    secret_hash=_hash(secret),
                    created_by=created_by,
                    created_at=now,
                )
            )
            self._append(
                conn,
                action="token.created",
                actor=Actor(created_by, None) if created_by else Actor.system("signoff cli"),
                outcome="created",
                details={
                    "token_id": token_id,
                    "name": name,
                    "principal": principal_id,
                    "kind": principal_kind,
                    "scopes": sorted(set(scopes)),
                },
            )
        return self.get_token(token_id), f"{TOKEN_PREFIX}{token_id}_{secret}"

    def get_token(self, token_id: str) -> ApiToken:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).mappings().first()
        if row is None:
            raise NotFound("token", token_id)
        return ApiToken.from_row(row)

    def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        query = select(t.api_tokens).order_by(t.api_tokens.c.created_at)
        if not include_revoked:
            query = query.where(t.api_tokens.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [ApiToken.from_row(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, token_id: str, *, revoked_by: str | None = None) -> ApiToken:
        now = self.clock()
        with self.transaction() as conn:
            result = conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if result.rowcount != 1:
                exists = conn.execute(select(t.api_tokens.c.id).where(t.api_tokens.c.id == token_id)).first()
                if exists is None:
                    raise NotFound("token", token_id)
                raise InvalidInput(f"token {token_id} is already revoked", "token")
            self._append(
                conn,
                action="token.revoked",
                actor=Actor(revoked_by, None) if revoked_by else Actor.system("signoff cli"),
                outcome="revoked",
                details={"token_id": token_id},
            )
        return self.get_token(token_id)

    def authenticate_token(self, token: str) -> ApiToken | None:
        """The live token this bearer string is, or None (unknown, malformed, wrong or revoked)."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        with self.engine.connect() as conn:
            row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).mappings().first()
        expected = row["secret_hash"] if row is not None else _hash("x" * 43)
        matches = hmac.compare_digest(expected, _hash(secret))
        if row is None or not matches or row["revoked_at"] is not None:
            return None
        return ApiToken.from_row(row)
