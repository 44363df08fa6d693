"""``/agent`` and ``/approvals`` text parsing: pure, no Slack."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import cards
from bot.slack.commands import (
    EXPORT_FORMATS,
    EXPORT_SYNTAX,
    SUBCOMMANDS,
    ApprovalsHelp,
    Cancel,
    Export,
    Help,
    ListPending,
    ListTargets,
    Start,
    Status,
    Usage,
    approvals_help_text,
    help_text,
    parse,
    parse_approvals,
    refused_character,
)
from runner.registry import describe, load
from storage.timeouts import MAX_PROMPT_CHARS
from tests.blockkit import validate_message

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
    assert [(s.name, s.requires_confirmation) for s in pipeline.steps] == [
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


# ----------------------------------------------------------------------------- /approvals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ListPending()),
        (None, ListPending()),
        ("list", ListPending()),
        ("Mine", ListPending()),
        ("help", ApprovalsHelp()),
        ("export", Export("jsonl")),
        ("EXPORT CSV", Export("csv")),
        ("export jsonl since 2026-11-01", Export("jsonl", since=date(2026, 11, 1))),
        ("export until 2026-11-24 csv", Export("csv", until=date(2026, 11, 24))),
        ("export agent Finance-2", Export("jsonl", agent="Finance-2")),
        (
            "export  csv  since 2026-11-01\nuntil 2026-11-01 agent finance",
            Export("csv", date(2026, 11, 1), date(2026, 11, 1), "finance"),
        ),
    ],
)
def test_parse_approvals(text: str | None, expected: object) -> None:
    assert parse_approvals(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("export xml", "I do not know `xml`"),
        ("export json", "`jsonl`"),
        ("export csv jsonl", "one format"),
        ("export since", "needs a date"),
        ("export since 24/11/2026", "YYYY-MM-DD"),
        ("export since 2026-02-30", "not a date of the calendar"),
        ("export until since", "is not a date"),
        ("export agent", "needs an agent id"),
        ("export agent csv", "needs an agent id"),
        ("export since 2026-01-01 since 2026-02-01", "given twice"),
        ("export since 2026-11-24 until 2026-11-23", "nothing could match"),
    ],
)
def test_bad_export_arguments_say_what_to_type(text: str, says: str) -> None:
    cmd = parse_approvals(text)
    assert isinstance(cmd, Usage) and says in cmd.message, cmd
    assert EXPORT_SYNTAX in cmd.message


def test_unknown_approvals_subcommand_gets_the_help() -> None:
    cmd = parse_approvals("pending please")
    assert isinstance(cmd, Usage) and "`/approvals pending please`" in cmd.message
    assert approvals_help_text() in cmd.message
    assert isinstance(parse_approvals("list everything"), Usage)


def test_export_window_is_utc_and_until_is_inclusive() -> None:
    cmd = Export("csv", date(2026, 11, 1), date(2026, 11, 24), "finance")
    assert cmd.window() == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    assert cmd.filters() == {
        "since": "2026-11-01T00:00:00+00:00",
        "until": "2026-11-25T00:00:00+00:00",
        "agent": "finance",
    }
    assert cmd.describe() == "since 2026-11-01, until 2026-11-24 (inclusive), agent `finance`"
    assert Export().window() == (None, None) and Export().filters() == {}
    assert Export().describe() == "no filters: the whole log"


def test_approvals_help_fits_a_message() -> None:
    text = approvals_help_text()
    for word in (EXPORT_SYNTAX, "signoff audit verify FILE", "approvers only", "`/approvals help`"):
        assert word in text
    shown, blocks = cards.notice(text)
    assert shown == text and not validate_message(blocks, shown)
    assert "/approvals help" in help_text(IDS)


# ----------------------------------------------------------------------------- what is refused


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("finance Refund\x00 $5", "U+0000", 15),
        ("finance Refund \x1b[31m$5", "U+001B", 16),
        ("finance\x0bRefund", "U+000B", 8),
        ("finance Refund \x7f$5", "U+007F", 16),
        ("finance Refund \x85$5", "U+0085", 16),
        ("finance Refund \x9f$5", "U+009F", 16),
        ("finance Refund \ud800$5", "U+D800", 16),
        ("\x00", "U+0000", 1),
        ("status 01ABC\x00", "U+0000", 13),
        ("list\x00", "U+0000", 5),
    ],
)
def test_control_characters_are_refused_by_name(text: str, code: str, position: int) -> None:
    cmd = parse(text, IDS)
    assert isinstance(cmd, Usage)
    assert f"{code} (" in cmd.message and f"at character {position}" in cmd.message
    assert "remove it" in cmd.message
    assert chr(int(code.removeprefix("U+"), 16)) not in cmd.message  # named, never echoed


def test_tabs_and_line_breaks_are_fine() -> None:
    assert parse("finance Refund\t$5\r\nto customer 42", IDS) == Start("finance", "Refund\t$5\r\nto customer 42")
    assert parse("finance\r\nRefund $5", IDS) == Start("finance", "Refund $5")
    assert refused_character("naïve — résumé 🙂 \u00a0\u200b") is None


def test_approvals_refuses_control_characters_too() -> None:
    cmd = parse_approvals("export agent fin\x00ance")
    assert isinstance(cmd, Usage) and "U+0000" in cmd.message


def test_prompt_length_is_bounded() -> None:
    at_limit = "p" * MAX_PROMPT_CHARS
    assert parse(f"finance {at_limit}", IDS) == Start("finance", at_limit)
    cmd = parse(f"finance {at_limit}q", IDS)
    assert isinstance(cmd, Usage)
    assert f"{MAX_PROMPT_CHARS + 1} characters" in cmd.message and f"the limit is {MAX_PROMPT_CHARS}" in cmd.message


# Text a person could type, plus the characters that must be refused, plus the words the parser knows.
_KNOWN = [*SUBCOMMANDS, *EXPORT_FORMATS, "export", "since", "until", "agent", "2026-11-01", "2026-02-30"]
_WORDS = st.sampled_from([*IDS, *_KNOWN, " ", "\n", "\r\n", "\t", "\x00", "\x85", "\ud800"])
_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=12).map(" ".join),
    st.builds(lambda id_, prompt: f"{id_} {prompt}", st.sampled_from(IDS), st.text(min_size=1)),
    st.builds(
        lambda id_, n: f"{id_} " + "x" * n,
        st.sampled_from(IDS),
        st.integers(MAX_PROMPT_CHARS - 2, MAX_PROMPT_CHARS + 2),
    ),
)


@settings(max_examples=400, deadline=None, database=None)
@given(_TEXT)
def test_parse_never_raises_and_a_start_is_clean(text: str) -> None:
    cmd = parse(text, IDS)
    if isinstance(cmd, Start):
        assert cmd.agent_id in IDS
        assert 0 < len(cmd.prompt) <= MAX_PROMPT_CHARS
        assert refused_character(cmd.prompt) is None
        assert cmd.prompt == cmd.prompt.strip()
    if refused_character(text) is not None:
        assert isinstance(cmd, Usage)


@settings(max_examples=400, deadline=None, database=None)
@given(_TEXT)
def test_parse_approvals_never_raises(text: str) -> None:
    cmd = parse_approvals(text)
    if refused_character(text) is not None:
        assert isinstance(cmd, Usage)
    if isinstance(cmd, Export) and cmd.agent is not None:
        assert refused_character(cmd.agent) is None
