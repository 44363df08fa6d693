"""Workflows for ``tests/test_workflow_slack.py``: an output review, a Router a person steers, a
Condition a person confirms, a Loop whose iterations a person reviews, and a step agent whose
tool needs confirmation (an executor pause).

Every executor records the input it was given in ``SEEN`` (a test clears it first), so a test can
say what flowed from one step to the next after a person approved, edited or chose.
"""

from __future__ import annotations

from runner.agent import Agent
from runner.tools import tool
from runner.workflow import Condition, Loop, Router, Step, Workflow

SEEN: list[tuple[str, str]] = []
"""``(step, the input it got)`` for every executor run, in order."""

LONG_OUTPUT_CHARS = 10_000


def draft(text: str) -> str:
    """The output under review: a short draft, or a 10,000-character one when asked for "long"."""
    SEEN.append(("Draft", text))
    if text.startswith("long"):
        rows = "".join(f"row {i:04d}: total {i * 7} & more\n" for i in range(LONG_OUTPUT_CHARS // 20))
        return (rows + "z" * LONG_OUTPUT_CHARS)[:LONG_OUTPUT_CHARS]
    return f"Draft summary of <{text}>: revenue up 4% & costs flat."


def send(text: str) -> str:
    SEEN.append(("Send", text))
    return f"Sent ({len(text)} characters): {text[:80]}"


def intake(text: str) -> str:
    SEEN.append(("Intake", text))
    return f"Ticket: {text}"


def quick_analysis(text: str) -> str:
    SEEN.append(("quick_analysis", text))
    return "quick: looks fine"


def deep_analysis(text: str) -> str:
    SEEN.append(("deep_analysis", text))
    return "deep: the export query scans every row"


def escalate(text: str) -> str:
    SEEN.append(("escalate", text))
    return "escalated to on-call"


review_flow = Workflow(
    id="review-flow",
    name="Review flow",
    steps=[
        Step(name="Draft", executor=draft, requires_output_review=True,
             output_review_message="Check the draft before it is sent."),
        Step(name="Send", executor=send),
    ],
)

review_retry_flow = Workflow(
    id="review-retry-flow",
    name="Review retry flow",
    steps=[
        Step(name="Draft", executor=draft, requires_output_review=True, on_reject="retry"),
        Step(name="Send", executor=send),
    ],
)


def _router(name: str, several: bool) -> Router:
    return Router(
        name=name,
        choices=[Step(name="quick_analysis", executor=quick_analysis),
                 Step(name="deep_analysis", executor=deep_analysis),
                 Step(name="escalate", executor=escalate)],
        requires_user_input=True,
        user_input_message="Which analysis should run on this ticket?",
        allow_multiple_selections=several,
    )


route_flow = Workflow(id="route-flow", name="Route flow",
                      steps=[Step(name="Intake", executor=intake), _router("Analysis router", False)])
route_multi_flow = Workflow(id="route-multi-flow", name="Route multi flow",
                            steps=[Step(name="Intake", executor=intake), _router("Analysis router", True)])


@tool(requires_confirmation=True)
def close_ticket(ticket_id: str) -> str:
    """Close a support ticket."""
    return f"Closed ticket {ticket_id}."


closer = Agent(id="closer", name="Closer", tools=[close_ticket], instructions="You close tickets.")

executor_pause_flow = Workflow(
    id="executor-pause-flow",
    name="Executor pause flow",
    steps=[Step(name="Intake", executor=intake), Step(name="Close", agent=closer), Step(name="Send", executor=send)],
)



def polish(text: str) -> str:
    SEEN.append(("Polish", text))
    return f"Polished: {text.splitlines()[0]} (pass {sum(1 for s, _ in SEEN if s == 'Polish')})"


condition_flow = Workflow(
    id="condition-flow",
    name="Condition flow",
    steps=[
        Step(name="Intake", executor=intake),
        Condition(name="Deep check", steps=[Step(name="deep_analysis", executor=deep_analysis)],
                  else_steps=[Step(name="quick_analysis", executor=quick_analysis)],
                  requires_confirmation=True, confirmation_message="Run the deep check on this ticket?"),
    ],
)

loop_flow = Workflow(
    id="loop-flow",
    name="Loop flow",
    steps=[Loop(name="Refine", steps=[Step(name="Polish", executor=polish)], max_iterations=3,
                requires_iteration_review=True, iteration_review_message="Good enough to publish?",
                on_reject="retry", requires_confirmation=True, confirmation_message="Start refining?")],
)

workflows = [review_flow, review_retry_flow, route_flow, route_multi_flow, executor_pause_flow, condition_flow,
             loop_flow]
