"""Workflow control flow with people in it: Router, Condition, Loop, Steps, on_error and
hitl_timeout, each paused and continued through SQL like any other run.

Executors record their calls, so each test checks what ran (and how often), not only what the
output says. Every decision goes through the same requirement setters (and, for the forged
ones, the decision service) as any other.
"""

# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from runner import Agent, tool
from runner.decisions import Action, DecisionService
from runner.events import StepCompleted, StepExecutorPaused, StepPaused
from runner.step_types import HumanReview, OnError, OnReject, OnTimeout, StepInput, StepOutput
from runner.workflow import Condition, Loop, Router, Step, Steps, Workflow, pause
from storage import Database, RequirementKind, RequirementStatus, RunStatus
from storage.errors import InvalidDecision, ToolConfigError
from storage.records import Principal, Surface
from tests.conftest import migrated
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI, text, tool_call

RAN: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    RAN.clear()
    yield
    RAN.clear()


def executor(name: str, fail_times: int = 0) -> Step:
    """A step that records each run; it raises its first ``fail_times`` runs."""
    failures = [fail_times]

    def run(step_input: StepInput) -> StepOutput:
        RAN.append(name)
        if failures[0] > 0:
            failures[0] -= 1
            raise ConnectionError(f"{name} could not reach the API")
        return StepOutput(content=f"{name}({step_input.previous_step_content or step_input.input})")

    run.__name__ = name
    return Step(name=name, executor=run)


def analyze_then(*middle: object) -> list[object]:
    return [executor("analyze"), *middle, executor("report")]


# --------------------------------------------------------------------------------- Router


def router(multiple: bool = False, review: bool = False) -> Router:
    return Router(name="pick", choices=[executor("quick"), executor("deep"), executor("custom")],
                  requires_user_input=True, user_input_message="Which analysis?",
                  allow_multiple_selections=multiple, requires_output_review=review,
                  on_reject=OnReject.retry if review else OnReject.skip, hitl_max_retries=2)


def test_a_person_picks_the_route_and_only_that_route_runs(sqlite_db: Database) -> None:
    wf = Workflow(name="routes", db=sqlite_db, steps=analyze_then(router()))
    out = wf.run("Q4")
    assert out.is_paused and RAN == ["analyze"]
    [req] = out.steps_requiring_route
    assert req.kind is RequirementKind.STEP_ROUTE_SELECTION and req.step_name == "pick"
    assert req.available_choices == ["quick", "deep", "custom"] and not req.allow_multiple_selections
    assert req.user_input_message == "Which analysis?"
    assert req.record.tool_args == {"previous_output": "analyze(Q4)"}
    with pytest.raises(InvalidDecision, match="'slow' is not a choice"):
        req.select("slow")
    with pytest.raises(ValueError):
        req.select("quick", "deep")  # one route only
    req.select("deep")
    done = wf.continue_run(out)
    assert done.status is RunStatus.COMPLETED
    assert RAN == ["analyze", "deep", "report"]
    assert done.content == "report(deep(analyze(Q4)))"
    assert [(r.step_name, r.success) for r in done.step_results] == [
        ("analyze", True), ("pick", True), ("report", True)]
    assert sqlite_db.get_requirement(req.id).resolution["values"] == {"route": "deep"}


def test_several_routes_run_in_the_order_chosen(sqlite_db: Database) -> None:
    wf = Workflow(name="routes", db=sqlite_db, steps=analyze_then(router(multiple=True)))
    out = wf.run("Q4")
    [req] = out.steps_requiring_route
    assert req.allow_multiple_selections
    req.select_multiple(["custom", "quick"])
    done = wf.continue_run(out)
    assert RAN == ["analyze", "custom", "quick", "report"]
    assert done.content == "report(quick(custom(analyze(Q4))))"


def test_a_forged_route_through_the_decision_service_is_refused(sqlite_db: Database) -> None:
    wf = Workflow(name="routes", db=sqlite_db, steps=analyze_then(router()))
    out = wf.run("Q4")
    [req] = out.steps_requiring_route
    service = DecisionService(sqlite_db, lookup=wf.lookup)
    alice = Principal("U_ALICE", "alice")
    for forged in ({"route": "rm -rf"}, {"route": ["quick", "deep"]}, {"other": "quick"}, {"route": ""}):
        with pytest.raises(InvalidDecision):
            service.decide(req.id, alice, Action.ANSWER, values=forged, surface=Surface.API, resume=False)
    assert sqlite_db.get_requirement(req.id).status is RequirementStatus.PENDING
    service.decide(req.id, alice, Action.ANSWER, values={"route": "quick"}, surface=Surface.API, resume=False)
    done = wf.continue_run(run_id=out.run_id)
    assert RAN == ["analyze", "quick", "report"] and done.status is RunStatus.COMPLETED


def test_a_selector_function_routes_without_a_person(sqlite_db: Database) -> None:
    def choose(step_input: StepInput) -> list[str]:
        return ["quick"] if "small" in str(step_input.input) else ["deep", "custom"]

    wf = Workflow(name="auto", db=sqlite_db, steps=analyze_then(
        Router(name="pick", choices=[executor("quick"), executor("deep"), executor("custom")], selector=choose)))
    assert wf.run("small batch").content == "report(quick(analyze(small batch)))"
    RAN.clear()
    wf.run("big batch")
    assert RAN == ["analyze", "deep", "custom", "report"]


def test_a_selector_naming_no_route_fails_the_run_clearly(sqlite_db: Database) -> None:
    wf = Workflow(name="auto", db=sqlite_db, steps=[
        Router(name="pick", choices=[executor("quick")], selector=lambda _: "nope")])
    out = wf.run("x")
    assert out.status is RunStatus.FAILED and "has no route 'nope'" in (out.error or "")


def test_a_rejected_router_output_asks_for_the_route_again(sqlite_db: Database) -> None:
    wf = Workflow(name="reviewed", db=sqlite_db, steps=analyze_then(router(review=True)))
    out = wf.run("Q4")
    out.steps_requiring_route[0].select("quick")
    out = wf.continue_run(out)
    [review] = out.steps_requiring_output_review
    assert review.step_type == "Router" and review.available_choices == ["quick", "deep", "custom"]
    assert review.step_output is not None and review.step_output.content == "quick(analyze(Q4))"
    review.reject(feedback="more detail")
    out = wf.continue_run(out)
    [again] = out.steps_requiring_route
    assert again.id != review.id and "more detail" in (again.user_input_message or "")
    again.select("deep")
    out = wf.continue_run(out)
    [second] = out.steps_requiring_output_review
    assert RAN == ["analyze", "quick", "deep"], "each route ran once"
    assert second.step_output is not None and second.step_output.content == "deep(analyze(Q4))"
    second.edit("deep, edited by a person")
    done = wf.continue_run(out)
    assert done.content == "report(deep, edited by a person)"
    assert RAN == ["analyze", "quick", "deep", "report"]


# ------------------------------------------------------------------------------ Condition


def condition(on_reject: OnReject | str = OnReject.else_branch) -> Condition:
    return Condition(name="depth", steps=[executor("detailed")], else_steps=[executor("summary")],
                     requires_confirmation=True, confirmation_message="Detailed analysis?", on_reject=on_reject)


@pytest.mark.parametrize(("answer", "mode", "ran", "status"), [
    ("confirm", "else", ["analyze", "detailed", "report"], RunStatus.COMPLETED),
    ("reject", "else", ["analyze", "summary", "report"], RunStatus.COMPLETED),
    ("reject", "skip", ["analyze", "report"], RunStatus.COMPLETED),
    ("reject", "cancel", ["analyze"], RunStatus.CANCELLED),
])
def test_a_person_decides_the_condition(sqlite_db: Database, answer: str, mode: str, ran: list[str],
                                        status: RunStatus) -> None:
    wf = Workflow(name="cond", db=sqlite_db, steps=analyze_then(condition(mode)))
    out = wf.run("Q4")
    [req] = out.steps_requiring_confirmation
    assert req.step_name == "depth" and req.confirmation_message == "Detailed analysis?"
    assert req.on_reject is None or req.on_reject == mode
    if answer == "confirm":
        req.confirm()
    else:
        req.reject("not today")
    done = wf.continue_run(out)
    assert ran == RAN and done.status is status
    if status is RunStatus.CANCELLED:
        assert (done.content or "").startswith("Workflow cancelled at step 'depth': rejected")
        assert "(not today)" in (done.content or "")
    if mode == "skip":
        assert "Step 'depth' was skipped: rejected" in (done.content or "")


def test_an_evaluator_picks_the_branch_and_its_failure_follows_on_error(sqlite_db: Database) -> None:
    wf = Workflow(name="cond", db=sqlite_db, steps=analyze_then(Condition(
        name="big", evaluator=lambda si: "big" in str(si.input), steps=[executor("detailed")],
        else_steps=[executor("summary")])))
    wf.run("big data")
    assert RAN == ["analyze", "detailed", "report"]
    RAN.clear()
    wf.run("tiny")
    assert RAN == ["analyze", "summary", "report"]

    def broken(_: StepInput) -> bool:
        raise KeyError("region")

    RAN.clear()
    skipping = Workflow(name="c2", db=sqlite_db, steps=analyze_then(
        Condition(name="region", evaluator=broken, steps=[executor("detailed")])))
    done = skipping.run("x")
    assert RAN == ["analyze", "report"] and done.status is RunStatus.COMPLETED
    assert "Step 'region' was skipped: its evaluator failed" in (done.content or "")
    failing = Workflow(name="c3", db=sqlite_db, steps=[
        Condition(name="region2", evaluator=broken, steps=[executor("detailed")], on_error="fail")])
    failed = failing.run("x")
    assert failed.status is RunStatus.FAILED and "KeyError" in (failed.error or "")


# ----------------------------------------------------------------------------------- Loop


def test_loop_confirmation_rejected_skips_the_loop(sqlite_db: Database) -> None:
    wf = Workflow(name="loop", db=sqlite_db, steps=analyze_then(
        Loop(name="refine_loop", steps=[executor("refine")], max_iterations=5, requires_confirmation=True)))
    out = wf.run("Q4")
    out.steps_requiring_confirmation[0].reject()
    done = wf.continue_run(out)
    assert RAN == ["analyze", "report"] and done.status is RunStatus.COMPLETED


def test_loop_runs_until_its_end_condition_or_max_iterations(sqlite_db: Database) -> None:
    seen: list[int] = []

    def enough(outputs: list[StepOutput]) -> bool:
        seen.append(len(outputs))
        return len(outputs) >= 2

    wf = Workflow(name="loop", db=sqlite_db, steps=[
        Loop(name="refine_loop", steps=[executor("refine")], max_iterations=5, end_condition=enough,
             forward_iteration_output=True)])
    done = wf.run("v0")
    assert RAN == ["refine", "refine"] and seen == [1, 2]
    assert done.content == "refine(refine(v0))"
    RAN.clear()
    capped = Workflow(name="loop2", db=sqlite_db, steps=[Loop(name="again_loop", steps=[executor("again")],
                                                              max_iterations=3)])
    capped.run("v0")
    assert RAN == ["again"] * 3


def test_iteration_review_rejects_with_feedback_then_accepts(sqlite_db: Database) -> None:
    wf = Workflow(name="loop", db=sqlite_db, steps=[
        Loop(name="refine_loop", steps=[executor("refine")], max_iterations=4, forward_iteration_output=True,
             human_review=HumanReview(requires_iteration_review=True, iteration_review_message="Good enough?",
                                      on_reject=OnReject.retry))])
    out = wf.run("draft")
    [review] = out.steps_requiring_output_review
    assert review.output_review_message == "Good enough?" and review.step_name == "refine_loop"
    assert review.step_output is not None and review.step_output.content == "refine(draft)"
    review.reject(feedback="shorter")
    out = wf.continue_run(out)
    [second] = out.steps_requiring_output_review
    assert RAN == ["refine", "refine"]
    assert "shorter" in str(second.step_output.content if second.step_output else "")
    second.confirm()
    done = wf.continue_run(out)
    assert done.status is RunStatus.COMPLETED and RAN == ["refine", "refine"], "accepting ends the loop"
    assert done.content is not None and done.content.startswith("refine(refine(draft)")


def test_an_agent_pausing_inside_a_loop_resumes_in_its_iteration(sqlite_db: Database,
                                                                  fake_openai: FakeOpenAI) -> None:
    calls: list[str] = []

    @tool(requires_confirmation=True)
    def publish(title: str) -> str:
        """Publish a post."""
        calls.append(title)
        return f"published {title}"

    writer = Agent(name="Writer", tools=[publish], instructions="Publish what you are given.")
    wf = Workflow(name="loop", db=sqlite_db, steps=[
        Loop(name="posts", steps=[Step(name="write", agent=writer)], max_iterations=2)])
    fake_openai.script(tool_call("publish", {"title": "one"}))
    events = list(wf.run("go", stream=True))
    paused = [e for e in events if isinstance(e, StepExecutorPaused)]
    assert paused and paused[0].executor_name == "Writer" and paused[0].executor_type == "agent"
    assert paused[0].executor_requirements[0]["tool_name"] == "publish"
    out = wf.continue_run(run_id=events[-1].run_id)
    [req] = out.active_requirements
    req.confirm()
    fake_openai.script(text("done one"), tool_call("publish", {"title": "two"}))
    out = wf.continue_run(out)
    assert calls == ["one"] and out.is_paused
    out.active_requirements[0].confirm()
    fake_openai.script(text("done two"))
    done = wf.continue_run(out)
    assert done.status is RunStatus.COMPLETED and calls == ["one", "two"] and done.content == "done two"


# ---------------------------------------------------------------------------------- Steps


def test_steps_share_one_confirmation(sqlite_db: Database) -> None:
    wf = Workflow(name="pipeline", db=sqlite_db, steps=analyze_then(
        Steps(name="publish_all", steps=[executor("format"), executor("publish")], requires_confirmation=True)))
    out = wf.run("Q4")
    [req] = out.steps_requiring_confirmation
    assert req.step_name == "publish_all"
    req.confirm()
    done = wf.continue_run(out)
    assert RAN == ["analyze", "format", "publish", "report"]
    assert done.content == "report(publish(format(analyze(Q4))))"


# ------------------------------------------------------------------------------- on_error


def test_on_error_pause_asks_retry_or_skip_and_a_retry_runs_once_more(sqlite_db: Database) -> None:
    flaky = executor("fetch", fail_times=2)
    flaky.on_error = OnError.pause
    wf = Workflow(name="errors", db=sqlite_db, steps=[flaky, executor("process")])
    events = list(wf.run("go", stream=True))
    assert any(isinstance(e, StepPaused) and e.requires_error_decision for e in events)
    out = wf.continue_run(run_id=events[-1].run_id)
    [err] = out.steps_with_errors
    assert err.kind is RequirementKind.STEP_ERROR and err.error_type == "ConnectionError"
    assert "could not reach the API" in (err.error_message or "") and err.available_choices == ["retry", "skip"]
    err.retry()
    out = wf.continue_run(out)
    assert RAN == ["fetch", "fetch"], "retried exactly once"
    [again] = out.steps_with_errors
    assert again.id != err.id
    again.retry()
    done = wf.continue_run(out)
    assert RAN == ["fetch", "fetch", "fetch", "process"] and done.content == "process(fetch(go))"
    # Continuing a finished run reports it as it is and runs nothing again.
    assert wf.continue_run(run_id=done.run_id).content == "process(fetch(go))"
    assert RAN == ["fetch", "fetch", "fetch", "process"]


def test_on_error_skip_and_fail(sqlite_db: Database) -> None:
    skipped = executor("fetch", fail_times=1)
    skipped.on_error = OnError.skip
    done = Workflow(name="skip", db=sqlite_db, steps=[skipped, executor("process")]).run("go")
    assert done.status is RunStatus.COMPLETED and RAN == ["fetch", "process"]
    assert done.content is not None and done.content.startswith("process(go)")
    assert "Step 'fetch' was skipped: it failed" in done.content
    assert [r.success for r in done.step_results] == [False, True]
    RAN.clear()
    failed = Workflow(name="fail", db=sqlite_db, steps=[executor("fetch", fail_times=1), executor("process")]).run("go")
    assert failed.status is RunStatus.FAILED and RAN == ["fetch"]


def test_an_error_decision_skip_goes_on(sqlite_db: Database) -> None:
    flaky = executor("fetch", fail_times=5)
    flaky.on_error = OnError.pause
    wf = Workflow(name="errors", db=sqlite_db, steps=[flaky, executor("process")])
    out = wf.run("go")
    out.steps_with_errors[0].skip()
    done = wf.continue_run(out)
    assert RAN == ["fetch", "process"] and done.status is RunStatus.COMPLETED


# ------------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize(("on_timeout", "ran", "status"), [
    (OnTimeout.approve, ["analyze", "publish", "report"], RunStatus.COMPLETED),
    (OnTimeout.skip, ["analyze", "report"], RunStatus.COMPLETED),
    (OnTimeout.cancel, ["analyze"], RunStatus.CANCELLED),
])
def test_hitl_timeout_applies_on_timeout_at_the_next_continue(sqlite_url: str, on_timeout: OnTimeout,
                                                              ran: list[str], status: RunStatus) -> None:
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    db = migrated(sqlite_url, clock=lambda: now[0])
    try:
        gated = executor("publish")
        gated.requires_confirmation = True
        gated.hitl_timeout = 30
        gated.on_timeout = on_timeout
        wf = Workflow(name="timeouts", db=db, steps=analyze_then(gated))
        out = wf.run("Q4")
        [req] = out.steps_requiring_confirmation
        assert req.timeout_at == now[0] + timedelta(seconds=30)
        still = wf.continue_run(out)
        assert still.is_paused and RAN == ["analyze"], "not yet timed out"
        now[0] += timedelta(seconds=31)
        done = wf.continue_run(run_id=out.run_id)
        assert ran == RAN and done.status is status
        assert db.get_requirement(req.id).status is RequirementStatus.EXPIRED
        actions = [e.action for e in db.audit_events(run_id=out.run_id)]
        assert "requirement.expired" in actions
    finally:
        db.dispose()


def test_output_review_timeout_from_human_review(sqlite_url: str) -> None:
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    db = migrated(sqlite_url, clock=lambda: now[0])
    try:
        step = executor("draft")
        step.human_review = HumanReview(requires_output_review=True, timeout=5, on_timeout=OnTimeout.approve)
        step.__post_init__()
        wf = Workflow(name="reviewed", db=db, steps=[step, executor("send")])
        out = wf.run("hi")
        [review] = out.steps_requiring_output_review
        assert review.on_timeout == "approve" and review.timeout_at is not None
        now[0] += timedelta(seconds=6)
        done = wf.continue_run(run_id=out.run_id)
        assert done.content == "send(draft(hi))" and RAN == ["draft", "send"]
    finally:
        db.dispose()


# ------------------------------------------------------------------- definitions and events


def test_pause_decorator_and_definition_errors(sqlite_db: Database) -> None:
    @pause(name="deploy", requires_confirmation=True, confirmation_message="Ship it?")
    def deploy(step_input: StepInput) -> StepOutput:
        RAN.append("deploy")
        return StepOutput(content="shipped")

    wf = Workflow(name="decorated", db=sqlite_db, steps=[deploy])
    out = wf.run("v1")
    [req] = out.steps_requiring_confirmation
    assert req.step_name == "deploy" and req.confirmation_message == "Ship it?" and RAN == []
    req.confirm()
    assert wf.continue_run(out).content == "shipped"
    gated = executor("quick")
    gated.requires_confirmation = True
    with pytest.raises(ToolConfigError, match="two steps are named 'quick'"):
        Workflow(name="dup2", steps=[gated, Steps(name="s", steps=[executor("quick")])])
    with pytest.raises(ToolConfigError, match="two routes have the same name"):
        Router(name="r2", choices=[executor("a"), Steps(name="a", steps=[executor("b")])], selector=lambda _: "a")
    packages = Workflow(name="packages", db=sqlite_db, steps=[Router(
        name="pkg", requires_user_input=True,
        choices=[executor("scan"), [executor("deep"), executor("check")], [executor("deep"), executor("archive")]])])
    out = packages.run("doc")
    assert out.steps_requiring_route[0].available_choices == ["scan", "steps_group_1", "steps_group_2"]
    out.steps_requiring_route[0].select("steps_group_2")
    RAN.clear()
    assert packages.continue_run(out).content == "archive(deep(doc))" and RAN == ["deep", "archive"]
    RAN.clear()
    everything = Workflow(name="all", db=sqlite_db, steps=[Router(name="r", choices=[executor("a"), executor("b")])])
    assert everything.run("x").content == "b(a(x))" and RAN == ["a", "b"], "no selector: every route, in order"
    with pytest.raises(ToolConfigError, match="on_reject must be one of"):
        Condition(name="c", steps=[executor("b")], on_reject="maybe")
    with pytest.raises(ToolConfigError, match="max_iterations"):
        Loop(name="l", steps=[executor("c")], max_iterations=0)


def test_container_events_and_a_fresh_process_continue(sqlite_db: Database) -> None:
    def build() -> Workflow:
        return Workflow(name="cond", db=sqlite_db, steps=analyze_then(condition()))

    events = list(build().run("Q4", stream=True))
    paused = [e for e in events if isinstance(e, StepPaused)]
    assert [(e.step_name, e.requires_confirmation) for e in paused] == [("depth", True)]
    out = build().continue_run(run_id=events[-1].run_id)
    out.steps_requiring_confirmation[0].confirm()
    events = list(build().continue_run(out, stream=True))
    completed = [e.step_name for e in events if isinstance(e, StepCompleted)]
    assert completed == ["detailed", "depth", "report"]
    assert RAN == ["analyze", "detailed", "report"], "nothing ran twice across the two definitions"


def test_the_rejecter_may_choose_what_a_rejection_does_and_only_that(sqlite_db: Database) -> None:
    review = executor("draft")
    review.requires_output_review = True
    review.on_reject = OnReject.retry
    wf = Workflow(name="choice", db=sqlite_db, steps=[review, executor("send")])
    out = wf.run("hi")
    [req] = out.steps_requiring_output_review
    with pytest.raises(InvalidDecision, match="on_reject must be"):
        req.on_reject = "run-anyway"
    req.on_reject = "cancel"
    req.reject("not this week")
    done = wf.continue_run(out)
    assert done.status is RunStatus.CANCELLED and RAN == ["draft"], "cancel, not the configured retry"
    stored = sqlite_db.get_requirement(req.id)
    assert stored.resolution == {"note": "not this week", "on_reject": "cancel"}

    @tool(requires_confirmation=True)
    def wire(amount: float) -> str:
        """Send money."""
        return "sent"

    agent_wf = Workflow(name="tools", db=sqlite_db, steps=[Step(name="pay", agent=Agent(name="Payer", tools=[wire]))])
    service = DecisionService(sqlite_db, lookup=agent_wf.lookup)
    step = Workflow(name="gate", db=sqlite_db, steps=[Step(name="g", executor=str.upper, requires_confirmation=True)])
    gate = step.run("x").steps_requiring_confirmation[0]
    with pytest.raises(InvalidDecision, match="fits only the rejection"):
        service.decide(gate.id, Principal("U1"), Action.APPROVE, surface=Surface.SDK, resume=False, on_reject="skip")
    with pytest.raises(InvalidDecision, match="on_reject must be one of"):
        service.decide(gate.id, Principal("U1"), Action.REJECT, surface=Surface.SDK, resume=False, on_reject="go")
    assert sqlite_db.get_requirement(gate.id).status is RequirementStatus.PENDING


def test_to_dict_round_trips_and_masks_sensitive_arguments(sqlite_db: Database,
                                                            fake_openai: FakeOpenAI) -> None:
    @tool(requires_confirmation=True, sensitive_fields=["api_key"])
    def rotate(service: str, api_key: str) -> str:
        """Rotate a key."""
        return "rotated"

    agent = Agent(name="Ops", tools=[rotate])
    fake_openai.script(tool_call("rotate", {"service": "billing", "api_key": "sk-live-123"}))
    out = agent.run("rotate billing")
    data = out.to_dict()
    assert "sk-live-123" not in repr(data)
    assert data["requirements"][0]["tool_args"]["service"] == "billing"
    restored = type(out).from_dict(data)
    assert restored.run_id == out.run_id and restored.is_paused
    assert restored.requirements[0].tool_name == "rotate" and restored.requirements[0].id == out.requirements[0].id
