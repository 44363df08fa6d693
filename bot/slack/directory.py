"""``policy.Directory`` backed by Slack's ``usergroups.users.list``, cached for a few minutes.

Synchronous on purpose: it is called from ``runner.decisions.resolve``, which the Slack handlers run
in a worker thread (``asyncio.to_thread``). A group Slack cannot resolve has no members: an unknown
group must never let anyone through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from storage.timeouts import USERGROUP_CACHE_TTL_S

log = logging.getLogger(__name__)


class SlackDirectory:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl_s: float = USERGROUP_CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> set[str]:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(group_id)
            if hit is not None and now - hit[0] < self.ttl_s:
                return set(hit[1])
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
            users = {str(u) for u in (response.get("users") or [])}
        except SlackApiError as exc:
            log.warning("usergroups.users.list %s failed: %s", group_id, exc.response.get("error"))
            if hit is not None:
                return set(hit[1])  # a stale answer beats locking every approver out
            return set()
        except SlackClientError as exc:
            log.warning("usergroups.users.list %s failed: %s", group_id, exc)
            return set(hit[1]) if hit is not None else set()
        with self._lock:
            self._cache[group_id] = (now, users)
        return set(users)

    def invalidate(self, group_id: str | None = None) -> None:
        with self._lock:
            if group_id is None:
                self._cache.clear()
            else:
                self._cache.pop(group_id, None)
