"""Slack's Block Kit limits, named once, and the one way to cut text to fit them.

Builders (``cards``, ``modals``, ``mrkdwn``) keep within these so Slack never rejects a message
(``invalid_blocks``) and loses it; the tests check every payload against them and against
slack_sdk's own block and view models.
"""

from __future__ import annotations

from typing import Final

# https://docs.slack.dev/reference/block-kit

MAX_MESSAGE_BLOCKS: Final = 50
MAX_VIEW_BLOCKS: Final = 100
MAX_MESSAGE_TEXT: Final = 40_000
MAX_SECTION_TEXT: Final = 3000
MAX_SECTION_FIELDS: Final = 10
MAX_SECTION_FIELD_TEXT: Final = 2000
MAX_HEADER_TEXT: Final = 150
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_ACTIONS_ELEMENTS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_BUTTON_VALUE: Final = 2000
MAX_BUTTON_URL: Final = 3000
MAX_ID: Final = 255  # action_id, block_id, callback_id, external_id
MAX_VIEW_TITLE: Final = 24
MAX_VIEW_BUTTON: Final = 24  # submit / close
MAX_PRIVATE_METADATA: Final = 3000
MAX_INPUT_LABEL: Final = 2000
MAX_INPUT_HINT: Final = 2000
MAX_TEXT_INPUT_LENGTH: Final = 3000
MAX_PLACEHOLDER: Final = 150
MAX_SELECT_OPTIONS: Final = 100
MAX_OPTION_TEXT: Final = 75
MAX_OPTION_VALUE: Final = 150
MAX_CHOICE_OPTIONS: Final = 10  # checkboxes, radio_buttons
MAX_OVERFLOW_OPTIONS: Final = 5
MAX_IMAGE_URL: Final = 3000
MAX_ALT_TEXT: Final = 2000
MAX_CONFIRM_TITLE: Final = 100
MAX_CONFIRM_TEXT: Final = 300
MAX_CONFIRM_BUTTON: Final = 30


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Shorten ``text`` to at most ``limit`` characters, ending with ``marker`` when cut.

    Never exceeds ``limit``, whatever the marker's length (a marker longer than the limit is
    itself cut); a negative or zero limit gives the empty string.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(marker) >= limit:
        return marker[:limit]
    return text[: limit - len(marker)] + marker
