"""Audit appends without a global lock; the indexes the hot queries ask for at a million rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:00

- ``audit_pending``: on PostgreSQL an append inserts its event here and commits without waiting
  for other writers; the process holding the sealing lock moves pending events into
  ``audit_events`` in id order, chained (``storage/audit_log.py``, docs/security.md). Triggers
  refuse UPDATE and TRUNCATE, and DELETE unless the transaction says it is sealing.
- Indexes found with EXPLAIN at 1,000,000 rows a table (``bench/big_tables.py``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING_MESSAGE = "audit_pending rows are only moved into the chain by the sealer"


def _json(column: str) -> str:
    """SQL for a text column as JSON: ``to_json`` escapes exactly as Python's ``json.dumps`` with
    ``ensure_ascii=False`` does (quote, backslash, \\b \\f \\n \\r \\t, other controls as \\u00xx)."""
    return f"coalesce(to_json(r.{column})::text, 'null')"


SEAL_BODY = " || ".join([
    "'{\"action\":' || " + _json("action"),
    "',\"actor_id\":' || " + _json("actor_id"),
    "',\"actor_kind\":' || " + _json("actor_kind"),
    "',\"actor_name\":' || " + _json("actor_name"),
    "',\"agent_id\":' || " + _json("agent_id"),
    "',\"arguments\":' || coalesce(nullif(r.arguments, ''), 'null')",
    "',\"details\":' || coalesce(nullif(r.details, ''), 'null')",
    "',\"outcome\":' || " + _json("outcome"),
    "',\"permalink\":' || " + _json("permalink"),
    "',\"reason\":' || " + _json("reason"),
    "',\"requirement_id\":' || " + _json("requirement_id"),
    "',\"run_id\":' || " + _json("run_id"),
    "',\"seq\":' || head_seq",
    "',\"tool_name\":' || " + _json("tool_name"),
    "',\"ts\":' || " + _json("ts") + " || '}'",
])
"""The canonical JSON body of a row, as ``storage.chain.stored_body`` builds it (keys sorted)."""

SEAL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_seal(lock_key integer, wait boolean, max_rows integer)
RETURNS TABLE (entry bigint, seq integer, prev_hash varchar, hash varchar) AS $$
DECLARE
    head_seq integer;
    head_hash varchar(64);
    new_hash varchar(64);
    r record;
BEGIN
    -- Advisory locks are per database: the schema's name in the key keeps two installations
    -- (or two test schemas) in one database from waiting for each other.
    IF wait THEN
        PERFORM pg_advisory_xact_lock(lock_key, hashtext(current_schema()));
    ELSIF NOT pg_try_advisory_xact_lock(lock_key, hashtext(current_schema())) THEN
        RETURN;
    END IF;
    PERFORM set_config('signoff.sealing', 'on', true);
    SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    FOR r IN
        WITH taken AS (
            DELETE FROM audit_pending WHERE audit_pending.id IN (
                SELECT p.id FROM audit_pending p ORDER BY p.id LIMIT max_rows)
            RETURNING audit_pending.*)
        SELECT * FROM taken ORDER BY taken.id
    LOOP
        head_seq := head_seq + 1;
        new_hash := encode(sha256(convert_to(head_hash || {SEAL_BODY}, 'UTF8')), 'hex');
        INSERT INTO audit_events (seq, ts, actor_kind, actor_id, actor_name, action, outcome, run_id,
                                  requirement_id, agent_id, tool_name, arguments, reason, permalink, details,
                                  prev_hash, hash)
        VALUES (head_seq, r.ts, r.actor_kind, r.actor_id, r.actor_name, r.action, r.outcome, r.run_id,
                r.requirement_id, r.agent_id, r.tool_name, r.arguments, r.reason, r.permalink, r.details,
                head_hash, new_hash);
        entry := r.id;
        seq := head_seq;
        prev_hash := head_hash;
        hash := new_hash;
        RETURN NEXT;
        head_hash := new_hash;
    END LOOP;
END;
$$ LANGUAGE plpgsql
"""
"""Chain up to ``max_rows`` pending events (PostgreSQL), holding the sealing lock: the one round
trip a sealing appender makes. Nothing is returned when ``wait`` is false and another
transaction is sealing. ``storage.chain`` stays the reference: verification recomputes every
hash in Python, so a divergence here is caught as an edited row."""


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=True),
        sa.Column("actor_name", sa.String(length=256), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("requirement_id", sa.String(length=32), nullable=True),
        sa.Column("agent_id", sa.String(length=128), nullable=True),
        sa.Column("tool_name", sa.String(length=255), nullable=True),
        sa.Column("arguments", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_pending_guard() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND current_setting('signoff.sealing', true) = 'on' THEN RETURN NULL; END IF; "
            f"RAISE EXCEPTION '{PENDING_MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_pending_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_pending "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_guard()"
        )
        op.execute(SEAL_FUNCTION)
        # A queue table: vacuum it after every thousand sealed rows, whatever its size.
        op.execute("ALTER TABLE audit_pending SET (autovacuum_vacuum_threshold = 1000, "
                   "autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_insert_threshold = 1000)")
    _indexes()


INDEXES = (
    # run_for_thread: every reply in a Slack thread finds the thread's latest run.
    ("ix_runs_channel_thread", "runs", ["channel", "thread_ts", "created_at"]),
    # latest_run_of (an agent's newest run) and list_runs (newest first, all or by status).
    ("ix_runs_target_created", "runs", ["target_id", "created_at"]),
    ("ix_runs_created", "runs", ["created_at"]),
    ("ix_runs_status_created", "runs", ["status", "created_at"]),
    # The audit trail of one run, in chain order (a keyset read on seq within the run).
    ("ix_audit_run_seq", "audit_events", ["run_id", "seq"]),
    # A run's Slack messages (cards to update when it finishes or is cancelled).
    ("ix_slack_messages_run", "slack_messages", ["run_id"]),
    # The worker's prune of remembered Slack event ids, every recovery pass.
    ("ix_seen_events_seen_at", "seen_events", ["seen_at"]),
    # Approval lists (API, console, Agno's get_approvals): newest first, all or by status.
    ("ix_approvals_created", "approvals", ["created_at"]),
    ("ix_approvals_status_created", "approvals", ["status", "created_at"]),
)
"""(name, table, columns): the indexes EXPLAIN asked for with 1,000,000 rows in every table
(``bench/big_tables.py``; docs/benchmarks.md, "Big tables")."""

REPLACED = (("ix_audit_run", "audit_events", ["run_id"]),)
"""Indexes a new one above makes redundant (its leading columns), dropped to save the writes."""


def _indexes() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def _drop_indexes() -> None:
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    _drop_indexes()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_pending_guard ON audit_pending")
        op.execute("DROP FUNCTION IF EXISTS audit_pending_guard()")
        op.execute("DROP FUNCTION IF EXISTS audit_seal(integer, boolean, integer)")
    op.drop_table("audit_pending")
