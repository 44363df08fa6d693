"""The processes' settings, read from the environment once and checked at start-up.

``Settings`` extends the runtime's own ``runner.settings.RuntimeSettings`` (database, model,
agents, approvers) with what the web app and the worker need (Redis, Slack, the API): one class
hierarchy is the only reader of the environment. Each process asks only for what it uses
(``require_slack()`` in the web app, nothing Slack-ish
in ``signoff audit``), and a missing value is reported as the variable to set and an example.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import NoDecode

from runner.approval import Reminders
from runner.settings import RuntimeSettings, split_list
from storage.errors import ConfigProblems
from storage.timeouts import ESCALATE_AFTER_S, MAX_QUEUED_RUNS_PER_AGENT, REMIND_AFTER_S, RUNS_PER_USER_PER_WINDOW

SLACK_DEFAULT_API_URL = "https://slack.com/api/"

_HINTS = {
    "SLACK_BOT_TOKEN": "the bot token from your Slack app's OAuth page, e.g. export SLACK_BOT_TOKEN=xoxb-...",
    "SLACK_SIGNING_SECRET": "the signing secret from your Slack app's Basic Information page, "
    "e.g. export SLACK_SIGNING_SECRET=8f1e...",
    "SIGNOFF_API_TOKEN": "one or more comma-separated bearer tokens, "
    "e.g. export SIGNOFF_API_TOKEN=$(openssl rand -hex 24)",
}


class Settings(RuntimeSettings):
    redis_url: str = "redis://localhost:6379/0"
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    """An app-level token (``xapp-…``): connect over Socket Mode, no public URL needed."""
    slack_api_url: str = SLACK_DEFAULT_API_URL
    signoff_approvals_channel: str | None = None
    signoff_api_token: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    signoff_queue: str = "signoff"
    signoff_runs_per_minute: int = Field(default=RUNS_PER_USER_PER_WINDOW, ge=1, le=10_000)
    """How many runs one person may start per minute (``/agent``, API, console)."""
    signoff_max_queued_per_agent: int = Field(default=MAX_QUEUED_RUNS_PER_AGENT, ge=1, le=1_000_000)
    """How many runs of one agent may wait for a worker before new starts are refused."""
    signoff_remind_after: float | None = Field(default=REMIND_AFTER_S, gt=0)
    """Seconds after which the people a request waits for are reminded (thread reply + DM); unset: never."""
    signoff_escalate_after: float | None = Field(default=ESCALATE_AFTER_S, gt=0)
    """Seconds after which SIGNOFF_ESCALATE_TO become deciders too and are told; unset: never."""
    signoff_escalate_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Who a request escalates to: Slack user ids or a user group id (comma-separated)."""
    port: int = 3000
    slack_client_id: str | None = None
    """The Slack app's client id (Basic Information): "Sign in with Slack" on the console."""
    slack_client_secret: SecretStr | None = None
    """The Slack app's client secret: exchanges a "Sign in with Slack" code (``openid.connect.token``)."""
    signoff_secret_key: SecretStr | None = None
    """Signs the console's session cookies. Unset: a random key per process (sessions end on restart)."""
    signoff_public_url: str | None = None
    """The console's public base URL (``https://signoff.example.com``): login links and Slack's redirect."""

    _split_tokens = field_validator("signoff_api_token", mode="before")(split_list)
    _split_escalate_to = field_validator("signoff_escalate_to", mode="before")(split_list)

    @field_validator("signoff_remind_after", "signoff_escalate_after", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def reminders(self) -> Reminders:
        """The default reminders and escalation the runtime gives new requirements."""
        return Reminders(self.signoff_remind_after, self.signoff_escalate_after, tuple(self.signoff_escalate_to))

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://, e.g. redis://localhost:6379/0")
        return value

    def slack_problems(self) -> list[tuple[str, str]]:
        """What is missing to serve Slack: (variable, what to set), empty when nothing is."""
        return [
            (name, f"not set: {_HINTS[name]}")
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            )
            if value is None or not value.get_secret_value()
        ]

    @property
    def slack_configured(self) -> bool:
        return not self.slack_problems()

    def require_slack(self) -> tuple[str, str]:
        """The Slack app cannot run without both credentials; say every one that is missing."""
        problems = self.slack_problems()
        if problems:
            raise ConfigProblems(problems)
        assert self.slack_bot_token is not None and self.slack_signing_secret is not None
        return self.slack_bot_token.get_secret_value(), self.slack_signing_secret.get_secret_value()

    def api_tokens(self) -> list[str]:
        return [t.get_secret_value() for t in self.signoff_api_token if t.get_secret_value()]


def load_settings() -> Settings:
    """Build and validate settings; a bad value becomes a ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            (str(e["loc"][0]).upper() if e.get("loc") else "environment", str(e.get("msg"))) for e in exc.errors()
        ]
        raise ConfigProblems(problems) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
