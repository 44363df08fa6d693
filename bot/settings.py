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

from runner.settings import RuntimeSettings, split_list
from storage.errors import ConfigProblems
from storage.timeouts import MAX_QUEUED_RUNS_PER_AGENT, RUNS_PER_USER_PER_WINDOW

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
    port: int = 3000

    _split_tokens = field_validator("signoff_api_token", mode="before")(split_list)

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
