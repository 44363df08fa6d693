"""The one exception tree of signoff.

Every error a caller may need to explain to a person derives from :class:`SignoffError` and
carries the values needed to say what happened (who decided, when, what to do instead), so the
Slack side, the REST API and the CLI can each render it without parsing a message string.
It lives in ``storage`` because that is the bottom of the import graph (bot -> runner -> storage).
"""

from __future__ import annotations

from typing import Any


class SignoffError(Exception):
    """Root of every error signoff raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(SignoffError):
    """A setting is missing or malformed; ``variable`` names the environment variable to fix."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class ConfigProblems(ConfigError):
    """Several settings are wrong at once: every one is reported, one line each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems[0][0], problems[0][1])
        self.problems = problems
        self.message = "\n".join(f"{variable}: {message}" for variable, message in problems)
        self.args = (self.message,)


class SchemaBehind(ConfigError):
    """The database's schema is not this release's: says which database and what to run."""

    def __init__(self, where: str, found: str | None, wanted: str | None, problem: str | None = None) -> None:
        state = problem or (f"is at revision {found}" if found else "has no signoff tables yet")
        super().__init__(
            "DATABASE_URL",
            f"the {where} {state}; this release needs revision {wanted}: run `signoff db upgrade`",
        )
        self.where = where
        self.found = found
        self.wanted = wanted


class NotFound(SignoffError):
    """A run, requirement or approval id that does not exist."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no {kind} with id {ident!r}")
        self.kind = kind
        self.ident = ident


class AlreadyDecided(SignoffError):
    """Someone else's decision won the conditional UPDATE; says who and what, so the loser can be told."""

    def __init__(
        self,
        requirement_id: str,
        status: str,
        decided_by: str | None = None,
        decided_at: Any = None,
    ) -> None:
        who = f" by {decided_by}" if decided_by else ""
        super().__init__(f"requirement {requirement_id} was already {status}{who}")
        self.requirement_id = requirement_id
        self.status = status
        self.decided_by = decided_by
        self.decided_at = decided_at


class RequirementExpired(SignoffError):
    """The decision came after the requirement's expiry; expiry is an outcome of its own."""

    def __init__(self, requirement_id: str, expired_at: Any) -> None:
        super().__init__(f"requirement {requirement_id} expired at {expired_at}")
        self.requirement_id = requirement_id
        self.expired_at = expired_at


class NotAnApprover(SignoffError):
    """The actor is not allowed to decide this requirement under its policy."""

    def __init__(self, actor: str, requirement_id: str, allowed: list[str] | None = None) -> None:
        super().__init__(f"{actor} may not decide requirement {requirement_id}")
        self.actor = actor
        self.requirement_id = requirement_id
        self.allowed = allowed or []


class SelfApproval(NotAnApprover):
    """The requester tried to approve their own ``required`` approval."""

    def __init__(self, actor: str, requirement_id: str) -> None:
        super().__init__(actor, requirement_id)
        self.message = f"{actor} requested this run and may not approve it themselves"
        self.args = (self.message,)


class ApprovalPending(SignoffError, RuntimeError):
    """A caller tried to continue past a ``required`` approval that no approver has resolved yet.

    Also a ``RuntimeError`` because the seed's reference implementation raises one here.
    """

    def __init__(self, approval_ids: list[str]) -> None:
        ids = ", ".join(approval_ids)
        super().__init__(
            f"approval(s) {ids} still pending: an approver must resolve them "
            "(Slack card, Approvals API or db.update_approval) before the tool can run"
        )
        self.approval_ids = approval_ids


class InvalidInput(SignoffError):
    """Input a person can fix (a prompt with control characters, a bad value); ``field`` names it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidDecision(InvalidInput, ValueError):
    """A decision that does not fit the requirement (wrong kind, bad input values, bad edit).

    Also a ``ValueError``, as Agno's setters raise one, so code written for Agno catches it."""


class StaleArguments(SignoffError):
    """The decision was made on arguments that are no longer the ones on the table (an edit
    proposed others since): the decider must look again; nothing was applied."""

    def __init__(self, requirement_id: str, seen_hash: str, current_hash: str) -> None:
        super().__init__(
            f"requirement {requirement_id}: the arguments changed since you saw them; review the new ones"
        )
        self.requirement_id = requirement_id
        self.seen_hash = seen_hash
        self.current_hash = current_hash


class RateLimited(SignoffError):
    """Too many runs started too fast; ``retry_after_s`` says when the next one is accepted."""

    def __init__(self, message: str, retry_after_s: int, limit: str) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.limit = limit


class Forbidden(SignoffError):
    """The principal may not do this (a missing API scope, or acting as someone else)."""

    def __init__(self, message: str, principal: str | None = None) -> None:
        super().__init__(message)
        self.principal = principal


class BindingMismatch(SignoffError):
    """The approved arguments no longer match the tool call about to run."""

    def __init__(self, requirement_id: str) -> None:
        super().__init__(f"requirement {requirement_id}: the arguments about to run differ from the approved ones")
        self.requirement_id = requirement_id


class RunBusy(SignoffError):
    """Another worker holds the run (its status/version moved under us)."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is {status}; another worker or caller holds it")
        self.run_id = run_id
        self.status = status


class RunNotPaused(SignoffError):
    """continue_run on a run that is not waiting for anyone."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is {status}, not paused: nothing to continue")
        self.run_id = run_id
        self.status = status


class ToolConfigError(SignoffError, ValueError):
    """Contradictory or malformed tool flags, raised at decoration time."""


class ModelError(SignoffError):
    """The model call failed; ``kind`` is timeout, rate_limited, server_error, connection,
    bad_request or malformed_tool_arguments."""

    def __init__(self, kind: str, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


class AuditChainBroken(SignoffError):
    """Verification found a row whose hash does not match; ``seq`` is the first bad row."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit chain broken at row {seq}: {reason}")
        self.seq = seq
        self.reason = reason
