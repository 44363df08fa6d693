"""Which agents, teams and workflows exist: a module named by ``SIGNOFF_AGENTS`` lists them."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.protocols import Runnable
from storage.errors import ConfigError
from storage.records import RequirementRecord, RunRecord

if TYPE_CHECKING:
    from runner.tools import Function

log = logging.getLogger(__name__)

DEFAULT_MODULE = "runner.examples"


@dataclass
class Registry:
    targets: dict[str, Runnable] = field(default_factory=dict)
    module: str = DEFAULT_MODULE

    def get(self, target_id: str) -> Runnable | None:
        return self.targets.get(target_id)

    def __iter__(self) -> Iterator[Runnable]:
        return iter(self.targets.values())

    def ids(self) -> list[str]:
        return list(self.targets)

    def tool_for(self, run: RunRecord, req: RequirementRecord) -> Function | None:
        """The Function behind a requirement, when its runnable still defines it (None for a step)."""
        target = self.get(run.target_id)
        return None if target is None else tool_of(target.lookup, run, req)


Lookup = Callable[[str | None, str | None], "Function | None"]


def tool_of(lookup: Lookup, run: RunRecord, req: RequirementRecord) -> Function | None:
    """``lookup`` (a runnable's) applied to a requirement; a lookup that raises is logged, not fatal."""
    if not req.tool_name:
        return None
    try:
        return lookup(req.member_agent_name, req.tool_name)
    except Exception:
        log.exception("looking up tool %s of run %s failed", req.tool_name, run.id)
        return None


def describe(target: Runnable) -> str:
    text = target.description or ""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first or f"{target.kind} {target.name}"


def load(module_name: str = DEFAULT_MODULE) -> Registry:
    """Import the module and index its ``agents``, ``teams`` and ``workflows`` by id."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            "SIGNOFF_AGENTS",
            f"cannot import module {module_name!r} ({exc}); set it to "
            "a module on PYTHONPATH that defines agents/teams/workflows lists",
        ) from None
    registry = Registry(module=module_name)
    for attr in ("agents", "teams", "workflows"):
        for target in getattr(module, attr, None) or []:
            if target.id in registry.targets:
                raise ConfigError("SIGNOFF_AGENTS", f"{module_name}: two entries have the id {target.id!r}")
            registry.targets[target.id] = target
    if not registry.targets:
        raise ConfigError("SIGNOFF_AGENTS", f"{module_name} defines no agents, teams or workflows")
    return registry
