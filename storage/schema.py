"""The tables. SQLAlchemy Core, because every write is a conditional UPDATE whose rowcount we read.

Alembic migrations (``storage/migrations``) create these; ``metadata`` is their source of truth.
JSON values are stored as TEXT written by :func:`storage.codec.dumps` so that SQLite and PostgreSQL
hold byte-identical documents (the audit chain hashes them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = 32  # uuid4().hex

runs = Table(
    "runs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),  # agent | team | workflow
    Column("target_id", String(128), nullable=False),
    Column("target_name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("round", Integer, nullable=False, default=0),
    Column("requester", String(64)),
    Column("requester_name", String(256)),
    Column("input", Text, nullable=False),
    Column("content", Text),
    Column("error", Text),
    Column("error_kind", String(64)),
    Column("state", Text, nullable=False),
    Column("channel", String(64)),
    Column("thread_ts", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Refreshed every few seconds by the worker driving the run (also while a tool runs):
    # recovery takes over a running run whose heartbeat is older than HEARTBEAT_STALE_S.
    Column("heartbeat_at", DateTime(timezone=True)),
    # A conversation: runs of one session share history (a Slack thread is a session).
    Column("session_id", String(64)),
    Column("session_state", Text),
)
Index("ix_runs_status", runs.c.status)
Index("ix_runs_session", runs.c.session_id, runs.c.created_at)
Index("ix_runs_requester_created", runs.c.requester, runs.c.created_at)
Index("ix_runs_target_status", runs.c.target_id, runs.c.status)
Index("ix_runs_channel_thread", runs.c.channel, runs.c.thread_ts, runs.c.created_at)
Index("ix_runs_target_created", runs.c.target_id, runs.c.created_at)
Index("ix_runs_created", runs.c.created_at)
Index("ix_runs_status_created", runs.c.status, runs.c.created_at)

requirements = Table(
    "requirements",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("runs.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("call_key", String(255), nullable=False),
    Column("tool_call_id", String(255)),
    Column("kind", String(32), nullable=False),
    Column("tool_name", String(255)),
    Column("tool_args", Text, nullable=False, default="{}"),
    Column("args_hash", String(64), nullable=False),
    Column("member_agent_name", String(255)),
    Column("approval_type", String(16)),  # None | required
    Column("user_input_schema", Text, nullable=False, default="[]"),
    Column("message", Text),
    Column("status", String(24), nullable=False),
    Column("resolution", Text, nullable=False, default="{}"),
    Column("resolved_by", String(64)),
    Column("resolved_by_name", String(256)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("requester", String(64)),
    Column("approvers", Text, nullable=False, default="[]"),
    Column("quorum", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    # JSON list of the tool's declared sensitive fields when the requirement was created; NULL
    # means unknown (a row from before this column), and every value is then masked.
    Column("sensitive_fields", Text),
    # Arguments proposed by an edit while the requirement is still pending (a quorum approval,
    # or an edit that made a required approval apply); votes count for proposed_hash only.
    Column("proposed_args", Text),
    Column("proposed_hash", String(64)),
    # Reminders and escalation: when to nudge the deciders, when to add more, and who.
    Column("remind_at", DateTime(timezone=True)),
    Column("reminded_at", DateTime(timezone=True)),
    Column("escalate_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("escalate_to", Text),
    UniqueConstraint("run_id", "call_key", name="uq_requirements_run_call"),
)
Index("ix_requirements_status", requirements.c.status)
Index("ix_requirements_run", requirements.c.run_id)
Index("ix_requirements_status_expires", requirements.c.status, requirements.c.expires_at)

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("runs.id"), nullable=False),
    Column("requirement_id", String(ID), ForeignKey("requirements.id"), unique=True),
    Column("call_key", String(255), nullable=False),
    Column("approval_type", String(16), nullable=False),  # required | audit
    Column("agent_id", String(128)),
    Column("tool_name", String(255), nullable=False),
    Column("tool_args", Text, nullable=False),
    Column("args_hash", String(64), nullable=False),
    Column("requester", String(64)),
    Column("status", String(16), nullable=False),  # pending approved rejected expired cancelled logged
    Column("quorum", Integer, nullable=False, default=1),
    Column("resolved_by", String(64)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("sensitive_fields", Text),
    UniqueConstraint("run_id", "call_key", name="uq_approvals_run_call"),
)
Index("ix_approvals_status", approvals.c.status)
Index("ix_approvals_created", approvals.c.created_at)
Index("ix_approvals_status_created", approvals.c.status, approvals.c.created_at)

approval_votes = Table(
    "approval_votes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("approval_id", String(ID), ForeignKey("approvals.id"), nullable=False),
    Column("voter", String(64), nullable=False),
    Column("vote", String(16), nullable=False),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # SHA-256 of the arguments this vote approved: a vote counts only while they are the ones
    # proposed, so an edit restarts the quorum.
    Column("args_hash", String(64)),
    Column("voter_name", String(256)),
    Column("surface", String(16)),
    UniqueConstraint("approval_id", "voter", "args_hash", name="uq_votes_approval_voter_args"),
)

tool_executions = Table(
    "tool_executions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(ID), ForeignKey("runs.id"), nullable=False),
    Column("call_key", String(255), nullable=False),
    Column("tool_name", String(255), nullable=False),
    Column("args_hash", String(64), nullable=False),
    Column("requirement_id", String(ID)),
    Column("status", String(16), nullable=False),  # started | succeeded | failed
    Column("result", Text),
    Column("worker", String(128)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("run_id", "call_key", name="uq_tool_executions_run_call"),
)

def _event_columns() -> list[Column[Any]]:
    """What an audit event says: the same columns in the chain and in the pending queue."""
    return [
        Column("ts", String(40), nullable=False),
        Column("actor_kind", String(16), nullable=False),  # human | agent | system
        Column("actor_id", String(128)),
        Column("actor_name", String(256)),
        Column("action", String(64), nullable=False),
        Column("outcome", String(64)),
        Column("run_id", String(ID)),
        Column("requirement_id", String(ID)),
        Column("agent_id", String(128)),
        Column("tool_name", String(255)),
        Column("arguments", Text),
        Column("reason", Text),
        Column("permalink", Text),
        Column("details", Text),
    ]


audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    *_event_columns(),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
Index("ix_audit_run_seq", audit_events.c.run_id, audit_events.c.seq)

# Events committed on PostgreSQL but not chained yet: appends insert here without waiting for
# each other, and whoever holds the sealing lock moves them into audit_events in id order,
# chained (storage/audit_log.py; the window is written down in docs/security.md). Triggers
# refuse UPDATE, and DELETE except by the sealer. Unused on SQLite, whose writers chain inline.
audit_pending = Table(
    "audit_pending",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    *_event_columns(),
)

slack_messages = Table(
    "slack_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(ID), ForeignKey("runs.id"), nullable=False),
    Column("requirement_id", String(ID)),
    Column("purpose", String(24), nullable=False),  # root | card | approvals_card | answer
    Column("channel", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "ts", name="uq_slack_messages_channel_ts"),
)
Index("ix_slack_messages_requirement", slack_messages.c.requirement_id)
Index("ix_slack_messages_run", slack_messages.c.run_id)

seen_events = Table(
    "seen_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
Index("ix_seen_events_seen_at", seen_events.c.seen_at)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    # user: acts as the Slack user principal_id; service: a named service with its own id.
    Column("principal_kind", String(16), nullable=False),
    Column("principal_id", String(128), nullable=False),
    Column("principal_name", String(256)),
    Column("scopes", Text, nullable=False),
    # SHA-256 of the secret part; the secret itself is shown once, at creation, and never stored.
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

console_logins = Table(
    "console_logins",
    metadata,
    Column("id", String(16), primary_key=True),
    # SHA-256 of the one-time link's secret; the link is shown once (``signoff console invite``).
    Column("secret_hash", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("created_by", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)
