"""``signoff chat``, the terminal surface, through a pseudo-terminal (pexpect) as a person uses it.

The installed console script runs in a child process on a SQLite file, against the local
OpenAI stand-in; every decision goes through the decision service (surface ``terminal``) and is
audited like a click.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from storage.database import Database
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.test_cli import ROOT, SIGNOFF

ANSI_FREE = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"}


@pytest.fixture
def chat_env(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[dict[str, str]]:
    yield {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "SIGNOFF_AGENTS": "tests.slack_agents",
        **ANSI_FREE,
    }


def spawn(env: dict[str, str], *args: str, cwd: Path) -> pexpect.spawn:
    return pexpect.spawn(str(SIGNOFF), ["chat", *args], env=env, cwd=str(cwd), encoding="utf-8", timeout=30)


def finish(child: pexpect.spawn) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    out = child.before
    child.close()
    return out, int(child.exitstatus if child.exitstatus is not None else -1)


def audit(env: dict[str, str]) -> list[tuple[str, str | None, object]]:
    db = Database(env["DATABASE_URL"])
    try:
        return [(e.action, e.actor_id, (e.details or {}).get("via") if isinstance(e.details, dict) else None)
                for e in db.audit_events()]
    finally:
        db.dispose()


def test_approve_at_the_keyboard_streams_the_answer(chat_env: dict[str, str], fake_openai: FakeOpenAI,
                                                   tmp_path: Path) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}),
                       text("Refunded $50 to customer 42."))
    child = spawn(chat_env, "finance", "Refund $50 to customer 42", "--user", "U_ALICE", cwd=tmp_path)
    child.expect("process_refund")
    child.expect("needs confirmation")
    child.expect(r"\[a\]pprove")
    child.sendline("a")
    out, code = finish(child)
    assert code == 0, out
    assert "Refunded $50 to customer 42." in out
    events = audit(chat_env)
    assert ("requirement.approved", "U_ALICE", "terminal") in events
    assert any(a == "tool.executed" for a, _, _ in events) and events[-1][0] == "run.completed"


def test_reject_with_a_reason_the_model_reads(chat_env: dict[str, str], fake_openai: FakeOpenAI,
                                             tmp_path: Path) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 80}), text("Not refunded."))
    child = spawn(chat_env, "finance", "Refund $80 to customer 42", cwd=tmp_path)
    child.expect(r"\[a\]pprove")
    child.sendline("r")
    child.expect("Reason")
    child.sendline("wrong customer")
    out, code = finish(child)
    assert code == 0 and "Not refunded." in out
    told = next(m for m in fake_openai.last_messages() if m["role"] == "tool")
    assert "wrong customer" in told["content"]
    assert any(a == "requirement.rejected" and via == "terminal" for a, _, via in audit(chat_env))


def test_an_edit_past_the_approval_policy_waits_for_an_approver(chat_env: dict[str, str],
                                                                fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), text("done"))
    child = spawn(chat_env, "finance", "Refund $50 to customer 42", "--user", "U_ALICE", cwd=tmp_path)
    child.expect(r"\[a\]pprove")
    child.sendline("e")
    child.expect("customer_id")  # the tool's parameters in order; Enter keeps a value
    child.sendline("")
    child.expect("amount")
    child.sendline("250000")
    child.expect("reason")
    child.sendline("")
    out, code = finish(child)
    assert code == 3, out
    assert "approver" in out and "signoff chat --resume" in out
    events = audit(chat_env)
    assert ("requirement.escalated", "U_ALICE", "terminal") in events
    assert not any(a == "tool.executed" for a, _, _ in events)


def test_input_fields_are_asked_for(chat_env: dict[str, str], fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.script(tool_call("book_hotel", {"city": "Oslo"}), text("Booked 3 nights in Oslo."))
    child = spawn(chat_env, "travel", "Book a hotel in Oslo", cwd=tmp_path)
    child.expect("nights")
    child.sendline("three")
    child.expect("Not applied")
    child.expect("nights")
    child.sendline("3")
    out, code = finish(child)
    assert code == 0 and "Booked 3 nights in Oslo." in out
    assert any(a == "requirement.answered" and via == "terminal" for a, _, via in audit(chat_env))


def test_no_model_configured_says_exactly_what_to_set(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **ANSI_FREE}
    child = spawn(env, "finance", "Refund $50", cwd=tmp_path)
    out, code = finish(child)
    assert code == 1 and "Traceback" not in out
    assert "OPENAI_BASE_URL" in out and "OPENAI_API_KEY" in out and "local" in out
    assert not (tmp_path / "x.db").exists(), "nothing was created before the check"


def test_an_unknown_agent_is_one_line(chat_env: dict[str, str], tmp_path: Path) -> None:
    out, code = finish(spawn(chat_env, "nobody", "hello", cwd=tmp_path))
    assert code == 1 and "there is no agent" in out and "finance" in out and "Traceback" not in out


def test_a_router_choice_and_an_output_edit_at_the_keyboard(chat_env: dict[str, str], tmp_path: Path) -> None:
    """Workflow checkpoints in the terminal: a route is chosen among the router's choices (a name
    that is not one is asked again, nothing applied), and a step's output is edited before it flows on."""
    env = chat_env | {"SIGNOFF_AGENTS": "tests.workflow_slack_agents"}
    child = spawn(env, "route-flow", "The export is slow", cwd=tmp_path)
    child.expect("choices: quick_analysis, deep_analysis, escalate")
    child.expect("route")
    child.sendline("rm -rf")
    child.expect("Please select one of the available options")
    child.sendline("deep_analysis")
    out, code = finish(child)
    assert code == 0, out
    assert any(a == "requirement.answered" and via == "terminal" for a, _, via in audit(env))

    child = spawn(env, "review-flow", "quarterly numbers", cwd=tmp_path)
    child.expect("step output needs review")
    child.expect(r"\[e\]dit")
    child.sendline("e")
    child.expect("The output to go on with")
    child.sendline("Edited at the keyboard.")
    out, code = finish(child)
    assert code == 0, out
    assert "Edited at the keyboard." in out
    assert any(a == "requirement.edited" and via == "terminal" for a, _, via in audit(env))
