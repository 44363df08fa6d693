"""Agno's human-in-the-loop cookbook, run against signoff with only the imports changed (issue 13).

Each example in ``examples/`` is Agno's file verbatim but for its import lines (see
``port_examples.py``). The table (``cases_agents.py``, ``cases_workflows.py``) gives each one the
scripted model's replies, what the person types, and what a user would check afterwards on screen
and in the database. Examples signoff cannot run yet are strict xfails naming what is missing;
examples outside the scope of issue 13 are listed in ``OUT_OF_SCOPE`` with the reason.
"""

from __future__ import annotations

import builtins
import json
import random
import runpy
from pathlib import Path

import pytest
from rich.prompt import Prompt

from storage import Database
from tests.agno_cookbook import shims
from tests.agno_cookbook.cases_agents import AGENT_CASES
from tests.agno_cookbook.cases_workflows import WORKFLOW_CASES
from tests.agno_cookbook.harness import EXAMPLES_DIR, Example, Keyboard, Stored, fake_hn_get
from tests.conftest import migrated
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.cookbook

OUT_OF_SCOPE = {
    "02_agents/10_human_in_the_loop/confirmation_advanced.py": "uses Agno's WikipediaTools (an unrelated toolkit)",
    "02_agents/10_human_in_the_loop/confirmation_toolkit.py": "uses Agno's WebSearchTools (an unrelated toolkit)",
    "02_agents/10_human_in_the_loop/confirmation_required_mcp_toolkit.py": (
        "needs the remote MCP server https://docs.agno.com/mcp"
    ),
}
"""Examples not run, with the reason (issue 13: unrelated toolkits, other model classes, remote MCP)."""

CASES: tuple[Example, ...] = AGENT_CASES + WORKFLOW_CASES

EXAMPLE_TIMEOUT_S = 30
"""An example runs in about a second; one that loops on a run that never leaves its pause (an
example's ``while run_output.is_paused`` when a requirement it cannot see stays open) fails here."""


def _params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=case.path.removesuffix(".py"), marks=marks))
    return params


def test_every_example_is_run_or_listed_out_of_scope() -> None:
    on_disk = {str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES_DIR.rglob("*.py")}
    run = [case.path for case in CASES]
    assert len(run) == len(set(run)), "an example is in the table twice"
    assert set(run).isdisjoint(OUT_OF_SCOPE)
    assert on_disk == set(run) | set(OUT_OF_SCOPE)


def test_docs_table_says_what_the_test_table_says() -> None:
    """docs/agno_parity.md lists every example with the result this table expects (pass, xfail,
    out of scope), so the note cannot drift from what CI runs."""
    docs = (Path(__file__).parents[2] / "docs" / "agno_parity.md").read_text()
    section = docs[docs.index("## Cookbook examples") :]
    listed = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].endswith(".py"):
            listed[cells[0]] = cells[1]
    expected = {case.path: "xfail" if case.xfail else "passes" for case in CASES}
    expected |= dict.fromkeys(OUT_OF_SCOPE, "out of scope")
    assert listed == expected


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory the example runs in (its ``tmp/*.db`` files land here), wide enough for rich."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setattr("httpx.get", fake_hn_get)
    return work


@pytest.mark.timeout(EXAMPLE_TIMEOUT_S)
@pytest.mark.parametrize("case", _params())
def test_example(
    case: Example,
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    urls = []
    if case.uses_postgres:
        pg_url: str = request.getfixturevalue("pg_url")
        migrated(pg_url).dispose()
        monkeypatch.setenv(shims.PG_URL_ENV, pg_url)
        urls.append(pg_url)
    fake_openai.script(*case.replies)
    keyboard = Keyboard(list(case.typed))
    monkeypatch.setattr(builtins, "input", keyboard.answer)
    monkeypatch.setattr(Prompt, "ask", keyboard.prompt_ask)
    if case.random_value is not None:
        monkeypatch.setattr(random, "random", lambda: case.random_value)

    try:
        runpy.run_path(str(case.file), run_name="__main__")
    finally:
        for database in shims.opened:
            database.dispose()
        shims.opened.clear()

    printed = capsys.readouterr().out
    for text in case.printed:
        assert text in printed, f"{text!r} not printed; the example printed:\n{printed}"
    assert keyboard.lines == [], f"typed lines never asked for: {keyboard.lines} (asked: {keyboard.asked})"
    assert fake_openai.remaining() == 0, "the model was asked fewer times than the script expects"
    sent = json.dumps([request["messages"] for request in fake_openai.requests])
    for text in case.model_saw:
        assert text in sent, f"{text!r} never reached the model; it was sent: {sent}"

    urls += [f"sqlite:///{path}" for path in sorted(workdir.rglob("*.db"))]
    if (tmp_path / "default.db").exists():
        urls.append(f"sqlite:///{tmp_path / 'default.db'}")
    databases = [Database(url) for url in urls]
    try:
        case.stored(Stored.read(databases))
    finally:
        for database in databases:
            database.dispose()
