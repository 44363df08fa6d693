"""The App Home tab kept current: built from SQL, published with ``views.publish``, debounced.

``HomePublisher`` reads what a person's Home shows (``DecisionService.pending_for`` as an
approver, their own recent runs as a requester) and publishes ``bot.slack.home.home_view`` with
slack_sdk's synchronous client (it runs off the event loop: in ``asyncio.to_thread`` for
``app_home_opened``, in the refresher's thread otherwise).

``HomeRefresher`` is a ``RunListener`` registered with the decision service (web process) and the
runtime (worker): when a run pauses, a request is decided, escalated or its arguments edited, the
Homes of the people concerned (the requester, the approvers named by the request or
``SIGNOFF_APPROVERS`` with user groups expanded through the directory, whoever decided) are
republished, at most once per person per ``HOME_REFRESH_DEBOUNCE_S``. The first change for a
person publishes at once; later ones within the window are coalesced into one publish at the
window's end, which reads SQL then and so shows all of them.

Why an in-process coalescing queue and not a Redis key per person (``SET NX PX``): a Redis TTL
runs on Redis's wall clock, so a test could only check the window by sleeping, and a process that
took the key and died would silently drop the trailing publish. Here the window runs on an
injected clock (``flush()`` is what the timer thread calls, and what a test calls), and the cost
is that the web process and a worker each debounce their own events: a person can get one publish
from each per window. ``views.publish`` replaces the whole view, so a duplicate is harmless, and
its rate limit is generous. In a forked RQ job (a child process whose timer thread would die with
it) the refresher publishes in the caller's thread instead. A Slack or SQL failure is logged and
never reaches the decision, which is already in SQL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import home
from bot.slack.notifier import CARD, card_options
from runner import policy
from runner.listener import RunListener
from storage.errors import SignoffError
from storage.records import Principal, RequirementRecord, RunRecord
from storage.timeouts import (
    HOME_PERMALINK_CACHE,
    HOME_RECENT_RUNS,
    HOME_REFRESH_DEBOUNCE_S,
    HOME_RUNS_SCANNED,
)

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:3000"
"""Where the console is linked when ``SIGNOFF_PUBLIC_URL`` is not set (``signoff dev``'s web app)."""


def is_user_id(ident: str | None) -> bool:
    """A Slack user id a Home can be published for (``U…``/``W…``); groups and services are not."""
    return (
        bool(ident) and str(ident)[:1] in ("U", "W") and len(str(ident)) <= 64 and str(ident).replace("_", "").isalnum()
    )


class HomePublisher:
    """Builds a person's Home from SQL and publishes it (blocking: call it off the event loop)."""

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps = deps
        self.client = client
        self._links: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------

    def view_for(self, user: str) -> dict[str, Any]:
        deps = self.deps
        pending = deps.service.pending_for(Principal(user))
        items = [self._item(req, run) for req, run in pending.shown]
        runs = [self._recent(run) for run in self._runs_of(user)]
        public = deps.settings.signoff_public_url or DEFAULT_PUBLIC_URL
        return home.home_view(
            pending_total=pending.total,
            pending=items,
            runs=runs,
            console=home.console_url(public),
            now=deps.clock(),
        )

    def _item(self, req: RequirementRecord, run: RunRecord) -> home.PendingItem:
        options = card_options(req, self.deps.registry.tool_for(run, req))
        cards_of = [m for m in self.deps.db.slack_messages(requirement_id=req.id) if m.purpose == CARD]
        link = self.permalink(cards_of[0].channel, cards_of[0].ts) if cards_of else self._thread(run)
        return home.PendingItem(
            req, run, options["declared"], bool(options["editable"]), self._votes(req), thread_link=link
        )

    def _recent(self, run: RunRecord) -> home.RecentRun:
        waiting = 0 if run.is_finished else self.deps.db.count_pending(run.id)  # a count, not the rows
        return home.RecentRun(run, self._thread(run), waiting)

    def _runs_of(self, user: str) -> list[RunRecord]:
        """The newest runs ``user`` started (read from the newest ``HOME_RUNS_SCANNED`` runs)."""
        mine = [r for r in self.deps.db.list_runs(limit=HOME_RUNS_SCANNED) if r.requester == user]
        return mine[:HOME_RECENT_RUNS]

    def _votes(self, req: RequirementRecord) -> int | None:
        if not (req.approval_type == "required" and req.quorum > 1):
            return None
        approval = self.deps.db.approval_for_requirement(req.id)
        return None if approval is None else int(self.deps.db.count_votes(approval.id, req.current_hash))

    def _thread(self, run: RunRecord) -> str | None:
        return self.permalink(run.channel, run.thread_ts) if run.channel and run.thread_ts else None

    def permalink(self, channel: str, ts: str) -> str | None:
        """A message's permalink, remembered (it never changes); None when Slack will not say."""
        key = (channel, ts)
        with self._lock:
            if key in self._links:
                self._links.move_to_end(key)
                return self._links[key]
        try:
            link: str | None = str(self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink"))
        except (SlackApiError, SlackClientError) as exc:
            log.info("chat.getPermalink for the App Home failed: %s", exc)
            return None  # not remembered: it may work next time
        with self._lock:
            self._links[key] = link
            while len(self._links) > HOME_PERMALINK_CACHE:
                self._links.popitem(last=False)
        return link

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, user: str) -> bool:
        """Publish ``user``'s Home now; False (logged) when it could not be built or sent."""
        if not is_user_id(user):
            return False
        try:
            view = self.view_for(user)
            self.client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user, exc.response.get("error"))
            return False
        except (SlackClientError, SignoffError) as exc:
            log.warning("the App Home of %s could not be published: %s", user, exc)
            return False
        return True


class Audience:
    """Who sees a change on their Home: the requester, the approvers (groups expanded), the decider."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def of(self, run: RunRecord, requirements: Iterable[RequirementRecord]) -> set[str]:
        settings = self.deps.settings
        people: set[str] = {run.requester} if run.requester else set()
        for req in requirements:
            named = list(policy.approvers_for(req, settings.signoff_approvers)) + list(req.escalate_to or [])
            for ident in named:
                if policy.is_group(ident):
                    people |= self.deps.directory.members(ident)
                else:
                    people.add(ident)
            people |= {p for p in (req.requester, req.resolved_by) if p}
        return {p for p in people if is_user_id(p)}


class HomeRefresher(RunListener):
    """Republishes the Homes a change concerns, at most once per person per window (see the module)."""

    def __init__(
        self,
        publish: Callable[[str], object],
        audience: Callable[[RunRecord, Sequence[RequirementRecord]], set[str]],
        requirements_of: Callable[[RunRecord], Sequence[RequirementRecord]] = lambda run: (),
        *,
        window_s: float = HOME_REFRESH_DEBOUNCE_S,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.publish = publish
        self.audience = audience
        self.requirements_of = requirements_of
        self.window_s = window_s
        self.clock = clock
        self.background = background
        """False: nothing publishes until ``flush()`` is called (tests drive the clock)."""
        self._due: dict[str, float] = {}
        self._published: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._pid = os.getpid()

    # -- listener hooks ------------------------------------------------------------------------

    def on_started(self, run: RunRecord) -> None:
        self._changed(run, ())

    def on_paused(self, run: RunRecord, requirements: Sequence[RequirementRecord]) -> None:
        self._changed(run, requirements)

    def on_completed(self, run: RunRecord) -> None:
        self._changed(run, ())

    def on_failed(self, run: RunRecord) -> None:
        self._changed(run, ())

    def on_cancelled(self, run: RunRecord) -> None:
        self._changed(run, self.requirements_of(run))

    def on_resolved(self, run: RunRecord, requirement: RequirementRecord) -> None:
        self._changed(run, [requirement])

    def on_escalated(self, run: RunRecord, requirement: RequirementRecord) -> None:
        self._changed(run, [requirement])

    def on_args_changed(
        self, run: RunRecord, requirement: RequirementRecord, editor: str, reset_voters: Sequence[str]
    ) -> None:
        self._changed(run, [requirement])

    def _changed(self, run: RunRecord, requirements: Sequence[RequirementRecord]) -> None:
        self.touch(self.audience(run, requirements))

    # -- the debounce --------------------------------------------------------------------------

    def touch(self, users: Iterable[str]) -> None:
        """Something changed for ``users``: publish each now, or at the end of their window."""
        now = self.clock()
        with self._lock:
            for user in users:
                if user in self._due:
                    continue  # already coming: that publish reads SQL then and shows this too
                last = self._published.get(user)
                self._due[user] = now if last is None or now - last >= self.window_s else last + self.window_s
        if os.getpid() != self._pid:
            # A forked RQ job: no timer thread would outlive it, so publish everything due now.
            self.flush(force=True)
        elif self.background:
            self._ensure_thread()
            self._wake.set()

    def flush(self, *, force: bool = False) -> list[str]:
        """Publish the Homes whose time has come (all of them with ``force``); returns whose."""
        now = self.clock()
        with self._lock:
            ready = sorted(u for u, due in self._due.items() if force or due <= now)
            for user in ready:
                del self._due[user]
                self._published[user] = now
            for user, at in list(self._published.items()):
                if now - at >= self.window_s and user not in ready:
                    del self._published[user]  # its window is over: nothing to remember
        for user in ready:
            try:
                self.publish(user)
            except Exception as exc:  # a Home is a convenience: never an error that fails anything else
                log.warning("publishing the App Home of %s failed: %s", user, exc)
        return ready

    def next_due(self) -> float | None:
        with self._lock:
            return min(self._due.values()) if self._due else None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, name="signoff-home-refresh", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self.flush()
            due = self.next_due()
            timeout = None if due is None else max(0.0, due - self.clock())
            self._wake.wait(timeout)
            self._wake.clear()

    def close(self) -> None:
        """Stop the timer thread and wait for it (what is still due is dropped: the next change
        or visit republishes)."""
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=HOME_REFRESH_DEBOUNCE_S + 5)


def make_refresher(deps: Deps, publisher: HomePublisher) -> HomeRefresher:
    audience = Audience(deps)
    return HomeRefresher(
        publisher.publish,
        audience.of,
        lambda run: deps.db.requirements_for_run(run.id),
    )


class HomeTab:
    """The ``app_home_opened`` listener: publish the viewer's Home, off the event loop."""

    def __init__(self, publisher: HomePublisher) -> None:
        self.publisher = publisher

    async def opened(self, event: dict[str, Any]) -> None:
        """bolt acknowledges events itself; only the Home tab is published (not the Messages tab)."""
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        if not is_user_id(user):
            return
        try:
            await asyncio.to_thread(self.publisher.publish, user)
        except Exception:  # e.g. the database is unreachable: the tab keeps its last view
            log.warning("the App Home of %s could not be built", user, exc_info=True)
