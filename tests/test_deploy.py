"""The deploy files, checked as far as this machine can (no container engine runs here):
the compose file parses and wires what it should, each service's command exists in the installed
package, the Dockerfile runs as a non-root user, and every name in .env.example is a real setting."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings
from tests.test_cli import ROOT, SIGNOFF, signoff

SERVICES = {"postgres", "redis", "migrate", "web", "worker"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_every_service_with_health_checks_and_order() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["command"] == ["signoff", "db", "upgrade"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "web", "worker"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert services[name]["env_file"] == ".env"


def test_each_service_command_exists(tmp_path: Path) -> None:
    services = compose()["services"]
    assert shutil.which("uvicorn") or (SIGNOFF.parent / "uvicorn").exists()
    web = services["web"]["command"]
    assert web[:3] == ["uvicorn", "--factory", "bot.web.app:create_app"]
    from bot.web.app import create_app

    assert callable(create_app)
    for name in ("migrate", "worker"):
        command = services[name]["command"]
        assert command[0] == "signoff"
        done = signoff(*command[1:], "--help", cwd=tmp_path)
        assert done.returncode == 0, (name, done.stderr)


def test_the_dockerfile_is_slim_non_root_and_serves_the_factory() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER signoff", text, re.M)
    assert '"--factory", "bot.web.app:create_app"' in text and "HEALTHCHECK" in text


def test_every_name_in_env_example_is_a_real_setting() -> None:
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    fields = {name.upper() for name in Settings.model_fields}
    assert names and set(names) <= fields, set(names) - fields
    assert fields <= set(names), f"settings missing from .env.example: {fields - set(names)}"
