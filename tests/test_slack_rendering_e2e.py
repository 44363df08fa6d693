"""What an approver reads in Slack is all of what they approve: end to end, over signed requests.

A 400,000-character argument is read in the "View full arguments" modal, page by page, with the
Previous / Next buttons: each click is a signed ``block_actions`` from inside the modal (the way
Slack sends it, with the whole view), and the bot answers with ``views.update`` of the same view.
Every character of the (masked, escaped) arguments must have been shown exactly once.
"""

# ruff: noqa: F811  (pytest fixtures imported by name are "redefined" as test parameters)

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack import cards, modals
from storage.timeouts import MAX_REQUEST_BODY_BYTES
from tests.fakes import signing
from tests.fakes.openai_server import text, tool_call
from tests.slack_harness import (  # noqa: F401  (fixtures are used by name)
    Bot,
    bot,
    bot_factory,
    slack,
    wait_until,
)

pytestmark = [pytest.mark.redis]

SIZE = 400_000


def long_body() -> str:
    """400,000 characters with everything that gets escaped, marked or replaced, quotes and emoji."""
    unit = 'Dear "customer" & <team>, `code` \u202e\u200b \u00e9\u4e2d \U0001f600\n'
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


def unrender(shown: str) -> str:
    """The inverse of ``bot.slack.mrkdwn.code_text``: the characters a reader of the code blocks sees."""
    shown = shown.replace("\u02cb", "`")
    shown = re.sub("\u27e6U\\+([0-9A-F]{4,6})\u27e7", lambda m: chr(int(m.group(1), 16)), shown)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def view_click(view: dict[str, Any], value: str, user: str) -> str:
    """A ``block_actions`` body for a button inside a modal, as Slack sends it: with the whole view."""
    button = next(
        (b, e) for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("value") == value
    )
    block, element = button
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": signing.user_name(user), "name": signing.user_name(user), "team_id": "T_TEST"},
        "api_app_id": signing.API_APP_ID,
        "token": signing.VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": signing.new_trigger_id(),
        "team": {"id": signing.TEAM_ID, "domain": signing.TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "type": "button",
                "action_id": element["action_id"],
                "block_id": block["block_id"],
                "text": element["text"],
                "value": value,
                "action_ts": f"{int(time.time())}.000001",
            }
        ],
    }
    # ensure_ascii, as Slack sends non-ASCII characters of a view back as \u escapes
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def sections(view: dict[str, Any]) -> list[str]:
    out = []
    for block in view["blocks"]:
        if block["type"] == "section":
            code = block["text"]["text"]
            assert code.startswith("```") and code.endswith("```") and len(code) <= 3000
            out.append(code[3:-3])
    return out


def nav(view: dict[str, Any]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == cards.ARGS_PAGE
    }


def page_through(bot: Bot, view: dict[str, Any], button: str, user: str) -> dict[str, Any]:
    """Click ``button`` (Next / Previous) in the modal; the same view, updated, as Slack now holds it."""
    before = len(bot.slack.calls_to("views.update"))
    body = view_click(view, nav(view)[button], user)
    assert len(body) < MAX_REQUEST_BODY_BYTES  # the click fits in what the web process accepts
    response = bot.post(body)
    assert response.status_code == 200, response.text
    call = wait_until(lambda: bot.slack.calls_to("views.update")[before:], what="views.update")[0]
    assert call.ok, call.response
    assert call.args["view_id"] == view["id"] and call.args["hash"] == view["hash"]  # the same modal, no race
    return bot.slack.view(view["id"])


def test_a_400000_character_argument_is_read_whole_by_paging(bot: Bot) -> None:
    body = long_body()
    args = {"customer_id": "42", "subject": "Hi", "body": body}
    bot.openai.script(tool_call("send_customer_email", args), text("Sent."))
    run = bot.start("customer-email Write a very long email to 42")
    (req,) = bot.pending(run)
    card = bot.card(req)
    assert len(json.dumps(card["blocks"])) < 20_000  # the card shows the start only
    assert cards.EDIT in json.dumps(card["blocks"])  # customer_id and subject can still be edited

    bot.click(cards.VIEW_ARGS, req.id, "U_DAVE", card)  # anyone who sees the card may read it
    call = bot.slack.wait_for("views.open", lambda c: c.args["view"].get("callback_id") == modals.ARGS_VIEW)
    view = bot.slack.view(call.response["view"]["id"])
    assert view["title"]["text"].startswith("Full arguments 1/")

    shown: list[str] = []
    pages = 0
    while True:
        pages += 1
        info = view["blocks"][0]["elements"][1]["text"]
        assert f"SHA-256 of the arguments: `{req.current_hash}`" in info and f"Page {pages} of" in info
        shown.extend(sections(view))
        if "Next \u203a" not in nav(view):
            break
        view = page_through(bot, view, "Next \u203a", "U_DAVE")
    assert pages > 1 and f"Page {pages} of {pages}" in json.dumps(view, ensure_ascii=False)

    everything = "".join(shown)
    assert everything == modals.full_rendering(bot.deps.db.get_requirement(req.id))[1]  # each character once
    assert json.loads(unrender(everything)) == args  # and that is the arguments, whole

    back = page_through(bot, view, "\u2039 Previous", "U_DAVE")
    assert f"Page {pages - 1} of {pages}" in json.dumps(back, ensure_ascii=False)
    # a forged page number is only a page number: clamped, and the arguments still come from SQL
    forged = json.loads(json.dumps(back))
    for block in forged["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == cards.ARGS_PAGE:
                element["value"] = f"{req.id}|999999"
    last = page_through(bot, forged, next(iter(nav(forged))), "U_DAVE")
    assert f"Page {pages} of {pages}" in json.dumps(last, ensure_ascii=False)

    # Edit & approve does not offer the body (it could not hold it whole): it is kept as it is
    bot.click(cards.EDIT, req.id, "U_ALICE", card)
    edit = bot.slack.wait_for("views.open", lambda c: c.args["view"].get("callback_id") == modals.EDIT_VIEW)
    edit_view = edit.args["view"]
    inputs = {b["block_id"] for b in edit_view["blocks"] if b["type"] == "input"}
    assert "arg:body" not in inputs and "arg:subject" in inputs
    assert "`body` is 400,000 characters, too long to edit here" in json.dumps(edit_view)
    assert json.loads(edit_view["private_metadata"])["h"] == req.current_hash
