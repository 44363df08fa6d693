"""Preflight: everything a process needs, checked at start, every problem reported at once.

``signoff dev``, ``signoff worker`` and the web app run :func:`check` before they start. Each
finding is one line: what is wrong and what to set. Fatal ones stop the process (exit 1, every
line printed); warnings are printed and the process goes on. Nothing here prints a traceback for
a person's mistake.

Checked: the settings themselves (``load_settings`` reports every bad value), the database
(always said which: file path, or host and name; its schema version), Redis, Slack's
``auth.test`` with the bot token, the model server (``models.list``, skippable), and whether a
``required`` approval exists that nobody is configured to decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from redis import Redis
from redis.exceptions import RedisError

from bot.settings import Settings
from runner.protocols import Runnable
from runner.registry import Registry
from runner.team import Team
from runner.tools import Function, Toolkit
from runner.workflow import Workflow
from storage.database import Database
from storage.errors import ConfigError, ConfigProblems, SignoffError
from storage.timeouts import PREFLIGHT_TIMEOUT_S

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What a preflight found: facts to show, warnings, and problems that stop the process."""

    facts: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def fact(self, name: str, value: str) -> None:
        self.facts.append((name, value))

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigProblems(self.problems)


def check_database(settings: Settings, report: Report, *, create: bool) -> Database | None:
    try:
        db = Database.open(settings.database_url, create=create)
    except SignoffError as exc:
        report.problems.append(("DATABASE_URL", exc.message.removeprefix("DATABASE_URL: ")))
        return None
    except Exception as exc:  # a driver error: say which database and what it said
        described = Database(settings.database_url).describe()
        report.problems.append(("DATABASE_URL", f"cannot open the {described}: {type(exc).__name__}: {exc}"))
        return None
    report.fact("database", db.describe())
    return db


def check_redis(url: str, report: Report) -> Redis | None:
    connection = Redis.from_url(url, socket_connect_timeout=PREFLIGHT_TIMEOUT_S)
    try:
        connection.ping()
    except RedisError as exc:
        report.problems.append(
            ("REDIS_URL", f"cannot reach Redis at {url} ({exc}); start one (redis-server) or point REDIS_URL at one")
        )
        return None
    report.fact("redis", url)
    return connection


def check_slack(settings: Settings, report: Report, *, required: bool) -> None:
    """Missing credentials are a problem when Slack is required (production) and a note otherwise;
    a token Slack refuses is always a problem."""
    missing = settings.slack_problems()
    if missing:
        if required:
            report.problems.extend(missing)
        else:
            report.fact("slack", "not connected (terminal mode, the API and the console work without it)")
        return
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(PREFLIGHT_TIMEOUT_S),
    )
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        report.problems.append(
            ("SLACK_BOT_TOKEN", f"Slack refused it ({exc.response.get('error')}): copy the Bot User OAuth Token "
                                "(xoxb-...) from your app's OAuth & Permissions page")
        )
        return
    except (SlackClientError, OSError) as exc:
        report.problems.append(("SLACK_API_URL", f"cannot reach Slack at {settings.slack_api_url} ({exc})"))
        return
    mode = "Socket Mode" if settings.slack_app_token else "HTTP (POST /slack/events)"
    report.fact("slack", f"workspace {who.get('team')!s} as @{who.get('user')!s}, {mode}")


NO_MODEL = (
    "no model is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for any OpenAI-compatible "
    "server (a local one too, e.g. http://localhost:11434/v1 for Ollama) and OPENAI_MODEL"
)


def check_model(settings: Settings, report: Report, *, required: bool = True) -> None:
    """``models.list`` on the configured server; a model it does not list is a warning. With no
    model configured at all, ``required`` makes it a problem (a worker), else a warning (dev)."""
    defaults = settings.model_defaults()
    if not defaults.api_key and not defaults.base_url:
        if required:
            report.problems.append(("OPENAI_API_KEY", NO_MODEL))
        else:
            report.warnings.append(f"OPENAI_API_KEY: {NO_MODEL}; until then every run fails at its first model call")
        return
    import openai

    client = openai.OpenAI(
        api_key=defaults.api_key or "not-needed",
        base_url=defaults.base_url,
        timeout=PREFLIGHT_TIMEOUT_S,
        max_retries=0,
    )
    where = defaults.base_url or "OpenAI"
    try:
        ids = [m.id for m in client.models.list()]
    except openai.AuthenticationError:
        report.problems.append(("OPENAI_API_KEY", f"the model server at {where} refused the key"))
        return
    except openai.OpenAIError as exc:
        report.problems.append(("OPENAI_BASE_URL", f"cannot list models at {where} ({type(exc).__name__}: {exc})"))
        return
    finally:
        client.close()
    if ids and defaults.model_id not in ids:
        shown = ", ".join(ids[:5])
        report.warnings.append(f"OPENAI_MODEL: {defaults.model_id!r} is not listed by {where} (it has {shown})")
    report.fact("model", f"{defaults.model_id} at {where}")


def _functions(target: Runnable) -> Iterator[tuple[str, Function]]:
    """The tools of an agent, a team (and its members) or a workflow's steps, without connecting
    to MCP servers (toolkits whose tools exist only once connected are skipped)."""
    if isinstance(target, Workflow):
        for step in target.leaf_steps():
            if step.target is not None:
                yield from _functions(step.target)
        return
    tools = getattr(target, "tools", [])
    for item in tools:
        if isinstance(item, Function):
            yield target.name, item
        elif type(item) is Toolkit:
            yield from ((target.name, fn) for fn in item.base_functions())
    if isinstance(target, Team):
        for member in target.members:
            yield from _functions(member)


def check_approvers(settings: Settings, registry: Registry, report: Report) -> None:
    """A ``required`` approval that nobody is configured to decide can never be approved."""
    if settings.signoff_approvers:
        report.fact("approvers", ", ".join(settings.signoff_approvers))
        return
    orphans = sorted(
        {
            f"{owner}.{fn.name}"
            for target in registry
            for owner, fn in _functions(target)
            if fn.approval is not None and fn.approval.type == "required" and not fn.approval.approvers
        }
    )
    if orphans:
        report.warnings.append(
            f"SIGNOFF_APPROVERS is empty, so nobody can approve {', '.join(orphans)}: set it to the Slack user "
            "ids (or user-group ids) of your approvers, e.g. SIGNOFF_APPROVERS=U012ABCDEF; a requester never "
            "approves their own request"
        )


def check(
    settings: Settings,
    registry: Registry,
    *,
    need_slack: bool,
    model: bool = True,
    model_required: bool = True,
    redis: bool = True,
    create_database: bool = False,
) -> tuple[Report, Database | None]:
    """Run every check; the caller shows the report and calls ``raise_problems``."""
    report = Report()
    db = check_database(settings, report, create=create_database)
    if redis:
        connection = check_redis(settings.redis_url, report)
        if connection is not None:
            connection.close()
    check_slack(settings, report, required=need_slack)
    if model:
        check_model(settings, report, required=model_required)
    check_approvers(settings, registry, report)
    return report, db


def load_registry(settings: Settings, report: Report) -> Registry | None:
    from runner.registry import load

    try:
        return load(settings.signoff_agents)
    except ConfigError as exc:
        report.problems.append((exc.variable, exc.message.removeprefix(f"{exc.variable}: ")))
        return None
