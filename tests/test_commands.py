"""``/agent`` text parsing: pure, no Slack."""

from __future__ import annotations

import json

import pytest

from bot import cards
from bot.blockkit import validate_message
from bot.commands import Cancel, Help, ListTargets, Start, Status, Usage, help_text, parse
from runner.registry import describe, load

IDS = ["customer-email", "finance", "infra"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("finance Refund $120 to customer 42", Start("finance", "Refund $120 to customer 42")),
        ("  infra   restart api in staging  ", Start("infra", "restart api in staging")),
        ("finance\nRefund $5", Start("finance", "Refund $5")),
        ("list", ListTargets()),
        ("LIST", ListTargets()),
        ("help", Help()),
        ("--help", Help()),
        ("status 01ABC", Status("01ABC")),
        ("cancel 01ABC", Cancel("01ABC")),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse(text, IDS) == expected


def test_prompt_keeps_its_text_verbatim() -> None:
    cmd = parse("customer-email Write to <mailto:a@b.c|a@b.c>: `hi` & thanks", IDS)
    assert cmd == Start("customer-email", "Write to <mailto:a@b.c|a@b.c>: `hi` & thanks")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_gives_usage(text: str | None) -> None:
    cmd = parse(text, IDS)
    assert isinstance(cmd, Usage)
    assert "/agent <agent> <prompt>" in cmd.message


def test_unknown_agent_lists_the_known_ones() -> None:
    cmd = parse("payroll pay everyone twice", IDS)
    assert isinstance(cmd, Usage)
    assert "`payroll`" in cmd.message
    for agent_id in IDS:
        assert f"`{agent_id}`" in cmd.message
    assert "/agent list" in cmd.message


def test_close_match_is_suggested() -> None:
    cmd = parse("fin refund", IDS)
    assert isinstance(cmd, Usage) and "Did you mean `finance`?" in cmd.message


def test_empty_prompt_says_what_to_type() -> None:
    cmd = parse("finance", IDS)
    assert isinstance(cmd, Usage)
    assert "/agent finance <prompt>" in cmd.message


@pytest.mark.parametrize("text", ["status", "cancel", "status a b", "cancel  "])
def test_run_commands_need_one_id(text: str) -> None:
    cmd = parse(text, IDS)
    assert isinstance(cmd, Usage) and "<run_id>" in cmd.message


def test_list_takes_no_argument() -> None:
    assert isinstance(parse("list everything", IDS), Usage)


def test_help_mentions_every_subcommand() -> None:
    text = help_text(IDS)
    for word in ("list", "status <run_id>", "cancel <run_id>", "help", "/approvals"):
        assert word in text


def test_bundled_examples_are_listed_and_startable() -> None:
    """The default SIGNOFF_AGENTS: the seed's agents, the support team and the data pipeline."""
    registry = load("runner.examples")
    assert registry.ids() == ["customer-email", "finance", "infra", "support", "data-pipeline"]
    assert {t.id: t.kind for t in registry}["support"] == "team"
    pipeline = registry.get("data-pipeline")
    assert pipeline.kind == "workflow"
    assert [(s.name, s.requires_confirmation) for s in pipeline.steps_list] == [
        ("Collect", False),
        ("Transform", False),
        ("Publish", True),
    ]
    assert pipeline.step("Publish").confirmation_message
    ids = registry.ids()
    assert parse("data-pipeline Run the weekly report", ids) == Start("data-pipeline", "Run the weekly report")
    assert parse("support Refund customer 42", ids) == Start("support", "Refund customer 42")
    text, blocks = cards.targets_message((t.id, str(t.kind), describe(t)) for t in registry)
    assert not validate_message(blocks, text)
    listed = json.dumps(blocks)
    assert "`data-pipeline` (workflow)" in listed and "`support` (team)" in listed and "`finance` (agent)" in listed
    assert "data-pipeline" in text and "support" in text
