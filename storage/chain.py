"""The audit chain: how a row is hashed and how a chain is checked.

Pure functions over plain dicts, so the same code verifies the live table and an offline export.
A row's hash is SHA-256 over the previous row's hash and the canonical JSON of the row's own
fields; editing, deleting, inserting or reordering any row changes some hash downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from storage.codec import dumps

GENESIS_HASH = "0" * 64
"""prev_hash of the first row: a chain starts from a known value, not from nothing."""

HASHED_FIELDS = (
    "seq",
    "ts",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "outcome",
    "run_id",
    "requirement_id",
    "agent_id",
    "tool_name",
    "arguments",
    "reason",
    "permalink",
    "details",
)

def chain_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    body = {name: row.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256((prev_hash + dumps(body)).encode("utf-8")).hexdigest()


def first_break(rows: Iterable[Mapping[str, Any]]) -> tuple[int, str] | None:
    """Walk a chain in order; return (seq, reason) of the first row that does not match, or None.

    ``rows`` carry ``arguments``/``details`` decoded (as in the JSONL export and AuditEvent).
    """
    prev = GENESIS_HASH
    expected_seq = 1
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            return seq, f"expected row {expected_seq} here, found row {seq} (a row was deleted, inserted or moved)"
        if row["prev_hash"] != prev:
            return seq, "prev_hash does not match the previous row's hash (a row before it changed or is missing)"
        if chain_hash(row, prev) != row["hash"]:
            return seq, "the row's content does not match its hash (the row was edited)"
        prev = row["hash"]
        expected_seq += 1
    return None
