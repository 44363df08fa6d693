"""FakeSlack speaks enough of Slack's Web API for slack_sdk's real clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_server import FakeSlack

CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Approve *refund*?"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Approve"},
                "action_id": "approve",
                "value": "r1",
                "style": "primary",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Reject"},
                "action_id": "reject",
                "value": "r1",
                "style": "danger",
            },
        ],
    },
]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.base_url, timeout=5)


def test_auth_test_and_base_url(fake: FakeSlack, client: WebClient) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/api/")
    resp = client.auth_test()
    assert (resp["user_id"], resp["team_id"], resp["bot_id"]) == (
        "U_SIGNOFF",
        "T_TEST",
        "B_SIGNOFF",
    )
    (call,) = fake.calls_to("auth.test")
    assert call.token == "xoxb-test-token"


def test_post_update_thread_and_delete(fake: FakeSlack, client: WebClient) -> None:
    root = client.chat_postMessage(channel="C_OPS", text="run 1 started")
    reply = client.chat_postMessage(channel="C_OPS", thread_ts=root["ts"], text="card", blocks=CARD)
    assert float(reply["ts"]) > float(root["ts"])
    assert reply["message"]["thread_ts"] == root["ts"]
    assert fake.calls_to("chat.postMessage")[1].args["blocks"] == CARD

    client.chat_update(channel="C_OPS", ts=reply["ts"], text="approved", blocks=CARD[:1])
    messages = fake.messages("C_OPS")
    assert [m["text"] for m in messages] == ["run 1 started", "approved"]
    assert messages[1]["blocks"] == CARD[:1] and messages[1]["thread_ts"] == root["ts"]
    assert messages[0]["reply_count"] == 1

    replies = client.conversations_replies(channel="C_OPS", ts=root["ts"])["messages"]
    assert [m["ts"] for m in replies] == [root["ts"], reply["ts"]]

    link = client.chat_getPermalink(channel="C_OPS", message_ts=root["ts"])["permalink"]
    assert link == f"https://test.slack.com/archives/C_OPS/p{root['ts'].replace('.', '')}"

    eph = client.chat_postEphemeral(channel="C_OPS", user="U_BOB", text="already decided")
    assert eph["message_ts"] and fake.ephemerals[0]["user"] == "U_BOB"
    assert len(fake.messages()) == 2  # ephemerals are not channel messages

    client.chat_delete(channel="C_OPS", ts=reply["ts"])
    assert [m["ts"] for m in fake.messages("C_OPS")] == [root["ts"]]
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C_OPS", ts=reply["ts"], text="gone")
    assert err.value.response["error"] == "message_not_found"


def test_invalid_blocks_are_refused_but_recorded(fake: FakeSlack, client: WebClient) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C_OPS", text="t", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    assert any("3000" in e for e in err.value.response["errors"])
    assert fake.calls_to("chat.postMessage")[0].error == "invalid_blocks"
    assert fake.messages() == []


def test_views_need_a_fresh_trigger(fake: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "reject",
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "private_metadata": "r1",
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    opened = client.views_open(trigger_id="t-1", view=view)["view"]
    assert opened["id"].startswith("V") and opened["private_metadata"] == "r1"
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="t-1", view=view)
    assert err.value.response["error"] == "exchanged_trigger_id"
    updated = client.views_update(view_id=opened["id"], view={**view, "private_metadata": "r2"})
    assert updated["view"]["id"] == opened["id"]
    assert fake.views[opened["id"]]["private_metadata"] == "r2"
    with pytest.raises(SlackApiError) as err:
        client.views_open(
            trigger_id="t-2", view={**view, "title": {"type": "plain_text", "text": "x" * 25}}
        )
    assert err.value.response["error"] == "invalid_blocks"


def test_users_groups_dm_reactions(fake: FakeSlack, client: WebClient) -> None:
    assert client.users_info(user="U_ALICE")["user"]["profile"]["display_name"] == "alice"
    assert {m["id"] for m in client.users_list()["members"]} >= {"U_ALICE", "U_BOB"}
    assert client.usergroups_users_list(usergroup="S_ADMINS")["users"] == ["U_BOB", "U_CAROL"]
    with pytest.raises(SlackApiError) as err:
        client.usergroups_users_list(usergroup="S_NOPE")
    assert err.value.response["error"] == "no_such_subteam"
    dm = client.conversations_open(users="U_BOB")["channel"]["id"]
    assert dm == "D_U_BOB"
    human = fake.add_message("C_OPS", "42", user="U_ALICE")
    client.reactions_add(channel="C_OPS", timestamp=human["ts"], name="white_check_mark")
    assert fake.message("C_OPS", human["ts"])["reactions"][0]["name"] == "white_check_mark"


def test_invalid_token_and_unknown_method(fake: FakeSlack) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as err:
        bad.chat_postMessage(channel="C_OPS", text="hi")
    assert err.value.response["error"] == "invalid_auth"
    assert fake.calls_to("chat.postMessage")[0].token == "xoxb-wrong"
    good = WebClient(token=fake.bot_token, base_url=fake.base_url)
    with pytest.raises(SlackApiError) as err:
        good.api_call("pins.add", params={"channel": "C_OPS"})
    assert err.value.response["error"] == "unknown_method"


def test_fail_injects_errors(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.update", "ratelimited_forever", times=1)
    root = client.chat_postMessage(channel="C_OPS", text="x")
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C_OPS", ts=root["ts"], text="y")
    client.chat_update(channel="C_OPS", ts=root["ts"], text="y")
    assert fake.messages()[0]["text"] == "y"


def test_429_is_retried_by_the_sdk_handler(fake: FakeSlack) -> None:
    client = WebClient(
        token=fake.bot_token,
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.rate_limit("chat.postMessage", times=1, retry_after=0)
    resp = client.chat_postMessage(channel="C_OPS", text="eventually")
    assert resp["ok"]
    statuses = [c.status for c in fake.calls_to("chat.postMessage")]
    assert statuses == [429, 200]
    assert len(fake.messages()) == 1
    # without a retry handler the 429 surfaces, with Slack's Retry-After header
    fake.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        WebClient(token=fake.bot_token, base_url=fake.base_url).chat_postMessage(
            channel="C_OPS", text="x"
        )
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"


def test_files_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    resp = client.files_upload_v2(
        channel="C_OPS",
        filename="audit.csv",
        content="id,event\n1,approved\n",
        initial_comment="Audit export",
        title="Audit",
    )
    assert resp["file"]["name"] == "audit.csv"
    (f,) = fake.files
    assert f["content"] == b"id,event\n1,approved\n"
    assert (f["filename"], f["channel_id"], f["initial_comment"]) == (
        "audit.csv",
        "C_OPS",
        "Audit export",
    )


def test_wait_for_reports_what_it_saw(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.1)
    started = time.monotonic()

    threading.Timer(0.2, lambda: client.chat_postMessage(channel="C_OPS", text="late")).start()
    call = fake.wait_for("chat.postMessage", lambda c: c.args.get("text") == "late", timeout=5)
    assert call.ok and time.monotonic() - started >= 0.15


async def test_async_client(fake: FakeSlack) -> None:
    client = AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.rate_limit("chat.postMessage", retry_after=0)
    root = await client.chat_postMessage(channel="C_OPS", text="async", blocks=CARD)
    await client.chat_update(channel="C_OPS", ts=root["ts"], text="async 2")
    assert fake.messages("C_OPS")[0]["text"] == "async 2"
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    users = await client.usergroups_users_list(usergroup="S_ADMINS")
    assert users["users"] == ["U_BOB", "U_CAROL"]
    assert fake.calls_to("usergroups.users.list")[0].args == {"usergroup": "S_ADMINS"}
    upload = await client.files_upload_v2(channel="C_OPS", filename="a.jsonl", content=b"{}\n")
    assert upload["file"]["id"] == fake.files[0]["id"]
    assert fake.files[0]["content"] == b"{}\n"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token="nope", base_url=fake.base_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
