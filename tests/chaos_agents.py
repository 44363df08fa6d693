"""Agents for ``tests/test_chaos.py``: a scripted model (no model server) and tools that record
every effect in a file and can stop at a chosen point so the test knows where a worker is.

The run's input is ``"<point> <token>"``. ``point`` says where the first worker to get there
blocks (forever: the test SIGKILLs it): ``model`` (the model turn, before the tool call is
claimed), ``tool`` (inside the tool, before its effect), ``after`` (inside the tool, after its
effect, before the result is saved), anything else: nowhere. A ``<token>.at-<point>`` file says a
worker is there; ``<token>.seen`` makes the next worker go through. Every effect appends
``<token>`` to ``effects`` (O_APPEND: one line per effect, whatever process wrote it).
``CHAOS_DIR`` (set by the test for its worker subprocesses) is that directory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.agent import Agent
from runner.models import ModelResponse, ToolCall
from runner.tools import tool

DIR = Path(os.environ.get("CHAOS_DIR", "/tmp/signoff-chaos"))


def _stop_here(point: str, token: str) -> None:
    """The first worker to reach ``point`` for ``token`` says so and blocks until it is killed."""
    seen = DIR / f"{token}.seen"
    try:
        fd = os.open(seen, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    (DIR / f"{token}.at-{point}").write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def _effect(token: str) -> None:
    fd = os.open(DIR / "effects", os.O_CREAT | os.O_APPEND | os.O_WRONLY)
    try:
        os.write(fd, f"{token}\n".encode())
    finally:
        os.close(fd)


def _parse(ticket: str) -> tuple[str, str]:
    point, _, token = ticket.partition(" ")
    return point, token


class ScriptModel:
    """Asks for one tool call with the run's input, then answers with the tool's result."""

    id = "chaos-script"

    def __init__(self, tool_name: str) -> None:
        self.tool_name = tool_name

    def response(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelResponse:
        last = messages[-1]
        if last.get("role") == "tool":
            return ModelResponse(content=f"done: {last.get('content')}")
        ticket = next(str(m["content"]) for m in messages if m.get("role") == "user")
        point, token = _parse(ticket)
        if point == "model":
            _stop_here(point, token)
        arguments = json.dumps({"ticket": ticket})
        return ModelResponse(content=None, tool_calls=[ToolCall(id="call_1", name=self.tool_name, arguments=arguments)])

    def response_stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> Iterator[str | ModelResponse]:
        yield self.response(messages, tools)


@tool
def effect(ticket: str) -> str:
    """Do something with an effect outside signoff (recorded in the effects file)."""
    point, token = _parse(ticket)
    if point == "tool":
        _stop_here(point, token)
    _effect(token)
    if point == "after":
        _stop_here(point, token)
    return f"effect {token}"


@tool(requires_confirmation=True)
def confirmed_effect(ticket: str) -> str:
    """The same, after a person confirms it."""
    _, token = _parse(ticket)
    _effect(token)
    return f"effect {token}"


chaos = Agent(id="chaos", name="Chaos", tools=[effect], model=ScriptModel("effect"))
confirmed = Agent(id="confirmed", name="Confirmed", tools=[confirmed_effect], model=ScriptModel("confirmed_effect"))
agents = [chaos, confirmed]
