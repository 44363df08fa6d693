"""``/agent`` text parsing: pure, no Slack."""

from __future__ import annotations

import pytest

from bot.commands import Cancel, Help, ListTargets, Start, Status, Usage, help_text, parse

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
