"""Heartbeats, sessions, reminders and escalation, console login links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:10:00

- ``runs.heartbeat_at``: the worker driving a run refreshes it; recovery takes over a run whose
  heartbeat went stale. ``runs.session_id`` / ``session_state``: runs of one conversation.
- ``requirements.remind_at`` / ``reminded_at`` / ``escalate_at`` / ``escalated_at`` / ``escalate_to``.
- ``console_logins``: one-time login links for the web console (hashed).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("session_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("session_state", sa.Text(), nullable=True))
        batch_op.create_index("ix_runs_session", ["session_id", "created_at"], unique=False)
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalate_to", sa.Text(), nullable=True))
    op.create_table(
        "console_logins",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("console_logins")
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        for column in ("escalate_to", "escalated_at", "escalate_at", "reminded_at", "remind_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_session")
        for column in ("session_state", "session_id", "heartbeat_at"):
            batch_op.drop_column(column)
