"""bolt's ``AsyncApp`` on FastAPI: slash commands, interactivity and events at ``POST /slack/events``.

The request signature is always verified (bolt's ``RequestVerification`` middleware, v0 HMAC and
the 5-minute replay window); there is no switch to turn it off. The bolt client talks to
``SLACK_API_URL`` so tests can point it at a local stand-in of Slack's Web API. bolt calls
``auth.test`` once, lazily, on the first request (to learn the bot's user id and ignore its own
messages); nothing calls Slack when the app is built. ``register`` is the routing table: slash
commands go to ``bot.slash_commands``, buttons and modals to ``bot.interactions``, thread replies to
``bot.thread_replies``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import cards, modals
from bot.deps import Deps
from bot.directory import SlackDirectory
from bot.handler_base import Services
from bot.interactions import Interactions
from bot.notifier import SlackNotifier, make_web_client
from bot.slash_commands import SlashCommands
from bot.thread_replies import ThreadReplies

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
    )
    sync_client = make_web_client(deps.settings)
    services = Services(
        deps=deps,
        notifier=SlackNotifier(sync_client, deps.db, deps.settings, deps.registry),
        directory=SlackDirectory(sync_client),
    )
    register(bolt, services)
    return bolt


def register(app: AsyncApp, services: Services) -> None:
    """Which listener answers which slash command, button, modal and event."""
    slash = SlashCommands(services, app.client)
    app.command("/agent")(slash.agent_command)
    app.command("/approvals")(slash.approvals_command)
    clicks = Interactions(services, app.client)
    app.action(cards.APPROVE)(clicks.approve_clicked)
    for action_id in (cards.REJECT, cards.EDIT, cards.INPUT, cards.DONE):
        app.action(action_id)(clicks.open_modal)
    app.action(cards.VIEW_ARGS)(clicks.view_arguments)
    app.action(cards.RETRY)(clicks.retry_clicked)
    app.action(cards.OPEN_LINK)(clicks.ack_only)
    for callback in (modals.REJECT_VIEW, modals.EDIT_VIEW, modals.INPUT_VIEW, modals.DONE_VIEW):
        app.view_submission(callback)(clicks.view_submitted)
    app.event("message")(ThreadReplies(services, app.client).message_posted)


def mount_slack(app: FastAPI, deps: Deps) -> AsyncApp:
    """Add ``POST /slack/events`` to ``app``; returns the bolt app (also at ``app.state.slack``)."""
    bolt = build_slack_app(deps)
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Any:
        return await handler.handle(request)

    app.add_api_route(
        EVENTS_PATH,
        slack_events,
        methods=["POST"],
        include_in_schema=False,
        response_class=Response,
    )
    app.state.slack = bolt
    return bolt
