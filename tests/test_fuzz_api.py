"""Schemathesis against the live OpenAPI schema of ``create_app(deps)``: no 5xx, every answer documented.

The schema is the one the app serves at ``/openapi.json``; every operation is called with cases
generated from it (valid and invalid ones), in process over ASGI, on SQLite with the local Redis
(a queue of its own) and the local Slack stand-in. A few approvals and runs are seeded so that
some generated calls hit ids that exist: pending, quorum-of-two, expired, the requester's own,
already decided, audit-only. Two passes:

- as a user principal (``U_BOB``, an approver) whose token has ``read``, ``decide`` and ``export``:
  no operation answers 5xx, and every status code, content type and body is the one documented;
- with no token, a wrong one, or another scheme: only 401 (tokens exist), or only 503 when no
  token exists at all (the API is off).

Requests the fuzzing found answered outside the schema are pinned below it, so they are always tried.

Bounded for CI: a handful of examples per operation, no deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.deps import build_deps
from bot.web.app import create_app
from storage import Database, NewRequirement, RequirementKind
from storage.records import Actor, RequirementStatus
from tests.conftest import migrated
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.test_api import REGISTRY, Clock, make_settings, seed_approvals

pytestmark = [pytest.mark.redis]

EXAMPLES = 20
"""Generated cases (valid and invalid mixed) per operation and pass: enough to find a crash, few enough for CI."""

CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
"""No 5xx; the status code, its content type, headers and body are the ones the schema documents."""

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Seeded:
    """The live app and the ids that exist in it."""

    app: Any
    db: Database
    clock: Clock
    token: str
    approval_ids: list[str]
    run_ids: list[str]


def _requirement(db: Database, *, requester: str, tool_name: str, args: dict[str, Any], key: str,
                 approvers: list[str] | None = None, quorum: int = 1, expires_in_s: float | None = None) -> str:
    """One pending ``required`` approval in SQL; returns the approval's id."""
    run = db.create_run(kind="agent", target_id="payments", target_name="payments", input=f"seed {key}",
                        state={"v": 1}, requester=requester)
    spec = NewRequirement(call_key=f"t1:{key}", kind=RequirementKind.CONFIRMATION, tool_call_id=key,
                          tool_name=tool_name, tool_args=args, approval_type="required", agent_id="payments",
                          approvers=approvers or [], quorum=quorum, expires_in_s=expires_in_s)
    (req,) = db.create_requirements(run.id, 1, [spec], requester=requester, agent_id="payments")
    record = db.approval_for_requirement(req.id)
    assert record is not None
    return record.id


def seed(db: Database, clock: Clock) -> tuple[list[str], list[str]]:
    """Approvals in every state a call can meet, and their runs."""
    ids = seed_approvals(db, 3)  # pending refunds requested by U_ALICE: U_BOB may decide them
    ids.append(_requirement(db, requester="U_ALICE", tool_name="wire", key="wire",
                            args={"account": "DE89", "amount": 900.0, "api_key": "sk-live-1"},
                            approvers=["S_ADMINS"], quorum=2))
    ids.append(_requirement(db, requester="U_BOB", tool_name="refund", key="own",  # U_BOB's own: 403
                            args={"customer_id": "7", "amount": 500.0}))
    ids.append(_requirement(db, requester="U_ALICE", tool_name="refund", key="soon", expires_in_s=60,
                            args={"customer_id": "8", "amount": 300.0}))
    decided = _requirement(db, requester="U_ALICE", tool_name="refund", key="done",
                           args={"customer_id": "9", "amount": 200.0})
    record = db.get_approval(decided)
    assert record.requirement_id is not None
    db.decide(record.requirement_id, RequirementStatus.REJECTED, Actor("U_CAROL", "carol"), resolution={"note": "no"})
    ids.append(decided)
    audit_run = db.create_run(kind="agent", target_id="payments", target_name="payments", input="audit",
                              state={"v": 1}, requester="U_ALICE")
    ids.append(db.record_audit_approval(run_id=audit_run.id, call_key="t1:audit", agent_id="payments",
                                        tool_name="export", tool_args={"rows": 3}, requester="U_ALICE",
                                        sensitive_fields=[]).id)
    clock.advance(120)  # "soon" has expired (nobody noticed yet: the API does)
    runs = sorted({db.get_approval(i).run_id for i in ids})
    return ids, runs


@contextmanager
def serve(sqlite_url: str, fake_openai: FakeOpenAI, queue_name: str, *, tokens: bool = True) -> Iterator[Seeded]:
    """The app on SQLite, the local Redis and Slack stand-in, seeded; ``tokens=False``: no API token
    exists at all (neither SIGNOFF_API_TOKEN nor ``signoff token create``), so the API is off."""
    clock = Clock()
    with FakeSlack() as slack:
        extra = {} if tokens else {"signoff_api_token": ""}
        settings_ = make_settings(sqlite_url, slack, fake_openai, queue_name, **extra)
        db = migrated(sqlite_url, clock=clock)
        deps = build_deps(settings_, db=db, registry=REGISTRY)
        app = create_app(deps)
        token = ""
        if tokens:
            _, token = db.create_token(name="bob", principal_kind="user", principal_id="U_BOB",
                                       scopes=["read", "decide", "export"])
        approval_ids, run_ids = seed(db, clock)
        try:
            yield Seeded(app, db, clock, token, approval_ids, run_ids)
        finally:
            deps.queue.empty()
            deps.queue.delete(delete_jobs=True)
            db.dispose()


@pytest.fixture
def seeded(sqlite_url: str, fake_openai: FakeOpenAI, queue_name: str) -> Iterator[Seeded]:
    with serve(sqlite_url, fake_openai, queue_name) as app:
        yield app


@pytest.fixture(params=[401, 503], ids=["tokens exist", "no token exists"])
def locked(
    request: pytest.FixtureRequest, sqlite_url: str, fake_openai: FakeOpenAI, queue_name: str
) -> Iterator[tuple[Seeded, int]]:
    """The app, and the only status a call without a valid token may get from it."""
    with serve(sqlite_url, fake_openai, queue_name, tokens=request.param == 401) as app:
        yield app, request.param


def live_schema(seeded: Seeded) -> schemathesis.BaseSchema:
    """The schema as the app serves it, only the REST API (``/healthz`` is not behind a token)."""
    return schemathesis.openapi.from_asgi("/openapi.json", seeded.app).include(path_regex="^/api/")


OPERATIONS = [
    ("GET", "/api/approvals"),
    ("GET", "/api/approvals/count"),
    ("GET", "/api/approvals/{approval_id}"),
    ("POST", "/api/approvals/{approval_id}/resolve"),
    ("GET", "/api/runs/{run_id}"),
    ("GET", "/api/audit/export"),
]
"""Every operation of the REST API (``test_every_operation_is_fuzzed`` keeps this list whole)."""


def cases(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests for ``operation``, as its schema describes them."""
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )


def _known_ids(case: schemathesis.Case, seeded: Seeded, pick: int) -> None:
    """Point some cases at ids that exist (the rest keep the generated, unknown ones)."""
    params = case.path_parameters or {}
    if "approval_id" in params and pick < len(seeded.approval_ids):
        params["approval_id"] = seeded.approval_ids[pick]
    if "run_id" in params and pick < len(seeded.run_ids):
        params["run_id"] = seeded.run_ids[pick]


def test_every_operation_is_fuzzed(seeded: Seeded) -> None:
    loaded = list(live_schema(seeded).get_all_operations())
    assert all(isinstance(op, Ok) for op in loaded), [op for op in loaded if not isinstance(op, Ok)]
    served = {(op.ok().method.upper(), op.ok().path) for op in loaded if isinstance(op, Ok)}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_as_an_approver_never_fails_and_matches_its_schema(seeded: Seeded, method: str, path: str) -> None:
    operation = live_schema(seeded)[path][method]
    headers = {"Authorization": f"Bearer {seeded.token}"}

    @FUZZ_SETTINGS
    @given(case=cases(operation), pick=st.integers(min_value=0, max_value=15))
    def fuzz(case: schemathesis.Case, pick: int) -> None:
        _known_ids(case, seeded, pick)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()


WRONG_AUTH = {
    "none": None,
    "wrong token": "Bearer sgo_not-a-real-token",
    "env-like token": "Bearer test-token-0123456789x",
    "empty bearer": "Bearer ",
    "basic": "Basic dTpw",
}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_without_a_valid_token_only_answers_401_or_503(
    locked: tuple[Seeded, int], method: str, path: str
) -> None:
    seeded, expected = locked
    operation = live_schema(seeded)[path][method]
    # the API switched off answers 503 by design: documented, so only its conformance is checked
    documented = [c for c in CHECKS if c is not not_a_server_error] if expected == 503 else CHECKS

    @FUZZ_SETTINGS
    @given(case=cases(operation), pick=st.integers(min_value=0, max_value=15), auth=st.sampled_from(sorted(WRONG_AUTH)))
    def fuzz(case: schemathesis.Case, pick: int, auth: str) -> None:
        _known_ids(case, seeded, pick)
        case.headers.pop("Authorization", None)  # the generated one (case-insensitive)
        value = WRONG_AUTH[auth]
        if value is not None:
            case.headers["Authorization"] = value
        response = case.call()
        assert response.status_code == expected, (auth, response.status_code, response.text[:500])
        case.validate_response(response, checks=documented)

    fuzz()


# ---------------------------------------------------------------------------------- found by fuzzing

RESOLVE = "/api/approvals/{approval_id}/resolve"
EDGES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "list, a date before 1970": ("GET", "/api/approvals", {"query": {"since": "0118-01-23T03:55:47Z"}}),
    "count, a date after 8999": ("GET", "/api/approvals/count", {"query": {"until": "9999-01-01T00:00:00Z"}}),
    "export, a date before 1970": ("GET", "/api/audit/export", {"query": {"since": "0001-01-01T00:00:00"}}),
    "resolve, a body that is not UTF-8": ("POST", RESOLVE, {"body": b"\xff", "media_type": "application/json"}),
    "resolve, a body that is not JSON": ("POST", RESOLVE, {"body": b"{", "media_type": "application/json"}),
}
"""Requests the fuzzing above found answered outside the schema, pinned so that they are always tried."""


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_edges_found_by_fuzzing_are_answered_as_documented(seeded: Seeded, edge: str) -> None:
    method, path, data = EDGES[edge]
    operation = live_schema(seeded)[path][method]
    params = {"approval_id": seeded.approval_ids[0]} if "{approval_id}" in path else None
    case = operation.Case(path_parameters=params, **data)
    headers = {"Authorization": f"Bearer {seeded.token}"}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize("body", [b"{", b"\x00", b"\xff"], ids=["not JSON", "NUL", "not UTF-8"])
def test_a_malformed_body_without_a_token_is_refused_for_the_token(locked: tuple[Seeded, int], body: bytes) -> None:
    """The token is checked before anything is read from the body."""
    seeded, expected = locked
    operation = live_schema(seeded)[RESOLVE]["POST"]
    case = operation.Case(path_parameters={"approval_id": seeded.approval_ids[0]}, body=body,
                          media_type="application/json")
    response = case.call()
    assert response.status_code == expected, (response.status_code, response.text[:300])
