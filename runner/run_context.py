"""``RunContext``: what a tool may ask to be handed besides its arguments (Agno's name).

A tool that declares a ``run_context`` parameter gets it; the model never sees that parameter.
``session_state`` is the run's session state: changes a tool makes are saved with the run (and
so reach the session's next run), whether the tool ran before a pause or after it.
``dependencies`` are what the caller passed to ``run``/``continue_run`` (never stored: pass them
again when continuing, as Agno does); ``metadata`` likewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class RunContext:
    run_id: str
    session_id: str | None = None
    user_id: str | None = None
    session_state: dict[str, Any] | None = None
    dependencies: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


RUN_CONTEXT_PARAMETER = "run_context"
"""The parameter name that asks for a ``RunContext`` (as in Agno)."""


__all__ = ["RUN_CONTEXT_PARAMETER", "RunContext"]
