"""``pprint_run_response`` / ``apprint_run_response``: Agno's ``agno.utils.pprint`` helpers, so
examples that end with them print the run's answer unchanged (``from runner import pprint``)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Iterable
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from runner.events import RunContent


def _content_of(response: Any) -> str:
    """A run's (or a stream's) text: a stream is drained and its content events joined, as Agno's
    helper does, so the printed answer is the same whether the example streamed or not."""
    if isinstance(response, Iterable) and not isinstance(response, str | bytes):
        return "".join(str(event.content) for event in response if isinstance(event, RunContent) and event.content)
    content = getattr(response, "content", None)
    return "" if content is None else str(content)


def pprint_run_response(response: Any, markdown: bool = False, show_time: bool = False) -> None:
    """Print a run's answer in a panel (rendered as Markdown when asked); ``show_time`` is accepted
    and ignored, since signoff's runs keep their timings in the database rather than on the output."""
    del show_time
    text = _content_of(response)
    Console().print(Panel(Markdown(text) if markdown else text, title="Response", expand=True))


async def apprint_run_response(response: Any, markdown: bool = False, show_time: bool = False) -> None:
    """``pprint_run_response`` for async runs: an awaitable is awaited and an async stream drained
    (its content events joined) before printing, as Agno's ``apprint_run_response`` does."""
    if inspect.isawaitable(response):
        response = await response
    if isinstance(response, AsyncIterable):
        response = [event async for event in response]
    pprint_run_response(response, markdown=markdown, show_time=show_time)
