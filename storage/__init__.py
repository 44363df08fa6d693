"""signoff's storage: the only package that speaks SQL."""

from storage.agno_db import SqliteDb
from storage.database import Database
from storage.errors import SignoffError
from storage.records import (
    Actor,
    ActorKind,
    ApprovalRecord,
    AuditEvent,
    NewRequirement,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
)

__all__ = [
    "Actor",
    "ActorKind",
    "ApprovalRecord",
    "AuditEvent",
    "Database",
    "NewRequirement",
    "RequirementKind",
    "RequirementRecord",
    "RequirementStatus",
    "RunRecord",
    "RunStatus",
    "SignoffError",
    "SqliteDb",
]
