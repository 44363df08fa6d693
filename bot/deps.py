"""The container: what the web app, the worker and the CLI are built from, once, from ``Settings``.

``build_deps(settings)`` is the factory; everything else is derived from it on first use: the
Slack notifier (when Slack is configured), the user-group directory, the runtime a worker's jobs
run with, and the one decision service every surface of the process calls. Tests build their own
with the same factory, giving it a database, a Redis or a registry of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue

from bot.settings import Settings
from runner import policy
from runner.decisions import DecisionService, StartLimits
from runner.jobs import make_queue
from runner.listener import RunListener
from runner.registry import Registry, load
from runner.runtime import Runtime
from storage.codec import utcnow
from storage.database import Database

if TYPE_CHECKING:
    from bot.slack.cards_sync import CardQueue
    from bot.slack.home_sync import HomePublisher, HomeRefresher
    from bot.slack.notifier import SlackNotifier


@dataclass
class Deps:
    settings: Settings
    db: Database
    redis: Redis
    queue: Queue
    registry: Registry
    clock: Callable[[], datetime] = field(default=utcnow)

    def close(self) -> None:
        """Stop what this container started (the App Home refresher's timer, the card-update
        queue's threads, after what is queued); the database and Redis connections are the
        caller's to dispose."""
        refresher = self.__dict__.get("home_refresher")
        if refresher is not None:
            refresher.close()
        self.close_card_queue()

    def close_card_queue(self) -> None:
        """Finish the card updates already queued (bounded by ``CARD_UPDATE_DRAIN_S``) and stop
        the queue's threads: the web process's shutdown, so a decision's card is not left stale."""
        card_queue = self.__dict__.get("card_queue")
        if card_queue is not None:
            card_queue.close()

    def slack_configured(self) -> bool:
        token = self.settings.slack_bot_token
        return token is not None and bool(token.get_secret_value())

    @cached_property
    def notifier(self) -> SlackNotifier | None:
        """Posts and updates Slack messages for runs; None without a bot token."""
        if not self.slack_configured():
            return None
        from bot.slack.notifier import SlackNotifier

        return SlackNotifier.from_settings(self.settings, self.db, self.registry)

    @cached_property
    def runtime(self) -> Runtime:
        """What runs driven in this process use: the database, Slack, the model server, approvers."""
        listeners: list[RunListener] = [self.notifier] if self.notifier is not None else []
        if self.home_refresher is not None:
            listeners.append(self.home_refresher)  # a pause or an answer changes people's App Homes
        return Runtime(
            self.db,
            listeners,
            model_defaults=self.settings.model_defaults(),
            approvers=list(self.settings.signoff_approvers),
        )

    @cached_property
    def directory(self) -> policy.Directory:
        """User groups from Slack (cached) when Slack is configured; otherwise nobody is in one."""
        if self.slack_configured():
            from bot.slack.directory import SlackDirectory
            from bot.slack.notifier import make_web_client

            return SlackDirectory(make_web_client(self.settings))
        return policy.StaticDirectory()

    @cached_property
    def listeners(self) -> list[RunListener]:
        """What a decision made in this process tells: Slack's cards, when Slack is configured."""
        if self.notifier is None:
            return []
        from bot.slack.cards_sync import CardSync

        listeners: list[RunListener] = [CardSync(self.notifier, self.db, self.card_queue)]
        if self.home_refresher is not None:
            listeners.append(self.home_refresher)
        return listeners

    @cached_property
    def card_queue(self) -> CardQueue:
        """Where this process's decisions queue their Slack card updates: threads of its own, so
        a decision returns once SQL has it and the listeners' thread pool stays free."""
        from bot.slack.cards_sync import CardQueue

        return CardQueue()

    @cached_property
    def home_publisher(self) -> HomePublisher | None:
        """Builds and publishes people's App Home tabs; None without a bot token."""
        if self.notifier is None:
            return None
        from bot.slack.home_sync import HomePublisher

        return HomePublisher(self, self.notifier.client)

    @cached_property
    def home_refresher(self) -> HomeRefresher | None:
        """Republishes the App Homes a change concerns, debounced; one per process, for both the
        decision service's listeners and the runtime's."""
        if self.home_publisher is None:
            return None
        from bot.slack.home_sync import make_refresher

        return make_refresher(self, self.home_publisher)

    @cached_property
    def service(self) -> DecisionService:
        """The one decision service of this process: every surface decides, starts and cancels here."""
        return DecisionService(
            self.db,
            registry=self.registry,
            default_approvers=self.settings.signoff_approvers,
            directory=self.directory,
            queue=self.queue,
            listeners=self.listeners,
            limits=StartLimits(
                per_user=self.settings.signoff_runs_per_minute,
                queued_per_agent=self.settings.signoff_max_queued_per_agent,
            ),
        )


def build_deps(
    settings: Settings, *, db: Database | None = None, redis: Redis | None = None, registry: Registry | None = None
) -> Deps:
    database = db or Database.open(settings.database_url)
    connection = redis or Redis.from_url(settings.redis_url)
    return Deps(
        settings=settings,
        db=database,
        redis=connection,
        queue=make_queue(connection, settings.signoff_queue),
        registry=registry or load(settings.signoff_agents),
        clock=database.clock,
    )
