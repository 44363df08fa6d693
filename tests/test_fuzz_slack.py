"""Property tests of the approval boundary through the real signed Slack harness.

Every request is signed with Slack's v0 scheme and goes to the bot under a real uvicorn
(``tests.slack_harness``); Slack's Web API is the local stand-in, jobs go to the local Redis.
Hypothesis generates what people type and submit; the properties hold for any of it:

- slash commands (``/agent``, ``/approvals``) with arbitrary text: the answer is 200 (413 past
  the body limit), never 5xx, always ephemeral; a refused ``/agent`` creates no run and posts no
  root message, and only an accepted start ("Starting ...") creates one run with one root;
- modal submissions (reject, edit, input, done) on a real pending requirement, with arbitrary
  field values, any user, and real, stale, forged or garbage ``private_metadata``: never 5xx;
  when anything changed, the submission was entitled to it (it names that requirement, fits its
  kind, was bound to the arguments on the table, comes from someone allowed to decide, and the
  outcome is exactly what the form said); otherwise nothing changed at all: the requirement is
  as it was, no audit row but ``decision.refused``, nothing enqueued;
- thread replies in a run waiting for input, arbitrary text (NUL included): never 5xx; only a
  clean, unambiguous answer from someone allowed to give it is taken, anything else changes nothing.

"Never 5xx" also covers the work done after the 3-second ack: no listener may log an error, and no
message the bot sends may be one Slack would refuse (the person would hear nothing). Nothing the bot
posts may carry a broadcast mention (``<!channel>``, ``<!here>``, ``<!everyone>``) typed by a person.

One bot serves every example of a property; each example makes its own run (a clone of a real
paused run, in its own thread), so examples do not depend on each other.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from bot.slack import modals
from bot.slack.cards import MAX_ID_CHARS
from bot.slack.notifier import card_options
from runner.decisions import Action
from runner.examples import REFUND_ADMIN_THRESHOLD
from storage import NewRequirement
from storage.records import Principal, RequirementKind, RequirementRecord, RequirementStatus, RunRecord, Surface
from storage.timeouts import MAX_REQUEST_BODY_BYTES
from tests.fakes import signing
from tests.fakes.openai_server import tool_call
from tests.fakes.slack_server import SlackCall
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    bot,
    bot_factory,
    slack,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    # No shrinking: every example is a round trip through the server, and shrinking one failure would
    # take minutes; the failing example is printed as drawn (each draw is labelled).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
MODAL_PROPERTY = settings(PROPERTY, max_examples=15)
"""Per kind of request (six of them)."""

ADMINS = frozenset({"U_BOB", "U_CAROL"})
"""``S_ADMINS`` in the Slack stand-in: the harness's ``SIGNOFF_APPROVERS``."""
REQUESTER = "U_ALICE"
USERS = ("U_ALICE", "U_BOB", "U_CAROL", "U_DAVE", "S_ADMINS", "U_SIGNOFF")
BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")
REFUSED_PAYLOAD = frozenset({"invalid_blocks", "invalid_arguments", "msg_too_long", "no_text"})
"""Slack's answers to a message or view it would not show: the person would hear nothing."""
OUTCOME_TIMEOUT_S = 5.0
"""How long a listener may take to answer after its ack (it takes milliseconds)."""
QUIET_OUTCOME_S = 1.5
"""How long to look for a sign of a modal or reply that may rightly be dropped without a word."""

# ------------------------------------------------------------------------------ what people type

_chars = st.characters(exclude_categories=["Cs"])  # anything a str can carry in UTF-8: NUL, C0, C1, RTL...
NASTY = [
    "`", "```", "<!channel>", "<!here>", "<!everyone>", "<@U_BOB>", "<#C_OPS>", "<https://x.test|click>",
    "*bold*", "_i_", "~s~", "&amp;", "&lt;", "<", ">", "&", "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u200b",
    "\u202e", "\u2028", "\ufeff", "\U0001f600", "\n", "\r\n", "\t", " ", ":", "=", "nights", "nights: 4",
    "nights=3", "nan", "inf", "-inf", "1e309", "1_000", "\uff11\uff12", " 7 ", "3.0", "-1", "0", "null", "{}", "[]",
]
CLEAN = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=200)
"""Text a person could mean: no control characters."""
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e309", "1_000", "\uff11\uff12", " 7 ", "3.0", "-0", "0x10"]),
)
"""What a number input may hold."""
TEXT = st.one_of(
    CLEAN,
    st.text(_chars, max_size=120),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=8)), max_size=10).map("".join),
    st.tuples(st.sampled_from([*NASTY, "x", "é", "\U0001f600", "`<!channel>`"]), st.integers(500, 5000)).map(
        lambda pair: (pair[0] * pair[1])[: pair[1]]
    ),
)
"""Arbitrary text: control characters, markup, mentions, numbers that are not quite numbers, up to 5000 chars."""


# ------------------------------------------------------------------------------ observing one example


_REFUSED_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class Watch:
    """What the bot did from the start of one example: Slack calls, ephemerals, log records."""

    bot: Bot
    caplog: pytest.LogCaptureFixture
    calls: int = 0
    ephemerals: int = 0
    logs: int = 0

    def __post_init__(self) -> None:
        self.calls = len(self.bot.slack.calls)
        self.ephemerals = len(self.bot.slack.ephemerals)
        self.logs = len(self.caplog.records)

    def new_calls(self) -> list[SlackCall]:
        return list(self.bot.slack.calls)[self.calls :]

    def new_ephemerals(self, user: str) -> list[dict[str, Any]]:
        return [e for e in list(self.bot.slack.ephemerals)[self.ephemerals :] if e["user"] == user]

    def new_logs(self) -> list[logging.LogRecord]:
        return list(self.caplog.records)[self.logs :]

    def roots(self) -> list[SlackCall]:
        """Top-level messages posted (a run's root message is one)."""
        return [c for c in self.new_calls() if c.method == "chat.postMessage" and not c.args.get("thread_ts")]

    def wait(
        self, predicate: Callable[[], Any], what: str, timeout: float = OUTCOME_TIMEOUT_S, required: bool = True
    ) -> Any:
        """Until ``predicate`` holds (an error logged ends the wait too), then until Slack calls settle.

        ``required``: the person must hear back (else a silent outcome is accepted after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or any(r.levelno >= logging.ERROR for r in self.new_logs()):
                break
            if time.monotonic() > deadline:
                self.assert_clean()
                if required:
                    raise AssertionError(f"no answer within {timeout}s: {what}")
                break
            time.sleep(0.01)
        self.settle()
        return value

    def assert_status(self, response: Any, *allowed: int) -> None:
        """The HTTP answer; a listener's failure, if any, is what is reported first."""
        if response.status_code not in allowed:
            self.settle()
            self.assert_clean()
        assert response.status_code in allowed, (response.status_code, response.text[:300])

    def settle(self, quiet: float = 0.08) -> None:
        """Until no Slack call has come in for ``quiet`` seconds (the listener finished its work)."""
        seen, since = len(self.bot.slack.calls), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.01)
            now = len(self.bot.slack.calls)
            if now != seen:
                seen, since = now, time.monotonic()

    def assert_clean(self) -> None:
        errors = [r for r in self.new_logs() if r.levelno >= logging.ERROR]
        assert not errors, "a listener failed after the ack (a hidden 5xx):\n" + "\n".join(
            f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors
        )
        refused = [c for c in self.new_calls() if c.error in REFUSED_PAYLOAD]
        assert not refused, "Slack would refuse what the bot sent: " + "; ".join(
            f"{c.method} {c.error} {c.response.get('errors') or ''}" for c in refused
        )
        for call in self.new_calls():
            if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update"):
                sent = json.dumps({k: call.args.get(k) for k in ("text", "blocks", "view")}, ensure_ascii=False)
                leaked = [b for b in BROADCASTS if b in sent]
                assert not leaked, f"{call.method} carries a broadcast {leaked}: {sent[:500]}"


# ------------------------------------------------------------------------------ runs to decide on


@dataclass
class Template:
    """A real paused run and its pending requirement, as the worker left them."""

    run: RunRecord
    req: RequirementRecord


@dataclass
class Case:
    """One example's own run: a clone of a template, paused in its own thread."""

    run: RunRecord
    reqs: list[RequirementRecord]
    root_ts: str

    @property
    def req(self) -> RequirementRecord:
        return self.reqs[0]


_clones = itertools.count(1)


def templates(bot: Bot, *names: str) -> dict[str, Template]:
    """Start the real runs the examples clone: each paused by the real worker on a real model call."""
    starts = {
        "refund": (
            "finance Refund $50 to customer 42",
            tool_call("process_refund", {"customer_id": "42", "amount": 50}),
        ),
        "big_refund": (
            "finance Refund $500 to customer 42",
            tool_call("process_refund", {"customer_id": "42", "amount": 500}),
        ),
        "email": (
            "customer-email Tell customer 42 about the refund",
            tool_call("send_customer_email", {"customer_id": "42", "subject": "Hi", "body": "Your refund is late."}),
        ),
        "wire": ("treasury Wire $1000 to DE89", tool_call("wire_money", {"account": "DE89 3704", "amount": 1000})),
        "hotel": ("travel Book a hotel in Oslo", tool_call("book_hotel", {"city": "Oslo"})),
        "rotate": ("infra Rotate the billing credentials", tool_call("rotate_database_credentials", {"database": "b"})),
    }
    out: dict[str, Template] = {}
    for name in names:
        prompt, call = starts[name]
        bot.openai.script(call)
        run = bot.start(prompt, user=REQUESTER)
        (req,) = bot.pending(run)
        out[name] = Template(bot.deps.db.get_run(run.id), req)
    return out


def clone(bot: Bot, template: Template, questions: int = 1) -> Case:
    """A new run paused on copies of the template's requirement, through the storage's real pause."""
    db = bot.deps.db
    n = next(_clones)
    root = bot.slack.add_message("C_OPS", f"fuzz run {n}", user="U_SIGNOFF")
    src, req = template.run, template.req
    run = db.create_run(
        kind=src.kind, target_id=src.target_id, target_name=src.target_name, input=src.input, state=src.state,
        requester=REQUESTER, requester_name="alice", channel="C_OPS", thread_ts=root["ts"],
    )
    specs = [
        NewRequirement(
            call_key=f"{req.call_key}:{n}:{i}", kind=req.kind, tool_call_id=f"{req.tool_call_id}-{n}-{i}",
            tool_name=req.tool_name, tool_args=dict(req.tool_args), member_agent_name=req.member_agent_name,
            approval_type=req.approval_type, user_input_schema=[dict(f) for f in req.user_input_schema],
            message=req.message, approvers=list(req.approvers), quorum=req.quorum, agent_id=src.target_id,
            sensitive_fields=req.sensitive_fields,
        )
        for i in range(questions)
    ]
    db.pause_run(run.id, expected_version=run.version, state=src.state, specs=specs, requester=REQUESTER,
                 agent_id=src.target_id)
    return Case(db.get_run(run.id), db.requirements_for_run(run.id), str(root["ts"]))


def allowed(user: str, req: RequirementRecord) -> bool:
    """Who may decide ``req`` (tests' own statement of the policy: the harness's approvers are S_ADMINS)."""
    if req.approval_type == "required":
        return user in ADMINS and user != req.requester
    return user == req.requester or user in ADMINS


def snapshot(req: RequirementRecord) -> tuple[Any, ...]:
    return (req.status, req.current_hash, req.approval_type, json.dumps(req.resolution, sort_keys=True, default=str))


def new_actions(bot: Bot, run: RunRecord, since: int) -> list[str]:
    return [e.action for e in bot.deps.db.audit_events(run_id=run.id) if e.seq > since]


def last_seq(bot: Bot) -> int:
    return max((e.seq for e in bot.deps.db.audit_events()), default=0)


def enqueued_for(bot: Bot, run: RunRecord) -> list[str]:
    return [j for j in bot.deps.queue.get_job_ids() if run.id in j]


def assert_unchanged(bot: Bot, case: Case, before: dict[str, tuple[Any, ...]], since: int) -> None:
    """A refusal: every requirement as it was, no audit row but decision.refused, nothing enqueued."""
    db = bot.deps.db
    for req in case.reqs:
        assert snapshot(db.get_requirement(req.id)) == before[req.id], f"requirement {req.id} changed"
    actions = new_actions(bot, case.run, since)
    assert set(actions) <= {"decision.refused"}, actions
    assert not enqueued_for(bot, case.run), enqueued_for(bot, case.run)
    assert db.get_run(case.run.id).status == case.run.status


# ------------------------------------------------------------------------------ 1. slash commands

_users = itertools.count(1)
AGENT_HEADS = ["finance ", "", "finance ", "finance ", "travel ", "infra ", "treasury ", "status ", "cancel ", "list ",
               "list", "help ", "payroll ", "FINANCE ", "finance\n", "finance\t", "finance  ", " finance "]
APPROVALS_HEADS = ["", "", "export ", "export csv ", "export jsonl since ", "export agent ", "list ", "mine", "help "]


def _posted_runs(bot: Bot, user: str) -> list[RunRecord]:
    return [r for r in bot.deps.db.list_runs(limit=100_000) if r.requester == user]


@pytest.mark.parametrize("command", ["/agent", "/approvals"])
@given(head=st.data(), text=TEXT, who=st.sampled_from(["fresh", "U_ALICE", "U_BOB", "U_DAVE"]))
@PROPERTY
def test_slash_command_text_is_answered_and_a_refusal_creates_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture, command: str, head: st.DataObject, text: str, who: str
) -> None:
    prefix = head.draw(st.sampled_from(AGENT_HEADS if command == "/agent" else APPROVALS_HEADS), label="head")
    typed = prefix + text
    # /agent always as a new person: the per-person start rate limit must not couple examples
    user = f"U_FUZZ{next(_users)}" if who == "fresh" or command == "/agent" else who
    runs_before = len(bot.deps.db.list_runs(limit=100_000))
    watch = Watch(bot, caplog)

    response = bot.post(signing.slash_command_body(command, typed, user_id=user))
    watch.assert_status(response, 200, 413)
    if response.status_code == 413:
        assert len(typed.encode()) > MAX_REQUEST_BODY_BYTES // 12
    reply = response.json() if response.content else None
    if reply is not None:
        assert reply.get("response_type") == "ephemeral", reply
        assert not any(b in json.dumps(reply, ensure_ascii=False) for b in BROADCASTS), reply

    started = reply is not None and str(reply.get("text", "")).startswith("Starting")
    event(f"{command}: " + ("started" if started else "deferred" if reply is None else "answered at once"))
    if started:
        # accepted by the parser: the decision service may still refuse (rate, queue), and says so
        watch.wait(lambda: _posted_runs(bot, user) or watch.new_ephemerals(user), "a run or a refusal")
        runs = _posted_runs(bot, user)
        if runs:
            (run,) = runs
            assert [c.args.get("channel") for c in watch.roots()] == ["C_OPS"]
            assert run.thread_ts == watch.roots()[0].response.get("ts")
            assert not _REFUSED_CHAR.search(run.input) and run.input == run.input.strip() and run.input
        else:
            assert not watch.roots(), "a refused start posted a root message"
    elif reply is None:
        # deferred answers (status, cancel, the approvals list, an export) end with an ephemeral
        watch.wait(
            lambda: [e for e in watch.new_ephemerals(user) if not e["text"].startswith(":hourglass_flowing_sand:")],
            "the ephemeral answer",
        )
    else:
        watch.settle()
    if not started:
        assert not watch.roots(), "a refused command posted a root message"
        assert len(bot.deps.db.list_runs(limit=100_000)) == runs_before, "a refused command created a run"
    else:
        assert len(bot.deps.db.list_runs(limit=100_000)) <= runs_before + 1
    watch.assert_clean()


def test_an_oversized_slash_command_is_413_and_creates_nothing(bot: Bot) -> None:
    body = signing.slash_command_body("/agent", "finance " + "x" * (MAX_REQUEST_BODY_BYTES + 10))
    response = bot.post(body)
    assert response.status_code == 413
    time.sleep(0.2)
    assert bot.deps.db.list_runs() == [] and not bot.slack.calls_to("chat.postMessage")


# ------------------------------------------------------------------------------ 2. modal submissions

CALLBACKS = {
    modals.REJECT_VIEW: Action.REJECT,
    modals.EDIT_VIEW: Action.EDIT,
    modals.INPUT_VIEW: Action.ANSWER,
    modals.DONE_VIEW: Action.DONE,
}
FITS = {
    Action.REJECT: {RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION},
    Action.EDIT: {RequirementKind.CONFIRMATION},
    Action.ANSWER: {RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT},
    Action.DONE: {RequirementKind.EXTERNAL_EXECUTION},
}
METADATA = ["real", "no hash", "stale hash", "garbage hash", "forged channel", "decided",
            "unknown id", "padded id", "garbage"]
GARBAGE_METADATA = st.one_of(
    st.text(_chars, max_size=200),
    st.sampled_from(["", "null", "[]", "{}", "1e999999", '{"r": 5}', '{"r": null}', '{"r": ["x"]}', '"r"',
                     '{"r": "", "h": ""}', "{" * 3000, '{"r": {"r": "x"}}']),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(_chars, max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["r", "c", "t", "h", "x"]), inner),
        max_leaves=8,
    ).map(json.dumps),
)


def build_view(bot: Bot, case: Case, callback: str, meta: modals.Metadata) -> dict[str, Any]:
    """The modal the bot would open for this callback on the case's requirement (whatever its kind)."""
    req = case.req
    if callback == modals.REJECT_VIEW:
        return modals.reject_modal(req, meta)
    if callback == modals.INPUT_VIEW:
        return modals.input_modal(req, meta)
    if callback == modals.DONE_VIEW:
        return modals.done_modal(req, meta)
    fn = bot.deps.registry.tool_for(case.run, req)
    parameters = fn.parameters if fn is not None else {"properties": {}}
    return modals.edit_modal(req, parameters, meta, card_options(req, fn)["declared"])


def element_state(kind: str) -> st.SearchStrategy[dict[str, Any] | None]:
    """What Slack sends for one input: mostly a value of its own element type (often a sensible
    one), sometimes another element's state, or nothing at all."""
    numberish = st.one_of(NUMBERS, NUMBERS, TEXT)
    select = st.one_of(st.none(), numberish).map(
        lambda v: {"type": "static_select", "selected_option": None if v is None else {"value": v}}
    )
    plain = st.one_of(CLEAN, CLEAN, st.none(), TEXT).map(lambda v: {"type": "plain_text_input", "value": v})
    number = numberish.map(lambda v: {"type": "number_input", "value": v})
    own = {"static_select": select, "number_input": number}.get(kind, plain)
    return st.one_of(own, own, own, st.none(), plain, number, select)


def raw_value(state: dict[str, Any] | None) -> Any:
    """What the bot reads from one input's state (None when it is missing or empty)."""
    if state is None:
        return None
    if state["type"] == "static_select":
        return (state.get("selected_option") or {}).get("value")
    return state.get("value")


def names_requirement(raw: str, requirement_id: str) -> tuple[bool, str | None]:
    """Does this private_metadata name ``requirement_id``, and which arguments hash does it carry?"""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return False, None
    if not isinstance(data, dict) or not isinstance(data.get("r"), str):
        return False, None
    seen = data.get("h") if isinstance(data.get("h"), str) and data.get("h") else None
    return data["r"][:MAX_ID_CHARS] == requirement_id, seen[:MAX_ID_CHARS] if seen else None


def expected_edit(view: dict[str, Any], values: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any] | None:
    """The edits the form asks for, or None when a value does not fit its type (the form is refused)."""
    props = parameters.get("properties", {})
    edits: dict[str, Any] = {}
    for block in view["blocks"]:
        block_id = str(block.get("block_id", ""))
        if block.get("type") != "input" or not block_id.startswith(modals.ARG_PREFIX):
            continue
        name = block_id.removeprefix(modals.ARG_PREFIX)
        raw = raw_value(values.get(block_id))
        if raw is None or raw == "":
            continue
        kind = modals.json_type(props.get(name) or {})
        try:
            edits[name] = (
                float(str(raw).strip()) if kind == "number" else int(str(raw).strip()) if kind == "integer" else raw
            )
        except ValueError:
            return None
    return edits


KINDS = ["refund", "big_refund", "email", "wire", "hotel", "rotate"]
"""The requests a modal can decide: a plain confirmation, a required approval, an editable email, a quorum
of two, a question, a step done by hand."""


@dataclass
class ModalWorld:
    template: Template
    decided: RequirementRecord
    """A request of the same kind, decided before the fuzzing: a submission naming it changes nothing."""
    decided_snapshot: tuple[Any, ...] = field(default_factory=tuple)


@pytest.fixture(params=KINDS)
def world(bot: Bot, request: pytest.FixtureRequest) -> ModalWorld:
    template = templates(bot, request.param)[request.param]
    decided = clone(bot, template).req
    service = bot.deps.service
    if decided.kind is RequirementKind.USER_INPUT:
        service.decide(decided.id, Principal(REQUESTER, "alice"), Action.ANSWER, surface=Surface.SLACK,
                       values={"nights": 2}, resume=False)
    elif decided.kind is RequirementKind.EXTERNAL_EXECUTION:
        service.decide(decided.id, Principal(REQUESTER, "alice"), Action.DONE, surface=Surface.SLACK,
                       result="done before the fuzzing", resume=False)
    else:
        service.decide(decided.id, Principal("U_BOB", "bob"), Action.REJECT, surface=Surface.SLACK,
                       note="decided before the fuzzing", resume=False)
    record = bot.deps.db.get_requirement(decided.id)
    assert not record.is_pending
    return ModalWorld(template, record, snapshot(record))


@given(data=st.data())
@MODAL_PROPERTY
def test_modal_submissions_change_nothing_unless_entitled(
    bot: Bot, world: ModalWorld, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    db = bot.deps.db
    case = clone(bot, world.template)
    req = case.req
    # Half the time what the card would really lead to, so the accepted paths are exercised too.
    fitting = sorted(c for c, a in CALLBACKS.items() if req.kind in FITS[a])
    callback = data.draw(st.one_of(st.sampled_from(fitting), st.sampled_from(sorted(CALLBACKS))), label="callback")
    entitled = sorted(u for u in USERS if allowed(u, req))
    user = data.draw(st.one_of(st.sampled_from(entitled), st.sampled_from(USERS)), label="user")
    metadata = data.draw(st.one_of(st.just("real"), st.sampled_from(METADATA)), label="metadata")
    real = modals.Metadata(req.id, "C_OPS", case.root_ts, req.current_hash)
    forged: dict[str, Callable[[], str]] = {
        "real": real.dump,
        "no hash": lambda: modals.Metadata(req.id, "C_OPS", case.root_ts).dump(),
        "stale hash": lambda: modals.Metadata(req.id, "C_OPS", case.root_ts, "0" * 64).dump(),
        "garbage hash": lambda: json.dumps({"r": req.id, "c": "C_OPS", "h": data.draw(TEXT, label="h")}),
        "forged channel": lambda: json.dumps({"r": req.id, "c": data.draw(TEXT, label="c"),
                                              "t": data.draw(TEXT, label="t"), "h": req.current_hash}),
        "decided": lambda: modals.Metadata(world.decided.id, "C_OPS", case.root_ts, world.decided.current_hash).dump(),
        "unknown id": lambda: modals.Metadata(data.draw(TEXT, label="r"), "C_OPS", case.root_ts).dump(),
        "padded id": lambda: modals.Metadata(req.id + data.draw(st.text(_chars, min_size=1, max_size=80), label="pad"),
                                             "C_OPS", case.root_ts, req.current_hash).dump(),
        "garbage": lambda: data.draw(GARBAGE_METADATA, label="garbage"),
    }
    raw_meta = forged[metadata]()
    view = build_view(bot, case, callback, real)
    inputs = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b.get("type") == "input"}
    values = {block_id: data.draw(element_state(kind), label=block_id) for block_id, kind in inputs.items()}
    values = {k: v for k, v in values.items() if v is not None}

    before = {r.id: snapshot(r) for r in case.reqs}
    since = last_seq(bot)
    watch = Watch(bot, caplog)
    body = signing.view_submission_body(
        callback, raw_meta, {k: {modals.VALUE: v} for k, v in values.items()}, user, blocks=view["blocks"]
    )
    response = bot.post(body)
    watch.assert_status(response, 200)

    def outcome() -> bool:
        if snapshot(db.get_requirement(req.id)) != before[req.id] or watch.new_ephemerals(user):
            return True
        return any("without signoff metadata" in r.getMessage() for r in watch.new_logs())

    # a refusal is told when there is somewhere to tell it; metadata naming nothing may be dropped
    watch.wait(outcome, f"{callback} by {user} with {metadata} metadata", QUIET_OUTCOME_S, required=False)
    watch.assert_clean()
    assert snapshot(db.get_requirement(world.decided.id)) == world.decided_snapshot, "the decided request changed"

    after = db.get_requirement(req.id)
    actions = new_actions(bot, case.run, since)
    touched = snapshot(after) != before[req.id] or not set(actions) <= {"decision.refused"}
    event(f"{callback}: {after.status if touched else 'refused'}")
    if not touched:
        assert_unchanged(bot, case, before, since)
        return

    # Something was recorded: the submission must have been entitled to exactly that.
    action = CALLBACKS[callback]
    names, seen = names_requirement(raw_meta, req.id)
    assert names, f"a submission naming another request changed {req.id}: {raw_meta[:200]!r}"
    assert req.kind in FITS[action], f"a {callback} changed a {req.kind} request"
    assert seen is None or seen == req.current_hash, "a submission bound to other arguments was applied"
    assert allowed(user, req), f"{user} may not decide {req.id} ({req.approval_type}), yet {actions}"
    reason = modals.text_value({k: {modals.VALUE: v} for k, v in values.items()}, modals.REASON_BLOCK)
    if action is Action.REJECT:
        assert after.status is RequirementStatus.REJECTED, after.status
        assert after.resolution.get("note") == reason
    elif action is Action.DONE:
        result = raw_value(values.get(modals.RESULT_BLOCK))
        assert after.status is RequirementStatus.DONE_EXTERNALLY, after.status
        assert result is not None and after.resolution.get("result") == str(result).strip() != ""
    elif action is Action.ANSWER:
        nights = raw_value(values.get("field:nights"))
        assert after.status is RequirementStatus.ANSWERED, after.status
        assert nights is not None and after.resolution["values"] == {"nights": int(str(nights).strip())}
    else:
        fn = bot.deps.registry.tool_for(case.run, req)
        assert fn is not None
        edits = expected_edit(view, values, fn.parameters)
        assert edits is not None, f"a form with a value of the wrong type was applied: {values}"
        final = after.resolution.get("edited_args") or after.proposed_args or after.tool_args
        amount = final.get("amount")
        assert not isinstance(amount, float) or math.isfinite(amount), (
            f"{user}'s edit to amount {amount} was accepted (now {after.status}); a threshold policy cannot be "
            f"evaluated on a non-finite number (NaN > {REFUND_ADMIN_THRESHOLD} is false)"
        )
        assert final == fn.validate(req.current_args | edits), (final, edits)
        needs_admin = req.approval_type == "required" or float(amount or 0) > REFUND_ADMIN_THRESHOLD
        if after.status is RequirementStatus.APPROVED and needs_admin and req.tool_name == "process_refund":
            assert user in ADMINS and user != REQUESTER, f"{user} approved a refund of {amount} alone"
        if after.status is RequirementStatus.PENDING:
            assert after.approval_type == "required" or req.quorum > 1, "an edit left a plain request pending"
    if req.quorum > 1:
        assert after.status is not RequirementStatus.APPROVED, "one approver completed a quorum of two"


def test_an_edit_to_a_non_finite_amount_is_never_approved_alone(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """The refund policy compares the amount with a threshold; NaN compares false with everything."""
    template = templates(bot, "refund")["refund"]
    failures: list[str] = []
    for typed in ("NaN", "nan", "-inf", "inf", "1e309"):
        case = clone(bot, template)
        req = case.req
        watch = Watch(bot, caplog)
        meta = modals.Metadata(req.id, "C_OPS", case.root_ts, req.current_hash).dump()
        values = {"arg:amount": {modals.VALUE: {"type": "number_input", "value": typed}}}
        response = bot.post(signing.view_submission_body(modals.EDIT_VIEW, meta, values, REQUESTER))
        watch.assert_status(response, 200)

        def settled(watch: Watch = watch, req: RequirementRecord = req) -> bool:
            return bool(watch.new_ephemerals(REQUESTER)) or not bot.deps.db.get_requirement(req.id).is_pending

        watch.wait(settled, "the edit applied, escalated or refused")
        watch.assert_clean()
        after = bot.deps.db.get_requirement(req.id)
        if after.status is RequirementStatus.APPROVED:
            failures.append(f"the requester's edit of the $50 refund to amount {typed!r} was approved by them alone: "
                            f"{after.resolution.get('edited_args')}")
    assert not failures, "\n".join(failures)


NASTY_METADATA = ["", "null", "{}", "[]", '{"r": 5}', '{"r": ""}', '{"r": "", "h": ""}', "1e999999", "\x00", "{" * 3000,
                  "[" * 3000, "[" * 1500 + "]" * 1500, '{"r":' * 450 + '"x"' + "}" * 450]
"""private_metadata that is not ours, up to Slack's 3000 characters: nested past Python's recursion limit too."""


def test_garbage_private_metadata_is_dropped_without_a_failure(
    bot: Bot, hotel: Template, caplog: pytest.LogCaptureFixture
) -> None:
    values = {"field:nights": {modals.VALUE: {"type": "number_input", "value": "3"}}}
    failures: list[str] = []
    for raw in NASTY_METADATA:
        case = clone(bot, hotel)
        before = {r.id: snapshot(r) for r in case.reqs}
        since = last_seq(bot)
        watch = Watch(bot, caplog)
        response = bot.post(signing.view_submission_body(modals.INPUT_VIEW, raw, values, REQUESTER))

        def heard(watch: Watch = watch) -> bool:
            return bool(watch.new_ephemerals(REQUESTER) or watch.new_logs())

        watch.wait(heard, "a refusal or a log line", QUIET_OUTCOME_S, required=False)
        try:
            watch.assert_status(response, 200)
            watch.assert_clean()
            assert_unchanged(bot, case, before, since)
        except AssertionError as exc:
            shown = f"{raw[:12]!r}...{raw[-12:]!r}" if len(raw) > 24 else repr(raw)
            failures.append(f"private_metadata {shown} ({len(raw)} chars): {str(exc).splitlines()[:2]}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------------ 3. thread replies


def candidates(pending: list[RequirementRecord], text: str) -> list[RequirementRecord]:
    """The questions a reply could answer: those whose fields its ``field: value`` lines name, or
    the only single-field question for a plain reply."""
    lines = [line for line in text.splitlines() if line.strip()]
    named: dict[str, str] = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$", line)
        if match is None:
            named = {}
            break
        named[match.group(1)] = match.group(2)
    if named:
        fitting = [r for r in pending if set(named) <= {str(f.get("name")) for f in r.user_input_schema}]
        if fitting:
            return fitting
    single = [r for r in pending if len(r.user_input_schema) == 1]
    return single if len(pending) == 1 and len(single) == 1 else []


@pytest.fixture
def hotel(bot: Bot) -> Template:
    return templates(bot, "hotel")["hotel"]


@pytest.mark.parametrize("questions", [1, 2])
@given(
    text=st.one_of(st.sampled_from(["nights: 4", "4", "nights=2\n", " 3 ", "nights: 4\nnights: 5"]), TEXT),
    user=st.sampled_from(["U_ALICE", "U_ALICE", "U_BOB", "U_DAVE"]),
)
@PROPERTY
def test_thread_replies_answer_only_when_clean_unambiguous_and_allowed(
    bot: Bot, hotel: Template, caplog: pytest.LogCaptureFixture, text: str, user: str, questions: int
) -> None:
    db = bot.deps.db
    case = clone(bot, hotel, questions=questions)
    before = {r.id: snapshot(r) for r in case.reqs}
    since = last_seq(bot)
    watch = Watch(bot, caplog)
    reply = bot.slack.add_message("C_OPS", text, user=user, thread_ts=case.root_ts)
    message = signing.message_event(text, user_id=user, ts=reply["ts"], thread_ts=case.root_ts)
    response = bot.post(signing.event_callback_body(message))
    watch.assert_status(response, 200)

    def outcome() -> bool:
        changed = any(snapshot(db.get_requirement(r.id)) != before[r.id] for r in case.reqs)
        return changed or bool(watch.new_ephemerals(user))

    if text.strip():
        watch.wait(outcome, f"an answer or a hint for the reply {text[:40]!r} by {user}")
    else:
        watch.settle(0.2)  # nothing to read: ignored
    watch.assert_clean()

    changed = [r for r in case.reqs if snapshot(db.get_requirement(r.id)) != before[r.id]]
    event(f"{questions} question(s): " + ("answered" if changed else "refused"))
    if not changed and set(new_actions(bot, case.run, since)) <= {"decision.refused"}:
        assert_unchanged(bot, case, before, since)
        return
    assert len(changed) == 1, "one reply answered several questions"
    answered = db.get_requirement(changed[0].id)
    assert answered.status is RequirementStatus.ANSWERED, answered.status
    assert not _REFUSED_CHAR.search(text), "a reply with a control character was taken as an answer"
    assert allowed(user, changed[0]), f"{user} may not answer {changed[0].id}"
    fits = candidates([r for r in case.reqs], text.strip())
    assert len(fits) == 1, f"an ambiguous reply ({len(fits)} questions fit {text!r}) answered {answered.id}"
    assert fits[0].id == answered.id
    assert isinstance(answered.resolution["values"]["nights"], int)
