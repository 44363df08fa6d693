"""``/approvals export`` end to end: signed slash commands to a real uvicorn, the local Slack's
``files_upload_v2`` endpoints (``FakeSlack.files``), real Redis and RQ for the run that fills the log.

Approvers in the harness are the user group ``S_ADMINS`` (U_BOB and U_CAROL in the Slack stand-in).
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.slack import cards
from bot.slack.commands import EXPORT_SYNTAX
from bot.slack.mrkdwn import escape
from storage.export import COLUMNS, HEADER_KEY, verify_lines
from storage.records import Actor, RunStatus
from tests.blockkit import validate_message
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    bot,
    bot_factory,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]


@pytest.fixture
def export_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary export files go here (the web app runs in this process), so a test sees them removed."""
    folder = tmp_path / "exports"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def fill_the_log(bot: Bot) -> None:
    """A real run (slash command, card, click, resumed run) and an event of another agent."""
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 50}), text("Refunded $50."))
    run = bot.start("finance Refund $50 to customer 42")
    (req,) = bot.pending(run)
    card = bot.card(req)
    bot.click(cards.APPROVE, req.id, "U_ALICE", card)
    bot.wait_card_update(card, "Approved")
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    bot.deps.db.append_audit(action="note.added", actor=Actor.system(), agent_id="other", reason="=cmd|' /C calc'!A0")


def events(bot: Bot, **filters: Any) -> list[dict[str, Any]]:
    return [e.to_dict() for e in bot.deps.db.audit_events(**filters)]


def export(bot: Bot, args: str, user: str) -> dict[str, Any]:
    """``/approvals export ...`` as ``user``; returns the file the bot uploaded."""
    before = len(bot.slack.files)
    reply = bot.command(f"export {args}".strip(), user=user, command="/approvals")
    assert reply is None  # a plain ack: the work happens after it
    wait_until(lambda: len(bot.slack.files) > before, what="the uploaded export")
    bot.ephemeral_for(user, "Sent you the export")
    return bot.slack.files[-1]


def audit_of(bot: Bot, action: str) -> list[dict[str, Any]]:
    return wait_until(lambda: [e for e in events(bot) if e["action"] == action], what=f"an {action} event")


def test_approver_gets_a_verifiable_jsonl_in_a_dm(bot: Bot, export_dir: Path) -> None:
    fill_the_log(bot)
    expected = events(bot)
    shared = export(bot, "", "U_BOB")

    opened = bot.slack.calls_to("conversations.open")
    assert [c.args.get("users") for c in opened] == ["U_BOB"]
    assert shared["channel_id"] == "D_U_BOB" and shared["channels"] == ["D_U_BOB"]  # the requester only
    assert shared["filename"].startswith("signoff-audit-") and shared["filename"].endswith(".jsonl")
    content: bytes = shared["content"]
    result = verify_lines(content.decode("utf-8").splitlines())
    assert result.ok and result.complete and result.rows == len(expected), result.summary()
    lines = content.decode("utf-8").splitlines()
    assert json.loads(lines[0]) == {HEADER_KEY: 1, "filters": {}, "complete": True}
    assert [json.loads(line)["seq"] for line in lines[1:-1]] == [e["seq"] for e in expected]

    comment = shared["initial_comment"]
    assert f"*{len(expected)} events*" in comment and "JSONL" in comment
    assert f"signoff audit verify {shared['filename']}" in comment
    assert "no filters" in comment
    assert hashlib.sha256(content).hexdigest() in comment

    (exported,) = audit_of(bot, "audit.exported")
    assert exported["actor_id"] == "U_BOB" and exported["outcome"] == "delivered"
    details = exported["details"]
    assert details["via"] == "slack" and details["channel"] == "D_U_BOB" and details["filters"] == {}
    assert details["file"] == {
        "name": shared["filename"], "format": "jsonl", "rows": len(expected), "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    assert details["file_id"] == shared["id"]
    (requested,) = audit_of(bot, "audit.export_requested")  # written before the file left
    assert requested["seq"] < exported["seq"] and requested["details"]["file"] == details["file"]
    assert verify_lines(f"{line}\n" for line in lines).ok
    assert list(export_dir.iterdir()) == []  # the temporary file is gone
    assert not [m for m in bot.slack.messages("C_OPS") if "signoff-audit" in json.dumps(m)]  # nothing public


@pytest.mark.postgres
def test_export_on_postgres(bot_factory: Callable[..., Bot], pg_url: str) -> None:
    bot = bot_factory(db_url=pg_url)
    fill_the_log(bot)
    expected = events(bot)
    shared = export(bot, "jsonl", "U_CAROL")
    result = verify_lines(shared["content"].decode("utf-8").splitlines())
    assert result.ok and result.complete and result.rows == len(expected), result.summary()
    (exported,) = audit_of(bot, "audit.exported")
    assert exported["actor_id"] == "U_CAROL" and exported["details"]["file"]["rows"] == len(expected)


def test_csv_export_with_filters(bot: Bot, export_dir: Path) -> None:
    fill_the_log(bot)
    today = datetime.now(UTC).date().isoformat()
    expected = events(bot, agent_id="finance")
    assert 0 < len(expected) < len(events(bot))

    shared = export(bot, f"csv since {today} until {today} agent finance", "U_CAROL")
    assert shared["filename"].endswith(".csv") and shared["channel_id"] == "D_U_CAROL"
    content = shared["content"].decode("utf-8")
    assert content.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in expected]
    assert {r["agent_id"] for r in rows} == {"finance"}
    comment = shared["initial_comment"]
    assert f"*{len(expected)} events*" in comment and "CSV" in comment
    assert f"since {today}" in comment and f"until {today} (inclusive)" in comment and "`finance`" in comment
    (exported,) = audit_of(bot, "audit.exported")
    assert exported["actor_id"] == "U_CAROL"
    assert exported["details"]["filters"]["agent"] == "finance"
    assert exported["details"]["filters"]["since"] == f"{today}T00:00:00+00:00"

    other = export(bot, "csv agent other", "U_CAROL")  # a formula-like cell is neutralised
    (row,) = list(csv.DictReader(io.StringIO(other["content"].decode("utf-8"))))
    assert row["reason"] == "'=cmd|' /C calc'!A0"

    nothing = export(bot, "csv since 2000-01-01 until 2000-01-31", "U_BOB")
    assert nothing["content"].decode("utf-8").splitlines() == [",".join(COLUMNS)]
    assert "*0 events*" in nothing["initial_comment"]
    assert list(export_dir.iterdir()) == []


def test_filtered_jsonl_says_so_and_still_verifies(bot: Bot) -> None:
    fill_the_log(bot)
    expected = events(bot, agent_id="finance")
    shared = export(bot, "agent finance jsonl", "U_BOB")
    lines = shared["content"].decode("utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["complete"] is False and header["filters"] == {"agent": "finance"}
    result = verify_lines(lines)
    assert result.ok and not result.complete and result.rows == len(expected), result.summary()
    assert "It is filtered" in shared["initial_comment"]


def test_non_approver_is_refused_and_audited(bot: Bot) -> None:
    for user in ("U_ALICE", "U_DAVE"):
        reply = bot.command("export csv", user=user, command="/approvals")
        assert reply is None
        refusal = bot.ephemeral_for(user, "Only approvers can export the audit log")
        assert not validate_message(refusal["blocks"], refusal["text"])

    def refusals() -> list[dict[str, Any]]:
        return [e for e in events(bot) if e["action"] == "audit.export_refused"]

    refused = wait_until(lambda: len(refusals()) == 2 and refusals(), what="two refusals")
    assert [(e["actor_id"], e["outcome"]) for e in refused] == [
        ("U_ALICE", "NotAnApprover"),
        ("U_DAVE", "NotAnApprover"),
    ]
    assert refused[0]["details"] == {"via": "slack", "format": "csv", "filters": {}}
    assert bot.slack.files == [] and not bot.slack.calls_to("conversations.open")
    assert not bot.slack.calls_to("files.getUploadURLExternal")
    assert not [e for e in events(bot) if e["action"] == "audit.exported"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("export xml", "I do not know `xml`"),
        ("export since yesterday", "is not a date"),
        ("export since 2026-02-30", "not a date of the calendar"),
        ("export until", "needs a date"),
        ("export agent", "needs an agent id"),
        ("export csv jsonl", "one format"),
        ("export since 2026-11-24 until 2026-11-01", "nothing could match"),
        ("export agent a agent b", "given twice"),
        ("exprot", "I do not know `/approvals exprot`"),
    ],
)
def test_bad_arguments_get_the_usage(bot: Bot, args: str, says: str) -> None:
    reply = bot.command(args, user="U_BOB", command="/approvals")
    assert reply["response_type"] == "ephemeral"
    # mrkdwn: what the user typed and the syntax's <id> are escaped, and read as typed in Slack.
    assert escape(says) in reply["text"] and escape(EXPORT_SYNTAX) in reply["text"]
    assert not validate_message(reply["blocks"], reply["text"])
    assert bot.slack.files == [] and not bot.slack.calls_to("conversations.open")
    assert [e for e in events(bot) if e["action"].startswith("audit.")] == []


def test_help_explains_export(bot: Bot) -> None:
    reply = bot.command("help", user="U_ALICE", command="/approvals")
    assert reply["response_type"] == "ephemeral" and "Usage of `/approvals`" in reply["text"]
    assert EXPORT_SYNTAX in reply["text"] and "signoff audit verify FILE" in reply["text"]
    assert "`/approvals help`" in bot.command("help", user="U_ALICE")["text"]  # /agent help points to it


def test_a_failed_upload_is_reported_and_audited(bot: Bot, export_dir: Path) -> None:
    fill_the_log(bot)
    bot.slack.fail("files.completeUploadExternal", "not_allowed_token_type")
    assert bot.command("export", user="U_BOB", command="/approvals") is None
    bot.ephemeral_for("U_BOB", "I could not send you the export (not_allowed_token_type)")
    (failed,) = audit_of(bot, "audit.export_failed")
    assert failed["actor_id"] == "U_BOB" and failed["outcome"] == "not_allowed_token_type"
    assert len(audit_of(bot, "audit.export_requested")) == 1
    assert bot.slack.files == [] and not [e for e in events(bot) if e["action"] == "audit.exported"]
    assert list(export_dir.iterdir()) == []


def test_listing_still_works(bot_factory: Callable[..., Bot]) -> None:
    bot = bot_factory()
    for text_ in ("", "list", "mine"):
        assert bot.command(text_, user="U_BOB", command="/approvals") is None
    wait_until(lambda: len([e for e in bot.slack.ephemerals if e["user"] == "U_BOB"]) == 3, what="three listings")
    assert all("Nothing is waiting for you" in e["text"] for e in bot.slack.ephemerals)
