"""storage.Database on both backends: migrations, runs, conditional transitions, races, audit.

Every test takes the ``db`` fixture, so it runs once on SQLite (the embedded default) and once on
PostgreSQL (a schema of its own per test).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from storage import Actor, Database, NewRequirement, RequirementKind, RequirementStatus, RunStatus, chain
from storage.errors import AlreadyDecided, NotFound, RequirementExpired, RunBusy
from storage.migrate import alembic_config, current
from storage.records import RequirementRecord, RunRecord
from tests.conftest import migrated

THREADS = 16

TABLES = {"runs", "requirements", "approvals", "approval_votes", "tool_executions", "audit_events",
          "slack_messages", "seen_events", "alembic_version"}


# ----------------------------------------------------------------------------- helpers


def make_run(db: Database, *, requester: str | None = "U_REQ", input: str = "Refund $120") -> RunRecord:
    return db.create_run(kind="agent", target_id="finance", target_name="Finance", input=input,
                         state={"v": 1, "messages": [{"role": "user", "content": input}]},
                         requester=requester, requester_name="Requester",
                         channel="C1", thread_ts="1700000000.000100")


def make_requirement(db: Database, run_id: str, *, key: str = "t1:call_1",
                     approval_type: str | None = None, expires_in_s: float | None = None,
                     kind: RequirementKind = RequirementKind.CONFIRMATION) -> RequirementRecord:
    spec = NewRequirement(call_key=key, kind=kind, tool_call_id=key.split(":")[-1],
                          tool_name="process_refund", tool_args={"customer_id": "42", "amount": 120.0},
                          approval_type=approval_type, expires_in_s=expires_in_s,
                          message="needs a human", agent_id="finance")
    (record,) = db.create_requirements(run_id, 1, [spec], requester="U_REQ", agent_id="finance")
    return record


def race(n: int, fn: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run ``fn(i)`` in ``n`` threads released together; each result is ("ok", value) or ("err", exc)."""
    barrier = threading.Barrier(n)

    def one(i: int) -> tuple[str, Any]:
        barrier.wait()
        try:
            return "ok", fn(i)
        except Exception as exc:  # collected and asserted on by the caller
            return "err", exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def audit_rows(db: Database) -> list[dict[str, Any]]:
    return [e.to_dict() for e in db.audit_events()]


@pytest.fixture
def clocked(db: Database) -> Iterator[tuple[Database, list[datetime]]]:
    """A second Database on the same tables whose clock the test moves by hand."""
    now = [datetime(2030, 1, 1, 12, 0, tzinfo=UTC)]
    other = migrated(db.url, clock=lambda: now[0])
    try:
        yield other, now
    finally:
        other.dispose()


# -------------------------------------------------------------------------- migrations


def test_migrations_create_the_tables_and_alembic_head_is_current(db: Database) -> None:
    names = set(inspect(db.engine).get_table_names())
    assert names >= TABLES, f"missing tables: {TABLES - names}"
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    assert head is not None
    assert current(db.engine) == head
    # Running migrations again (every start does) is a no-op, not an error.
    db.upgrade()
    assert current(db.engine) == head
    again = migrated(db.url)
    try:
        assert current(again.engine) == head
    finally:
        again.dispose()


# ---------------------------------------------------------------------------------- runs


def test_create_and_get_run(db: Database) -> None:
    run = make_run(db)
    got = db.get_run(run.id)
    assert got == run
    assert got.status is RunStatus.RUNNING
    assert got.version == 1 and got.round == 0
    assert got.requester == "U_REQ" and got.requester_name == "Requester"
    assert got.kind == "agent" and got.target_id == "finance" and got.target_name == "Finance"
    assert got.input == "Refund $120"
    assert got.state == {"v": 1, "messages": [{"role": "user", "content": "Refund $120"}]}
    assert (got.channel, got.thread_ts) == ("C1", "1700000000.000100")
    assert got.created_at.tzinfo is not None
    assert got.content is None and got.error is None
    assert [r.id for r in db.list_runs()] == [run.id]
    with pytest.raises(NotFound):
        db.get_run("0" * 32)


def test_save_run_with_a_stale_version_raises_run_busy(db: Database) -> None:
    run = make_run(db)
    saved = db.save_run(run.id, expected_version=run.version, state={"v": 1, "step": 2})
    assert saved.version == run.version + 1
    with pytest.raises(RunBusy) as info:
        db.save_run(run.id, expected_version=run.version, state={"v": 1, "step": "stale"})
    assert info.value.run_id == run.id
    assert db.get_run(run.id).state == {"v": 1, "step": 2}, "the stale write must not land"


def test_acquire_run_is_a_lease(db: Database) -> None:
    run = make_run(db)
    db.save_run(run.id, expected_version=run.version, status=RunStatus.PAUSED)
    results = race(8, lambda _: db.acquire_run(run.id, from_statuses=[RunStatus.PAUSED]))
    winners = [v for kind, v in results if kind == "ok"]
    assert len(winners) == 1, results
    assert winners[0].status is RunStatus.RUNNING


# ---------------------------------------------------------------------- requirements


def test_decide_pending_to_approved_then_already_decided(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id)
    assert req.status is RequirementStatus.PENDING
    assert req.expires_at is not None, "requirements expire by default"
    decided = db.decide(req.id, RequirementStatus.APPROVED, Actor("U_ALICE", "Alice"))
    assert decided.status is RequirementStatus.APPROVED
    assert decided.resolved_by == "U_ALICE" and decided.resolved_by_name == "Alice"
    assert decided.resolved_at is not None

    with pytest.raises(AlreadyDecided) as info:
        db.decide(req.id, RequirementStatus.REJECTED, Actor("U_BOB", "Bob"), resolution={"note": "no"})
    assert info.value.status == "approved"
    assert info.value.decided_by == "Alice"
    assert "Alice" in str(info.value)
    assert db.get_requirement(req.id).status is RequirementStatus.APPROVED


def test_decide_after_expiry_marks_expired_not_rejected(db: Database,
                                                        clocked: tuple[Database, list[datetime]]) -> None:
    cdb, now = clocked
    run = make_run(cdb)
    req = make_requirement(cdb, run.id, approval_type="required", expires_in_s=60)
    assert req.expires_at == now[0] + timedelta(seconds=60)
    now[0] += timedelta(seconds=61)
    with pytest.raises(RequirementExpired) as info:
        cdb.decide(req.id, RequirementStatus.APPROVED, Actor("U_ALICE", "Alice"))
    assert info.value.requirement_id == req.id
    after = cdb.get_requirement(req.id)
    assert after.status is RequirementStatus.EXPIRED
    assert after.status is not RequirementStatus.REJECTED
    assert cdb.approval_for_requirement(req.id).status == "expired"  # type: ignore[union-attr]
    # Expired is final: a later decision is refused as already decided.
    with pytest.raises(AlreadyDecided) as again:
        cdb.decide(req.id, RequirementStatus.APPROVED, Actor("U_ALICE", "Alice"))
    assert again.value.status == "expired"
    actions = [e.action for e in cdb.audit_events(run_id=run.id)]
    assert "requirement.expired" in actions


def test_decide_before_expiry_succeeds(db: Database, clocked: tuple[Database, list[datetime]]) -> None:
    cdb, now = clocked
    run = make_run(cdb)
    req = make_requirement(cdb, run.id, expires_in_s=60)
    now[0] += timedelta(seconds=59)
    assert cdb.decide(req.id, RequirementStatus.APPROVED, Actor("U1")).status is RequirementStatus.APPROVED


def test_racing_deciders_exactly_one_wins(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id)

    def decide(i: int) -> RequirementRecord:
        status = RequirementStatus.APPROVED if i % 2 else RequirementStatus.REJECTED
        return db.decide(req.id, status, Actor(f"U{i}", f"user{i}"))

    results = race(THREADS, decide)
    winners = [v for kind, v in results if kind == "ok"]
    losers = [v for kind, v in results if kind == "err"]
    assert len(winners) == 1, results
    assert len(losers) == THREADS - 1
    assert all(isinstance(e, AlreadyDecided) for e in losers), losers
    final = db.get_requirement(req.id)
    assert final.status == winners[0].status
    assert final.resolved_by == winners[0].resolved_by
    assert {e.decided_by for e in losers} == {final.resolved_by_name}
    assert {e.status for e in losers} == {str(final.status)}
    assert chain.first_break(audit_rows(db)) is None, "the chain must not fork under concurrency"


# -------------------------------------------------------------------------- approvals


def test_update_approval_returns_record_then_none_and_moves_requirement(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id, approval_type="required")
    approval = db.approval_for_requirement(req.id)
    assert approval is not None and approval.status == "pending"
    assert approval.approval_type == "required" and approval.tool_name == "process_refund"
    assert approval.requester == "U_REQ"

    resolved_at = int(time.time())
    won = db.update_approval(approval.id, expected_status="pending", status="approved",
                             resolved_by="admin_user_id", resolved_at=resolved_at)
    assert won is not None
    assert won.id == approval.id and won.status == "approved"
    assert won.resolved_by == "admin_user_id"
    assert won.resolved_at == datetime.fromtimestamp(resolved_at, UTC)

    lost = db.update_approval(approval.id, expected_status="pending", status="rejected",
                              resolved_by="other_admin", resolved_at=int(time.time()))
    assert lost is None
    assert db.get_approval(approval.id).status == "approved"

    moved = db.get_requirement(req.id)
    assert moved.status is RequirementStatus.APPROVED
    assert moved.resolved_by == "admin_user_id"
    assert db.count_pending(run.id) == 0


def test_update_approval_rejected_with_note_moves_requirement(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id, approval_type="required")
    approval = db.approval_for_requirement(req.id)
    assert approval is not None
    won = db.update_approval(approval.id, expected_status="pending", status="rejected",
                             resolved_by="admin", resolved_at=int(time.time()), note="over the limit")
    assert won is not None and won.status == "rejected" and won.note == "over the limit"
    moved = db.get_requirement(req.id)
    assert moved.status is RequirementStatus.REJECTED
    assert moved.resolution.get("note") == "over the limit"


def test_update_approval_after_the_deadline_expires_it(db: Database,
                                                       clocked: tuple[Database, list[datetime]]) -> None:
    """The seed's resolution path must not approve what has expired (its pitfall: approvals never expire)."""
    cdb, now = clocked
    run = make_run(cdb)
    req = make_requirement(cdb, run.id, approval_type="required", expires_in_s=60)
    approval = cdb.approval_for_requirement(req.id)
    assert approval is not None and approval.expires_at == now[0] + timedelta(seconds=60)
    now[0] += timedelta(seconds=61)
    late = cdb.update_approval(approval.id, expected_status="pending", status="approved",
                               resolved_by="admin_user_id", resolved_at=int(time.time()))
    assert late is None
    assert cdb.get_approval(approval.id).status == "expired"
    assert cdb.get_requirement(req.id).status is RequirementStatus.EXPIRED
    assert "requirement.expired" in [e.action for e in cdb.audit_events(run_id=run.id)]


def test_racing_update_approval_exactly_one_wins(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id, approval_type="required")
    approval = db.approval_for_requirement(req.id)
    assert approval is not None

    def resolve(i: int) -> Any:
        return db.update_approval(approval.id, expected_status="pending",
                                  status="approved" if i % 2 else "rejected",
                                  resolved_by=f"admin{i}", resolved_at=int(time.time()))

    results = race(THREADS, resolve)
    assert all(kind == "ok" for kind, _ in results), results
    winners = [v for _, v in results if v is not None]
    assert len(winners) == 1, results
    final = db.get_approval(approval.id)
    assert final.status == winners[0].status and final.resolved_by == winners[0].resolved_by
    moved = db.get_requirement(req.id)
    assert str(moved.status) == final.status and moved.resolved_by == final.resolved_by
    assert chain.first_break(audit_rows(db)) is None


def test_decide_and_update_approval_racing_agree(db: Database) -> None:
    """A Slack click (decide) and an admin API call (update_approval) on the same requirement."""
    run = make_run(db)
    req = make_requirement(db, run.id, approval_type="required")
    approval = db.approval_for_requirement(req.id)
    assert approval is not None

    def act(i: int) -> Any:
        if i % 2:
            return db.decide(req.id, RequirementStatus.APPROVED, Actor(f"U{i}"))
        return db.update_approval(approval.id, status="rejected", resolved_by=f"A{i}",
                                  resolved_at=int(time.time()))

    results = race(THREADS, act)
    wins = [v for kind, v in results if kind == "ok" and v is not None]
    assert len(wins) == 1, results
    assert all(isinstance(v, AlreadyDecided) for kind, v in results if kind == "err"), results
    final_req, final_appr = db.get_requirement(req.id), db.get_approval(approval.id)
    assert str(final_req.status) == final_appr.status
    assert final_req.resolved_by == final_appr.resolved_by


# ------------------------------------------------------------------------- executions


def test_claim_execution_claimed_then_in_doubt_then_done(db: Database) -> None:
    run = make_run(db)
    first = db.claim_execution(run.id, "t1:call_1", tool_name="process_refund", args_hash="h")
    assert first.status == "claimed"
    second = db.claim_execution(run.id, "t1:call_1", tool_name="process_refund", args_hash="h")
    assert second.status == "in_doubt", "a started but unfinished call is never claimed twice"
    db.finish_execution(run.id, "t1:call_1", status="succeeded", result="refunded")
    third = db.claim_execution(run.id, "t1:call_1", tool_name="process_refund", args_hash="h")
    assert (third.status, third.result) == ("done", "refunded")
    # Another call key of the same run is its own claim.
    assert db.claim_execution(run.id, "t1:call_2", tool_name="x", args_hash="h").status == "claimed"


def test_racing_claims_exactly_one_claimed(db: Database) -> None:
    run = make_run(db)
    results = race(THREADS, lambda _: db.claim_execution(run.id, "t1:c", tool_name="x", args_hash="h"))
    assert all(kind == "ok" for kind, _ in results), results
    statuses = sorted(v.status for _, v in results)
    assert statuses.count("claimed") == 1, statuses
    assert set(statuses) == {"claimed", "in_doubt"}


# ------------------------------------------------------------------------------ audit


def test_audit_rows_chain(db: Database) -> None:
    run = make_run(db)
    req = make_requirement(db, run.id, approval_type="required")
    db.decide(req.id, RequirementStatus.APPROVED, Actor("U1", "Alice"))
    with pytest.raises(AlreadyDecided):
        db.decide(req.id, RequirementStatus.REJECTED, Actor("U2", "Bob"))
    db.append_audit(action="test.event", actor=Actor.system(), details={"k": "v", "n": 1})
    rows = audit_rows(db)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) >= 5
    assert rows[0]["prev_hash"] == chain.GENESIS_HASH
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))
    assert chain.first_break(rows) is None
    actions = [r["action"] for r in rows]
    assert actions[0] == "run.started"
    assert "requirement.approved" in actions and "decision.refused" in actions
    # The verifier does notice an edit, so "None" above means something.
    tampered = [dict(r) for r in rows]
    tampered[1]["actor_id"] = "mallory"
    broken = chain.first_break(tampered)
    assert broken is not None and broken[0] == 2


def _refused(db: Database, sql: str) -> None:
    with pytest.raises(DBAPIError) as info, db.engine.begin() as conn:
        conn.execute(text(sql))
    assert "append-only" in str(info.value)


def test_audit_table_refuses_update_and_delete(db: Database) -> None:
    make_run(db)
    before = audit_rows(db)
    assert before
    _refused(db, "UPDATE audit_events SET actor_id = 'mallory'")
    _refused(db, "DELETE FROM audit_events")
    _refused(db, "DELETE FROM audit_events WHERE seq = 1")
    if db.is_postgres:
        _refused(db, "TRUNCATE audit_events")
    assert audit_rows(db) == before
    assert chain.first_break(before) is None


# ---------------------------------------------------------------------------- cancel


def test_cancel_run_cancels_pending_requirements(db: Database) -> None:
    run = make_run(db)
    pending = make_requirement(db, run.id, key="t1:a", approval_type="required")
    decided = make_requirement(db, run.id, key="t1:b")
    db.decide(decided.id, RequirementStatus.APPROVED, Actor("U1"))
    db.save_run(run.id, expected_version=db.get_run(run.id).version, status=RunStatus.PAUSED)

    cancelled = db.cancel_run(run.id, Actor("U_ADMIN", "Admin"), reason="not needed any more")
    assert cancelled.status is RunStatus.CANCELLED
    after = db.get_requirement(pending.id)
    assert after.status is RequirementStatus.CANCELLED and after.resolved_by == "U_ADMIN"
    assert db.get_requirement(decided.id).status is RequirementStatus.APPROVED, "decided ones keep their outcome"
    assert db.approval_for_requirement(pending.id).status == "cancelled"  # type: ignore[union-attr]
    assert db.count_pending(run.id) == 0
    with pytest.raises(AlreadyDecided):
        db.decide(pending.id, RequirementStatus.APPROVED, Actor("U1"))
    with pytest.raises(RunBusy):
        db.cancel_run(run.id, Actor("U_ADMIN"))
    assert "run.cancelled" in [e.action for e in db.audit_events(run_id=run.id)]


def test_seen_slack_events_are_forgotten_after_their_ttl(db: Database) -> None:
    assert db.first_time_seen("Ev1") and not db.first_time_seen("Ev1")
    assert db.prune_seen_events(db.clock() - timedelta(seconds=60)) == 0, "a fresh id is kept"
    assert db.prune_seen_events(db.clock() + timedelta(seconds=1)) == 1
    assert db.first_time_seen("Ev1"), "after the TTL the id is forgotten (Slack no longer retries it)"
