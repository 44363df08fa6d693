"""Every model- or user-controlled string on its way to Slack goes through here.

Slack parses ``mrkdwn`` text: ``<!channel>`` notifies a whole channel, ``<@U123>`` mentions someone,
``<https://evil.example|click>`` is a link whose target is hidden, and backticks open and close
code. A tool argument, an agent's message, a person's note or answer is none of that: it is
shown as the characters it is. On top of the three characters Slack itself asks to escape, the
characters a reader cannot see (bidi overrides and isolates, zero-width and other invisible
format characters, control characters other than newline and tab) are shown *visibly*, as
``⟦U+202E⟧``, so text cannot be made to read differently from what it is.

- :func:`escape`: prose in ``mrkdwn`` (``&``, ``<``, ``>`` escaped, invisible characters shown).
- :func:`bold`: a short name (an agent, a tool, an argument) in bold that cannot open or close
  formatting of its own.
- :func:`code` / :func:`code_block`: a value as code that can never be closed from inside
  (a backtick becomes the look-alike MODIFIER LETTER GRAVE ACCENT, U+02CB; a literal U+02CB is itself shown as
  ``⟦U+02CB⟧`` so the look-alike always means a backtick). :func:`code_text` is that rendering
  without the fences, for views that split it over several sections.
- :func:`plain`: ``plain_text`` fields (Slack does not parse them): invisible characters shown.
- :func:`cut`: shorten an escaped rendering without splitting an entity or a ``⟦U+…⟧`` marker.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.slack.limits import MAX_SECTION_TEXT

BACKTICK = "`"
BACKTICK_LOOKALIKE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT: shown where a value has a backtick
ASTERISK_LOOKALIKE = "\u2217"  # ASTERISK OPERATOR: shown where a bold name has an asterisk
MARK_OPEN = "\u27e6"  # MATHEMATICAL LEFT WHITE SQUARE BRACKET
MARK_CLOSE = "\u27e7"
ELLIPSIS = "…"
EMPTY = "_(empty)_"

KEPT_CONTROLS = frozenset("\n\t")
"""Control characters shown as themselves (they are visible as layout)."""

INVISIBLE = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE, RLE, PDF, LRO, RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI, RLI, FSI, PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM
    + [chr(c) for c in range(0x200B, 0x200E)]  # ZWSP, ZWNJ, ZWJ
    + ["\u2060", "\ufeff", "\u00ad"]  # WORD JOINER, ZWNBSP (BOM), SOFT HYPHEN
    + ["\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u180e", "\u3164", "\uffa0"]  # blank or invisible
    + ["\u2028", "\u2029"]  # LINE / PARAGRAPH SEPARATOR
    + [MARK_OPEN]  # so that a marker in the text cannot pass for one of ours
)
"""Characters always shown as ``⟦U+XXXX⟧``, besides every control (Cc), format (Cf) and surrogate (Cs)."""

_SHOWN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CANDIDATES = re.compile(r"[^\t\n\x20-\x7e]")
"""Everything but printable ASCII, newline and tab: the only characters that may need a marker."""

_MAX_MARKER = len(f"{MARK_OPEN}U+10FFFF{MARK_CLOSE}")
_MAX_ENTITY = len("&amp;")


def marker(char: str) -> str:
    """``⟦U+202E⟧``: how an invisible character is shown."""
    return f"{MARK_OPEN}U+{ord(char):04X}{MARK_CLOSE}"


def is_hidden(char: str) -> bool:
    """True for a character a reader would not see (or that could reorder what they see)."""
    if char in KEPT_CONTROLS:
        return False
    return char in INVISIBLE or unicodedata.category(char) in _SHOWN_CATEGORIES


@lru_cache(maxsize=8192)
def _shown(char: str) -> str:
    return marker(char) if is_hidden(char) else char


def _visible_match(match: re.Match[str]) -> str:
    return _shown(match.group())


def visible(text: str) -> str:
    """``text`` with every invisible, bidi and control character (but newline and tab) shown as a marker."""
    return _CANDIDATES.sub(_visible_match, text)


def has_hidden(text: str) -> bool:
    """True when :func:`visible` would change ``text``."""
    return any(is_hidden(m.group()) for m in _CANDIDATES.finditer(text))


def _amp(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """Prose for ``mrkdwn``: mentions, links and entities inert, invisible characters shown."""
    return _amp(visible(str(text)))


def plain(text: str) -> str:
    """A ``plain_text`` field: not parsed by Slack, but invisible characters are still shown."""
    return visible(str(text))


def code_text(text: str) -> str:
    """The inside of a code span or block: escaped, and no backtick (U+02CB stands for one)."""
    shown = visible(str(text)).replace(BACKTICK_LOOKALIKE, marker(BACKTICK_LOOKALIKE))
    return _amp(shown).replace(BACKTICK, BACKTICK_LOOKALIKE)


def safe_cut(rendered: str, at: int) -> int:
    """The largest index ``<= at`` that does not split an ``&…;`` entity or a ``⟦U+…⟧`` marker."""
    at = max(0, min(at, len(rendered)))
    if at in (0, len(rendered)):
        return at
    amp = rendered.rfind("&", max(0, at - _MAX_ENTITY + 1), at)
    if amp != -1 and rendered.find(";", amp, at) == -1:
        at = amp
    opened = rendered.rfind(MARK_OPEN, max(0, at - _MAX_MARKER + 1), at)
    if opened != -1 and rendered.find(MARK_CLOSE, opened, at) == -1:
        at = opened
    return at


def cut(rendered: str, limit: int, mark: str = ELLIPSIS) -> str:
    """Shorten an already escaped ``rendered`` to at most ``limit`` characters, ending with ``mark``."""
    if limit <= 0:
        return ""
    if len(rendered) <= limit:
        return rendered
    if len(mark) >= limit:
        return mark[:limit]
    return rendered[: safe_cut(rendered, limit - len(mark))] + mark


def bold(text: str, limit: int = 200) -> str:
    """``*name*`` for a short name: escaped, and its own ``*`` or backtick cannot format anything."""
    inner = escape(text).replace("*", ASTERISK_LOOKALIKE).replace(BACKTICK, BACKTICK_LOOKALIKE)
    inner = cut(inner, max(1, limit - 2)) or " "
    return f"*{inner}*"


def code(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """``text`` as inline code, or as a code block when it has several lines; never over ``limit``.

    Nothing inside can close it: backticks are shown as U+02CB. An empty value is ``_(empty)_``.
    """
    text = str(text)
    if "\n" in text:
        return code_block(text, limit)
    if not text:
        return EMPTY
    return "`" + cut(code_text(text), max(1, limit - 2)) + "`"


def code_block(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """``text`` as a code block (```` ``` ```` cannot appear inside); never over ``limit``."""
    inner = code_text(text) or EMPTY
    return "```" + cut(inner, max(1, limit - 6)) + "```"


def split(rendered: str, size: int) -> list[str]:
    """``rendered`` in pieces of at most ``size`` characters, never splitting an entity or a marker.

    Joined, the pieces are ``rendered`` exactly (every character once, in order).
    """
    if size < _MAX_MARKER:
        raise ValueError(f"pieces of {size} characters cannot hold a marker")
    pieces: list[str] = []
    start = 0
    while start < len(rendered):
        end = start + size
        if end < len(rendered):
            end = max(start + 1, safe_cut(rendered, end))
        pieces.append(rendered[start:end])
        start = end
    return pieces
