"""The seed's public run API, shared by agents, teams and workflows.

``run`` / ``continue_run`` / ``retry_run`` / ``get_run_output`` behave identically whatever is
being run, from a script, a worker or another process: they only hand the runnable to
``runner.driver`` with the right runtime (the enclosing ``runtime.using`` block's, else the
script default), plus the runnable's own ``db=`` and ``listeners=`` when it was given some.

Agno's shapes are accepted too: ``session_id=`` (a conversation: the model sees the earlier
finished runs of the same session and runnable; in Slack a thread is a session), ``session_state``,
``stream_events=``, ``continue_run(run_id=..., updated_tools=...)``, ``arun`` / ``acontinue_run``
(awaitable, or an async iterator of events with ``stream=True``), ``get_session``,
``get_last_run_output``. Two deliberate differences from Agno: a requirement the caller confirms
cannot bypass a pending ``required`` approval (``ApprovalPending``), and a continue with
requirements still unresolved keeps the run paused instead of raising.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import queue
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from runner import driver
from runner.events import (
    RunCompleted,
    RunEvent,
    RunPaused,
    RunStarted,
    WorkflowCancelled,
    WorkflowCompleted,
    WorkflowStarted,
)
from runner.listener import RunListener
from runner.output import RunOutput, member_outputs
from runner.protocols import Runnable, Scope, Steps
from runner.run_requirement import RunRequirement, ToolExecution
from runner.runtime import Runtime, current, scoped
from runner.tools import Function
from storage.database import Database
from storage.records import RunRecord, RunStatus


@dataclass
class Session:
    """Agno's session, read from SQL: the runs of one ``session_id`` for one runnable."""

    session_id: str
    runs: list[RunOutput] = field(default_factory=list)
    session_state: dict[str, Any] | None = None

    @property
    def session_data(self) -> dict[str, Any]:
        return {"session_state": self.session_state or {}}

    def get_messages(self) -> list[dict[str, Any]]:
        """The conversation so far: the latest run's messages (each run carries the history)."""
        return list(self.runs[-1].messages) if self.runs else []


def session_history(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """The messages a new run of a session starts after: the latest finished run's conversation,
    without its system prompt (the new run has its own) and without a dangling tool-call turn."""
    finished = [r for r in runs if r.status is RunStatus.COMPLETED and r.state.get("messages")]
    if not finished:
        return []
    messages = [m for m in finished[-1].state["messages"] if m.get("role") != "system"]
    while messages and messages[-1].get("role") == "assistant" and messages[-1].get("tool_calls"):
        messages.pop()
    return messages


def session_start(
    db: Database,
    target: Runnable,
    text: str,
    requester: str | None,
    session_id: str | None,
    session_state: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The state a new run of ``target`` starts from: its initial state, with the conversation of
    the session's earlier runs of the same target after the system prompt; and the session's state.
    One place for a script's ``run(session_id=...)`` and a Slack thread's next run."""
    state = target.initial_state(text, requester)
    if session_id is None:
        return _with_state_in_instructions(state, session_state), session_state
    earlier = [r for r in db.runs_for_session(session_id) if r.target_id == target.id]
    history = session_history(earlier)
    if history and isinstance(state.get("messages"), list):
        messages = state["messages"]
        at = 1 if messages and messages[0].get("role") == "system" else 0
        state["messages"] = messages[:at] + history + messages[at:]
    if session_state is None and earlier:
        session_state = earlier[-1].session_state
    return _with_state_in_instructions(state, session_state), session_state


_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


def _with_state_in_instructions(state: dict[str, Any], session_state: dict[str, Any] | None) -> dict[str, Any]:
    """Agno resolves ``{key}`` in an agent's instructions from the session state; other braces stay."""
    messages = state.get("messages")
    if not session_state or not isinstance(messages, list) or not messages or messages[0].get("role") != "system":
        return state
    text = str(messages[0].get("content") or "")
    resolved = _PLACEHOLDER.sub(lambda m: str(session_state[m.group(1)])  # str.format's rendering, as Agno
                                if m.group(1) in session_state else m.group(0), text)
    if resolved != text:
        messages[0] = dict(messages[0]) | {"content": resolved}
    return state


_DONE = object()


async def _bridge(make: Any) -> AsyncIterator[Any]:
    """Iterate a blocking event stream in a thread, handing each event to the event loop."""
    q: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            for item in make():
                q.put(item)
        except BaseException as exc:  # handed to the awaiting side, raised there
            q.put(exc)
        q.put(_DONE)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        item = await asyncio.to_thread(q.get)
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


class AsyncEvents:
    """An async event stream that may also be awaited first (``await agent.acontinue_run(...,
    stream=True)`` then ``async for``), as Agno's examples do both."""

    def __init__(self, events: AsyncIterator[Any]) -> None:
        self._events = events

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def __anext__(self) -> Any:
        return await self._events.__anext__()

    def __await__(self) -> Generator[Any, None, AsyncEvents]:
        return self._itself().__await__()

    async def _itself(self) -> AsyncEvents:
        return self


class RunAPI(ABC):
    """The seed's public run API (run / continue_run / retry_run / get_run_output), shared.

    ``Agent`` has the same methods; teams and workflows get them from here so the three behave
    identically from a script, a worker and another process.
    """

    kind: str
    id: str
    name: str
    description: str | None
    db: Database | None
    listeners: list[RunListener]

    # -- the Runnable hooks the driver calls (runner.protocols.Runnable) ------------------------

    @abstractmethod
    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        """The saved state a new run starts from."""

    @abstractmethod
    def advance(self, scope: Scope, state: dict[str, Any]) -> Steps:
        """Move the run forward from ``state`` until it pauses, completes or is cancelled."""

    @abstractmethod
    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        """The Function behind a requirement (``member`` None: this runnable's own tools)."""

    # -- the public API --------------------------------------------------------------------------

    def runtime(self) -> Runtime:
        """The enclosing runtime (or the script default), with this runnable's own db and listeners."""
        base = scoped() or (current() if self.db is None else Runtime.for_database(self.db))
        if self.db is not None and self.db is not base.db:
            base = Runtime(self.db, base.listeners, base.model_defaults, base.approvers)
        return base.with_listeners(self.listeners)

    @overload
    def run(self, input: Any, *, stream: Literal[False] = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None, session_id: str | None = None,
            session_state: dict[str, Any] | None = None, stream_events: bool | None = None,
            **_options: Any) -> RunOutput: ...

    @overload
    def run(self, input: Any, *, stream: Literal[True], user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None, session_id: str | None = None,
            session_state: dict[str, Any] | None = None, stream_events: bool | None = None,
            **_options: Any) -> Iterator[RunEvent]: ...

    def run(self, input: Any, *, stream: bool = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None, session_id: str | None = None,
            session_state: dict[str, Any] | None = None, stream_events: bool | None = None,
            dependencies: dict[str, Any] | None = None,
            **_options: Any) -> RunOutput | Iterator[RunEvent]:
        """Run until the answer or the first pause. ``user_id`` is the requester, kept for good.

        With ``session_id``, the model also sees the earlier finished runs of that session.
        ``stream_events`` is accepted for Agno's sake: a signoff stream always carries every event.
        """
        text = input if isinstance(input, str) else str(getattr(input, "content", None) or input)
        runtime = self._with_dependencies(dependencies)
        state, session_state = session_start(runtime.db, self, text, user_id, session_id, session_state)
        if session_state is None:  # a new session starts from the runnable's own initial state
            initial = getattr(self, "session_state", None)
            session_state = json.loads(json.dumps(initial)) if initial is not None else None
            state = _with_state_in_instructions(state, session_state)
        events = self._tagged(driver.start(self, runtime, text,
                                           requester=user_id, requester_name=user_name, channel=channel,
                                           thread_ts=thread_ts, stream=stream, session_id=session_id,
                                           session_state=session_state, state=state), session_id)
        return events if stream else driver.collect(events)

    def continue_run(self, run_response: RunOutput | None = None, *, run_id: str | None = None,
                     requirements: Sequence[RunRequirement] | None = None, stream: bool = False,
                     user_id: str | None = None, updated_tools: Sequence[ToolExecution] | None = None,
                     session_id: str | None = None, stream_events: bool | None = None,
                     dependencies: dict[str, Any] | None = None,
                     **_options: Any) -> Any:
        """Apply decisions and resume. Works from another process with ``run_id`` alone.

        Decisions come from the setters (``req.confirm()`` ...) or Agno's flags
        (``tool.confirmed = True``, a field's ``.value``, ``updated_tools=``). Requirements left
        undecided keep the run paused (the returned output says so), instead of raising as Agno
        does; they are never taken as rejections. A caller's confirmation never bypasses a
        pending ``required`` approval.
        """
        if run_response is not None and not isinstance(run_response, RunOutput):
            # Agno allows continue_run(run_paused_event).
            run_response = getattr(run_response, "output", None)
        if run_response is not None:
            run_id = run_id or run_response.run_id
            if requirements is None:
                requirements = run_response.requirements
        if run_id is None:
            raise TypeError("continue_run needs a run response or run_id=...")
        runtime = self._with_dependencies(dependencies)
        if updated_tools is not None:
            current_reqs = requirements or driver.output_of(self, runtime, runtime.db.get_run(run_id)).requirements
            by_call = {t.tool_call_id: t for t in updated_tools if t.tool_call_id}
            for req in current_reqs:
                given = by_call.get(req.tool_execution.tool_call_id or "")
                if given is not None and given is not req.tool_execution:
                    req.absorb(given)
            requirements = current_reqs
        for req in requirements or []:
            req.sync()
        # A run's session is fixed when it starts: the response the caller holds already says it.
        sid = session_id or (
            run_response.session_id if run_response is not None else runtime.db.get_run(run_id).session_id
        )
        events = self._tagged(driver.resume(self, runtime, run_id,
                                            requirements, actor_id=user_id, stream=stream), sid)
        return events if stream else driver.collect(events)

    def _with_dependencies(self, dependencies: dict[str, Any] | None) -> Runtime:
        """The runtime for one call; ``dependencies`` reach tools that take a ``run_context``."""
        runtime = self.runtime()
        return dataclasses.replace(runtime, dependencies=dependencies) if dependencies is not None else runtime

    def _tagged(self, events: Iterator[RunEvent], session_id: str | None) -> Iterator[RunEvent]:
        """Every event carries the session; a workflow's start and end use Agno's workflow events."""
        for event in events:
            if event.session_id is None:
                event.session_id = session_id
            if self.kind == "workflow":
                if type(event) is RunStarted:
                    event = WorkflowStarted(event.run_id, agent_id=event.agent_id, session_id=session_id,
                                            workflow_name=self.name)
                elif type(event) is RunCompleted:
                    cancelled = event.output is not None and event.output.status is RunStatus.CANCELLED
                    kind = WorkflowCancelled if cancelled else WorkflowCompleted
                    event = kind(event.run_id, content=event.content, output=event.output,
                                 session_id=session_id, workflow_name=self.name)
            elif isinstance(event, RunPaused | RunCompleted) and event.content is None and event.output:
                event.content = event.output.content
            yield event

    # -- async (the sync driver runs in a worker thread) ------------------------------------------

    def arun(self, input: Any, *, stream: bool = False, **kwargs: Any) -> Any:
        """``await agent.arun(...)``, or ``async for event in agent.arun(..., stream=True)``."""
        if stream:
            return AsyncEvents(_bridge(lambda: self.run(input, stream=True, **kwargs)))
        return asyncio.to_thread(lambda: self.run(input, **kwargs))

    def acontinue_run(self, run_response: RunOutput | None = None, *, stream: bool = False,
                      **kwargs: Any) -> Any:
        """``await agent.acontinue_run(...)``, or ``async for`` with ``stream=True``."""
        if stream:
            return AsyncEvents(_bridge(lambda: self.continue_run(run_response, stream=True, **kwargs)))
        return asyncio.to_thread(lambda: self.continue_run(run_response, **kwargs))

    # -- sessions ----------------------------------------------------------------------------------

    def get_session(self, session_id: str | None = None) -> Session | None:
        """The session's runs of this runnable, oldest first (None when there are none).

        Without ``session_id``, Agno's "current session": the session of this runnable's newest run;
        a run started without a session is a session of its own (its id is the run's id), so
        ``get_session().runs[-1]`` is the run just made, as Agno's examples expect.
        """
        runtime = self.runtime()
        if session_id is None:
            latest = runtime.db.latest_run_of(self.id)
            if latest is None:
                return None
            if latest.session_id is None:
                return Session(latest.id, [*member_outputs(latest), driver.output_of(self, runtime, latest)],
                               latest.session_state)
            session_id = latest.session_id
        runs = [r for r in runtime.db.runs_for_session(session_id) if r.target_id == self.id]
        if not runs:
            return None
        outputs = [out for r in runs for out in (*member_outputs(r), driver.output_of(self, runtime, r))]
        return Session(session_id, outputs, runs[-1].session_state)

    def get_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        session = self.get_session(session_id)
        return dict(session.session_state or {}) if session is not None else {}

    def get_last_run_output(self, session_id: str | None = None) -> RunOutput | None:
        """The newest run of this runnable (in ``session_id`` when given)."""
        runtime = self.runtime()
        if session_id is not None:
            runs = [r for r in runtime.db.runs_for_session(session_id) if r.target_id == self.id]
            return driver.output_of(self, runtime, runs[-1]) if runs else None
        latest = runtime.db.latest_run_of(self.id)
        return driver.output_of(self, runtime, latest) if latest is not None else None

    def get_chat_history(self, session_id: str) -> list[dict[str, Any]]:
        session = self.get_session(session_id)
        return [m for m in session.get_messages() if m.get("role") != "system"] if session else []

    def retry_run(self, run_id: str, *, stream: bool = False) -> Any:
        """Resume a failed run from its last checkpoint; tools that already ran do not rerun."""
        events = driver.retry(self, self.runtime(), run_id, stream=stream)
        return events if stream else driver.collect(events)

    def get_run_output(self, run_id: str, session_id: str | None = None) -> RunOutput:
        """The run as SQL has it now (any process): status, content, open requirements."""
        runtime = self.runtime()
        return driver.output_of(self, runtime, runtime.db.get_run(run_id))

    async def aget_run_output(self, run_id: str, session_id: str | None = None) -> RunOutput:
        return await asyncio.to_thread(self.get_run_output, run_id, session_id)
