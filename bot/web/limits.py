"""Bounded request bodies: a pure ASGI middleware that answers 413 before anything parses the body.

A ``Content-Length`` above the limit is refused at once, without reading a byte of the body. A
body without one (chunked) is counted as it streams: the chunk that crosses the limit is the last
one read, so no more than the limit is ever buffered, and the 413 carries ``Connection: close`` so
the server drops the rest instead of reading it. Installed on the whole web process by
``bot.web.app.create_app`` and by ``bot.slack.app.mount_slack`` (``install_limits`` is idempotent).
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage.timeouts import MAX_REQUEST_BODY_BYTES


class _TooLarge(Exception):
    """Raised from ``receive`` into the app when the streamed body crosses the limit."""


def describe_bytes(limit: int) -> str:
    """``1048576`` -> ``1 MiB``; ``1500`` -> ``1500 bytes``."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


class BodyLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413 (JSON ``{"detail": ...}``)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_REQUEST_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        detail = f"request body too large: the limit is {describe_bytes(max_bytes)}"
        self._body = json.dumps({"detail": detail}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:  # the app asked again after being told: it gets nothing more
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app answers to the error, the answer is the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # _TooLarge itself, or what a framework turned it into (FastAPI: a 400 HTTPException).
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self._body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self._body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length; counting still bounds the body
    return None


def install_limits(app: Starlette, max_bytes: int = MAX_REQUEST_BODY_BYTES) -> None:
    """Put ``BodyLimit`` on ``app`` once (before it starts serving); a second call does nothing."""
    if any(m.cls is BodyLimit for m in app.user_middleware):
        return
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
