"""API tokens with principals, votes bound to arguments, sensitive fields kept with requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 15:10:00

- ``api_tokens``: hashed bearer tokens that belong to a principal (a Slack user or a named service).
- ``approval_votes``: each vote names the SHA-256 of the arguments it approved (existing votes get
  the approval's own hash, which is what they saw), the voter's name and the surface.
- ``requirements``/``approvals``: ``sensitive_fields`` (NULL = unknown: mask everything), and the
  arguments proposed by an edit while a request is still pending.
- Indexes for the per-user start rate and the per-agent queue cap.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.String(length=128), nullable=False),
        sa.Column("principal_name", sa.String(length=256), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sensitive_fields", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("proposed_args", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("proposed_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_requirements_status_expires", ["status", "expires_at"], unique=False)
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sensitive_fields", sa.Text(), nullable=True))
    with op.batch_alter_table("approval_votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("args_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("voter_name", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("surface", sa.String(length=16), nullable=True))
        batch_op.drop_constraint("uq_votes_approval_voter", type_="unique")
        batch_op.create_unique_constraint("uq_votes_approval_voter_args", ["approval_id", "voter", "args_hash"])
    op.execute(
        "UPDATE approval_votes SET args_hash = "
        "(SELECT approvals.args_hash FROM approvals WHERE approvals.id = approval_votes.approval_id) "
        "WHERE args_hash IS NULL"
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_requester_created", ["requester", "created_at"], unique=False)
        batch_op.create_index("ix_runs_target_status", ["target_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_target_status")
        batch_op.drop_index("ix_runs_requester_created")
    with op.batch_alter_table("approval_votes", schema=None) as batch_op:
        batch_op.drop_constraint("uq_votes_approval_voter_args", type_="unique")
        batch_op.create_unique_constraint("uq_votes_approval_voter", ["approval_id", "voter"])
        batch_op.drop_column("surface")
        batch_op.drop_column("voter_name")
        batch_op.drop_column("args_hash")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_column("sensitive_fields")
    with op.batch_alter_table("requirements", schema=None) as batch_op:
        batch_op.drop_index("ix_requirements_status_expires")
        batch_op.drop_column("proposed_hash")
        batch_op.drop_column("proposed_args")
        batch_op.drop_column("sensitive_fields")
    op.drop_table("api_tokens")
