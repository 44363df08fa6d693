"""runner.models against a real local OpenAI-compatible server, through the real openai SDK."""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openai import OpenAI

from runner.models import ModelResponse, OpenAIChat, ToolCall
from storage.errors import ConfigError, ModelError
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import (
    FakeOpenAI,
    Reply,
    delay,
    error,
    text,
    tool_call,
    tool_calls,
)

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
USER = [{"role": "user", "content": "hello"}]


def _drain(
    chat: OpenAIChat, tools: list[dict[str, Any]] | None = None
) -> tuple[list[str], ModelResponse]:
    deltas: list[str] = []
    final: list[ModelResponse] = []
    for item in chat.response_stream(USER, tools or []):
        if isinstance(item, ModelResponse):
            final.append(item)
        else:
            assert not final, "content delta after the final ModelResponse"
            deltas.append(item)
    assert len(final) == 1
    return deltas, final[0]


def test_plain_text(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text("Hello there"))
    result = OpenAIChat().response(USER, [])
    assert result == ModelResponse(content="Hello there", tool_calls=[])
    assert result.to_message() == {"role": "assistant", "content": "Hello there"}
    assert "tools" not in fake_openai.requests[0]


def test_one_tool_call(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(tool_call("get_weather", {"city": "Paris"}, id="call_1"))
    result = OpenAIChat().response(USER, [WEATHER_TOOL])
    assert result.content is None
    assert result.tool_calls == [ToolCall("call_1", "get_weather", '{"city": "Paris"}')]
    assert result.tool_calls[0].parsed_arguments() == {"city": "Paris"}
    assert result.to_message() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }


def test_several_tool_calls_in_one_turn(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo"}, "c2"))
    )
    result = OpenAIChat().response(USER, [WEATHER_TOOL])
    assert [c.parsed_arguments()["city"] for c in result.tool_calls] == ["Paris", "Oslo"]
    first, second = result.tool_calls
    assert first.id.startswith("call_") and first.id != second.id
    assert second.id == "c2"


def test_streaming_text(fake_openai: FakeOpenAI) -> None:
    content = "The quick brown fox jumps over the lazy dog."
    fake_openai.script(text(content))
    deltas, final = _drain(OpenAIChat())
    assert len(deltas) > 1
    assert "".join(deltas) == content
    assert final == ModelResponse(content=content, tool_calls=[])
    assert fake_openai.requests[0]["stream"] is True


def test_streaming_tool_calls_are_assembled(fake_openai: FakeOpenAI) -> None:
    args_a = {"city": "Paris", "units": "metric", "note": "a longer value to split"}
    fake_openai.script(
        tool_calls(("get_weather", args_a, "call_a"), ("get_weather", {"city": "Oslo"}, "call_b"))
    )
    deltas, final = _drain(OpenAIChat(), [WEATHER_TOOL])
    assert deltas == []
    assert final.content is None
    assert final.tool_calls == [
        ToolCall("call_a", "get_weather", json.dumps(args_a)),
        ToolCall("call_b", "get_weather", json.dumps({"city": "Oslo"})),
    ]
    assert final.tool_calls[0].parsed_arguments() == args_a


def test_streaming_text_then_tool_call(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        Reply(
            content="Let me check.",
            tool_calls=tool_call("get_weather", {"city": "Rome"}).tool_calls,
        )
    )
    deltas, final = _drain(OpenAIChat(), [WEATHER_TOOL])
    assert "".join(deltas) == "Let me check."
    assert final.content == "Let me check."
    assert [c.name for c in final.tool_calls] == ["get_weather"]


def test_malformed_tool_arguments(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        tool_call("get_weather", '{"city": "Par'), tool_call("get_weather", "[1, 2]")
    )
    chat = OpenAIChat()
    for _ in range(2):
        call = chat.response(USER, [WEATHER_TOOL]).tool_calls[0]
        with pytest.raises(ModelError) as info:
            call.parsed_arguments()
        assert info.value.kind == "malformed_tool_arguments"
        assert "malformed arguments for get_weather" in info.value.message


def test_rate_limited(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        error(429, "Rate limit reached for gpt-4o-mini", headers={"retry-after": "7"})
    )
    with pytest.raises(ModelError) as info:
        OpenAIChat(max_retries=0).response(USER, [])
    err = info.value
    assert err.kind == "rate_limited"
    assert err.status_code == 429
    assert "429 (rate limited): Rate limit reached for gpt-4o-mini" in err.message
    assert "retry after 7s" in err.message


def test_server_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error(500, "The server had an error"))
    with pytest.raises(ModelError) as info:
        OpenAIChat(max_retries=0).response(USER, [])
    assert info.value.kind == "server_error"
    assert info.value.status_code == 500
    assert "The server had an error" in info.value.message


def test_server_error_retried_then_ok(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error(503, "overloaded", headers={"retry-after": "0.01"}), text("recovered"))
    assert OpenAIChat(max_retries=1).response(USER, []).content == "recovered"
    assert len(fake_openai.requests) == 2


def test_bad_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error(400, "Invalid schema for function 'get_weather'"))
    with pytest.raises(ModelError) as info:
        OpenAIChat(max_retries=0).response(USER, [WEATHER_TOOL])
    assert info.value.kind == "bad_request"
    assert "400 (bad request): Invalid schema" in info.value.message


def test_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(delay(2, text("too late")))
    chat = OpenAIChat(id="gpt-4o-mini", timeout=0.3, max_retries=0)
    started = time.monotonic()
    with pytest.raises(ModelError) as info:
        chat.response(USER, [])
    assert time.monotonic() - started < 1.5
    assert info.value.kind == "timeout"
    assert info.value.message == "model gpt-4o-mini timed out after 0.3s"


def test_stream_timeout(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(delay(2, text("too late")))
    with pytest.raises(ModelError) as info:
        _drain(OpenAIChat(timeout=0.3, max_retries=0))
    assert info.value.kind == "timeout"


def test_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI() as fake:
        url = fake.base_url  # a port that is closed once the fake stops
    chat = OpenAIChat(base_url=url, api_key="sk-secret-123", max_retries=0)
    with pytest.raises(ModelError) as info:
        chat.response(USER, [])
    assert info.value.kind == "connection"
    assert url in info.value.message
    assert "sk-secret-123" not in info.value.message


def test_request_body_has_model_and_tools(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text("ok"))
    OpenAIChat(id="gpt-4o", temperature=0.2).response(USER, [WEATHER_TOOL])
    body = fake_openai.requests[-1]
    assert body["model"] == "gpt-4o"
    assert body["tools"] == [WEATHER_TOOL]
    assert body["temperature"] == 0.2
    assert fake_openai.last_messages() == USER


def test_env_base_url_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    chat = OpenAIChat()  # built before the env exists, like a module-level agent definition
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "my-local-model")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        fake.script(text("hi"))
        assert chat.id == "my-local-model"
        assert chat.response(USER, []).content == "hi"
        assert fake.requests[0]["model"] == "my-local-model"


def test_custom_base_url_without_key_uses_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAI() as fake:
        fake.script(text("hi"))
        assert OpenAIChat(base_url=fake.base_url).response(USER, []).content == "hi"


def test_missing_api_key_for_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    chat = OpenAIChat(id="gpt-4o")  # no error at construction
    with pytest.raises(ConfigError) as info:
        chat.response(USER, [])
    assert info.value.variable == "OPENAI_API_KEY"
    assert "OPENAI_API_KEY" in str(info.value)
    with pytest.raises(ConfigError):
        OpenAIChat(base_url="https://api.openai.com/v1").response(USER, [])


def test_empty_queue_fails_loudly(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(ModelError) as info:
        OpenAIChat().response(USER, [])  # default retries: the fake says not to retry
    assert info.value.kind == "server_error"
    assert "no scripted reply left" in info.value.message
    assert len(fake_openai.requests) == 1


def test_responder_fallback_and_threads(fake_openai: FakeOpenAI) -> None:
    def echo(body: dict[str, Any]) -> Reply:
        return text("echo: " + body["messages"][-1]["content"])

    fake_openai.set_responder(echo)
    chat = OpenAIChat()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda i: chat.response([{"role": "user", "content": str(i)}], []).content,
                range(16),
            )
        )
    assert results == [f"echo: {i}" for i in range(16)]
    assert len(fake_openai.requests) == 16


def test_api_key_never_in_error_messages(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error(401, "Incorrect API key provided: sk-test-fake"))
    with pytest.raises(ModelError) as info:
        OpenAIChat(max_retries=0).response(USER, [])
    assert info.value.kind == "bad_request"
    assert info.value.status_code == 401
    assert "sk-test-fake" not in info.value.message
    assert "authentication failed" in info.value.message


def test_models_endpoint(fake_openai: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake_openai.base_url, api_key="x")
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
