"""A real local HTTP server that speaks the OpenAI chat-completions API, with scripted replies.

Tests drive the real ``openai`` SDK against it through ``base_url``, so retries, timeouts, SSE
parsing and error mapping are exercised exactly as in production, without a network or a key.
Only the standard library is used so the fake cannot drift with a third-party dependency.

Typical use::

    with FakeOpenAI() as fake:
        fake.script(tool_call("lookup", {"q": "x"}), text("done"))
        chat = OpenAIChat(base_url=fake.base_url, api_key="test")
        ...
        assert fake.requests[0]["tools"]
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "FakeOpenAI",
    "Reply",
    "ScriptedToolCall",
    "delay",
    "error",
    "text",
    "tool_call",
    "tool_calls",
]

NO_REPLY_MESSAGE = "FakeOpenAI: no scripted reply left"
FAKE_MODEL_ID = "gpt-4o-mini"


@dataclass(frozen=True)
class ScriptedToolCall:
    """One tool call the fake model will make; ``arguments`` is sent verbatim (may be malformed)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """What the fake answers to one request: an assistant turn, or an HTTP error, maybe delayed.

    Build these with :func:`text`, :func:`tool_call`, :func:`tool_calls`, :func:`error` and
    :func:`delay` rather than directly.
    """

    content: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    status: int = 200
    error_message: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


def _new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


def _call(name: str, args: Mapping[str, Any] | str, id: str | None) -> ScriptedToolCall:
    arguments = args if isinstance(args, str) else json.dumps(dict(args))
    return ScriptedToolCall(id=id or _new_call_id(), name=name, arguments=arguments)


def text(content: str) -> Reply:
    """An assistant turn that just says ``content``."""
    return Reply(content=content)


def tool_call(name: str, args: Mapping[str, Any] | str, id: str | None = None) -> Reply:
    """An assistant turn with one tool call; ``args`` given as ``str`` is sent raw.

    The raw form is how tests feed the client malformed JSON.
    """
    return Reply(tool_calls=(_call(name, args, id),))


def tool_calls(
    *calls: tuple[str, Mapping[str, Any] | str] | tuple[str, Mapping[str, Any] | str, str],
) -> Reply:
    """An assistant turn with several tool calls: ``(name, args)`` or ``(name, args, id)`` each."""
    built = []
    for entry in calls:
        call_id = entry[2] if len(entry) == 3 else None
        built.append(_call(entry[0], entry[1], call_id))
    return Reply(tool_calls=tuple(built))


def error(
    status: int,
    message: str = "FakeOpenAI: scripted error",
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An HTTP error in OpenAI's JSON error shape.

    For example ``error(429, headers={"retry-after": "0"})``.
    """
    if status < 400:
        raise ValueError(f"error() needs a 4xx/5xx status, got {status}")
    return Reply(status=status, error_message=message, headers=dict(headers or {}))


def delay(seconds: float, then: Reply) -> Reply:
    """``then``, answered only after ``seconds`` (to make the client time out)."""
    return replace(then, delay_s=then.delay_s + seconds)


_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def _error_body(status: int, message: str) -> dict[str, Any]:
    err_type, code = _ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


def _split_content(content: str) -> list[str]:
    """Split text into word-sized pieces the way a tokenizer-driven stream would deliver it."""
    pieces = re.findall(r"\s*\S+\s*", content) or ([content] if content else [])
    if len(pieces) == 1 and len(content) > 1:
        half = len(content) // 2
        pieces = [content[:half], content[half:]]
    return pieces


def _split_arguments(arguments: str, size: int = 7) -> list[str]:
    """Split argument JSON into small fragments so a client must concatenate them."""
    if len(arguments) <= 1:
        return [arguments]
    size = min(size, max(1, len(arguments) // 2))
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def _count_tokens(value: Any) -> int:
    """A rough stand-in for token counting; tests only need plausible, non-zero numbers."""
    return max(1, len(json.dumps(value)) // 4) if value else 0


class FakeOpenAI:
    """A local OpenAI-compatible server answering from a FIFO of scripted replies.

    Every JSON body received is kept in :attr:`requests`. When the queue is empty the responder
    (if set) decides; otherwise the request fails with HTTP 500 saying ``no scripted reply left``,
    sent with ``x-should-retry: false`` so the SDK fails at once instead of retrying.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._queue: deque[Reply] = deque()
        self._responder: Callable[[dict[str, Any]], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeOpenAI",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed replies still sleeping are woken and abandoned."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- scripting -------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Append replies to the FIFO queue, answered one per chat-completions request."""
        with self._lock:
            self._queue.extend(replies)

    def set_responder(self, fn: Callable[[dict[str, Any]], Reply] | None) -> None:
        """Fallback used when the queue is empty; ``fn`` receives the request body."""
        with self._lock:
            self._responder = fn

    def remaining(self) -> int:
        """How many scripted replies have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    def last_messages(self) -> list[dict[str, Any]]:
        """The ``messages`` of the most recent chat-completions request."""
        with self._lock:
            for body in reversed(self.requests):
                if "messages" in body:
                    return list(body["messages"])
        raise AssertionError("FakeOpenAI: no chat-completions request received yet")

    # ---- internals used by the handler ----------------------------------------------------

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self._responder
        if responder is None:
            return Reply(
                status=500, error_message=NO_REPLY_MESSAGE, headers={"x-should-retry": "false"}
            )
        try:
            return responder(body)
        except Exception as exc:  # surface the test's own bug in the HTTP answer
            return Reply(
                status=500,
                error_message=f"FakeOpenAI: responder raised {type(exc).__name__}: {exc}",
                headers={"x-should-retry": "false"},
            )

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when the reply should still be sent."""
        return not self._stopping.wait(seconds)


def _completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def _tool_call_json(call: ScriptedToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [_tool_call_json(c) for c in reply.tool_calls]
    prompt_tokens = _count_tokens(body.get("messages"))
    completion_tokens = _count_tokens(reply.content) + sum(
        _count_tokens(c.arguments) for c in reply.tool_calls
    )
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or FAKE_MODEL_ID,
        "system_fingerprint": "fp_fake",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chunks(reply: Reply, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects OpenAI would stream for this reply."""
    base = {
        "id": _completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model") or FAKE_MODEL_ID,
        "system_fingerprint": "fp_fake",
    }
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out = dict(base)
        out["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
        if include_usage:
            out["usage"] = None
        return out

    yield chunk(
        {"role": "assistant", "content": "" if not reply.tool_calls else None, "refusal": None}
    )
    for piece in _split_content(reply.content or ""):
        yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for fragment in _split_arguments(call.arguments):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        full = _completion(reply, body)
        yield {**base, "choices": [], "usage": full["usage"]}


def _make_handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeOpenAI/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        # -- helpers --

        def _send_json(
            self, status: int, payload: Any, headers: Mapping[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.send_header("x-request-id", "req_" + uuid.uuid4().hex[:16])
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _send_stream(self, reply: Reply, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.send_header("x-request-id", "req_" + uuid.uuid4().hex[:16])
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            events = [f"data: {json.dumps(c)}\n\n" for c in _chunks(reply, body)]
            events.append("data: [DONE]\n\n")
            for event in events:
                data = event.encode()
                self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True

        def _path(self) -> str:
            return self.path.split("?", 1)[0].rstrip("/")

        # -- routes --

        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if self._path() == "/v1/models":
                    self._send_json(
                        200,
                        {
                            "object": "list",
                            "data": [
                                {
                                    "id": FAKE_MODEL_ID,
                                    "object": "model",
                                    "created": 1_700_000_000,
                                    "owned_by": "fake-openai",
                                }
                            ],
                        },
                    )
                else:
                    self._send_json(404, _error_body(404, f"FakeOpenAI: no route GET {self.path}"))

        def do_POST(self) -> None:
            # The client may give up (timeout) before we answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._handle_post()

        def _handle_post(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send_json(400, _error_body(400, "FakeOpenAI: request body is not JSON"))
                return
            if not isinstance(body, dict):
                self._send_json(
                    400, _error_body(400, "FakeOpenAI: request body is not a JSON object")
                )
                return
            fake._record(body)
            if self._path() != "/v1/chat/completions":
                self._send_json(404, _error_body(404, f"FakeOpenAI: no route POST {self.path}"))
                return
            reply = fake._next_reply(body)
            if reply.delay_s > 0 and not fake._sleep(reply.delay_s):
                self.close_connection = True
                return
            if reply.is_error:
                message = reply.error_message or f"FakeOpenAI: scripted error {reply.status}"
                self._send_json(reply.status, _error_body(reply.status, message), reply.headers)
            elif body.get("stream"):
                self._send_stream(reply, body)
            else:
                self._send_json(200, _completion(reply, body), reply.headers)

    return Handler
