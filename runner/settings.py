"""The runtime's settings: the only place the runtime's environment is read.

``RuntimeSettings`` holds what running an agent needs (the database, the model server, the agents
module, the default approvers) and reads them from the environment (or ``.env``) once, typed and
checked. The processes use ``bot.settings.Settings``, which extends it with Slack and web values,
so one class hierarchy reads the environment and nothing else does. A script that calls
``agent.run`` without a container gets a runtime built from ``RuntimeSettings()``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///signoff.db"
"""The embedded default: a SQLite file in the working directory."""

DEFAULT_MODEL_ID = "gpt-4o-mini"
"""Used when neither ``id=`` nor ``OPENAI_MODEL`` names a model: cheap and supports tools."""


def split_list(value: object) -> object:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: comma-separated lists in one variable."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


@dataclass(frozen=True)
class ModelDefaults:
    """What an ``OpenAIChat`` without explicit arguments talks to (from the settings)."""

    base_url: str | None = None
    api_key: str | None = None
    model_id: str = DEFAULT_MODEL_ID


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    database_url: str = DEFAULT_DATABASE_URL
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_MODEL_ID
    signoff_agents: str = "runner.examples"
    signoff_approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _split_approvers = field_validator("signoff_approvers", mode="before")(split_list)

    def model_defaults(self) -> ModelDefaults:
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
        return ModelDefaults(base_url=self.openai_base_url or None, api_key=key or None, model_id=self.openai_model)


_ENV_NAMES = tuple(f"{name}".upper() for name in RuntimeSettings.model_fields)
_cache: tuple[tuple[object, ...], RuntimeSettings] | None = None
_cache_lock = threading.Lock()


def runtime_settings() -> RuntimeSettings:
    """``RuntimeSettings()``, read again only when its inputs changed (its variables, or the
    ``.env`` file). A script's runs read the settings several times each, and building them
    parses the environment and the file every time (about 2 ms)."""
    global _cache
    dotenv = Path(".env")
    try:
        stamp: object = dotenv.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (stamp, *(os.environ.get(name) for name in _ENV_NAMES))
    with _cache_lock:
        if _cache is None or _cache[0] != key:
            _cache = (key, RuntimeSettings())
        return _cache[1]
