"""The seed's public run API, shared by agents, teams and workflows.

``run`` / ``continue_run`` / ``retry_run`` / ``get_run_output`` behave identically whatever is
being run, from a script, a worker or another process: they only hand the runnable to
``runner.driver`` with the right runtime (the enclosing ``runtime.using`` block's, else the
script default), plus the runnable's own ``db=`` and ``listeners=`` when it was given some.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

from runner import driver
from runner.events import RunEvent
from runner.listener import RunListener
from runner.output import RunOutput
from runner.protocols import Scope, Steps
from runner.run_requirement import RunRequirement
from runner.runtime import Runtime, current, scoped
from runner.tools import Function
from storage.database import Database


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
    def run(self, input: str, *, stream: Literal[False] = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> RunOutput: ...

    @overload
    def run(self, input: str, *, stream: Literal[True], user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> Iterator[RunEvent]: ...

    def run(self, input: str, *, stream: bool = False, user_id: str | None = None,
            user_name: str | None = None, channel: str | None = None,
            thread_ts: str | None = None) -> RunOutput | Iterator[RunEvent]:
        """Run until the answer or the first pause. ``user_id`` is the requester, kept for good."""
        events = driver.start(self, self.runtime(), input,
                              requester=user_id, requester_name=user_name, channel=channel,
                              thread_ts=thread_ts, stream=stream)
        return events if stream else driver.collect(events)

    def continue_run(self, run_response: RunOutput | None = None, *, run_id: str | None = None,
                     requirements: Sequence[RunRequirement] | None = None, stream: bool = False,
                     user_id: str | None = None) -> Any:
        """Apply decisions and resume. Works from another process with ``run_id`` alone.

        Requirements left undecided keep the run paused (the returned output says so); they
        are never taken as rejections.
        """
        if run_response is not None:
            run_id = run_id or run_response.run_id
            if requirements is None:
                requirements = run_response.requirements
        if run_id is None:
            raise TypeError("continue_run needs a run response or run_id=...")
        events = driver.resume(self, self.runtime(), run_id,
                               requirements, actor_id=user_id, stream=stream)
        return events if stream else driver.collect(events)

    def retry_run(self, run_id: str, *, stream: bool = False) -> Any:
        """Resume a failed run from its last checkpoint; tools that already ran do not rerun."""
        events = driver.retry(self, self.runtime(), run_id, stream=stream)
        return events if stream else driver.collect(events)

    def get_run_output(self, run_id: str) -> RunOutput:
        """The run as SQL has it now (any process): status, content, open requirements."""
        runtime = self.runtime()
        return driver.output_of(self, runtime, runtime.db.get_run(run_id))
