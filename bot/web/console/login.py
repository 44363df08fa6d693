"""Signing in: one-time links (``signoff console invite``) and "Sign in with Slack" (OpenID Connect).

An invite link's GET only shows a button: chat apps and mail scanners fetch links to preview
them, and must not spend a one-time link. The POST (CSRF-checked) redeems it.

"Sign in with Slack": the browser goes to Slack's authorize page with a random ``state`` and
``nonce`` kept in the signed session; Slack sends it back with a code, which the server exchanges
(``openid.connect.token``, with the client secret, over ``SLACK_API_URL``) for a token whose
``openid.connect.userInfo`` names the person: the ``https://slack.com/user_id`` claim is who they are.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.responses import RedirectResponse, Response

from bot.web.console.common import PREFIX, Console, safe_next
from storage.records import Actor
from storage.timeouts import CONSOLE_OIDC_STATE_TTL_S

AUTHORIZE_URL = "https://slack.com/openid/connect/authorize"
SCOPES = "openid profile email"
USER_CLAIM = "https://slack.com/user_id"


def _jwt_claims(token: str) -> dict[str, Any]:
    """The payload of an ID token received straight from Slack's token endpoint over TLS (OpenID
    Connect core 3.1.3.7: its TLS identifies the issuer). Used only to check the nonce."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def router(console: Console) -> APIRouter:
    r = APIRouter(prefix=PREFIX)
    deps = console.deps
    settings = deps.settings

    def redirect_uri(request: Request) -> str:
        base = (settings.signoff_public_url or str(request.base_url)).rstrip("/")
        return f"{base}{PREFIX}/login/slack/callback"

    @r.get("/login")
    async def login_page(request: Request, next: str | None = None) -> Response:
        session = console.session(request)
        if session.principal is not None:
            return console.redirect(request, safe_next(next))
        return console.render(request, "login.html", {"title": "Sign in", "slack": console.slack_sign_in,
                                                       "next": safe_next(next)})

    @r.get("/login/slack")
    async def slack_start(request: Request, next: str | None = None) -> Response:
        if not console.slack_sign_in:
            return console.render(request, "error.html", {
                "title": "Sign in with Slack is not set up",
                "message": "Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, or ask for a login link "
                           "(signoff console invite U123)."}, status_code=404)
        session = console.session(request)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        session.oidc = {"state": state, "nonce": nonce, "at": deps.clock().timestamp(), "next": safe_next(next)}
        session.dirty = True
        query = urlencode({
            "response_type": "code",
            "scope": SCOPES,
            "client_id": settings.slack_client_id,
            "state": state,
            "nonce": nonce,
            "redirect_uri": redirect_uri(request),
        })
        return RedirectResponse(f"{AUTHORIZE_URL}?{query}", status_code=303)

    @r.get("/login/slack/callback")
    async def slack_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
        session = console.session(request)
        pending, session.oidc = session.oidc or {}, None
        session.dirty = True
        fresh = deps.clock().timestamp() - float(pending.get("at", 0)) <= CONSOLE_OIDC_STATE_TTL_S
        if error or not code or not state or not secrets.compare_digest(state, str(pending.get("state", ""))) \
                or not fresh:
            reason = f"Slack said: {error}" if error else "the sign-in did not start here or took too long"
            return console.render(request, "error.html", {"title": "Sign-in refused",
                                                          "message": f"Sign in with Slack failed: {reason}."},
                                  status_code=400)
        try:
            user_id, name = await console.call(exchange, code, redirect_uri(request), str(pending.get("nonce")))
        except (SlackApiError, ValueError) as exc:
            said = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            return console.render(request, "error.html", {"title": "Sign-in refused",
                                                          "message": f"Sign in with Slack failed: {said}."},
                                  status_code=400)
        session.sign_in(user_id, name, deps.clock())
        await console.call(deps.db.append_audit, action="console.login", actor=Actor(user_id, name),
                           outcome="signed_in", details={"via": "slack_oidc"})
        return console.redirect(request, str(pending.get("next") or f"{PREFIX}/"), f"Signed in as {name or user_id}.")

    def exchange(code: str, uri: str, nonce: str) -> tuple[str, str | None]:
        """Code -> token -> the person (blocking: runs in a thread)."""
        assert settings.slack_client_id and settings.slack_client_secret
        client = WebClient(base_url=settings.slack_api_url)
        token = client.openid_connect_token(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            code=code,
            redirect_uri=uri,
            grant_type="authorization_code",
        )
        id_token = token.get("id_token")
        if id_token and _jwt_claims(str(id_token)).get("nonce") not in (None, nonce):
            raise ValueError("the ID token's nonce is not the one this sign-in sent")
        info = WebClient(token=str(token["access_token"]), base_url=settings.slack_api_url).openid_connect_userInfo()
        user_id = info.get(USER_CLAIM)
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("Slack did not say which user signed in")
        name = info.get("name")
        return user_id, str(name) if name else None

    @r.get("/login/{token}")
    async def invite_page(request: Request, token: str) -> Response:
        user_id = await console.call(deps.db.peek_console_login, token)
        if user_id is None:
            return console.render(request, "error.html", {
                "title": "Link not valid",
                "message": "This login link was already used, has expired, or is not one of ours. "
                           "Ask for a new one (signoff console invite U123)."}, status_code=410)
        return console.render(request, "invite.html", {"title": "Sign in", "invited": user_id, "token": token})

    @r.post("/login/{token}")
    async def invite_redeem(request: Request, token: str) -> Response:
        await console.form(request)
        user_id = await console.call(deps.db.redeem_console_login, token)
        if user_id is None:
            return console.render(request, "error.html", {
                "title": "Link not valid",
                "message": "This login link was already used, has expired, or is not one of ours."}, status_code=410)
        console.session(request).sign_in(user_id, None, deps.clock())
        return console.redirect(request, f"{PREFIX}/", f"Signed in as {user_id}.")

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        await console.form(request)
        console.session(request).sign_out()
        return console.redirect(request, f"{PREFIX}/login", "Signed out.")

    return r
