"""Which OAuth scope each Slack Web API method the bot calls needs.

The manifest's bot scopes must be exactly what this table, the slash commands and the event
subscriptions need (``tests/test_manifest.py`` checks it both ways). When the bot starts calling a
new Web API method, add it here (or to ``METHODS_WITHOUT_SCOPE``) and, if it brings a new scope,
to ``manifest.yml``.
"""

from __future__ import annotations

from typing import Final

SCOPES_BY_METHOD: Final[dict[str, str]] = {
    # messages: run roots, thread replies, approval cards, "already decided" ephemerals
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    # who clicked, display names, approver user groups
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.users.list": "usergroups:read",
    # /approvals export (files_upload_v2 calls both)
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    # reading a run's thread (answers given as thread replies); private channels need groups:history
    "conversations.replies": "channels:history",
    # DMs to approvers
    "conversations.open": "im:write",
    # acknowledging a thread reply that answered a question
    "reactions.add": "reactions:write",
}

# Methods the bot may call that need no scope at all.
METHODS_WITHOUT_SCOPE: Final[frozenset[str]] = frozenset(
    {
        "auth.test",
        "chat.getPermalink",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
    }
)

# Scopes required by a manifest feature rather than by a Web API method.
SCOPES_BY_EVENT: Final[dict[str, str]] = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "app_mention": "app_mentions:read",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
}
# Events the bot subscribes to that need no scope (the App Home tab being opened).
EVENTS_WITHOUT_SCOPE: Final[frozenset[str]] = frozenset({"app_home_opened"})
SLASH_COMMANDS_SCOPE: Final = "commands"


def scope_for(method: str) -> str | None:
    """The scope ``method`` needs, None when it needs none; KeyError for an unknown method."""
    if method in METHODS_WITHOUT_SCOPE:
        return None
    return SCOPES_BY_METHOD[method]
