"""bolt's ``AsyncApp`` on FastAPI: slash commands, interactivity and events at ``POST /slack/events``.

The request signature is always verified (bolt's ``RequestVerification`` middleware, v0 HMAC and
the 5-minute replay window); there is no switch to turn it off. bolt parses a body before it
verifies it, so the route checks the signature first (401) and the body's shape second (400), and
the body is bounded before either (``bot.web.limits``, 413): nothing unsigned reaches bolt's parser.
The bolt client talks to ``SLACK_API_URL`` so tests can point it at a local stand-in of Slack's Web
API. bolt calls ``auth.test`` once, lazily, on the first request (to learn the bot's user id and
ignore its own messages); nothing calls Slack when the app is built. ``register`` is the routing
table: slash commands go to ``bot.slack.slash_commands``, buttons and modals to ``bot.slack.interactions``,
thread replies to ``bot.slack.thread_replies``. Three things keep acks fast under load (measured in
``docs/benchmarks.md``): ``SlackFastPath`` (the Slack route skips the other routes' middleware),
``KeepAliveAsyncWebClient`` (one keep-alive session) and ``FollowUpGate`` (bounded after-ack work).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.deps import Deps
from bot.slack import cards, modals
from bot.slack.home_sync import HomeTab
from bot.slack.interactions import Interactions
from bot.slack.slash_commands import SlashCommands
from bot.slack.thread_replies import ThreadReplies
from bot.web.limits import BodyLimit, install_limits
from storage.timeouts import SLACK_FOLLOWUP_WAIT_S, SLACK_FOLLOWUPS_AT_ONCE

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class KeepAliveAsyncWebClient(AsyncWebClient):
    """bolt's client, with one keep-alive ``aiohttp`` session per event loop.

    ``AsyncWebClient`` without a session opens a new session, hence a new TCP (and TLS)
    connection, for every call: the listeners' ``chat.postEphemeral`` and ``chat.getPermalink``
    paid a connection set-up each on the event loop that also sends the acks (the largest single
    item of the web process's profile under load). A session belongs to the loop it was made on,
    so each loop (the server's, a test's) gets its own, made on first use; ``aclose`` closes the
    running loop's (the web app's lifespan calls it at shutdown).
    """

    _sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]

    @property
    def session(self) -> aiohttp.ClientSession | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        sessions = self.__dict__.setdefault("_sessions", weakref.WeakKeyDictionary())
        current = sessions.get(loop)
        if current is None or current.closed:
            current = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            sessions[loop] = current
        return current

    @session.setter
    def session(self, value: aiohttp.ClientSession | None) -> None:
        """``AsyncWebClient.__init__`` assigns None; a session is made per loop instead."""

    async def aclose(self) -> None:
        """Close the session of the running loop (at the web app's shutdown)."""
        loop = asyncio.get_running_loop()
        current = self.__dict__.get("_sessions", {}).pop(loop, None)
        if current is not None and not current.closed:
            await current.close()


def build_slack_app(deps: Deps) -> AsyncApp:
    token, secret = deps.settings.require_slack()
    client = KeepAliveAsyncWebClient(token=token, base_url=deps.settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    bolt = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=True,
        process_before_response=False,
        name="signoff",
        logger=bolt_logger(),
    )
    register(bolt, deps)
    return bolt


class _ClientOnPurpose(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that the client we
    pass (pointed at SLACK_API_URL) wins; that is the intent, so the warning is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("signoff.slack.bolt")
    if not any(isinstance(f, _ClientOnPurpose) for f in logger.filters):
        logger.addFilter(_ClientOnPurpose())
    return logger


class FollowUpGate:
    """At most ``limit`` listeners do their after-ack work at once; the ack itself never waits.

    A listener's ``ack`` is wrapped: the wrapped one acks (bolt answers Slack at once) and then
    waits for a turn before returning to the listener, whose remaining code is its after-ack
    work (SQL in threads, Slack calls); the turn is given back when the listener returns. With
    every click's follow-up running at once, the threads and the event loop shared one GIL and
    the acks queued behind follow-ups (the web process's profile under 50 clients); bounded,
    the event loop keeps acking at close to a bare bolt app's rate while follow-ups take turns.
    A turn is waited for at most ``wait_s``, then the work goes ahead anyway, so a burst can
    delay a modal (its ``trigger_id`` lives 3 s) or a card by no more than that. Listeners
    without ``ack`` (events, which bolt acknowledges itself) take a turn for their whole body.
    """

    def __init__(self, limit: int = SLACK_FOLLOWUPS_AT_ONCE, wait_s: float = SLACK_FOLLOWUP_WAIT_S) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    async def _turn(self) -> bool:
        """Wait for a turn; False when ``wait_s`` passed first (the work goes ahead without one)."""
        try:
            await asyncio.wait_for(self._semaphore().acquire(), self.wait_s)
        except TimeoutError:
            log.info("after-ack work went ahead after %.1f s without a turn", self.wait_s)
            return False
        return True

    def wrap(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """``listener`` with its after-ack work taking turns (bolt still sees its own arguments)."""

        @functools.wraps(listener)
        async def gated(**kwargs: Any) -> None:
            held = False
            ack = kwargs.get("ack")
            if ack is not None:

                async def ack_then_wait(*args: Any, **ack_kwargs: Any) -> None:
                    nonlocal held
                    await ack(*args, **ack_kwargs)
                    if not held:
                        held = await self._turn()

                kwargs["ack"] = ack_then_wait
            else:
                held = await self._turn()
            try:
                await listener(**kwargs)
            finally:
                if held:
                    self._semaphore().release()

        return gated


def register(app: AsyncApp, deps: Deps) -> None:
    """Which listener answers which slash command, button, modal and event (each through the
    ``FollowUpGate``)."""
    gate = FollowUpGate()
    slash = SlashCommands(deps, app.client)
    app.command("/agent")(gate.wrap(slash.agent_command))
    app.command("/approvals")(gate.wrap(slash.approvals_command))
    clicks = Interactions(deps, app.client)
    app.action(cards.APPROVE)(gate.wrap(clicks.approve_clicked))
    for action_id in (cards.REJECT, cards.EDIT, cards.INPUT, cards.DONE, cards.RAN):
        app.action(action_id)(gate.wrap(clicks.open_modal))
    for action_id in (cards.NOT_RUN, cards.FAIL_RUN):
        app.action(action_id)(gate.wrap(clicks.doubt_clicked))
    app.action(cards.VIEW_ARGS)(gate.wrap(clicks.view_arguments))
    app.action(cards.ARGS_PAGE)(gate.wrap(clicks.arguments_page))
    app.action(cards.RETRY)(gate.wrap(clicks.retry_clicked))
    app.action(cards.OPEN_LINK)(clicks.ack_only)
    for callback in (modals.REJECT_VIEW, modals.EDIT_VIEW, modals.INPUT_VIEW, modals.DONE_VIEW, modals.RAN_VIEW):
        app.view_submission(callback)(gate.wrap(clicks.view_submitted))
    app.event("message")(gate.wrap(ThreadReplies(deps, app.client).message_posted))
    if deps.home_publisher is not None:
        app.event("app_home_opened")(gate.wrap(HomeTab(deps.home_publisher).opened))


def mount_slack(app: FastAPI, deps: Deps) -> AsyncApp:
    """Add ``POST /slack/events`` to ``app``; returns the bolt app (also at ``app.state.slack``).

    In front of bolt, in order: the body limit (``bot.web.limits``, 413), Slack's unsigned
    ``ssl_check`` probe (200, as bolt would), the signature (401 before anything parses the body),
    the body's shape (400 for what bolt could not parse). Only then does bolt dispatch the request,
    verifying the signature again with its own middleware.
    """
    bolt = build_slack_app(deps)
    _, secret = deps.settings.require_slack()
    verifier = RawBodyVerifier(secret)

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if is_ssl_check(body, request.headers.get("content-type")):
            return Response(status_code=200)  # Slack does not sign these; bolt answers them unverified too
        if not verifier.is_signed(body, request.headers):
            return JSONResponse({"detail": "invalid or missing Slack signature"}, status_code=401)
        try:
            bolt_request = to_async_bolt_request(request, body)
        except Exception as exc:  # parsing only: the listeners run later, in async_dispatch
            reason = malformed_reason(exc, body, request.headers.get("content-type"))
            log.info("refused a signed but malformed Slack request: %s (%s)", reason, type(exc).__name__)
            return JSONResponse({"detail": f"malformed Slack request: {reason}"}, status_code=400)
        # What AsyncSlackRequestHandler.handle does for a POST, with the request parsed once.
        return to_starlette_response(await bolt.async_dispatch(bolt_request))

    app.add_api_route(
        EVENTS_PATH,
        slack_events,
        methods=["POST"],
        include_in_schema=False,
        response_class=Response,
    )
    endpoint: ASGIApp = request_response(slack_events)
    if any(m.cls is BodyLimit for m in app.user_middleware):
        endpoint = BodyLimit(endpoint)  # the app's limit is already in place, inside the fast path
    app.add_middleware(SlackFastPath, endpoint=endpoint)
    install_limits(app)  # after the fast path: the body limit is the outermost layer, on every path
    app.state.slack = bolt
    return bolt


class SlackFastPath:
    """``POST /slack/events`` straight to its endpoint, past the middleware and routes meant for
    the other paths (the body limit, outermost, still applies).

    Under load the web process's profile showed the Slack path paying for the others: the
    console's session middleware (a Starlette ``BaseHTTPMiddleware``: a task group per request),
    the API's token check and FastAPI matching every API and console route before the Slack one,
    about a third of the event loop's time per ack. Every other request takes the usual way; the
    route registered on the router stays (the same endpoint) for anything that looks it up.
    """

    def __init__(self, app: ASGIApp, endpoint: ASGIApp) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") == EVENTS_PATH:
            await self.endpoint(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's verifier (v0 HMAC, the 5-minute window) over the raw bytes Slack signed.

    ``SignatureVerifier`` decodes a ``bytes`` body as UTF-8 first, which raises on a body that is
    not; Slack signs the bytes, so the signature base here is built from them. ``is_signed`` never
    raises: a timestamp that is not a number or a signature that is not ASCII is simply unsigned.
    """

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if timestamp is None:
            return None
        raw = body if isinstance(body, bytes) else (body or "").encode("utf-8")
        base = b"v0:" + str(timestamp).encode("utf-8") + b":" + raw
        return "v0=" + hmac.new(self.signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()

    def is_signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        timestamp = headers.get("x-slack-request-timestamp")
        signature = headers.get("x-slack-signature")
        try:
            return self.is_valid(body, timestamp, signature)
        except (ValueError, TypeError, OverflowError):  # int("soon"); compare_digest on non-ASCII
            return False


def is_ssl_check(body: bytes, content_type: str | None) -> bool:
    """Slack's unsigned certificate probe (``ssl_check=1&token=...``), answered 200 and nothing else."""
    if b"ssl_check" not in body or _media_type(content_type) == "application/json":
        return False
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).get("ssl_check") == ["1"]


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def malformed_reason(exc: Exception, body: bytes, content_type: str | None) -> str:
    """A short reason, for the sender, why bolt could not read a signed body."""
    if isinstance(exc, UnicodeDecodeError):
        return "the body is not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        if _media_type(content_type) == "application/json" or body.startswith(b"{"):
            return "the body is not valid JSON (Content-Type: application/json)"
        return "the payload field is not valid JSON"
    return "the body is not a Slack request object"
