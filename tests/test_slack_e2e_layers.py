"""Slack end to end for the seed's other layers: a workflow checkpoint, a team member's
confirmation, and an MCP tool's confirmation.

The same harness as ``tests/test_slack_e2e.py`` (``tests/slack_harness.py``): signed requests to a
real uvicorn, a local Slack, the real ``openai`` SDK against a fake, real Redis and an in-process
RQ ``SimpleWorker`` with the real ``SlackNotifier``. The targets come from ``tests/slack_agents.py``
(``SIGNOFF_AGENTS``): the bundled ``data-pipeline`` workflow and ``support`` team, a pipeline
variant that skips a rejected step, and ``files``, an agent on a real MCP server over stdio.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.slack import cards, modals
from bot.slack.notifier import CARD, STEP_OUTPUT
from runner.examples import collect_data
from storage.records import RequirementKind, RequirementStatus, RunStatus
from tests import slack_agents
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import Bot, bot, bot_factory, slack  # noqa: F401  (fixtures are used by name)

pytestmark = [pytest.mark.redis]

CONFIRMATION = "Review the report above before it is published to the production dashboard."


def weekly_report(lines: int = 200) -> str:
    """A report long enough that a card can only show its start."""
    rows = (f"2026-11-{17 + i % 3} | region {i % 7} | total ${1000 + i * 13.25:,.2f} & ok" for i in range(lines))
    body = "\n".join(rows)
    return f"Weekly revenue report\n{body}\nEND OF REPORT"


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def unescape(text_: str) -> str:
    return text_.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def thread_after_root(bot: Bot, run: Any) -> list[dict[str, Any]]:
    return [m for m in bot.thread(run) if m["ts"] != run.thread_ts]


def step_executions(bot: Bot, run: Any) -> list[str | None]:
    return [e.tool_name for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "step.executed"]


# --------------------------------------------------------------------------- workflow checkpoint


def start_pipeline(bot: Bot, target: str, report: str) -> tuple[Any, Any, dict[str, Any]]:
    """``/agent <pipeline> ...``: Collect runs, Transform (the model) runs, Publish waits for a person."""
    bot.openai.script(text(report))
    run = bot.start(f"{target} Run the weekly revenue report")
    assert run.status is RunStatus.PAUSED and run.kind == "workflow"
    root = bot.slack.calls_to("chat.postMessage")[0]
    assert root.args["text"].startswith("<@U_ALICE> started *Data pipeline")
    # The transform step's agent got the collect step's output as its input.
    (transform_request,) = bot.openai.requests
    assert transform_request["messages"][-1]["content"] == collect_data("Run the weekly revenue report")
    assert step_executions(bot, run) == ["Collect"]

    (req,) = bot.pending(run)
    assert req.kind is RequirementKind.STEP_CONFIRMATION and req.tool_name == "Publish"
    assert req.message == CONFIRMATION and req.tool_args == {"previous_output": report}
    card = bot.card(req)
    assert card["thread_ts"] == run.thread_ts
    return run, req, card


def check_checkpoint_card(bot: Bot, run: Any, req: Any, card: dict[str, Any], report: str) -> None:
    """The card: the step, its message, the start of the previous output; the whole of it in the thread."""
    body = json.dumps(card["blocks"])
    assert "*Step:* `Publish`" in body and f"> {CONFIRMATION}" in body
    assert "Output of the previous step" in body and "Weekly revenue report" in body
    assert "END OF REPORT" not in body and len(body) < len(report)  # truncated on the card
    assert f"of {len(report):,} characters" in body
    assert cards.APPROVE in body and cards.REJECT in body and cards.EDIT not in body
    view_button = next(
        e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == cards.VIEW_ARGS
    )
    assert view_button["text"]["text"] == "View full output"

    # The full output is in the thread, just before the card.
    posted = {m.purpose: m for m in bot.deps.db.slack_messages(requirement_id=req.id)}
    assert set(posted) == {STEP_OUTPUT, CARD}
    replies = thread_after_root(bot, run)
    assert [m["ts"] for m in replies] == [posted[STEP_OUTPUT].ts, posted[CARD].ts]
    full = replies[0]
    assert full["thread_ts"] == run.thread_ts
    shown = unescape("\n".join(t[3:-3] for t in section_texts(full["blocks"])[1:]))  # code blocks: not formatting
    assert shown == report.strip()

    # ...and behind "View full output", as plain text.
    bot.click(cards.VIEW_ARGS, req.id, "U_DAVE", card)
    view = bot.opened_view(modals.ARGS_VIEW)
    assert view["title"]["text"] == "Full output"
    assert unescape("".join(t[3:-3] for t in section_texts(view["blocks"]))) == report


def test_workflow_checkpoint_approve_publishes(bot: Bot) -> None:
    listing = json.dumps(bot.command("list")["blocks"])
    assert "`data-pipeline` (workflow)" in listing and "`support` (team)" in listing
    report = weekly_report()
    run, req, card = start_pipeline(bot, "data-pipeline", report)
    check_checkpoint_card(bot, run, req, card, report)

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)  # a plain checkpoint: the requester decides
    updated = bot.wait_card_update(card, "Approved")
    assert cards.APPROVE not in json.dumps(updated["blocks"]) and "<@U_ALICE>" in json.dumps(updated["blocks"])
    assert "View full output" in json.dumps(updated["blocks"])  # still reachable after the decision

    bot.drain()
    done = bot.deps.db.get_run(run.id)
    assert done.status is RunStatus.COMPLETED
    published = f"Published the report ({len(report)} characters) to the production dashboard."
    assert done.content == published
    assert step_executions(bot, run) == ["Collect", "Publish"]
    answer = bot.thread(run)[-1]
    assert published in answer["text"] and "*Data pipeline* finished" in json.dumps(answer["blocks"])
    assert len(bot.openai.requests) == 1  # approving ran the publish step, not the model again
    actions = [e.action for e in bot.deps.db.audit_events(run_id=run.id)]
    assert "requirement.approved" in actions and actions[-1] == "run.completed"


@pytest.mark.parametrize("target", ["data-pipeline", "data-pipeline-skip"], ids=["cancel", "skip"])
def test_workflow_checkpoint_reject(bot: Bot, target: str) -> None:
    report = weekly_report(lines=20)
    run, req, card = start_pipeline(bot, target, report)
    bot.click(cards.REJECT, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.REJECT_VIEW)
    bot.submit(view, {"reason": "region 3 looks wrong"}, "U_ALICE")
    updated = bot.wait_card_update(card, "Rejected")
    assert "region 3 looks wrong" in json.dumps(updated["blocks"])

    bot.drain()
    done = bot.deps.db.get_run(run.id)
    assert step_executions(bot, run) == ["Collect"]  # Publish never ran
    last = bot.thread(run)[-1]
    if target == "data-pipeline":  # on_reject="cancel": the workflow ends there, and says why
        assert done.status is RunStatus.CANCELLED
        assert done.content == "Workflow cancelled at step 'Publish': rejected by alice (region 3 looks wrong)."
        assert "*Data pipeline* was cancelled" in last["text"]
        assert "cancelled at step 'Publish': rejected by alice (region 3 looks wrong)" in last["text"]
    else:  # on_reject="skip": the previous output stands as the answer, with the skip named after it
        assert done.status is RunStatus.COMPLETED
        assert done.content == f"{report}\n\nStep 'Publish' was skipped: rejected by alice (region 3 looks wrong)."
        answer = unescape(json.dumps(last["blocks"]))
        assert "finished" in answer and "END OF REPORT" in answer
        assert "Step 'Publish' was skipped: rejected by alice (region 3 looks wrong)." in answer
    assert bot.deps.db.get_requirement(req.id).status is RequirementStatus.REJECTED


# --------------------------------------------------------------------------- team member


def test_team_member_confirmation(bot: Bot) -> None:
    bot.openai.script(
        tool_call("transfer_task_to_finance", {"task": "Refund $50 to customer 42"}, id="call_lead"),
        tool_call("process_refund", {"customer_id": "42", "amount": 50}, id="call_refund"),
    )
    run = bot.start("support Customer 42 wants their $50 back")
    assert run.status is RunStatus.PAUSED and run.kind == "team"
    (req,) = bot.pending(run)
    assert (req.member_agent_name, req.tool_name) == ("Finance", "process_refund")
    card = bot.card(req)
    body = json.dumps(card["blocks"])
    assert "*Support* / *Finance*" in body and "Asked by team member *Finance*" in body
    assert "`process_refund`" in body and "`50.0`" in body
    assert cards.EDIT in body  # the member's tool is found, so its arguments can be edited

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)
    bot.wait_card_update(card, "Approved")
    bot.openai.script(text("Refunded $50 to customer 42."), text("Finance refunded $50 to customer 42."))
    bot.drain()

    done = bot.deps.db.get_run(run.id)
    assert done.status is RunStatus.COMPLETED and done.content == "Finance refunded $50 to customer 42."
    # The member resumed first with its tool's result, then the leader with the member's answer.
    member_again, leader_again = bot.openai.requests[2:]
    assert member_again["messages"][-1] == {
        "role": "tool", "tool_call_id": "call_refund", "content": "Refund of $50.00 processed for customer 42.",
    }
    assert leader_again["messages"][-1] == {
        "role": "tool", "tool_call_id": "call_lead", "content": "Refunded $50 to customer 42.",
    }
    assert "Finance refunded $50 to customer 42." in bot.thread(run)[-1]["text"]
    executed = [e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "tool.executed"]
    assert [(e.tool_name, e.actor_name) for e in executed] == [("process_refund", "Finance")]


# --------------------------------------------------------------------------- MCP tool


@pytest.fixture
def mcp_log() -> Iterator[Path]:
    """A fresh MCP server (and call log) for the test, stopped after it."""
    slack_agents.file_tools.close()
    slack_agents.MCP_LOG.unlink(missing_ok=True)
    yield slack_agents.MCP_LOG
    slack_agents.file_tools.close()
    slack_agents.MCP_LOG.unlink(missing_ok=True)


def server_calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def test_mcp_tool_confirmation(bot: Bot, mcp_log: Path) -> None:
    bot.openai.script(
        tool_call("list_files", {}),  # not in requires_confirmation_tools: runs at once
        tool_call("delete_file", {"path": "notes.txt"}),
    )
    run = bot.start("files Clean up notes.txt")
    assert run.status is RunStatus.PAUSED
    assert server_calls(mcp_log) == [{"tool": "list_files", "args": {}}]
    (req,) = bot.pending(run)
    assert req.kind is RequirementKind.CONFIRMATION
    assert (req.tool_name, req.tool_args) == ("delete_file", {"path": "notes.txt"})
    card = bot.card(req)
    body = json.dumps(card["blocks"])
    assert "*Files*" in body and "`delete_file`" in body and "`notes.txt`" in body
    assert "delete_file needs confirmation" in body
    assert cards.EDIT in body  # edits are checked against the server's input schema

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)
    bot.wait_card_update(card, "Approved")
    assert [c["tool"] for c in server_calls(mcp_log)] == ["list_files"]  # approving alone runs nothing
    bot.openai.script(text("Deleted notes.txt."))
    bot.drain()

    assert server_calls(mcp_log) == [
        {"tool": "list_files", "args": {}},
        {"tool": "delete_file", "args": {"path": "notes.txt"}},
    ]  # exactly one call of the confirmed tool
    done = bot.deps.db.get_run(run.id)
    assert done.status is RunStatus.COMPLETED and done.content == "Deleted notes.txt."
    tool_results = [m["content"] for m in bot.openai.last_messages() if m["role"] == "tool"]
    assert tool_results[-1] == "Deleted notes.txt."
    assert "Deleted notes.txt." in bot.thread(run)[-1]["text"]

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)  # a late second click changes nothing
    bot.ephemeral_for("U_ALICE", "Already decided")
    assert bot.deps.queue.count == 0
    assert len(server_calls(mcp_log)) == 2
