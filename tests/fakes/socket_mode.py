"""Slack's Socket Mode, locally: ``apps.connections.open`` on the Web API stand-in and a WebSocket server.

``SocketModeSlack`` is :class:`tests.fakes.slack_server.FakeSlack` plus Socket Mode. Its
``apps.connections.open`` takes the app-level token (``xapp-...``, as a Bearer token) and returns a
one-off URL of its :class:`SocketModeServer`, a real WebSocket server (the ``websockets`` library)
on 127.0.0.1. A client that connects gets Slack's ``hello``; the test then pushes envelopes exactly
as Slack does and reads back the acks the client sent::

    with SocketModeSlack() as slack:          # the bot connects with slack.app_token
        sent = slack.socket.slash_command("/agent", "help")
        ack = slack.socket.wait_ack(sent)     # {"envelope_id": ..., "payload": {...}}
        assert "Usage" in ack.payload["text"]

Payloads are built by the same builders as the signed HTTP requests (``tests.fakes.signing``):
a slash command's form fields as a dict, an interactivity payload, an ``event_callback`` body, so
the Socket Mode path drives the same listeners as ``POST /slack/events``.

Slack's ``apps.connections.open`` returns a ``wss://`` URL; this stand-in returns ``ws://``: TLS
is not what is under test, and a local certificate would have to be trusted by the client.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.fakes import signing
from tests.fakes.slack_server import APP_ID, FakeSlack

Json = dict[str, Any]

LINK_PATH = "/link/"


@dataclass(frozen=True)
class Envelope:
    """One envelope pushed to the client, as Slack sends it."""

    envelope_id: str
    type: str  # "slash_commands" | "interactive" | "events_api"
    payload: Json
    accepts_response_payload: bool
    extra: Json = field(default_factory=dict)  # events_api: retry_attempt, retry_reason

    def to_dict(self) -> Json:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
            **self.extra,
        }


@dataclass(frozen=True)
class Ack:
    """What the client sent back for an envelope: ``{"envelope_id": ..., "payload": {...}}``."""

    envelope_id: str
    payload: Json | None
    raw: Json
    at: float


class SocketModeServer:
    """Slack's Socket Mode WebSocket endpoint on 127.0.0.1, in a thread with its own event loop."""

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.port = 0
        self.envelopes: list[Envelope] = []
        self.acks: dict[str, Ack] = {}
        self.received: list[Json | str] = []  # every text frame a client sent, decoded when JSON
        self.connections_opened = 0
        self.refused_handshakes = 0
        self._open: list[ServerConnection] = []
        self._tickets: set[str] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SocketModeServer:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, daemon=True, name="FakeSocketMode")
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"the Socket Mode stand-in did not start: {failure}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None

    async def _listen(self) -> None:
        self._server = await serve(self._session, "127.0.0.1", 0, process_request=self._check_ticket)
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()  # closes every open connection (1001 going away)
            await self._server.wait_closed()

    # -- what apps.connections.open hands out ---------------------------------------------------

    def issue_url(self) -> str:
        """A one-off connection URL (Slack's is ``wss://wss-primary.slack.com/link/?ticket=...``)."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._lock:
            valid = parts.path == LINK_PATH and ticket in self._tickets
            self._tickets.discard(ticket)  # a ticket opens one connection
            if not valid:
                self.refused_handshakes += 1
        if not valid:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
        return None

    # -- a client's connection -----------------------------------------------------------------

    async def _session(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections_opened += 1
            self._open.append(connection)
            count = len(self._open)
        try:
            await connection.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": count,
                        "debug_info": {
                            "host": "applink-local",
                            "build_number": 1,
                            "approximate_connection_time": 18060,
                        },
                        "connection_info": {"app_id": self.app_id},
                    }
                )
            )
            async for frame in connection:
                self._record(frame)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if connection in self._open:
                    self._open.remove(connection)

    def _record(self, frame: str | bytes) -> None:
        text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
        try:
            message: Json | str = json.loads(text)
        except ValueError:
            message = text
        with self._lock:
            self.received.append(message)
            if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
                envelope_id = message["envelope_id"]
                payload = message.get("payload")
                self.acks.setdefault(
                    envelope_id,
                    Ack(envelope_id, payload if isinstance(payload, dict) else None, message, time.monotonic()),
                )

    # -- pushing envelopes ---------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def wait_connections(self, opened: int = 1, timeout: float = 10.0) -> None:
        """Until ``opened`` connections have been opened in all and one of them is still open."""
        _wait(lambda: self.connections_opened >= opened and self.open_connections > 0, timeout,
              f"{opened} Socket Mode connection(s)")

    def send(self, type_: str, payload: Json, *, accepts_response_payload: bool, **extra: Any) -> Envelope:
        """Push an envelope to the newest open connection (Slack picks one of the app's connections)."""
        envelope = Envelope(
            envelope_id=f"{uuid.uuid4()}",
            type=type_,
            payload=copy.deepcopy(payload),
            accepts_response_payload=accepts_response_payload,
            extra=extra,
        )
        self._push(envelope.to_dict())
        with self._lock:
            self.envelopes.append(envelope)
        return envelope

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's ``disconnect`` message: the client should open a new connection (and drop this one)."""
        self._push({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local"}})

    def _push(self, message: Json) -> None:
        with self._lock:
            target = self._open[-1] if self._open else None
        if target is None or self._loop is None:
            raise AssertionError("no Socket Mode connection is open")
        future = asyncio.run_coroutine_threadsafe(target.send(json.dumps(message)), self._loop)
        future.result(timeout=10)

    # -- the same payloads as the signed HTTP requests -----------------------------------------

    def slash_command(
        self, command: str, text: str, user_id: str = "U_ALICE", channel_id: str = "C_OPS", **extra: str
    ) -> Envelope:
        body = signing.slash_command_body(command, text, user_id=user_id, channel_id=channel_id, **extra)
        return self.send("slash_commands", dict(parse_qsl(body, keep_blank_values=True)), accepts_response_payload=True)

    def block_action(
        self, action_id: str, value: str, user_id: str, channel_id: str, message_ts: str, **kwargs: Any
    ) -> Envelope:
        """A click: ``signing.block_action_body``'s arguments."""
        payload = _interactive(signing.block_action_body(action_id, value, user_id, channel_id, message_ts, **kwargs))
        return self.send("interactive", payload, accepts_response_payload=False)

    def view_submission(
        self, callback_id: str, private_metadata: str, values: dict[str, Any], user_id: str, **kwargs: Any
    ) -> Envelope:
        """A modal submitted: ``signing.view_submission_body``'s arguments (a response_action may come back)."""
        body = signing.view_submission_body(callback_id, private_metadata, values, user_id, **kwargs)
        return self.send("interactive", _interactive(body), accepts_response_payload=True)

    def event(
        self, event: Json, event_id: str | None = None, *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> Envelope:
        """An Events API ``event_callback`` around ``event``; a retry carries its attempt and reason."""
        payload = json.loads(signing.event_callback_body(event, event_id=event_id))
        return self.send(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    # -- what came back ------------------------------------------------------------------------

    def wait_ack(self, envelope: Envelope | str, timeout: float = 10.0) -> Ack:
        envelope_id = envelope if isinstance(envelope, str) else envelope.envelope_id

        def found() -> Ack | None:
            with self._lock:
                return self.acks.get(envelope_id)

        ack: Ack = _wait(found, timeout, f"the ack of envelope {envelope_id}")
        return ack

    def unacked(self) -> list[Envelope]:
        with self._lock:
            return [e for e in self.envelopes if e.envelope_id not in self.acks]

    def ack_count(self, envelope_id: str) -> int:
        """How many acks a client sent for one envelope (Slack expects exactly one)."""
        with self._lock:
            return sum(1 for m in self.received if isinstance(m, dict) and m.get("envelope_id") == envelope_id)


class SocketModeSlack(FakeSlack):
    """The Web API stand-in plus Socket Mode: ``apps.connections.open`` and a WebSocket server.

    ``apps.connections.open`` needs the app-level token; it answers as Slack does: ``not_authed``
    without a token, ``not_allowed_token_type`` for the bot token, ``invalid_auth`` for any other.
    The other methods keep needing the bot token.
    """

    app_token: str = "xapp-test"

    def __init__(self, bot_token: str | None = None, app_token: str | None = None) -> None:
        super().__init__(bot_token)
        if app_token is not None:
            self.app_token = app_token
        self.socket = SocketModeServer()

    def start(self) -> SocketModeSlack:
        self.socket.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        self.socket.stop()

    def __enter__(self) -> SocketModeSlack:
        return self.start()

    # FakeSlack refuses any token but the bot token before it looks a method up, so
    # apps.connections.open is answered here rather than added to its method table.
    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> tuple[int, dict[str, str], Json]:
        if method != "apps.connections.open":
            return super()._answer(method, args, token)
        limit = self._rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            return 429, {"Retry-After": str(limit[1])}, {"ok": False, "error": "ratelimited"}
        if token is None:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token == self.bot_token:
            return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        failure = self._failures.get(method)
        if failure and failure[0] > 0:
            failure[0] -= 1
            return 200, {}, {"ok": False, "error": failure[1]}
        return 200, {}, {"ok": True, "url": self.socket.issue_url()}


def _interactive(form_body: str) -> Json:
    """The JSON of an interactivity form body's ``payload`` field."""
    payload = json.loads(dict(parse_qsl(form_body))["payload"])
    assert isinstance(payload, dict)
    return payload


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
