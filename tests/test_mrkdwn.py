"""bot.slack.mrkdwn: the one place model- and user-controlled text is made safe for Slack."""

from __future__ import annotations

import random
import re

import pytest

from bot.slack import mrkdwn
from bot.slack.mrkdwn import (
    BACKTICK_LOOKALIKE,
    bold,
    code,
    code_block,
    code_text,
    cut,
    escape,
    has_hidden,
    marker,
    plain,
    safe_cut,
    split,
    visible,
)

HIDDEN = [
    *(chr(c) for c in range(0x202A, 0x202F)),  # bidi embeddings and overrides
    *(chr(c) for c in range(0x2066, 0x206A)),  # bidi isolates
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\x00",
    "\x07",
    "\x1b",
    "\r",
    "\x7f",
    "\x85",
    "\u2028",
    "\U000e0041",  # a tag character (format, invisible)
]


def test_escape_makes_mentions_and_links_inert() -> None:
    assert escape("<!channel> & <@U999> <https://evil.example|click>") == (
        "&lt;!channel&gt; &amp; &lt;@U999&gt; &lt;https://evil.example|click&gt;"
    )
    assert escape("a\nb\tc") == "a\nb\tc"  # layout is kept


@pytest.mark.parametrize("char", HIDDEN)
def test_invisible_and_control_characters_are_shown_visibly(char: str) -> None:
    shown = f"\u27e6U+{ord(char):04X}\u27e7"
    for render in (escape, plain, code_text, visible):
        out = render(f"a{char}b")
        assert char not in out and out == f"a{shown}b", render
    assert has_hidden(f"x{char}") and not has_hidden("plain text\n\twith é and 中文 and emoji \U0001f600")


def test_the_marker_itself_cannot_be_forged() -> None:
    # a literal "⟦U+202E⟧" typed by the model is not mistaken for a real U+202E
    forged = "\u27e6U+202E\u27e7"
    assert visible(forged) == "\u27e6U+27E6\u27e7U+202E\u27e7"
    assert visible("\u202e") != visible(forged)


def test_plain_does_not_escape_entities() -> None:
    assert plain("<b> & \u202e") == "<b> & \u27e6U+202E\u27e7"


def test_code_cannot_be_closed_from_inside() -> None:
    span = code("x` *:white_check_mark: Approved by admin* `y")
    assert span == f"`x{BACKTICK_LOOKALIKE} *:white_check_mark: Approved by admin* {BACKTICK_LOOKALIKE}y`"
    assert span.count("`") == 2
    # the look-alike itself is marked, so it always means a backtick
    assert code("\u02cb") == "`\u27e6U+02CB\u27e7`"
    block = code("line\n```\n*bold*\n```")
    assert block.startswith("```") and block.endswith("```") and block[3:-3].count("`") == 0
    assert code("") == mrkdwn.EMPTY and code_block("") == "```" + mrkdwn.EMPTY + "```"


def test_bold_names_cannot_format() -> None:
    assert bold("Finance") == "*Finance*"
    out = bold("x* :white_check_mark: *Approved` <!here>")
    assert out.count("*") == 2 and "`" not in out and "<!here>" not in out


def random_text(rng: random.Random, size: int) -> str:
    alphabet = list("ab <>&`*_~\n\t|:!@") + HIDDEN + ["\u27e6", "\u27e7", "\u02cb", "é", "\U0001f600"]
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("seed", range(30))
def test_code_and_cut_respect_limits_and_never_split_an_entity(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng, rng.randint(0, 400))
    for limit in (5, 12, 50, 300):
        for render in (code, code_block):
            out = render(text, limit)
            assert len(out) <= max(limit, len(mrkdwn.EMPTY) + 6), (render, limit, out)
            inner = out[3:-3] if out.startswith("```") else out[1:-1]
            assert "`" not in inner
            assert "<" not in out and ">" not in out
            # no entity or marker left half-cut before the ellipsis
            body = inner.removesuffix("…")
            assert not re.search(r"&[a-z]{0,3}$", body) and not re.search("\u27e6[^\u27e7]*$", body)
        assert len(bold(text, limit)) <= max(limit, 3)
    rendered = code_text(text)
    for at in range(len(rendered) + 1):
        at2 = safe_cut(rendered, at)
        assert at2 <= at
        head = rendered[:at2]
        assert not re.search(r"&[a-z]{0,3}$", head) and not re.search("\u27e6[^\u27e7]*$", head)
    assert len(cut(rendered, 20)) <= 20


@pytest.mark.parametrize("seed", range(20))
def test_split_keeps_every_character_once(seed: int) -> None:
    rng = random.Random(seed)
    rendered = code_text(random_text(rng, rng.randint(0, 3000)))
    for size in (10, 11, 64, 2994):
        pieces = split(rendered, size)
        assert "".join(pieces) == rendered
        assert all(0 < len(p) <= size for p in pieces)
        for piece in pieces:  # every piece renders on its own: no entity or marker across a boundary
            assert not re.search(r"&[a-z]{0,3}$", piece) and not re.search("\u27e6[^\u27e7]*$", piece)
            assert not re.match(r"^[a-z]{1,3};", piece)  # the alphabet has no ";" but in entities
    with pytest.raises(ValueError):
        split(rendered, 5)


def test_marker_format() -> None:
    assert marker("\u202e") == "\u27e6U+202E\u27e7" and marker("\U000e0041") == "\u27e6U+E0041\u27e7"
