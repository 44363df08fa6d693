"""Socket Mode: the bot dials out to Slack over a WebSocket, so it needs no public URL.

With ``SLACK_APP_TOKEN`` set (an app-level token, ``xapp-...``, with the ``connections:write``
scope; ``manifest.socket.yml`` creates such an app) the web process connects on start-up and
closes the connection on shutdown (``bot.web.app.create_app``'s lifespan). Envelopes from Slack (slash
commands, interactivity, events) go to the same bolt ``AsyncApp`` that serves
``POST /slack/events`` (``app.state.slack``), so the routing table, the listeners and their acks
are the same in both modes; HTTP mode stays for production and keeps working alongside. bolt does
not check a signature on a Socket Mode envelope: it came over the connection the app token opened.

How the connection is made: ``apps.connections.open`` on ``SLACK_API_URL`` with the app token
returns a one-off WebSocket URL; slack_sdk's aiohttp ``SocketModeClient`` connects to it, acks each
envelope with its ``envelope_id`` once the listener has acked (with the listener's response
payload, e.g. a slash command's ephemeral reply), pings, and reconnects by itself when Slack asks
it to (a ``disconnect`` message) or the connection goes stale. Everything is asyncio on the web
process's event loop; nothing blocks it.

The first ``apps.connections.open`` is made here rather than inside the SDK, because the SDK's
``connect()`` retries a refused token forever with a traceback each time. Here a refused token,
an unreachable Slack or a WebSocket that does not open in time is a :class:`SocketModeUnavailable`
(a ``ConfigError`` naming the variable to fix): :func:`socket_mode` logs it as one line and the
web app goes on serving HTTP without Socket Mode.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from storage.errors import ConfigError

log = logging.getLogger(__name__)
client_log = log.getChild("client")
"""The SDK client's own log (sessions opened, reconnects); its tracebacks are kept for DEBUG only."""

CONNECT_TIMEOUT_S = 10.0
"""How long start-up waits for ``apps.connections.open`` and then for the WebSocket to open."""

PING_INTERVAL_S = 10.0
"""How often the client pings Slack; a connection silent for four intervals is replaced."""

APP_TOKEN_HINT = (
    "create an App-Level Token with the connections:write scope on your Slack app's Basic Information "
    "page and set SLACK_APP_TOKEN=xapp-... (not the xoxb- bot token); unset it to use HTTP mode"
)

# What apps.connections.open answers when the token itself is the problem.
_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
    }
)


class _NoTracebacks(logging.Filter):
    """The SDK logs every failed (re)connect attempt with a traceback, every ``PING_INTERVAL_S``
    while Slack is unreachable; its message already says what failed, so keep it to that line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not client_log.isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


client_log.addFilter(_NoTracebacks())


class SocketModeUnavailable(ConfigError):
    """Socket Mode could not connect; ``variable`` names what to fix (``SLACK_APP_TOKEN`` or
    ``SLACK_API_URL``)."""


class SocketMode:
    """One Socket Mode connection for a bolt app: ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        bolt: AsyncApp,
        app_token: str,
        api_url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        ping_interval: float = PING_INTERVAL_S,
    ) -> None:
        self.bolt = bolt
        self.app_token = app_token
        self.api_url = api_url
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        # No bot token: apps.connections.open is called with the app token alone.
        self.web_client = AsyncWebClient(base_url=api_url, timeout=max(1, int(connect_timeout)))
        self.handler: AsyncSocketModeHandler | None = None

    @classmethod
    def from_settings(cls, bolt: AsyncApp, settings: Settings) -> SocketMode | None:
        """The connection ``SLACK_APP_TOKEN`` asks for; None when it is not set (HTTP mode only)."""
        token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        if not token:
            return None
        return cls(bolt, token, settings.slack_api_url)

    async def open_url(self) -> str:
        """A fresh WebSocket URL from ``apps.connections.open``; SocketModeUnavailable if refused."""
        try:
            response = await asyncio.wait_for(
                self.web_client.apps_connections_open(app_token=self.app_token), self.connect_timeout
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in _TOKEN_ERRORS:
                raise SocketModeUnavailable(
                    "SLACK_APP_TOKEN", f"Slack refused it ({error}): {APP_TOKEN_HINT}"
                ) from None
            raise SocketModeUnavailable(
                "SLACK_APP_TOKEN", f"apps.connections.open failed ({error}) at {self.api_url}"
            ) from None
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SocketModeUnavailable(
                "SLACK_API_URL", f"cannot reach Slack at {self.api_url} for Socket Mode ({type(exc).__name__}: {exc})"
            ) from None
        url = response.get("url")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise SocketModeUnavailable("SLACK_API_URL", f"apps.connections.open at {self.api_url} returned no URL")
        return url

    async def start(self) -> None:
        """Connect; returns once the WebSocket is open (envelopes are then handled on this loop)."""
        if self.handler is not None:
            return
        url = await self.open_url()
        handler = AsyncSocketModeHandler(
            self.bolt,
            self.app_token,
            logger=client_log,
            web_client=self.web_client,
            ping_interval=self.ping_interval,
        )
        handler.client.wss_uri = url  # the SDK connects to it instead of asking for another
        try:
            await asyncio.wait_for(handler.connect_async(), self.connect_timeout)
        except TimeoutError:
            await handler.close_async()
            host = urlsplit(url).netloc  # the query is a one-off ticket: not logged
            raise SocketModeUnavailable(
                "SLACK_API_URL",
                f"the Socket Mode WebSocket at {host} did not open within {self.connect_timeout:g} s "
                "(is outbound WebSocket traffic allowed?)",
            ) from None
        except BaseException:
            await handler.close_async()
            raise
        self.handler = handler
        log.info("connected to Slack over Socket Mode")

    async def stop(self) -> None:
        handler, self.handler = self.handler, None
        if handler is not None:
            await handler.close_async()
            log.info("disconnected from Slack's Socket Mode")


@asynccontextmanager
async def socket_mode(bolt: AsyncApp, settings: Settings) -> AsyncIterator[SocketMode | None]:
    """Socket Mode for the life of the web app when ``SLACK_APP_TOKEN`` is set.

    Yields the connected :class:`SocketMode`, or None when there is no app token or it could not
    connect; the latter is logged as one error line naming the variable, and HTTP mode goes on.
    """
    connection = SocketMode.from_settings(bolt, settings)
    if connection is None:
        yield None
        return
    try:
        await connection.start()
    except SocketModeUnavailable as exc:
        log.error("Socket Mode is off: %s (POST /slack/events still works)", exc.message)
        yield None
        return
    try:
        yield connection
    finally:
        await connection.stop()
