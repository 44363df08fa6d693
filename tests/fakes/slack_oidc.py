"""Slack's "Sign in with Slack" (OpenID Connect), locally: ``openid.connect.token`` and ``userInfo``.

``SlackOIDC`` is :class:`tests.fakes.slack_server.FakeSlack` plus a registered OpenID client.
Slack's authorize page is a person clicking "Allow" on slack.com; a test plays it with
:meth:`authorize` (it checks the client id and redirect URI as Slack does and returns the URL
Slack would send the browser back to, carrying a one-time code and the state). The server then
calls, over real HTTP:

- ``openid.connect.token`` with the client id and secret (HTTP Basic, as slack_sdk sends them),
  the code and the redirect URI: a code works once, for its redirect URI; the answer carries an
  access token and an ID token (a JWT whose payload holds the nonce; its signature is not real);
- ``openid.connect.userInfo`` with that access token as a Bearer token: the person's claims,
  ``https://slack.com/user_id`` among them.

Other methods behave as in ``FakeSlack`` (they need the bot token).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.slack_server import TEAM_ID, FakeSlack, SlackCall, _Handler, _parse_args

Json = dict[str, Any]
TOKEN_METHOD = "openid.connect.token"
USERINFO_METHOD = "openid.connect.userInfo"


def _b64(data: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class SlackOIDC(FakeSlack):
    client_id = "1111.2222"
    client_secret = "oidc-client-secret"

    def __init__(self, bot_token: str | None = None) -> None:
        super().__init__(bot_token)
        self.redirect_uris: set[str] = set()
        """Registered redirect URIs; empty: any (as long as the token call repeats it)."""
        self._codes: dict[str, Json] = {}
        self._access: dict[str, str] = {}  # access token -> user id
        self._oidc_lock = threading.Lock()

    def start(self) -> SlackOIDC:
        super().start()
        assert self._server is not None
        fake = self

        class Handler(_OIDCHandler):
            slack = fake
            oidc = fake

        # FakeSlack refuses any token but the bot token before it looks a method up, and never
        # sees HTTP Basic credentials: the OpenID methods are answered by a handler of their own.
        self._server.RequestHandlerClass = Handler
        return self

    def __enter__(self) -> SlackOIDC:
        return self.start()

    # -- Slack's authorize page, as a person who clicks "Allow" ----------------------------------

    def authorize(self, url: str, user_id: str) -> str:
        """The redirect Slack sends after ``user_id`` allows the sign-in that ``url`` (our authorize
        URL, with its query) asks for."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query.get("client_id") == self.client_id, query
        assert query.get("response_type") == "code" and "openid" in query.get("scope", "").split()
        redirect = query["redirect_uri"]
        assert not self.redirect_uris or redirect in self.redirect_uris, redirect
        code = secrets.token_urlsafe(16)
        with self._oidc_lock:
            self._codes[code] = {"user": user_id, "redirect_uri": redirect, "nonce": query.get("nonce")}
        return f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    # -- the Web API methods ---------------------------------------------------------------------

    def _oidc(self, method: str, args: Json, authorization: str) -> tuple[int, Json]:
        with self._oidc_lock:
            answer = self._token(args, authorization) if method == TOKEN_METHOD else self._userinfo(authorization)
        with self._lock:
            self.calls.append(SlackCall(method=method, args=args, token=None, response=answer))
        return 200, answer

    def _token(self, args: Json, authorization: str) -> Json:
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return {"ok": False, "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret"}
        grant = self._codes.pop(str(args.get("code")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if args.get("redirect_uri") != grant["redirect_uri"]:
            return {"ok": False, "error": "bad_redirect_uri"}
        access = "xoxp-oidc-" + secrets.token_hex(8)
        self._access[access] = grant["user"]
        claims = {"iss": "https://slack.com", "sub": grant["user"], "aud": self.client_id,
                  "https://slack.com/user_id": grant["user"], "https://slack.com/team_id": TEAM_ID}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.not-a-real-signature"
        return {"ok": True, "access_token": access, "token_type": "Bearer", "id_token": id_token}

    def _userinfo(self, authorization: str) -> Json:
        token = authorization.removeprefix("Bearer ").strip()
        user_id = self._access.get(token)
        if user_id is None:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        user = self.users.get(user_id, {})
        profile = user.get("profile", {})
        return {
            "ok": True,
            "sub": user_id,
            "https://slack.com/user_id": user_id,
            "https://slack.com/team_id": TEAM_ID,
            "email": profile.get("email"),
            "email_verified": True,
            "name": user.get("real_name") or user_id,
        }


class _OIDCHandler(_Handler):
    """FakeSlack's request handler, with the two OpenID Connect methods answered by ``oidc``."""

    oidc: SlackOIDC

    def _dispatch(self, body: bytes) -> None:
        method = urlsplit(self.path).path.removeprefix("/api/")
        if method not in (TOKEN_METHOD, USERINFO_METHOD):
            super()._dispatch(body)
            return
        args = _parse_args(self, body)
        status, answer = self.oidc._oidc(method, args, self.headers.get("Authorization", ""))
        self._send(status, json.dumps(answer).encode("utf-8"), "application/json; charset=utf-8", {})
