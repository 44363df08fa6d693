"""The audit chain: how a row is hashed and how a chain is checked.

Pure functions over plain dicts, so the same code verifies the live table and an offline export.
A row's hash is SHA-256 over the previous row's hash and the canonical JSON of the row's own
fields; editing, deleting, inserting or reordering any row changes some hash downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from storage.codec import dumps, loads

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

STORED_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
"""A stored row as a tuple, in this order: ``arguments``/``details`` as the stored JSON text."""

JSON_COLUMNS = (HASHED_FIELDS.index("arguments"), HASHED_FIELDS.index("details"))
"""Positions of the two JSON-text columns in a stored tuple."""


def chain_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """The reference definition: SHA-256 of ``prev_hash`` + the canonical JSON of the decoded fields."""
    body = {name: row.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256((prev_hash + dumps(body)).encode("utf-8")).hexdigest()


def stored_body(row: Sequence[Any]) -> str:
    """The canonical JSON :func:`chain_hash` hashes, built straight from a stored tuple.

    Exports and verification handle a million rows, so this skips decoding the JSON columns and
    re-encoding the dict: keys are written in sorted order, strings with the same C escaper
    ``json.dumps`` uses, and ``arguments``/``details`` spliced as stored (the append stores
    ``dumps`` of the value, which is canonical, so the bytes are those ``dumps`` would produce).
    A stored text that is not canonical (only a hand edit makes one) gives a different body:
    callers then fall back to :func:`chain_hash` over decoded values before calling the row edited.
    """
    q = encode_basestring
    (seq, ts, actor_kind, actor_id, actor_name, action, outcome, run_id, requirement_id, agent_id, tool_name,
     arguments, reason, permalink, details) = row[:15]
    return (
        f'{{"action":{"null" if action is None else q(action)}'
        f',"actor_id":{"null" if actor_id is None else q(actor_id)}'
        f',"actor_kind":{"null" if actor_kind is None else q(actor_kind)}'
        f',"actor_name":{"null" if actor_name is None else q(actor_name)}'
        f',"agent_id":{"null" if agent_id is None else q(agent_id)}'
        f',"arguments":{arguments or "null"}'
        f',"details":{details or "null"}'
        f',"outcome":{"null" if outcome is None else q(outcome)}'
        f',"permalink":{"null" if permalink is None else q(permalink)}'
        f',"reason":{"null" if reason is None else q(reason)}'
        f',"requirement_id":{"null" if requirement_id is None else q(requirement_id)}'
        f',"run_id":{"null" if run_id is None else q(run_id)}'
        f',"seq":{int(seq)}'
        f',"tool_name":{"null" if tool_name is None else q(tool_name)}'
        f',"ts":{"null" if ts is None else q(ts)}}}'
    )


def stored_hash(row: Sequence[Any], prev_hash: str) -> str:
    """:func:`chain_hash` of a stored tuple, from :func:`stored_body` (see there for when it differs)."""
    return hashlib.sha256((prev_hash + stored_body(row)).encode("utf-8")).hexdigest()


def decoded(row: Sequence[Any]) -> dict[str, Any]:
    """A stored tuple as the dict readers see (``arguments``/``details`` decoded)."""
    values = dict(zip(STORED_COLUMNS, row, strict=True))
    values["arguments"] = loads(values["arguments"])
    values["details"] = loads(values["details"])
    return values


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
