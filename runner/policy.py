"""Who may decide a requirement. Plain values in, an exception out when the answer is no.

A plain confirmation belongs to the requester and the approvers. A ``required`` approval belongs
to the approvers only, never the requester. Approvers are Slack user ids (``U...``/``W...``) or
user-group ids (``S...``) resolved through a directory that the Slack side implements (cached).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from storage.errors import NotAnApprover, SelfApproval
from storage.records import RequirementRecord


class Directory(Protocol):
    def members(self, group_id: str) -> set[str]:
        """User ids in a user group."""
        ...


class StaticDirectory:
    """A directory from a dict: for tests, the CLI and the API when Slack is not configured."""

    def __init__(self, groups: dict[str, Iterable[str]] | None = None) -> None:
        self.groups = {k: set(v) for k, v in (groups or {}).items()}

    def members(self, group_id: str) -> set[str]:
        return self.groups.get(group_id, set())


def is_group(approver: str) -> bool:
    return approver.startswith("S")


def approvers_for(requirement: RequirementRecord, default: Sequence[str]) -> list[str]:
    """The tool's own approvers when it names some, else the global SIGNOFF_APPROVERS."""
    return list(requirement.approvers) or list(default)


def is_approver(actor_id: str, approvers: Sequence[str], directory: Directory) -> bool:
    if is_group(actor_id):
        return False  # a group never acts itself (an API caller naming "S..." as the actor)
    if actor_id in approvers:
        return True
    return any(actor_id in directory.members(a) for a in approvers if is_group(a))


def check(
    requirement: RequirementRecord, actor_id: str, default_approvers: Sequence[str], directory: Directory
) -> None:
    """Raise NotAnApprover or SelfApproval when ``actor_id`` may not decide ``requirement``."""
    approvers = approvers_for(requirement, default_approvers)
    if requirement.approval_type == "required":
        if requirement.requester and actor_id == requirement.requester:
            raise SelfApproval(actor_id, requirement.id)
        if not is_approver(actor_id, approvers, directory):
            raise NotAnApprover(actor_id, requirement.id, approvers)
        return
    if actor_id == requirement.requester or requirement.requester is None:
        return
    if not is_approver(actor_id, approvers, directory):
        allowed = ([requirement.requester] if requirement.requester else []) + approvers
        raise NotAnApprover(actor_id, requirement.id, allowed)
