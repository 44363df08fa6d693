"""Build requests to the bot exactly as Slack sends them, signed with the v0 scheme.

Slash commands and interactivity payloads are form-encoded
(``application/x-www-form-urlencoded``; interactivity puts its JSON in a ``payload`` field),
events are ``application/json``. ``sign`` returns the headers to send with a body::

    body = slash_command_body("/agent", "finance Refund $120")
    client.post("/slack/events", content=body, headers=sign(SECRET, body))
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T_TEST"
TEAM_DOMAIN = "test"
API_APP_ID = "A_SIGNOFF"
ENTERPRISE_ID = None
VERIFICATION_TOKEN = "verification-token"  # deprecated by Slack but still sent
BOT_USER_ID = "U_SIGNOFF"
BOT_ID = "B_SIGNOFF"
DUMMY_RESPONSE_URL = "https://hooks.slack.com/commands/T_TEST/1111/responseurl"
DUMMY_ACTION_RESPONSE_URL = "https://hooks.slack.com/actions/T_TEST/2222/responseurl"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_counter = itertools.count(1)


def _next() -> int:
    return next(_counter)


def new_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's (``<digits>.<digits>.<hex>``)."""
    n = _next()
    return f"{1700000000 + n}.{4000000000 + n}.{hashlib.sha1(str(n).encode()).hexdigest()[:32]}"


def new_event_id() -> str:
    return f"Ev{_next():010d}"


def user_name(user_id: str) -> str:
    """``U_ALICE`` -> ``alice`` (the stand-in's preloaded users); other ids lowercased."""
    return user_id.removeprefix("U_").lower()


def signature(secret: str, body: str | bytes, ts: int | str) -> str:
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    base = f"v0:{ts}:".encode() + raw
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: str | bytes, ts: int | None = None) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp, v0 signature and content type.

    The content type is JSON for a body that starts with ``{`` (events), form otherwise.
    """
    stamp = int(time.time()) if ts is None else ts
    head = body.lstrip()[:1]
    is_json = head in ("{", b"{")
    return {
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature(secret, body, stamp),
        "Content-Type": JSON if is_json else FORM,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def _user(user_id: str, name: str | None = None) -> dict[str, Any]:
    uname = name or user_name(user_id)
    return {"id": user_id, "username": uname, "name": uname, "team_id": TEAM_ID}


def _team() -> dict[str, Any]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    return channel_id.removeprefix("C_").removeprefix("G_").lower() or channel_id


def _form_payload(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def slash_command_body(
    command: str,
    text: str,
    user_id: str = "U_ALICE",
    channel_id: str = "C_OPS",
    **extra: str,
) -> str:
    """A form-encoded slash command; ``extra`` overrides or adds fields (e.g. ``response_url``)."""
    fields: dict[str, str] = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": _channel_name(channel_id),
        "user_id": user_id,
        "user_name": user_name(user_id),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": DUMMY_RESPONSE_URL,
        "trigger_id": new_trigger_id(),
    }
    fields.update({k: str(v) for k, v in extra.items()})
    return urlencode(fields)


def block_action_body(
    action_id: str,
    value: str,
    user_id: str,
    channel_id: str,
    message_ts: str,
    block_id: str = "b",
    trigger_id: str | None = None,
    *,
    thread_ts: str | None = None,
    message: dict[str, Any] | None = None,
    response_url: str = DUMMY_ACTION_RESPONSE_URL,
    action_type: str = "button",
    button_text: str = "Button",
    is_ephemeral: bool = False,
    state_values: dict[str, Any] | None = None,
    extra_action: dict[str, Any] | None = None,
) -> str:
    """A ``block_actions`` payload for a click on a message's element.

    ``message`` is the message clicked (e.g. one of ``FakeSlack.messages()``); a minimal bot
    message is made up when omitted. ``extra_action`` is merged into the action (for a select:
    ``{"selected_option": {...}}``).
    """
    if message is None:
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "team": TEAM_ID,
            "ts": message_ts,
            "text": "",
            "blocks": [],
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
    else:
        message = {k: v for k, v in message.items() if k != "channel" and v is not None}
    thread_ts = thread_ts or message.get("thread_ts")
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{int(time.time())}.{_next():06d}",
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": button_text, "emoji": True}
        action["value"] = value
    elif value:
        action["value"] = value
    if extra_action:
        action.update(extra_action)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(),
        "enterprise": ENTERPRISE_ID,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": _channel_name(channel_id)},
        "state": {"values": state_values or {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not is_ephemeral:
        payload["message"] = message
    return _form_payload(payload)


def _state_values(values: dict[str, Any]) -> dict[str, Any]:
    """Accept Slack's ``{block_id: {action_id: {"type": ..., "value": ...}}}`` or a plain string
    in place of the innermost dict (taken as a ``plain_text_input`` value)."""
    out: dict[str, Any] = {}
    for block_id, actions in values.items():
        out[block_id] = {}
        for action_id, state in actions.items():
            if isinstance(state, dict):
                out[block_id][action_id] = state
            else:
                out[block_id][action_id] = {"type": "plain_text_input", "value": state}
    return out


def view_submission_body(
    callback_id: str,
    private_metadata: str,
    values: dict[str, Any],
    user_id: str,
    view_id: str = "V1",
    *,
    blocks: list[dict[str, Any]] | None = None,
    title: str = "signoff",
    submit: str = "Submit",
    trigger_id: str | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    external_id: str = "",
) -> str:
    """A ``view_submission`` payload for a modal the user submitted."""
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": _state_values(values)},
            "hash": f"{int(time.time())}.{_next():08d}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": submit, "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "external_id": external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": ENTERPRISE_ID,
    }
    return _form_payload(payload)


def event_callback_body(event: dict[str, Any], event_id: str | None = None) -> str:
    """An Events API ``event_callback`` envelope around ``event`` (JSON)."""
    event_time = int(float(event.get("event_ts") or event.get("ts") or time.time()))
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": ENTERPRISE_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": ENTERPRISE_ID,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUX1RFU1QifQ{_next()}",
    }
    return json.dumps(envelope)


def message_event(
    text: str,
    user_id: str = "U_ALICE",
    channel_id: str = "C_OPS",
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A ``message`` event as Slack sends it (a person's message; put it in event_callback_body)."""
    stamp = ts or f"{int(time.time())}.{_next():06d}"
    event: dict[str, Any] = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": stamp,
        "team": TEAM_ID,
        "channel": channel_id,
        "event_ts": stamp,
        "channel_type": channel_type,
        "client_msg_id": f"00000000-0000-4000-8000-{_next():012d}",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": f"rt{_next()}",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER_ID
    return event


def url_verification_body(challenge: str) -> str:
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    )
