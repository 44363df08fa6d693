"""A real local HTTP stand-in of Slack's Web API.

``slack_sdk``'s ``WebClient`` (urllib) and ``AsyncWebClient`` (aiohttp) talk to it over real
sockets when pointed at ``FakeSlack.base_url``; every call is recorded. Responses follow the
shapes Slack documents. Usage::

    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.base_url)
        client.chat_postMessage(channel="C_OPS", text="hi")
        assert fake.messages("C_OPS")[0]["text"] == "hi"

Blocks sent to chat.* and views.* are checked with ``tests.blockkit``: a message Slack would refuse
gets ``{"ok": false, "error": "invalid_blocks", "errors": [...]}`` here too (the call is
recorded all the same).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.blockkit import validate_message, validate_view

TEAM_ID = "T_TEST"
TEAM_DOMAIN = "test"
BOT_USER_ID = "U_SIGNOFF"
BOT_ID = "B_SIGNOFF"
APP_ID = "A_SIGNOFF"

# Argument values that slack_sdk JSON-encodes when it sends a form body.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks"})

Json = dict[str, Any]


@dataclass(frozen=True)
class SlackCall:
    """One Web API call as the stand-in received it."""

    method: str
    args: dict[str, Any]  # form, query and JSON arguments merged; JSON-valued args decoded
    token: str | None
    status: int = 200  # HTTP status answered (429 when rate limited)
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        err = self.response.get("error")
        return str(err) if err is not None else None


def _default_users() -> dict[str, Json]:
    users: dict[str, Json] = {}
    for uid, name, real in (
        ("U_ALICE", "alice", "Alice Archer"),
        ("U_BOB", "bob", "Bob Baker"),
        ("U_CAROL", "carol", "Carol Chen"),
        ("U_DAVE", "dave", "Dave Dietrich"),
    ):
        users[uid] = make_user(uid, name, real)
    users[BOT_USER_ID] = make_user(BOT_USER_ID, "signoff", "signoff", is_bot=True)
    return users


def make_user(user_id: str, name: str, real_name: str, *, is_bot: bool = False) -> Json:
    """A users.info-shaped user object."""
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "is_admin": False,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1700000000,
        "profile": {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": real_name,
            "real_name_normalized": real_name,
            "email": f"{name}@example.com",
            "team": TEAM_ID,
            **({"bot_id": BOT_ID} if is_bot else {}),
        },
    }


class _Error(Exception):
    """An ``{"ok": false}`` answer."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class FakeSlack:
    """Slack's Web API on 127.0.0.1, in a daemon thread. A context manager."""

    bot_token: str = "xoxb-test-token"

    def __init__(self, bot_token: str | None = None) -> None:
        if bot_token is not None:
            self.bot_token = bot_token
        self.users: dict[str, Json] = _default_users()
        self.usergroups: dict[str, list[str]] = {
            "S_ADMINS": ["U_BOB", "U_CAROL"],
            "S_FINANCE": ["U_DAVE"],
        }
        self.files: list[Json] = []  # completed uploads
        self.ephemerals: list[Json] = []  # chat.postEphemeral messages (each with "user")
        self.views: dict[str, Json] = {}  # view id -> current view
        self.homes: dict[str, str] = {}  # user id -> the id of their published App Home view
        self.calls: list[SlackCall] = []
        self._messages: list[Json] = []  # every posted message, in order; deleted ones removed
        self._uploads: dict[str, Json] = {}  # file id -> pending upload
        self._used_triggers: set[str] = set()
        self._rate_limits: dict[str, list[int]] = {}  # method -> [remaining, retry_after]
        self._failures: dict[str, list[Any]] = {}  # method -> [remaining, error]
        self._lock = threading.RLock()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.root_url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            slack = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        port = server.server_address[1]
        self.root_url = f"http://127.0.0.1:{port}/"
        self.base_url = f"{self.root_url}api/"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"FakeSlack:{port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] = lambda c: True,
        timeout: float = 10.0,
    ) -> SlackCall:
        """The first call to ``method`` that satisfies ``predicate``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls_to(method):
                if predicate(call):
                    return call
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        with self._lock:
            seen = "\n".join(
                f"  {c.method} {c.status} ok={c.ok} {_short(c.args)}" for c in self.calls
            )
        raise AssertionError(
            f"no matching call to {method} within {timeout}s; calls seen:\n{seen or '  (none)'}"
        )

    def messages(self, channel: str | None = None) -> list[Json]:
        """Posted messages as they are now (after updates and deletes), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._messages
                if channel is None or m["channel"] == channel
            ]

    def message(self, channel: str, ts: str) -> Json:
        with self._lock:
            return copy.deepcopy(self._find(channel, ts))

    def thread(self, channel: str, thread_ts: str) -> list[Json]:
        """The parent and its replies."""
        return [
            m
            for m in self.messages(channel)
            if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
        ]

    def view(self, view_id: str) -> Json:
        """A view as it is now (after ``views.update``): what Slack sends back with a click in it."""
        with self._lock:
            if view_id not in self.views:
                raise AssertionError(f"no view {view_id}")
            return copy.deepcopy(self.views[view_id])

    # -- behaviour switches --------------------------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls to ``method`` answer HTTP 429 with ``Retry-After``."""
        with self._lock:
            self._rate_limits[method] = [times, retry_after]

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` answer ``{"ok": false, "error": error}``."""
        with self._lock:
            self._failures[method] = [times, error]

    def add_message(
        self, channel: str, text: str, user: str = "U_ALICE", thread_ts: str | None = None
    ) -> Json:
        """Record a message a person wrote (so conversations.replies and the like see it).

        Returns the stored message; its ``ts`` is what an ``event_callback`` should carry.
        """
        with self._lock:
            message = self._store_message(
                channel, text=text, blocks=[], thread_ts=thread_ts, user=user, bot=False
            )
            return copy.deepcopy(message)

    def add_user(self, user_id: str, name: str, real_name: str | None = None) -> Json:
        with self._lock:
            user = make_user(user_id, name, real_name or name.title())
            self.users[user_id] = user
            return user

    # -- request handling (called from handler threads) ---------------------------------------

    def _handle_api(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], Json]:
        with self._lock:
            status, headers, body = self._answer(method, args, token)
            self.calls.append(
                SlackCall(method=method, args=args, token=token, status=status, response=body)
            )
            return status, headers, body

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], Json]:
        limit = self._rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            return 429, {"Retry-After": str(limit[1])}, {"ok": False, "error": "ratelimited"}
        if token is None:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        failure = self._failures.get(method)
        if failure and failure[0] > 0:
            failure[0] -= 1
            return 200, {}, {"ok": False, "error": failure[1]}
        handler = _METHODS.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        try:
            result = handler(self, args)
        except _Error as exc:
            return 200, {}, {"ok": False, "error": exc.error, **exc.extra}
        return 200, {}, {"ok": True, **result}

    def _handle_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        with self._lock:
            upload = self._uploads.get(file_id)
            self.calls.append(
                SlackCall(
                    method="upload",
                    args={"file_id": file_id, "length": len(data)},
                    token=None,
                    status=200 if upload else 404,
                    response={"ok": upload is not None},
                )
            )
            if upload is None:
                return 404, "Not Found"
            upload["content"] = data
            upload["uploaded"] = True
            return 200, f"OK - {len(data)}"

    # -- helpers ------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        n = 1_700_000_000_000_000 + 100 * next(self._ts)
        return f"{n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _find_or_none(self, channel: str, ts: str) -> Json | None:
        try:
            return self._find(channel, ts)
        except _Error:
            return None

    def _find(self, channel: str, ts: str) -> Json:
        for m in self._messages:
            if m["channel"] == channel and m["ts"] == ts:
                return m
        raise _Error("message_not_found")

    def _channel_for(self, channel: Any) -> str:
        if not isinstance(channel, str) or not channel:
            raise _Error("channel_not_found")
        if channel.startswith(("U", "W")) and channel in self.users:
            return f"D_{channel}"  # posting to a user id lands in the DM with them
        return channel

    def _check_message_payload(self, args: dict[str, Any], need_content: bool) -> None:
        blocks = args.get("blocks")
        text = args.get("text")
        if need_content and not text and not blocks and not args.get("attachments"):
            raise _Error("no_text")
        if isinstance(text, str) and len(text) > 40_000:
            raise _Error("msg_too_long")
        if blocks is not None:
            errors = validate_message(blocks) if isinstance(blocks, list) else ["/blocks: invalid"]
            if errors:
                raise _Error(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )

    def _check_view(self, args: dict[str, Any]) -> Json:
        view = args.get("view")
        if not isinstance(view, dict):
            raise _Error("invalid_arguments", response_metadata={"messages": ["[ERROR] view"]})
        errors = validate_view(view)
        if errors:
            raise _Error(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return view

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trigger = args.get("trigger_id")
        if not trigger:
            raise _Error(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )
        if trigger in self._used_triggers:
            raise _Error("exchanged_trigger_id")
        self._used_triggers.add(trigger)

    def _make_view(self, view: Json, previous: Json | None = None) -> Json:
        view_id = previous["id"] if previous else self._next_id("V")
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08d}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": None,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }

    # -- Web API methods ----------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> Json:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Test Team",
            "user": "signoff",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        self._check_message_payload(args, need_content=True)
        message = self._store_message(
            channel,
            text=args.get("text") or "",
            blocks=args.get("blocks") or [],
            thread_ts=args.get("thread_ts") or None,
            user=BOT_USER_ID,
            bot=True,
        )
        for key in ("attachments", "metadata", "unfurl_links", "mrkdwn", "reply_broadcast"):
            if key in args:
                message[key] = args[key]
        return {"channel": channel, "ts": message["ts"], "message": _public(message)}

    def _store_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[Json],
        thread_ts: Any,
        user: str,
        bot: bool,
    ) -> Json:
        parent: Json | None = None
        if thread_ts is not None:
            thread_ts = str(thread_ts)
            try:
                parent = self._find(channel, thread_ts)
            except _Error:
                parent = None  # a thread whose parent the stand-in never saw: keep thread_ts
            if parent is not None and parent.get("thread_ts") not in (None, thread_ts):
                thread_ts = parent["thread_ts"]  # replying to a reply lands in the same thread
                parent = self._find_or_none(channel, thread_ts)
        ts = self._next_ts()
        message: Json = {"type": "message", "user": user}
        if bot:
            message.update({"bot_id": BOT_ID, "app_id": APP_ID})
        message.update(
            {
                "team": TEAM_ID,
                "channel": channel,
                "ts": ts,
                "thread_ts": thread_ts,
                "text": text,
                "blocks": blocks,
            }
        )
        if parent is not None:
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = ts
            parent["reply_users"] = sorted({*parent.get("reply_users", []), user})
            parent["reply_users_count"] = len(parent["reply_users"])
        self._messages.append(message)
        return message

    def _chat_update(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        ts = str(args.get("ts") or "")
        message = self._find(channel, ts)
        self._check_message_payload(args, need_content=False)
        if "text" in args:
            message["text"] = args["text"] or ""
        if "blocks" in args:
            message["blocks"] = args["blocks"] or []
        if "attachments" in args:
            message["attachments"] = args["attachments"]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": _public(message),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        user = args.get("user")
        if not user:
            raise _Error("user_not_in_channel")
        self._check_message_payload(args, need_content=True)
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "ts": ts,
                "thread_ts": args.get("thread_ts") or None,
                "text": args.get("text") or "",
                "blocks": args.get("blocks") or [],
            }
        )
        return {"message_ts": ts}

    def _chat_delete(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        ts = str(args.get("ts") or "")
        message = self._find(channel, ts)
        self._messages.remove(message)
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        ts = str(args.get("message_ts") or "")
        message = self._find(channel, ts)
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _views_open(self, args: dict[str, Any]) -> Json:
        self._use_trigger(args)
        view = self._make_view(self._check_view(args))
        self.views[view["id"]] = view
        return {"view": copy.deepcopy(view)}

    def _views_push(self, args: dict[str, Any]) -> Json:
        self._use_trigger(args)
        view = self._make_view(self._check_view(args))
        self.views[view["id"]] = view
        return {"view": copy.deepcopy(view)}

    def _views_update(self, args: dict[str, Any]) -> Json:
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        previous: Json | None = None
        if view_id:
            previous = self.views.get(str(view_id))
        elif external_id:
            previous = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise _Error("invalid_arguments")
        if previous is None:
            raise _Error("not_found")
        if args.get("hash") and args["hash"] != previous["hash"]:
            raise _Error("hash_conflict")
        view = self._make_view(self._check_view(args), previous)
        self.views[view["id"]] = view
        return {"view": copy.deepcopy(view)}

    def _views_publish(self, args: dict[str, Any]) -> Json:
        """The App Home tab of ``user_id``: one view per user, replaced by each publish."""
        user = str(args.get("user_id") or "")
        if user not in self.users:
            raise _Error("user_not_found")
        view = self._check_view(args)
        if view.get("type") != "home":
            raise _Error("invalid_arguments", response_metadata={"messages": ["[ERROR] view.type must be home"]})
        previous = self.views.get(self.homes.get(user, ""))
        if args.get("hash") and previous is not None and args["hash"] != previous["hash"]:
            raise _Error("hash_conflict")
        published = self._make_view(view, previous)
        self.views[published["id"]] = published
        self.homes[user] = published["id"]
        return {"view": copy.deepcopy(published)}

    def home(self, user: str) -> Json | None:
        """The App Home view last published for ``user`` (None if none was)."""
        with self._lock:
            view_id = self.homes.get(user)
            return copy.deepcopy(self.views[view_id]) if view_id else None

    def _users_info(self, args: dict[str, Any]) -> Json:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise _Error("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _users_list(self, args: dict[str, Any]) -> Json:
        return {
            "members": copy.deepcopy(list(self.users.values())),
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": ""},
        }

    def _usergroups_users_list(self, args: dict[str, Any]) -> Json:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise _Error("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _conversations_replies(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        ts = str(args.get("ts") or "")
        try:
            parent = self._find(channel, ts)
        except _Error:
            raise _Error("thread_not_found") from None
        root = parent.get("thread_ts") or ts
        thread = [
            _public(m)
            for m in self._messages
            if m["channel"] == channel and (m["ts"] == root or m.get("thread_ts") == root)
        ]
        return {"messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _conversations_open(self, args: dict[str, Any]) -> Json:
        users = args.get("users")
        if args.get("channel"):
            return {"channel": {"id": str(args["channel"])}}
        if not users:
            raise _Error("users_list_not_supplied")
        ids = [u.strip() for u in str(users).split(",") if u.strip()]
        for uid in ids:
            if uid not in self.users:
                raise _Error("user_not_found")
        cid = f"D_{ids[0]}" if len(ids) == 1 else "G_" + "_".join(sorted(ids))
        return {"channel": {"id": cid}, "no_op": False, "already_open": False}

    def _reactions_add(self, args: dict[str, Any]) -> Json:
        channel = self._channel_for(args.get("channel"))
        name = str(args.get("name") or "")
        if not name:
            raise _Error("invalid_name")
        message = self._find(channel, str(args.get("timestamp") or ""))
        reactions: list[Json] = message.setdefault("reactions", [])
        for r in reactions:
            if r["name"] == name:
                if BOT_USER_ID in r["users"]:
                    raise _Error("already_reacted")
                r["users"].append(BOT_USER_ID)
                r["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [BOT_USER_ID], "count": 1})
        return {}

    def _files_get_upload_url_external(self, args: dict[str, Any]) -> Json:
        filename = args.get("filename")
        length = args.get("length")
        if not filename or length in (None, ""):
            raise _Error("invalid_arguments")
        try:
            size = int(length)
        except (TypeError, ValueError):
            raise _Error("invalid_arguments") from None
        file_id = self._next_id("F")
        self._uploads[file_id] = {
            "id": file_id,
            "filename": str(filename),
            "length": size,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "content": b"",
            "uploaded": False,
        }
        return {"upload_url": f"{self.root_url}upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: dict[str, Any]) -> Json:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _Error("invalid_arguments")
        channel_id = args.get("channel_id") or None
        channels_arg = args.get("channels")
        channels = [c for c in str(channels_arg).split(",") if c] if channels_arg else []
        done: list[Json] = []
        for spec in files:
            file_id = spec.get("id") if isinstance(spec, dict) else None
            upload = self._uploads.get(str(file_id))
            if upload is None or not upload["uploaded"]:
                raise _Error("file_not_found")
            title = spec.get("title") or upload["filename"]
            shares = [channel_id] if channel_id else channels
            record = {
                "id": upload["id"],
                "filename": upload["filename"],
                "title": title,
                "content": upload["content"],
                "length": upload["length"],
                "channel_id": channel_id,
                "channels": shares,
                "initial_comment": args.get("initial_comment") or None,
                "thread_ts": args.get("thread_ts") or None,
            }
            self.files.append(record)
            del self._uploads[upload["id"]]
            done.append(
                {
                    "id": upload["id"],
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": upload["filename"],
                    "title": title,
                    "mimetype": "",
                    "filetype": "",
                    "user": BOT_USER_ID,
                    "size": len(upload["content"]),
                    "is_external": False,
                    "channels": shares,
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/"
                    f"{upload['id']}/{upload['filename']}",
                }
            )
        return {"files": done}


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], Json]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._chat_post_message,
    "chat.update": FakeSlack._chat_update,
    "chat.postEphemeral": FakeSlack._chat_post_ephemeral,
    "chat.delete": FakeSlack._chat_delete,
    "chat.getPermalink": FakeSlack._chat_get_permalink,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "views.push": FakeSlack._views_push,
    "views.publish": FakeSlack._views_publish,
    "users.info": FakeSlack._users_info,
    "users.list": FakeSlack._users_list,
    "usergroups.users.list": FakeSlack._usergroups_users_list,
    "conversations.replies": FakeSlack._conversations_replies,
    "conversations.open": FakeSlack._conversations_open,
    "reactions.add": FakeSlack._reactions_add,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url_external,
    "files.completeUploadExternal": FakeSlack._files_complete_upload_external,
}


def _public(message: Json) -> Json:
    """A stored message as Slack returns it (without our bookkeeping ``channel`` key)."""
    out = {k: v for k, v in message.items() if k != "channel" and v is not None}
    return copy.deepcopy(out)


def _short(args: dict[str, Any]) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= 200 else text[:199] + "…"


def _parse_args(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    """Query string + body (form, JSON or multipart), JSON-valued arguments decoded."""
    args: dict[str, Any] = dict(parse_qsl(urlsplit(handler.path).query, keep_blank_values=True))
    ctype = handler.headers.get("Content-Type", "")
    if body:
        if ctype.startswith("application/json"):
            decoded = json.loads(body.decode("utf-8"))
            if isinstance(decoded, dict):
                args.update(decoded)
        elif ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if not isinstance(name, str) or not isinstance(payload, bytes):
                    continue
                if part.get_filename():
                    args[name] = payload
                else:
                    args[name] = payload.decode("utf-8")
        else:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class _Handler(BaseHTTPRequestHandler):
    slack: FakeSlack
    protocol_version = "HTTP/1.1"
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, body: bytes) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/upload/v1/"):
            status, text = self.slack._handle_upload(path.removeprefix("/upload/v1/"), body)
            self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", {})
            return
        if not path.startswith("/api/"):
            self._send(404, b"Not Found", "text/plain; charset=utf-8", {})
            return
        method = path.removeprefix("/api/")
        try:
            args = _parse_args(self, body)
        except (ValueError, UnicodeDecodeError):
            payload = {"ok": False, "error": "invalid_json"}
            self._send(200, json.dumps(payload).encode(), "application/json; charset=utf-8", {})
            return
        token: str | None = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip() or None
        arg_token = args.pop("token", None)
        if token is None and isinstance(arg_token, str) and arg_token:
            token = arg_token
        status, headers, answer = self.slack._handle_api(method, args, token)
        body_out = json.dumps(answer).encode("utf-8")
        self._send(status, body_out, "application/json; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
