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
class Reminders:
    """When to nudge the people a request waits for, and whom to add if nobody decides.

    ``remind_after``: seconds after the request until a reminder (a thread reply and a DM to the
    pending deciders). ``escalate_after``: seconds until ``escalate_to`` (user ids or a user group)
    become deciders too, are told, and the deciders are reminded. None: never. A tool's or an
    approval's own values win; the settings (``SIGNOFF_REMIND_AFTER`` ...) give the defaults.
    """

    remind_after: float | None = None
    escalate_after: float | None = None
    escalate_to: tuple[str, ...] = ()

    def over(self, defaults: Reminders | None) -> Reminders:
        """These values, each one missing taken from ``defaults``."""
        if defaults is None:
            return self
        return Reminders(
            self.remind_after if self.remind_after is not None else defaults.remind_after,
            self.escalate_after if self.escalate_after is not None else defaults.escalate_after,
            self.escalate_to or defaults.escalate_to,
        )


def reminders(
    remind_after: float | timedelta | None, escalate_after: float | timedelta | None, escalate_to: Sequence[str] | None,
    where: str,
) -> Reminders:
    """Checked ``Reminders`` from decorator arguments (seconds or a timedelta)."""
    values: list[float | None] = []
    for name, value in (("remind_after", remind_after), ("escalate_after", escalate_after)):
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        if seconds is not None and seconds <= 0:
            raise ToolConfigError(f"{where}({name}=...) must be positive")
        values.append(seconds)
    if isinstance(escalate_to, str):
        escalate_to = [escalate_to]
    return Reminders(values[0], values[1], tuple(escalate_to or ()))


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who must sign off on a tool call, how many of them, when, and for how long the ask stands."""

    type: ApprovalType = "required"
    approvers: tuple[str, ...] = ()
    quorum: int = 1
    when: Callable[[dict[str, Any]], bool] | None = field(default=None, compare=False)
    expires_in: float | None = None
    reminders: Reminders = field(default_factory=Reminders)

    def applies(self, args: dict[str, Any]) -> bool:
        """A conditional gate (``when``) only bites for the arguments it names."""
        return True if self.when is None else bool(self.when(args))


def _policy(
    type: str,
    approvers: Sequence[str] | None,
    quorum: int,
    when: Callable[[dict[str, Any]], bool] | None,
    expires_in: float | timedelta | None,
    nudges: Reminders | None = None,
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
        reminders=nudges or Reminders(),
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
    remind_after: float | timedelta | None = None,
    escalate_after: float | timedelta | None = None,
    escalate_to: Sequence[str] | str | None = None,
) -> Callable[[F], F]: ...


def approval(
    func: Any = None,
    *,
    type: str = "required",
    approvers: Sequence[str] | None = None,
    quorum: int = 1,
    when: Callable[[dict[str, Any]], bool] | None = None,
    expires_in: float | timedelta | None = None,
    remind_after: float | timedelta | None = None,
    escalate_after: float | timedelta | None = None,
    escalate_to: Sequence[str] | str | None = None,
) -> Any:
    """Mark a tool as needing formal sign-off. Bare ``@approval`` means ``type="required"``.

    ``remind_after`` / ``escalate_after`` / ``escalate_to``: see :class:`Reminders`."""
    nudges = reminders(remind_after, escalate_after, escalate_to, "@approval")
    policy = _policy(type, approvers, quorum, when, expires_in, nudges)

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
