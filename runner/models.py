"""The model adapter: one chat-completions call in, one :class:`ModelResponse` out.

It sits on the official ``openai`` SDK so any OpenAI-compatible server (OpenAI itself, vLLM,
Ollama, LM Studio, a test fake) works through ``base_url``. It knows nothing about Slack or
storage: it only turns SDK exceptions into :class:`~storage.errors.ModelError` with a ``kind``
the runner can act on and a message a person can read, so callers never import ``openai``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import openai
from openai import OpenAI, Stream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from runner.settings import DEFAULT_MODEL_ID, ModelDefaults, runtime_settings
from storage.errors import ConfigError, ModelError
from storage.timeouts import MODEL_MAX_RETRIES, MODEL_REQUEST_TIMEOUT_S

__all__ = ["DEFAULT_MODEL_ID", "ModelResponse", "OpenAIChat", "ToolCall"]


_PLACEHOLDER_API_KEY = "not-needed"
"""Sent to custom servers when no key is configured; local OpenAI-compatible servers ignore it,
but the SDK refuses to build a client without one."""

_OPENAI_HOSTS = ("api.openai.com",)

_MAX_SERVER_MESSAGE_CHARS = 500
"""Server error texts are quoted to the user; cap them so an HTML error page cannot flood Slack."""


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for.

    ``arguments`` stays the raw JSON text the model sent, because that exact text is what an
    approval binds to and what goes back to the model in the assistant message; parsing is a
    separate, explicit step that can fail.
    """

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ``ModelError("malformed_tool_arguments")`` otherwise.

        Models do emit truncated or non-object JSON; the runner reports that back instead of
        crashing, so it has to be a typed error.
        """
        text = self.arguments.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ModelError(
                "malformed_tool_arguments",
                f"model sent malformed arguments for {self.name}: {exc} "
                f"in {_clip(self.arguments, 200)!r}",
            ) from exc
        if not isinstance(value, dict):
            raise ModelError(
                "malformed_tool_arguments",
                f"model sent malformed arguments for {self.name}: expected a JSON object, "
                f"got {type(value).__name__} {_clip(self.arguments, 200)!r}",
            )
        return value


@dataclass(frozen=True)
class ModelResponse:
    """One assistant turn: text, tool calls, or both."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)

    def to_message(self) -> dict[str, Any]:
        """The OpenAI-format assistant message to append to the conversation history.

        ``tool_calls`` is omitted when empty because several OpenAI-compatible servers reject
        an empty list.
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        return message


CHAT_COMPLETIONS = "/chat/completions"
"""The endpoint, posted through the SDK client (its retries, timeouts and error types stay)."""


class OpenAIChat:
    """A chat model behind the OpenAI chat-completions API.

    Construction does no I/O and reads no environment, so ``OpenAIChat(id="gpt-4o")`` can sit at
    module level in an agent definition. What it was not given (model id, server, key) comes from
    the runtime's settings (``OPENAI_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, read by
    ``runner.settings``), handed over with :meth:`use_defaults` before each turn. The client is
    created once, under a lock, and shared by all threads (the SDK's HTTP client is thread-safe).
    """

    def __init__(
        self,
        id: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = MODEL_REQUEST_TIMEOUT_S,
        max_retries: int = MODEL_MAX_RETRIES,
        temperature: float | None = None,
    ) -> None:
        self._id = id
        self._base_url = base_url
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self._client: OpenAI | None = None
        self._resolved_base_url: str | None = None
        self._resolved_api_key: str | None = None
        self._configured_with: tuple[str | None, str | None] = (None, None)
        self._defaults: ModelDefaults | None = None
        self._lock = threading.Lock()

    # ---- configuration ---------------------------------------------------------------------

    def use_defaults(self, defaults: ModelDefaults) -> None:
        """What to use for the values not given at construction (the runtime's settings)."""
        self._defaults = defaults

    @property
    def defaults(self) -> ModelDefaults:
        """The runtime's, else (a model used on its own) the settings read now."""
        return self._defaults if self._defaults is not None else runtime_settings().model_defaults()

    @property
    def id(self) -> str:
        """The model id: the one given, else the settings' ``OPENAI_MODEL``, else :data:`DEFAULT_MODEL_ID`."""
        return self._id or self.defaults.model_id or DEFAULT_MODEL_ID

    @id.setter
    def id(self, value: str) -> None:
        self._id = value

    def __repr__(self) -> str:
        # Deliberately no api key here: reprs end up in logs and tracebacks.
        base = self._base_url or self._resolved_base_url or "default"
        return f"OpenAIChat(id={self.id!r}, base_url={base!r})"

    def _client_or_create(self) -> OpenAI:
        """The shared SDK client, built from arguments, then the runtime's settings.

        The configuration is resolved on every call and the client rebuilt when it changed, so a
        module-level agent follows the runtime that drives it instead of keeping the first
        server it ever saw.
        """
        defaults = self.defaults
        base_url = self._base_url or defaults.base_url or None
        api_key = self._api_key or defaults.api_key or None
        client = self._client
        if client is not None and (base_url, api_key) == self._configured_with:
            return client
        if not api_key:
            if base_url and not _is_openai_endpoint(base_url):
                api_key = _PLACEHOLDER_API_KEY
            else:
                raise ConfigError(
                    "OPENAI_API_KEY",
                    "not set: export OPENAI_API_KEY=sk-... or point OPENAI_BASE_URL at an OpenAI-compatible server",
                )
        with self._lock:
            if self._client is None or (base_url, api_key) != self._configured_with:
                self._resolved_base_url = base_url
                self._resolved_api_key = api_key
                self._configured_with = (base_url, self._api_key or defaults.api_key or None)
                self._client = OpenAI(
                    api_key=api_key,
                    base_url=base_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
            return self._client

    def close(self) -> None:
        """Release the HTTP connection pool; the next request builds a fresh client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _request_kwargs(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The request body, already in the API's wire shape (the loop keeps messages as the
        API's dicts), so it is posted as is: the SDK's per-request parameter transform cost
        about 1 ms of CPU per model call and changed nothing here."""
        kwargs: dict[str, Any] = {"model": self.id, "messages": messages}
        if tools:  # some servers reject "tools": [] outright
            kwargs["tools"] = tools
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return kwargs

    # ---- calls -----------------------------------------------------------------------------

    def response(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> ModelResponse:
        """One non-streaming completion.

        Raises ``ModelError`` (kind timeout, rate_limited, server_error, bad_request or
        connection) after the SDK's own retries are spent, and ``ConfigError`` when no api key
        is available for OpenAI's endpoint.
        """
        client = self._client_or_create()
        kwargs = self._request_kwargs(messages, tools)
        try:
            completion = client.post(CHAT_COMPLETIONS, body=kwargs, cast_to=ChatCompletion)
        except openai.OpenAIError as exc:
            raise self._model_error(exc) from exc
        if not completion.choices:
            raise ModelError("server_error", f"model {self.id} returned no choices")
        message = completion.choices[0].message
        calls: list[ToolCall] = []
        for raw in message.tool_calls or []:
            if raw.type == "function":
                calls.append(
                    ToolCall(
                        raw.id or _new_call_id(), raw.function.name, raw.function.arguments or ""
                    )
                )
            else:  # custom (free-form) tools: their input plays the role of the arguments
                calls.append(
                    ToolCall(raw.id or _new_call_id(), raw.custom.name, raw.custom.input or "")
                )
        return ModelResponse(content=message.content, tool_calls=calls)

    def response_stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> Iterator[str | ModelResponse]:
        """Stream a completion: content deltas as ``str``, then exactly one ``ModelResponse``.

        Tool calls arrive as index-keyed fragments (id and name first, arguments in pieces);
        they are assembled here so callers only ever see whole calls. Errors, including those
        raised mid-stream, surface as ``ModelError`` like in :meth:`response`. Closing the
        generator early closes the HTTP response.
        """
        client = self._client_or_create()
        kwargs = self._request_kwargs(messages, tools)
        content_parts: list[str] = []
        partial: dict[int, _PartialCall] = {}
        try:
            stream = client.post(CHAT_COMPLETIONS, body=kwargs | {"stream": True}, cast_to=ChatCompletion,
                                 stream=True, stream_cls=Stream[ChatCompletionChunk])
            with stream:
                for chunk in stream:
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue
                        delta = choice.delta
                        if delta.content:
                            content_parts.append(delta.content)
                            yield delta.content
                        for tc in delta.tool_calls or []:
                            entry = partial.setdefault(tc.index, _PartialCall())
                            if tc.id and not entry.id:
                                entry.id = tc.id
                            if tc.function is not None:
                                if tc.function.name and not entry.name:
                                    entry.name = tc.function.name
                                if tc.function.arguments:
                                    entry.arguments.append(tc.function.arguments)
        except openai.OpenAIError as exc:
            raise self._model_error(exc) from exc
        calls = [
            ToolCall(entry.id or _new_call_id(), entry.name, "".join(entry.arguments))
            for _, entry in sorted(partial.items())
        ]
        yield ModelResponse(
            content="".join(content_parts) if content_parts else None, tool_calls=calls
        )

    # ---- error mapping ---------------------------------------------------------------------

    def _model_error(self, exc: openai.OpenAIError) -> ModelError:
        """Translate an SDK exception into a ``ModelError`` a person can act on."""
        error = self._describe(exc)
        key = self._resolved_api_key
        if key and key != _PLACEHOLDER_API_KEY and key in error.message:
            # Never echo the key, even if a server quotes it back.
            error = ModelError(error.kind, error.message.replace(key, "***"), error.status_code)
        return error

    def _describe(self, exc: openai.OpenAIError) -> ModelError:
        attempts = self.max_retries + 1
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(
                "timeout", f"model {self.id} timed out after {self.timeout:g}s{tries}"
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {cause}" if cause else ""
            return ModelError(
                "connection", f"could not reach the model server at {self._where()}{tries}{detail}"
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            server_message = _server_message(exc)
            if isinstance(exc, openai.RateLimitError) or status == 429:
                retry_after = exc.response.headers.get("retry-after")
                hint = f"; retry after {retry_after}s" if retry_after else ""
                return ModelError(
                    "rate_limited",
                    f"model server returned {status} (rate limited): {server_message}{hint}",
                    status,
                )
            if status >= 500:
                return ModelError(
                    "server_error",
                    f"model server returned {status} (server error): {server_message}",
                    status,
                )
            return ModelError(
                "bad_request",
                f"model server returned {status} ({_reason(status, self.id)}): {server_message}",
                status,
            )
        if isinstance(exc, openai.APIError):
            # An error event inside an otherwise successful stream.
            return ModelError(
                "server_error", f"model server reported an error mid-response: {_clip(exc.message)}"
            )
        return ModelError("bad_request", f"model {self.id} request failed: {_clip(str(exc))}")

    def _where(self) -> str:
        return self._resolved_base_url or "https://api.openai.com/v1"


@dataclass
class _PartialCall:
    """A tool call being assembled from stream deltas."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


def _new_call_id() -> str:
    """Some local servers omit tool call ids; the conversation still needs one to pair results."""
    return "call_" + uuid.uuid4().hex[:12]


def _is_openai_endpoint(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return host in _OPENAI_HOSTS or host.endswith(".openai.com")


def _clip(text: str, limit: int = _MAX_SERVER_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own explanation, not the SDK's ``Error code: 429 - {...}`` dump."""
    body = exc.body
    if isinstance(body, dict):
        message = cast(dict[str, Any], body).get("message")
        if isinstance(message, str) and message:
            return _clip(message)
    if isinstance(body, str) and body.strip():
        return _clip(body.strip())
    try:
        text = exc.response.text.strip()
    except Exception:  # a streamed response whose body was never read
        text = ""
    return _clip(text) if text else "no details given"


def _reason(status: int, model_id: str) -> str:
    return {
        400: "bad request",
        401: "authentication failed, check OPENAI_API_KEY",
        403: "permission denied",
        404: f"not found, check the model id {model_id!r} and OPENAI_BASE_URL",
        408: "request timeout",
        409: "conflict",
        413: "request too large",
        422: "unprocessable request",
    }.get(status, "client error")
