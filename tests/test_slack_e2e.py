"""The Slack bot end to end: signed requests to a real uvicorn, a local Slack, real Redis and RQ.

Every request to ``/slack/events`` is signed with Slack's v0 scheme (verification is never turned
off). Jobs are run by an in-process ``SimpleWorker`` with the real ``SlackNotifier`` installed, and
one test runs ``signoff worker --burst`` as a subprocess.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis import Redis
from slack_sdk import WebClient

from bot.deps import build_deps
from bot.settings import Settings
from bot.slack import cards, modals
from bot.slack.app import mount_slack
from bot.slack.directory import SlackDirectory
from bot.slack.notifier import SlackNotifier
from bot.worker import recovery_pass
from runner.decisions import resolve
from storage.codec import utcnow
from storage.errors import ConfigError
from storage.records import Actor, RequirementStatus, RunStatus
from tests.conftest import REDIS_URL, migrated
from tests.fakes import signing
from tests.fakes.openai_server import FakeOpenAI, error, text, tool_call
from tests.fakes.slack_server import FakeSlack
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    ROOT,
    SECRET,
    Bot,
    ServerThread,
    audit_actions,
    bot,
    bot_factory,
    free_port,
    make_settings,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]


# --------------------------------------------------------------------------- the main path


def test_slash_command_card_click_resume_answer(bot: Bot) -> None:
    main_path(bot)


@pytest.mark.postgres
def test_main_path_on_postgres(bot_factory: Callable[..., Bot], pg_url: str) -> None:
    main_path(bot_factory(db_url=pg_url))


def main_path(bot: Bot) -> None:
    bot.openai.script(
        tool_call("process_refund", {"customer_id": "42", "amount": 50}),
        text("Refunded $50 to customer 42."),
    )
    run = bot.start("finance Refund $50 to customer 42")
    root = bot.slack.calls_to("chat.postMessage")[0]
    assert root.args["channel"] == "C_OPS" and "thread_ts" not in root.args
    assert root.args["text"].startswith("<@U_ALICE> started *Finance*: Refund $50 to customer 42")
    assert run.status is RunStatus.PAUSED and run.requester == "U_ALICE" and run.requester_name == "alice"
    assert (run.channel, run.thread_ts) == ("C_OPS", root.response["ts"])

    (req,) = bot.pending(run)
    card = bot.card(req)
    assert card["thread_ts"] == run.thread_ts  # in the run's thread
    assert "process_refund" in json.dumps(card["blocks"]) and "<@U_ALICE>" in json.dumps(card["blocks"])

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)  # a plain confirmation: the requester decides
    updated = bot.wait_card_update(card, "Approved")
    assert cards.APPROVE not in json.dumps(updated["blocks"])
    assert "<@U_ALICE>" in json.dumps(updated["blocks"]) and "<!date^" in json.dumps(updated["blocks"])

    bot.drain()
    done = bot.deps.db.get_run(run.id)
    assert done.status is RunStatus.COMPLETED
    answer = bot.thread(run)[-1]
    assert "Refunded $50 to customer 42." in answer["text"]
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert "Refund of $50.00 processed" in tool_message["content"]
    actions = [a for a, _, _ in audit_actions(bot, run)]
    assert "requirement.approved" in actions and actions[-1] == "run.completed"
    approved = next(e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "requirement.approved")
    assert approved.actor_id == "U_ALICE" and approved.permalink and "archives/C_OPS" in approved.permalink
    assert approved.details["via"] == "slack"


def test_reject_with_reason_reaches_the_model(bot: Bot) -> None:
    bot.openai.script(
        tool_call("process_refund", {"customer_id": "42", "amount": 80}),
        text("OK, I did not refund."),
    )
    run = bot.start("finance Refund $80 to customer 42")
    (req,) = bot.pending(run)
    card = bot.card(req)
    bot.click(cards.REJECT, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.REJECT_VIEW)
    assert json.loads(view["private_metadata"])["r"] == req.id
    bot.submit(view, {"reason": "Wrong customer, it is 43"}, "U_ALICE")
    updated = bot.wait_card_update(card, "Rejected")
    assert "Wrong customer, it is 43" in json.dumps(updated["blocks"])
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert "rejected" in tool_message["content"] and "Wrong customer, it is 43" in tool_message["content"]
    assert bot.deps.db.get_requirement(req.id).resolution["note"] == "Wrong customer, it is 43"


def test_required_approval_unauthorised_self_double_click(bot_factory: Callable[..., Bot]) -> None:
    bot = bot_factory(signoff_approvals_channel="C_APPROVALS")
    bot.openai.script(
        tool_call("process_refund", {"customer_id": "42", "amount": 500}),
        text("Refunded $500."),
    )
    run = bot.start("finance Refund $500 to customer 42")
    (req,) = bot.pending(run)
    assert req.approval_type == "required"
    card = bot.card(req)
    approvals_card = bot.card(req, purpose="approvals_card")
    assert approvals_card["channel"] == "C_APPROVALS"
    assert "Open the run's thread" in json.dumps(approvals_card["blocks"])  # links back to the thread

    bot.click(cards.APPROVE, req.id, "U_ALICE", card)  # the requester may not approve a required one
    bot.ephemeral_for("U_ALICE", "cannot approve it yourself")
    bot.click(cards.APPROVE, req.id, "U_DAVE", card)  # not in S_ADMINS
    refusal = bot.ephemeral_for("U_DAVE", "not allowed")
    assert "<!subteam^S_ADMINS>" in refusal["text"]
    bot.click(cards.REJECT, req.id, "U_DAVE", card)  # nor may he open the reject form
    wait_until(lambda: len([e for e in bot.slack.ephemerals if e["user"] == "U_DAVE"]) == 2, what="2nd refusal")
    assert not bot.slack.calls_to("views.open")
    assert bot.deps.db.get_requirement(req.id).is_pending
    assert bot.deps.queue.count == 0

    bot.click(cards.APPROVE, req.id, "U_BOB", approvals_card)  # in S_ADMINS: from the approvals channel
    bot.wait_card_update(card, "Approved")
    bot.wait_card_update(approvals_card, "Approved")  # every surface shows the outcome
    bot.click(cards.APPROVE, req.id, "U_CAROL", card)  # a second approver, too late
    late = bot.ephemeral_for("U_CAROL", "Already decided by bob")
    assert "approved" in late["text"]
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert len(bot.slack.calls_to("usergroups.users.list")) == 1  # cached

    refused = [(a, actor, o) for a, actor, o in audit_actions(bot, run) if a == "decision.refused"]
    assert ("decision.refused", "U_ALICE", "SelfApproval") in refused
    assert ("decision.refused", "U_DAVE", "NotAnApprover") in refused
    assert len([r for r in refused if r[1] == "U_DAVE"]) == 2
    assert ("decision.refused", "U_CAROL", "already_decided") in refused
    decided = [e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "requirement.approved"]
    assert [e.actor_id for e in decided] == ["U_BOB"]


def test_quorum_of_two_approvers(bot: Bot) -> None:
    bot.openai.script(tool_call("wire_money", {"account": "DE89 3704", "amount": 1000}), text("Wired."))
    run = bot.start("treasury Wire $1000 to DE89 3704")
    (req,) = bot.pending(run)
    assert req.quorum == 2
    card = bot.card(req)
    bot.click(cards.APPROVE, req.id, "U_BOB", card)
    bot.ephemeral_for("U_BOB", "1 of 2 approvals")
    assert bot.deps.db.get_requirement(req.id).is_pending and bot.deps.queue.count == 0
    assert not [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == card["ts"]]
    bot.click(cards.APPROVE, req.id, "U_CAROL", card)
    updated = bot.wait_card_update(card, "Approved")
    assert "<@U_CAROL>" in json.dumps(updated["blocks"])
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    votes = [e.actor_id for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "approval.vote"]
    assert votes == ["U_BOB"]


def test_edit_and_approve(bot: Bot) -> None:
    bot.openai.script(
        tool_call("send_customer_email", {"customer_id": "42", "subject": "Hi", "body": "Your refund is late."}),
        text("Sent."),
    )
    run = bot.start("customer-email Tell customer 42 about the refund")
    (req,) = bot.pending(run)
    card = bot.card(req)
    bot.click(cards.EDIT, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.EDIT_VIEW)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["arg:subject"]["initial_value"] == "Hi"
    values = {
        "arg:customer_id": "42",
        "arg:subject": "About your refund",
        "arg:body": "Your refund is on its way.",
        "reason": "friendlier",
    }
    bot.submit(view, values, "U_ALICE")
    updated = bot.wait_card_update(card, "Approved")
    assert "About your refund" in json.dumps(updated["blocks"])
    bot.drain()
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert tool_message["content"].endswith("Result: Email 'About your refund' sent to customer 42.")
    assert "alice edited the arguments" in tool_message["content"]  # the model learns of the edit
    edited = next(e for e in bot.deps.db.audit_events(run_id=run.id) if e.action == "requirement.edited")
    assert edited.arguments["before"]["subject"] == "Hi" and edited.arguments["after"]["subject"] == "About your refund"


def test_modal_input(bot: Bot) -> None:
    bot.openai.script(tool_call("book_hotel", {"city": "Oslo"}), text("Booked."))
    run = bot.start("travel Book a hotel in Oslo")
    (req,) = bot.pending(run)
    card = bot.card(req)
    bot.click(cards.INPUT, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.INPUT_VIEW)
    nights = next(b for b in view["blocks"] if b.get("block_id") == "field:nights")
    assert nights["element"]["type"] == "number_input"
    bot.submit(view, {"field:nights": {"type": "number_input", "value": "3"}}, "U_ALICE")
    bot.wait_card_update(card, "Answered")
    bot.drain()
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert tool_message["content"] == "Booked 3 nights in Oslo."
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED


def test_thread_reply_input_deduped_and_rate_limited(bot: Bot) -> None:
    bot.openai.script(tool_call("book_hotel", {"city": "Bergen"}), text("Booked."))
    bot.slack.rate_limit("chat.postMessage", times=1, retry_after=1)  # the root message gets a 429 first
    run = bot.start("travel Book a hotel in Bergen")
    (req,) = bot.pending(run)
    card = bot.card(req)
    assert run.channel and run.thread_ts

    bot_reply = signing.message_event("5", user_id="U_ALICE", thread_ts=run.thread_ts)
    bot_reply["bot_id"] = "B_OTHER"
    bot.event(bot_reply)  # another bot's message is not an answer
    stranger = bot.slack.add_message("C_OPS", "4", user="U_DAVE", thread_ts=run.thread_ts)
    bot.event(signing.message_event("4", user_id="U_DAVE", ts=stranger["ts"], thread_ts=run.thread_ts))
    bot.ephemeral_for("U_DAVE", "not allowed")  # Dave neither started the run nor approves

    reply = bot.slack.add_message("C_OPS", "nights: 4", thread_ts=run.thread_ts)
    event = signing.message_event("nights: 4", ts=reply["ts"], thread_ts=run.thread_ts)
    bot.event(event, event_id="Ev_REPLY")
    bot.wait_card_update(card, "Answered")
    bot.slack.wait_for("reactions.add", lambda c: c.args.get("timestamp") == reply["ts"])
    bot.event(event, event_id="Ev_REPLY")  # Slack's retry of the same event
    bot.drain()
    time.sleep(0.2)
    assert len(bot.slack.calls_to("reactions.add")) == 1
    assert not [e for e in bot.slack.ephemerals if e["user"] == "U_ALICE"]
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert tool_message["content"] == "Booked 4 nights in Bergen."
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED


def test_external_result_mark_done(bot: Bot) -> None:
    bot.openai.script(tool_call("rotate_database_credentials", {"database": "billing"}), text("Rotated."))
    # the worker's card post gets a 429 first: the notifier waits Retry-After and posts it
    run = bot.start(
        "infra Rotate the billing database credentials",
        before_drain=lambda: bot.slack.rate_limit("chat.postMessage", times=1, retry_after=1),
    )
    (req,) = bot.pending(run)
    card = bot.card(req)
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")] == [200, 429, 200]
    assert cards.DONE in json.dumps(card["blocks"])
    bot.click(cards.DONE, req.id, "U_ALICE", card)
    view = bot.opened_view(modals.DONE_VIEW)
    bot.submit(view, {"result": "Rotated at 10:02, new secret in vault/billing"}, "U_ALICE")
    bot.wait_card_update(card, "Marked done")
    bot.drain()
    tool_message = next(m for m in bot.openai.last_messages() if m["role"] == "tool")
    assert "Rotated at 10:02, new secret in vault/billing" in tool_message["content"]
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED


def test_stale_card(bot: Bot) -> None:
    """Decided elsewhere (the REST API, another surface): a click on the old card changes nothing."""
    bot.openai.script(tool_call("process_refund", {"customer_id": "7", "amount": 20}), text("Done."))
    run = bot.start("finance Refund $20 to customer 7")
    (req,) = bot.pending(run)
    card = bot.card(req)
    resolve(bot.deps.db, req.id, Actor("U_ALICE", "alice"), "reject", note="changed my mind")
    bot.click(cards.APPROVE, req.id, "U_ALICE", card)
    bot.ephemeral_for("U_ALICE", "Already decided by alice (rejected")
    updated = bot.wait_card_update(card, "Rejected")
    assert "changed my mind" in json.dumps(updated["blocks"])
    assert bot.deps.db.get_requirement(req.id).status is RequirementStatus.REJECTED
    assert bot.deps.queue.count == 0  # the click enqueued nothing


def test_failed_run_offers_retry(bot: Bot) -> None:
    bot.openai.script(error(400, "bad request from the fake"), text("Recovered answer."))
    run = bot.start("finance What is the balance of customer 42?")
    assert run.status is RunStatus.FAILED
    failure = bot.thread(run)[-1]
    assert "failed" in failure["text"] and cards.RETRY in json.dumps(failure["blocks"])
    failure["channel"] = run.channel
    bot.click(cards.RETRY, run.id, "U_DAVE", failure)  # neither requester nor approver
    bot.ephemeral_for("U_DAVE", "Only the person who started the run")
    bot.click(cards.RETRY, run.id, "U_ALICE", failure)
    bot.wait_card_update(failure, "asked to retry")
    bot.drain()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert "Recovered answer." in bot.thread(run)[-1]["text"]


def test_expired_requirement_card_is_updated(bot: Bot, sqlite_url: str) -> None:
    bot.openai.script(tool_call("apply_production_change", {"service": "api", "change": "scale to 8"}))
    run = bot.start("infra Scale api to 8 replicas")
    (req,) = bot.pending(run)
    card = bot.card(req)
    later = migrated(sqlite_url, clock=lambda: utcnow() + timedelta(days=2))
    try:
        notifier = SlackNotifier.from_settings(bot.deps.settings, later, bot.deps.registry)
        report = recovery_pass(later, bot.deps.queue, notifier)
    finally:
        later.dispose()
    assert report.expired == [req.id]
    updated = bot.wait_card_update(card, "Expired")
    assert cards.APPROVE not in json.dumps(updated["blocks"])
    bot.click(cards.APPROVE, req.id, "U_BOB", card)
    bot.ephemeral_for("U_BOB", "This request expired")
    assert bot.deps.db.get_requirement(req.id).status is RequirementStatus.EXPIRED


# --------------------------------------------------------------------------- commands


def test_usage_list_help_status_cancel_and_approvals(bot: Bot) -> None:
    for bad in ("", "payroll pay everyone", "finance", "status"):
        reply = bot.command(bad)
        assert reply["response_type"] == "ephemeral" and "/agent" in reply["text"], reply
    assert "There is no agent `payroll`" in bot.command("payroll pay everyone")["text"]
    listing = bot.command("list")
    assert "`travel`" in json.dumps(listing["blocks"]) and "Books hotels" in json.dumps(listing["blocks"])
    assert "status <run_id>" in bot.command("help")["text"]
    assert not bot.slack.calls_to("chat.postMessage")  # none of that posted anything

    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 500}))
    run = bot.start("finance Refund $500 to customer 42")
    (req,) = bot.pending(run)
    card = bot.card(req)

    bot.command(f"status {run.id}", user="U_BOB")
    status = bot.ephemeral_for("U_BOB", f"Run {run.id} is paused")
    assert "process_refund" in json.dumps(status["blocks"])
    bot.command("status nope", user="U_BOB")
    bot.ephemeral_for("U_BOB", "cannot find")

    bot.command("", user="U_BOB", command="/approvals")
    mine = bot.ephemeral_for("U_BOB", "1 decision waiting")
    assert "archives/C_OPS" in json.dumps(mine["blocks"])  # links to the card
    bot.command("", user="U_ALICE", command="/approvals")  # a required approval is not hers
    bot.ephemeral_for("U_ALICE", "Nothing is waiting for you")

    bot.command(f"cancel {run.id}", user="U_DAVE")
    bot.ephemeral_for("U_DAVE", "Only the person who started the run")
    bot.command(f"cancel {run.id}", user="U_ALICE")
    bot.ephemeral_for("U_ALICE", f"Cancelled run `{run.id}`")
    assert bot.deps.db.get_run(run.id).status is RunStatus.CANCELLED
    bot.wait_card_update(card, "Cancelled")
    assert "was cancelled" in bot.thread(run)[-1]["text"]
    bot.command(f"cancel {run.id}", user="U_ALICE")
    bot.ephemeral_for("U_ALICE", "already cancelled")


def test_view_full_arguments(bot: Bot) -> None:
    long_body = "Dear customer, " + "blah " * 2000
    bot.openai.script(tool_call("send_customer_email", {"customer_id": "42", "subject": "Hi", "body": long_body}))
    run = bot.start("customer-email Write a long email to 42")
    (req,) = bot.pending(run)
    card = bot.card(req)
    assert len(json.dumps(card["blocks"])) < len(long_body)  # truncated on the card
    bot.click(cards.VIEW_ARGS, req.id, "U_DAVE", card)  # anyone who sees the card may read it
    view = bot.opened_view(modals.ARGS_VIEW)
    shown = "".join(b["text"]["text"][3:-3] for b in view["blocks"] if b["type"] == "section")
    assert json.loads(shown)["body"] == long_body


# --------------------------------------------------------------------------- signatures


async def test_bad_signature_is_refused(
    sqlite_url: str, slack: FakeSlack, fake_openai: FakeOpenAI, queue_name: str
) -> None:
    deps = build_deps(make_settings(sqlite_url, slack, fake_openai, queue_name))
    app = FastAPI()
    mount_slack(app, deps)
    body = signing.slash_command_body("/agent", "finance Refund $1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        forged = signing.sign("not-the-secret", body)
        assert (await client.post("/slack/events", content=body, headers=forged)).status_code == 401
        stale = signing.sign(SECRET, body, ts=int(time.time()) - 600)
        assert (await client.post("/slack/events", content=body, headers=stale)).status_code == 401
        tampered = signing.sign(SECRET, body)
        response = await client.post("/slack/events", content=body.replace("1", "9"), headers=tampered)
        assert response.status_code == 401
        unsigned = {"Content-Type": signing.FORM}
        assert (await client.post("/slack/events", content=body, headers=unsigned)).status_code == 401
        help_body = signing.slash_command_body("/agent", "help")
        good = await client.post("/slack/events", content=help_body, headers=signing.sign(SECRET, help_body))
        assert good.status_code == 200 and "Usage of `/agent`" in good.json()["text"]
    assert deps.db.list_runs() == []
    deps.db.dispose()


async def test_create_app_mounts_slack(
    sqlite_url: str, slack: FakeSlack, fake_openai: FakeOpenAI, queue_name: str
) -> None:
    """The web process as the Procfile runs it: bot.web.app.create_app with the REST API and Slack."""
    from bot.web.app import create_app

    deps = build_deps(make_settings(sqlite_url, slack, fake_openai, queue_name))
    app = create_app(deps)
    body = signing.slash_command_body("/agent", "help")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
        assert (await client.post("/slack/events", content=body, headers=signing.sign(SECRET, body))).status_code == 200
        forged = signing.sign("wrong", body)
        assert (await client.post("/slack/events", content=body, headers=forged)).status_code == 401
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
    deps.db.dispose()


# --------------------------------------------------------------------------- the real worker


def test_real_signoff_worker_burst(bot: Bot, tmp_path: Path) -> None:
    bot.openai.script(tool_call("process_refund", {"customer_id": "42", "amount": 10}), text("Refunded $10."))
    bot.command("finance Refund $10 to customer 42")
    wait_until(lambda: bot.deps.queue.count > 0, what="the start job")
    settings = bot.deps.settings
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret.get_secret_value(),
        "SLACK_API_URL": settings.slack_api_url,
        "OPENAI_BASE_URL": bot.openai.base_url,
        "OPENAI_API_KEY": "sk-test-fake",
        "SIGNOFF_AGENTS": "tests.slack_agents",
        "SIGNOFF_APPROVERS": "S_ADMINS",
        "SIGNOFF_QUEUE": settings.signoff_queue,
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--burst", "--no-scheduler"]

    def work() -> None:
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]

    work()
    (run,) = bot.deps.db.list_runs()
    (req,) = bot.pending(run)
    card = bot.card(req)  # posted by the worker process's SlackNotifier
    bot.click(cards.APPROVE, req.id, "U_ALICE", card)
    bot.wait_card_update(card, "Approved")
    wait_until(lambda: bot.deps.queue.count > 0, what="the continue job")
    work()
    assert bot.deps.db.get_run(run.id).status is RunStatus.COMPLETED
    assert "Refunded $10." in bot.thread(run)[-1]["text"]


# --------------------------------------------------------------------------- pieces


def test_directory_caches_with_an_injectable_clock(slack: FakeSlack) -> None:
    now = [1000.0]
    directory = SlackDirectory(
        WebClient(token=slack.bot_token, base_url=slack.base_url), ttl_s=300, clock=lambda: now[0]
    )
    assert directory.members("S_ADMINS") == {"U_BOB", "U_CAROL"}
    assert directory.members("S_ADMINS") == {"U_BOB", "U_CAROL"}
    assert len(slack.calls_to("usergroups.users.list")) == 1
    slack.usergroups["S_ADMINS"] = ["U_BOB"]
    now[0] += 301
    assert directory.members("S_ADMINS") == {"U_BOB"}
    assert len(slack.calls_to("usergroups.users.list")) == 2
    assert directory.members("S_NOPE") == set()  # an unknown group lets nobody in


def test_worker_and_dev_say_what_is_missing(sqlite_url: str) -> None:
    from bot.dev import run_dev
    from bot.worker import run_worker

    settings = Settings(_env_file=None, database_url=sqlite_url, redis_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="REDIS_URL: cannot reach Redis"):
        run_worker(settings, burst=True, check_model=False)
    with pytest.raises(ConfigError, match="REDIS_URL") as both:
        run_worker(settings, burst=True)
    assert "OPENAI_API_KEY" in both.value.message, "every problem at once"
    with pytest.raises(ConfigError, match="REDIS_URL"):
        run_dev(settings, port=free_port(), check_model=False)
    with_slack = settings.model_copy(
        update={"slack_bot_token": SecretStr("xoxb-1"), "slack_signing_secret": SecretStr("s"),
                "slack_api_url": "http://127.0.0.1:1/api/"}
    )
    with pytest.raises(ConfigError, match="REDIS_URL") as three:
        run_dev(with_slack, port=free_port(), check_model=False)
    assert "SLACK_API_URL: cannot reach Slack" in three.value.message


def test_procfile() -> None:
    procfile = (ROOT / "Procfile").read_text()
    assert "web: uvicorn --factory bot.web.app:create_app --host 0.0.0.0 --port ${PORT:-3000}" in procfile
    assert "worker: signoff worker" in procfile


def test_redis_is_there() -> None:
    Redis.from_url(REDIS_URL).ping()
