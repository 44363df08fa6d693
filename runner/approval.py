"""``@approval``: the formal sign-off layer on top of tool confirmation.

``type="required"`` blocks the tool until an authorised approver decides; ``type="audit"`` lets it
run at once and records it. Works above or below ``@tool``: on a plain function it leaves a policy
for ``@tool`` to pick up, on a tool it sets the policy directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, TypeVar, overload

from storage.errors import ToolConfigError

ApprovalType = Literal["required", "audit"]

POLICY_ATTR = "__signoff_approval__"

F = TypeVar("F")


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who must sign off on a tool call, how many of them, when, and for how long the ask stands."""

    type: ApprovalType = "required"
    approvers: tuple[str, ...] = ()
    quorum: int = 1
    when: Callable[[dict[str, Any]], bool] | None = field(default=None, compare=False)
    expires_in: float | None = None

    def applies(self, args: dict[str, Any]) -> bool:
        """A conditional gate (``when``) only bites for the arguments it names."""
        return True if self.when is None else bool(self.when(args))


def _policy(
    type: str,
    approvers: Sequence[str] | None,
    quorum: int,
    when: Callable[[dict[str, Any]], bool] | None,
    expires_in: float | timedelta | None,
) -> ApprovalPolicy:
    if type not in ("required", "audit"):
        raise ToolConfigError(f"@approval(type={type!r}): type must be 'required' or 'audit'")
    if quorum < 1:
        raise ToolConfigError(f"@approval(quorum={quorum}): quorum must be at least 1")
    if type == "audit" and (quorum != 1 or approvers):
        raise ToolConfigError("@approval(type='audit') runs at once: approvers and quorum do not apply")
    if approvers and quorum > len(set(approvers)) and not any(a.startswith("S") for a in approvers):
        raise ToolConfigError(
            f"@approval(quorum={quorum}) needs at least {quorum} distinct approvers, got {len(set(approvers))}"
        )
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    if seconds is not None and seconds <= 0:
        raise ToolConfigError("@approval(expires_in=...) must be positive")
    kind: ApprovalType = "required" if type == "required" else "audit"
    return ApprovalPolicy(
        type=kind,
        approvers=tuple(approvers or ()),
        quorum=quorum,
        when=when,
        expires_in=seconds,
    )


@overload
def approval(func: F) -> F: ...


@overload
def approval(
    func: None = None,
    *,
    type: str = "required",
    approvers: Sequence[str] | None = None,
    quorum: int = 1,
    when: Callable[[dict[str, Any]], bool] | None = None,
    expires_in: float | timedelta | None = None,
) -> Callable[[F], F]: ...


def approval(
    func: Any = None,
    *,
    type: str = "required",
    approvers: Sequence[str] | None = None,
    quorum: int = 1,
    when: Callable[[dict[str, Any]], bool] | None = None,
    expires_in: float | timedelta | None = None,
) -> Any:
    """Mark a tool as needing formal sign-off. Bare ``@approval`` means ``type="required"``."""
    policy = _policy(type, approvers, quorum, when, expires_in)

    def apply(target: Any) -> Any:
        from runner.tools import Function

        if isinstance(target, Function):
            target.set_approval(policy)
            return target
        if not callable(target):
            raise ToolConfigError("@approval must decorate a function or a @tool")
        setattr(target, POLICY_ATTR, policy)
        return target

    if func is not None:
        return apply(func)
    return apply
