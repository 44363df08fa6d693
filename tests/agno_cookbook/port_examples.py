"""Copy Agno's HITL cookbook examples into ``examples/`` with only their import lines changed.

Run from the repository root with the agno mirror at hand (``python -m
tests.agno_cookbook.port_examples /path/to/agno``). Kept so the port can be redone against a newer
snapshot and so the import mapping is written down in one place: every other line is verbatim.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SNAPSHOT = "9644f22"
"""The agno-agi/agno commit the examples were copied from."""

FOLDERS = (
    "cookbook/02_agents/10_human_in_the_loop/",
    "cookbook/02_agents/11_approvals/",
    "cookbook/03_teams/20_human_in_the_loop/",
    "cookbook/04_workflows/08_human_in_the_loop/",
)

MODULES = {
    "agno.agent": "runner",
    "agno.approval": "runner",
    "agno.team": "runner",
    "agno.team.team": "runner",
    "agno.tools": "runner",
    "agno.tools.function": "runner",
    "agno.tools.user_feedback": "runner",
    "agno.tools.user_control_flow": "runner",
    "agno.run": "runner",
    "agno.run.agent": "runner",
    "agno.run.team": "runner",
    "agno.run.workflow": "runner",
    "agno.utils": "runner",
    "agno.models.openai": "runner.models",
    "agno.workflow": "runner.workflow",
    "agno.workflow.workflow": "runner.workflow",
    "agno.workflow.step": "runner.workflow",
    "agno.workflow.steps": "runner.workflow",
    "agno.workflow.types": "runner.workflow",
    "agno.workflow.router": "runner.workflow",
    "agno.workflow.condition": "runner.workflow",
    "agno.workflow.loop": "runner.workflow",
    "agno.workflow.decorators": "runner.workflow",
    "agno.db.sqlite": "storage",
    "agno.db.postgres": "tests.agno_cookbook.shims",
}
"""Agno module -> the signoff module that holds the same names (toolkits unrelated to HITL have
no entry: those examples are out of scope and keep their Agno import)."""

RENAMED = {"OpenAIResponses": "OpenAIChat as OpenAIResponses"}
"""Agno names signoff spells differently; ``as`` keeps the example's own name."""

_FROM = re.compile(r"^from (agno[\w.]*) import (.*)$")


def port_imports(source: str) -> str:
    """The example with each ``from agno... import`` statement pointed at signoff; nothing else."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _FROM.match(line.rstrip("\n"))
        if match is None or match.group(1) not in MODULES:
            out.append(line)
            index += 1
            continue
        target = MODULES[match.group(1)]
        names = match.group(2)
        block = [line]
        if names.strip() == "(":
            index += 1
            while not lines[index].strip().startswith(")"):
                block.append(lines[index])
                index += 1
            block.append(lines[index])
        rewritten = "".join(block).replace(f"from {match.group(1)} import", f"from {target} import", 1)
        for agno_name, ours in RENAMED.items():
            rewritten = re.sub(rf"\b{agno_name}\b(?! as)", ours, rewritten)
        out.append(rewritten)
        index += 1
    return "".join(out)


def header(path: str) -> str:
    return (
        f"# Ported from agno-agi/agno {path}\n"
        f"# at snapshot {SNAPSHOT}: imports changed only (tests/agno_cookbook/port_examples.py).\n"
        "# Run by tests/agno_cookbook/test_cookbook.py with a scripted OpenAI-compatible model.\n"
    )


def main(agno_repo: str) -> None:
    listing = subprocess.run(
        ["git", "-C", agno_repo, "ls-tree", "-r", "--name-only", "HEAD", "cookbook"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    here = Path(__file__).parent / "examples"
    for path in listing:
        if not path.endswith(".py") or path.endswith("__init__.py") or not path.startswith(FOLDERS):
            continue
        source = subprocess.run(
            ["git", "-C", agno_repo, "show", f"HEAD:{path}"], check=True, capture_output=True, text=True
        ).stdout
        target = here / path.removeprefix("cookbook/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header(path) + port_imports(source))


if __name__ == "__main__":
    main(sys.argv[1])
