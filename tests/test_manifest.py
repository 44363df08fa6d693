"""manifest.yml (HTTP mode) and manifest.socket.yml (Socket Mode) follow Slack's manifest schema,
describe the same app, and ask for no scope the bot does not need."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from tests.scopes import (
    EVENTS_WITHOUT_SCOPE,
    METHODS_WITHOUT_SCOPE,
    SCOPES_BY_EVENT,
    SCOPES_BY_METHOD,
    SLASH_COMMANDS_SCOPE,
)

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
SOCKET_MANIFEST = ROOT / "manifest.socket.yml"
MANIFESTS = {"http": MANIFEST, "socket": SOCKET_MANIFEST}

# Web API methods the bot calls with its app-level token (xapp-...): their scopes are App-Level
# Token scopes, chosen when the token is created, not bot scopes in the manifest.
APP_TOKEN_METHODS = {"apps.connections.open": "connections:write"}

# Bot token scopes Slack knows (https://docs.slack.dev/reference/scopes).
KNOWN_BOT_SCOPES = frozenset(
    {
        "app_mentions:read",
        "assistant:write",
        "bookmarks:read",
        "bookmarks:write",
        "calls:read",
        "calls:write",
        "canvases:read",
        "canvases:write",
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "channels:write.invites",
        "channels:write.topic",
        "chat:write",
        "chat:write.customize",
        "chat:write.public",
        "commands",
        "conversations.connect:manage",
        "conversations.connect:read",
        "conversations.connect:write",
        "dnd:read",
        "emoji:read",
        "files:read",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "groups:write.invites",
        "groups:write.topic",
        "im:history",
        "im:read",
        "im:write",
        "im:write.topic",
        "incoming-webhook",
        "links.embed:write",
        "links:read",
        "links:write",
        "metadata.message:read",
        "mpim:history",
        "mpim:read",
        "mpim:write",
        "mpim:write.topic",
        "pins:read",
        "pins:write",
        "reactions:read",
        "reactions:write",
        "reminders:read",
        "reminders:write",
        "remote_files:read",
        "remote_files:share",
        "remote_files:write",
        "search:read.public",
        "team.billing:read",
        "team.preferences:read",
        "team:read",
        "tokens.basic",
        "triggers:read",
        "triggers:write",
        "usergroups:read",
        "usergroups:write",
        "users.profile:read",
        "users:read",
        "users:read.email",
        "users:write",
        "workflow.steps:execute",
    }
)

# Bot events Slack knows and the scope each one needs (a subset: the ones worth considering).
KNOWN_BOT_EVENTS: dict[str, str | None] = {
    **SCOPES_BY_EVENT,
    **dict.fromkeys(EVENTS_WITHOUT_SCOPE),
    "app_uninstalled": None,
    "tokens_revoked": None,
    "member_joined_channel": "channels:read",
    "channel_created": "channels:read",
    "team_join": "users:read",
    "user_change": "users:read",
    "subteam_updated": "usergroups:read",
    "file_shared": "files:read",
}


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module", params=sorted(MANIFESTS))
def mode(request: pytest.FixtureRequest) -> str:
    """Every manifest test runs on both manifests: ``http`` and ``socket``."""
    return str(request.param)


@pytest.fixture(scope="module")
def manifest(mode: str) -> dict[str, Any]:
    return _load(MANIFESTS[mode])


def _https(url: Any) -> bool:
    return isinstance(url, str) and re.fullmatch(r"https://[^\s/]+(/\S*)?", url) is not None


def test_display_information(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert isinstance(info["name"], str) and 0 < len(info["name"]) <= 35
    assert info["name"] == "signoff"
    assert isinstance(info["description"], str) and 0 < len(info["description"]) <= 140
    if "long_description" in info:
        assert 174 <= len(info["long_description"]) <= 4000
    if "background_color" in info:
        assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])


def test_bot_user(manifest: dict[str, Any]) -> None:
    bot_user = manifest["features"]["bot_user"]
    name = bot_user["display_name"]
    assert isinstance(name, str) and 0 < len(name) <= 80
    # Slack bot names: lowercase letters, digits, periods, hyphens, underscores; no spaces.
    assert re.fullmatch(r"[a-z0-9._-]+", name), name
    assert name == "signoff"
    assert bot_user["always_online"] is True


def test_slash_commands(manifest: dict[str, Any], mode: str) -> None:
    commands = manifest["features"]["slash_commands"]
    names = [c["command"] for c in commands]
    assert names == ["/agent", "/approvals"]
    assert len(set(names)) == len(names)
    for command in commands:
        name = command["command"]
        assert name.startswith("/") and 1 < len(name) <= 32, name
        assert name == name.lower() and re.fullmatch(r"/[a-z0-9_.-]+", name), name
        assert isinstance(command["description"], str)
        assert 0 < len(command["description"]) <= 2000
        assert len(command.get("usage_hint", "")) <= 1000
        if mode == "http":
            assert _https(command["url"]), command["url"]
        else:
            assert "url" not in command  # Socket Mode: commands arrive over the connection
        assert command.get("should_escape") in (True, False)
    agent = commands[0]
    assert agent["description"] == (
        "Run an agent: /agent <agent> <prompt> · list · status <run> · cancel <run> · help"
    )
    assert agent["should_escape"] is False
    assert "export" in commands[1]["description"]


def test_scopes_are_known_and_unique(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) <= KNOWN_BOT_SCOPES, set(scopes) - KNOWN_BOT_SCOPES
    assert set(SCOPES_BY_METHOD.values()) <= KNOWN_BOT_SCOPES
    assert set(scopes) == {
        "chat:write",
        "commands",
        "users:read",
        "usergroups:read",
        "files:write",
        "channels:history",
        "groups:history",
        "im:write",
        "reactions:write",
    }


def test_events_are_valid_and_have_their_scopes(manifest: dict[str, Any], mode: str) -> None:
    settings = manifest["settings"]
    events = settings["event_subscriptions"]
    if mode == "http":
        assert _https(events["request_url"])
    else:
        assert "request_url" not in events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    bot_events = events["bot_events"]
    assert set(bot_events) == {"message.channels", "message.groups", "app_home_opened"}
    for event in bot_events:
        assert event in KNOWN_BOT_EVENTS, event
        needed = KNOWN_BOT_EVENTS[event]
        if needed is not None:
            assert needed in scopes, f"{event} needs {needed}"
    for event, scope in SCOPES_BY_EVENT.items():
        if event.startswith("message."):
            assert scope.endswith(":history")


def test_app_home_tab(manifest: dict[str, Any]) -> None:
    """The Home tab is the inbox (``bot.slack.home``); the Messages tab carries DMs the bot sends."""
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is True
    assert app_home["messages_tab_read_only_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_interactivity_and_settings(manifest: dict[str, Any], mode: str) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    if mode == "http":
        assert _https(settings["interactivity"]["request_url"])
        urls = {
            settings["interactivity"]["request_url"],
            settings["event_subscriptions"]["request_url"],
        }
        urls |= {c["url"] for c in manifest["features"]["slash_commands"]}
        assert len(urls) == 1 and next(iter(urls)).endswith("/slack/events")  # bolt's one endpoint
    else:
        assert _urls_in(manifest) == []  # no request URL anywhere: everything comes over the socket
    assert settings["org_deploy_enabled"] is False
    assert settings["socket_mode_enabled"] is (mode == "socket")
    assert settings["token_rotation_enabled"] is False


def _urls_in(doc: Any) -> list[str]:
    """Every value under a ``url``/``request_url`` key (Slack's request URLs), anywhere in the document."""
    if isinstance(doc, dict):
        found = [str(v) for k, v in doc.items() if k in ("url", "request_url")]
        return found + [u for k, v in doc.items() if k not in ("url", "request_url") for u in _urls_in(v)]
    if isinstance(doc, list):
        return [u for item in doc for u in _urls_in(item)]
    return []


def _without_request_urls(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_request_urls(v) for k, v in doc.items() if k not in ("url", "request_url")}
    if isinstance(doc, list):
        return [_without_request_urls(item) for item in doc]
    return doc


def test_socket_manifest_is_the_http_app_without_request_urls() -> None:
    """Same name, commands, scopes, events and settings; only the request URLs and the mode differ."""
    http, socket = _load(MANIFEST), _load(SOCKET_MANIFEST)
    expected = _without_request_urls(http)
    expected["settings"]["socket_mode_enabled"] = True
    assert socket == expected


def test_socket_manifest_says_which_app_level_token_to_create() -> None:
    comments = [
        line for line in SOCKET_MANIFEST.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")
    ]
    assert any("connections:write" in line for line in comments), "name the App-Level Token scope"
    assert any("SLACK_APP_TOKEN" in line for line in comments), "say which variable the token goes in"
    # an App-Level Token scope, not a bot scope: it must not be requested for the bot
    assert "connections:write" not in _load(SOCKET_MANIFEST)["oauth_config"]["scopes"]["bot"]
    assert set(APP_TOKEN_METHODS.values()) == {"connections:write"}


def test_every_scope_is_justified(manifest: dict[str, Any]) -> None:
    """Scopes requested == scopes needed by the Web API methods, slash commands and events."""
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed: dict[str, list[str]] = {}
    for method, scope in SCOPES_BY_METHOD.items():
        needed.setdefault(scope, []).append(method)
    if manifest["features"].get("slash_commands"):
        needed.setdefault(SLASH_COMMANDS_SCOPE, []).append("slash_commands")
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        event_scope = KNOWN_BOT_EVENTS[event]
        if event_scope is not None:
            needed.setdefault(event_scope, []).append(f"event {event}")
    unjustified = scopes - set(needed)
    assert not unjustified, f"scopes nothing needs: {sorted(unjustified)}"
    missing = set(needed) - scopes
    assert not missing, f"scopes needed but not requested: {{{', '.join(sorted(missing))}}}"
    assert needed["chat:write"] >= ["chat.postMessage", "chat.update", "chat.postEphemeral"]
    assert "users.info" in needed["users:read"]
    assert "usergroups.users.list" in needed["usergroups:read"]
    assert "files.getUploadURLExternal" in needed["files:write"]


# slack_sdk client method name -> the Web API methods it calls
_SDK_ALIASES = {"files.upload.v2": ["files.getUploadURLExternal", "files.completeUploadExternal"]}
_CALL = re.compile(
    r"\.(?P<name>(?:auth|chat|conversations|files|reactions|usergroups|users|views|pins|"
    r"bookmarks|team|dnd|emoji|reminders|bots|apps)_[A-Za-z0-9_]+)\s*\("
)


def _web_api_methods_in(source: str) -> set[str]:
    methods: set[str] = set()
    for match in _CALL.finditer(source):
        if not hasattr(AsyncWebClient, match.group("name")):
            continue  # a function of ours that merely looks like a Web API method
        dotted = match.group("name").replace("_", ".")
        methods.update(_SDK_ALIASES.get(dotted, [dotted]))
    for match in re.finditer(r"api_call\(\s*[\"']([a-zA-Z.]+)[\"']", source):
        methods.add(match.group(1))
    return methods


def test_web_api_methods_called_by_the_bot_are_in_the_scope_table() -> None:
    """Every ``client.<method>(...)`` in bot/ has its scope recorded (or needs none)."""
    called: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for method in _web_api_methods_in(path.read_text(encoding="utf-8")):
            called.setdefault(method, str(path.relative_to(ROOT)))
    unknown = {
        m: where
        for m, where in called.items()
        if m not in SCOPES_BY_METHOD and m not in METHODS_WITHOUT_SCOPE and m not in APP_TOKEN_METHODS
    }
    assert not unknown, f"add these Web API methods to bot/scopes.py: {unknown}"
    assert set(APP_TOKEN_METHODS) <= set(called), "an app-token method nothing calls: drop it from the table"


def test_method_scanner() -> None:
    source = (
        "await client.chat_postMessage(channel=c)\n"
        "client.usergroups_users_list(usergroup=g)\n"
        "await self.client.files_upload_v2(content=b)\n"
        "client.api_call('reactions.add', params={})\n"
        "self.users_for_group(g)\n"
    )
    assert _web_api_methods_in(source) == {
        "chat.postMessage",
        "usergroups.users.list",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "reactions.add",
    }
