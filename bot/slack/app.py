"""bolt's ``AsyncApp`` on FastAPI: slash commands, interactivity and events at ``POST /slack/events``.

The request signature is always verified (bolt's ``RequestVerification`` middleware, v0 HMAC and
the 5-minute replay window); there is no switch to turn it off. bolt parses a body before it
verifies it, so the route checks the signature first (401) and the body's shape second (400), and
the body is bounded before either (``bot.web.limits``, 413): nothing unsigned reaches bolt's parser.
The bolt client talks to ``SLACK_API_URL`` so tests can point it at a local stand-in of Slack's Web
API. bolt calls ``auth.test`` once, lazily, on the first request (to learn the bot's user id and
ignore its own messages); nothing calls Slack when the app is built. ``register`` is the routing
table: slash commands go to ``bot.slack.slash_commands``, buttons and modals to ``bot.slack.interactions``,
thread replies to ``bot.slack.thread_replies``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.slack import cards, modals
from bot.slack.home_sync import HomeTab
from bot.slack.interactions import Interactions
from bot.slack.slash_commands import SlashCommands
from bot.slack.thread_replies import ThreadReplies
from bot.web.limits import install_limits

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def build_slack_app(deps: Deps) -> AsyncApp:
    token, secret = deps.settings.require_slack()
    client = AsyncWebClient(token=token, base_url=deps.settings.slack_api_url)
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


def register(app: AsyncApp, deps: Deps) -> None:
    """Which listener answers which slash command, button, modal and event."""
    slash = SlashCommands(deps, app.client)
    app.command("/agent")(slash.agent_command)
    app.command("/approvals")(slash.approvals_command)
    clicks = Interactions(deps, app.client)
    app.action(cards.APPROVE)(clicks.approve_clicked)
    for action_id in (cards.REJECT, cards.EDIT, cards.INPUT, cards.DONE, cards.RAN):
        app.action(action_id)(clicks.open_modal)
    for action_id in (cards.NOT_RUN, cards.FAIL_RUN):
        app.action(action_id)(clicks.doubt_clicked)
    app.action(cards.VIEW_ARGS)(clicks.view_arguments)
    app.action(cards.ARGS_PAGE)(clicks.arguments_page)
    app.action(cards.RETRY)(clicks.retry_clicked)
    app.action(cards.OPEN_LINK)(clicks.ack_only)
    for callback in (modals.REJECT_VIEW, modals.EDIT_VIEW, modals.INPUT_VIEW, modals.DONE_VIEW, modals.RAN_VIEW):
        app.view_submission(callback)(clicks.view_submitted)
    app.event("message")(ThreadReplies(deps, app.client).message_posted)
    if deps.home_publisher is not None:
        app.event("app_home_opened")(HomeTab(deps.home_publisher).opened)


def mount_slack(app: FastAPI, deps: Deps) -> AsyncApp:
    """Add ``POST /slack/events`` to ``app``; returns the bolt app (also at ``app.state.slack``).

    In front of bolt, in order: the body limit (``bot.web.limits``, 413), Slack's unsigned
    ``ssl_check`` probe (200, as bolt would), the signature (401 before anything parses the body),
    the body's shape (400 for what bolt could not parse). Only then does bolt dispatch the request,
    verifying the signature again with its own middleware.
    """
    install_limits(app)
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
    app.state.slack = bolt
    return bolt


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
