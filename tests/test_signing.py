"""The signed-request helpers produce what Slack sends and what slack_sdk accepts."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from tests.fakes.signing import (
    block_action_body,
    event_callback_body,
    message_event,
    sign,
    slash_command_body,
    url_verification_body,
    view_submission_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _verify(body: str, headers: dict[str, str], secret: str = SECRET) -> bool:
    return SignatureVerifier(secret).is_valid_request(body, headers)


def test_sign_is_accepted_by_slack_sdk() -> None:
    body = slash_command_body("/agent", "finance Refund $120 to customer 42")
    headers = sign(SECRET, body)
    assert _verify(body, headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_sign_matches_slacks_documented_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" page.
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        "command=%2Fwebhook-collect&text=&"
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F"
        "96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign(SECRET, body, ts=1531420618)
    assert headers["X-Slack-Signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_tampered_body_is_rejected() -> None:
    body = slash_command_body("/agent", "finance Refund $120")
    headers = sign(SECRET, body)
    assert not _verify(body.replace("120", "920"), headers)
    assert not _verify(body, headers, secret="another-secret")


def test_old_timestamp_is_rejected() -> None:
    body = event_callback_body(message_event("hi"))
    old = int(time.time()) - 301
    headers = sign(SECRET, body, ts=old)
    assert not _verify(body, headers)
    # the signature itself is right: only its age is the problem
    assert SignatureVerifier(SECRET).is_valid(body, str(old), headers["X-Slack-Signature"]) is False
    assert SignatureVerifier(SECRET, clock=_Clock(old)).is_valid_request(body, headers)


class _Clock(Clock):
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)


def test_slash_command_fields() -> None:
    body = slash_command_body("/agent", "list", response_url="http://127.0.0.1:1/r")
    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    assert fields["command"] == "/agent"
    assert fields["text"] == "list"
    assert fields["user_id"] == "U_ALICE"
    assert fields["user_name"] == "alice"
    assert fields["channel_id"] == "C_OPS"
    assert fields["team_id"] == "T_TEST"
    assert fields["response_url"] == "http://127.0.0.1:1/r"
    assert fields["trigger_id"]
    assert fields["api_app_id"]


def test_block_action_payload() -> None:
    message = {"ts": "1700000000.000100", "channel": "C_OPS", "text": "card", "blocks": []}
    body = block_action_body(
        "approve",
        "req-1",
        "U_BOB",
        "C_OPS",
        "1700000000.000100",
        message=message,
        thread_ts="1700000000.000050",
    )
    assert sign(SECRET, body)["Content-Type"] == "application/x-www-form-urlencoded"
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U_BOB"
    assert payload["channel"]["id"] == "C_OPS"
    assert payload["container"]["message_ts"] == "1700000000.000100"
    assert payload["container"]["thread_ts"] == "1700000000.000050"
    assert payload["message"]["text"] == "card"
    assert "channel" not in payload["message"]
    (action,) = payload["actions"]
    assert (action["action_id"], action["value"], action["block_id"]) == ("approve", "req-1", "b")
    a, b = (
        json.loads(parse_qs(block_action_body("x", "v", "U", "C", "1.2"))["payload"][0])
        for _ in range(2)
    )
    assert a["trigger_id"] != b["trigger_id"]


def test_view_submission_payload() -> None:
    body = view_submission_body(
        "reject_reason", '{"req": 1}', {"reason": {"text": "too risky"}}, "U_CAROL"
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "reject_reason"
    assert payload["view"]["private_metadata"] == '{"req": 1}'
    assert payload["view"]["state"]["values"] == {
        "reason": {"text": {"type": "plain_text_input", "value": "too risky"}}
    }


def test_event_and_url_verification_are_json() -> None:
    event = event_callback_body(message_event("hi", thread_ts="1.1"), event_id="Ev1")
    doc = json.loads(event)
    assert doc["type"] == "event_callback"
    assert doc["event_id"] == "Ev1"
    assert doc["event"]["thread_ts"] == "1.1"
    assert sign(SECRET, event)["Content-Type"] == "application/json"
    verification = json.loads(url_verification_body("abc"))
    assert verification == {
        "token": verification["token"],
        "challenge": "abc",
        "type": "url_verification",
    }
