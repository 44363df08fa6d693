"""A pure validator of Slack's Block Kit limits, for the tests (what slack_sdk's models lack).

Slack answers ``invalid_blocks`` (messages) or ``invalid_arguments`` (views) when a payload breaks
one of its limits, and the whole message is lost. These functions find such problems before
anything is sent: dicts in, a list of human-readable problems out (empty means valid). Each
problem names the offending place with a JSON pointer, the way Slack's own errors do, e.g.
``/blocks/3/text/text: must be at most 3000 characters (got 3120)``.

No network, no slack-bolt. ``slack_sdk.models.blocks.Block.parse`` is used as a second opinion,
but every limit the project relies on is checked explicitly here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.slack.limits import (
    MAX_ACTIONS_ELEMENTS,
    MAX_ALT_TEXT,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_URL,
    MAX_BUTTON_VALUE,
    MAX_CHOICE_OPTIONS,
    MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT,
    MAX_CONFIRM_TITLE,
    MAX_CONTEXT_ELEMENTS,
    MAX_HEADER_TEXT,
    MAX_ID,
    MAX_IMAGE_URL,
    MAX_INPUT_HINT,
    MAX_INPUT_LABEL,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OVERFLOW_OPTIONS,
    MAX_PLACEHOLDER,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_FIELD_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    MAX_SELECT_OPTIONS,
    MAX_TEXT_INPUT_LENGTH,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_BUTTON,
    MAX_VIEW_TITLE,
    truncate,
)

KNOWN_BLOCK_TYPES: Final = frozenset(
    {"section", "divider", "header", "context", "actions", "input", "rich_text", "image"}
)
TEXT_TYPES: Final = frozenset({"plain_text", "mrkdwn"})
VIEW_TYPES: Final = frozenset({"modal", "home"})
SELECT_TYPES: Final = frozenset({"static_select", "multi_static_select"})
CHOICE_TYPES: Final = frozenset({"checkboxes", "radio_buttons"})
# Interactive elements whose only limit checked here is their action_id.
OTHER_ELEMENT_TYPES: Final = frozenset(
    {
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "external_select",
        "multi_external_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)

Problems = list[str]


# -- public entry points ------------------------------------------------------------------------


def validate_message(blocks: Sequence[Mapping[str, Any]] | None, text: str | None = None) -> Problems:
    """Problems that would make Slack refuse a message with these ``blocks`` and ``text``."""
    problems: Problems = []
    if text is not None:
        if not isinstance(text, str):
            problems.append(f"/text: must be a string (got {type(text).__name__})")
        elif len(text) > MAX_MESSAGE_TEXT:
            problems.append(_too_long("/text", MAX_MESSAGE_TEXT, len(text)))
    if blocks is None:
        return problems
    problems.extend(_check_blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS, "a message"))
    return problems


def validate_view(view: Mapping[str, Any]) -> Problems:
    """Problems that would make Slack refuse this view (a modal or an App Home tab)."""
    if not isinstance(view, Mapping):
        return [f"/view: must be an object (got {type(view).__name__})"]
    problems: Problems = []
    vtype = view.get("type")
    if vtype not in VIEW_TYPES:
        problems.append(f"/view/type: must be one of {sorted(VIEW_TYPES)} (got {vtype!r})")
    if vtype == "modal":
        if "title" not in view:
            problems.append("/view/title: is required for a modal")
        else:
            problems.extend(_check_text(view["title"], "/view/title", MAX_VIEW_TITLE, plain_only=True))
    blocks = view.get("blocks")
    has_input = False
    if blocks is None:
        problems.append("/view/blocks: is required")
    else:
        problems.extend(_check_blocks(blocks, "/view/blocks", MAX_VIEW_BLOCKS, "a view"))
        if isinstance(blocks, Sequence):
            has_input = any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            problems.extend(_check_text(view[key], f"/view/{key}", MAX_VIEW_BUTTON, plain_only=True))
    if vtype == "modal" and has_input and view.get("submit") is None:
        problems.append("/view/submit: is required when the view has an input block")
    metadata = view.get("private_metadata")
    if metadata is not None:
        if not isinstance(metadata, str):
            problems.append("/view/private_metadata: must be a string")
        elif len(metadata) > MAX_PRIVATE_METADATA:
            problems.append(_too_long("/view/private_metadata", MAX_PRIVATE_METADATA, len(metadata)))
    for key in ("callback_id", "external_id"):
        problems.extend(_check_id(view.get(key), f"/view/{key}"))
    return problems


# -- helpers -------------------------------------------------------------------------------------


def _too_long(path: str, limit: int, got: int) -> str:
    return f"{path}: must be at most {limit} characters (got {got})"


def _too_many(path: str, limit: int, got: int, what: str) -> str:
    return f"{path}: must have at most {limit} {what} (got {got})"


def _check_id(value: Any, path: str, required: bool = False) -> Problems:
    if value is None:
        return [f"{path}: is required"] if required else []
    if not isinstance(value, str):
        return [f"{path}: must be a string (got {type(value).__name__})"]
    if required and not value:
        return [f"{path}: must not be empty"]
    if len(value) > MAX_ID:
        return [_too_long(path, MAX_ID, len(value))]
    return []


def _check_text(obj: Any, path: str, limit: int, plain_only: bool = False) -> Problems:
    """A text object: ``{"type": "plain_text" | "mrkdwn", "text": "..."}``, 1..limit chars."""
    if not isinstance(obj, Mapping):
        return [f"{path}: must be a text object (got {type(obj).__name__})"]
    problems: Problems = []
    ttype = obj.get("type")
    if plain_only and ttype != "plain_text":
        problems.append(f"{path}/type: must be plain_text (got {ttype!r})")
    elif ttype not in TEXT_TYPES:
        problems.append(f"{path}/type: must be plain_text or mrkdwn (got {ttype!r})")
    text = obj.get("text")
    if not isinstance(text, str):
        problems.append(f"{path}/text: must be a string")
    elif not text:
        problems.append(f"{path}/text: must be more than 0 characters")
    elif len(text) > limit:
        problems.append(_too_long(f"{path}/text", limit, len(text)))
    return problems


def _check_str(value: Any, path: str, limit: int) -> Problems:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{path}: must be a string (got {type(value).__name__})"]
    if len(value) > limit:
        return [_too_long(path, limit, len(value))]
    return []


def _check_blocks(blocks: Any, path: str, max_blocks: int, where: str) -> Problems:
    if not isinstance(blocks, Sequence) or isinstance(blocks, str | bytes):
        return [f"{path}: must be an array of blocks (got {type(blocks).__name__})"]
    problems: Problems = []
    if len(blocks) > max_blocks:
        problems.append(_too_many(path, max_blocks, len(blocks), f"blocks in {where}"))
    seen_block_ids: dict[str, int] = {}
    for i, block in enumerate(blocks):
        bpath = f"{path}/{i}"
        found = _check_block(block, bpath)
        if isinstance(block, Mapping):
            block_id = block.get("block_id")
            if isinstance(block_id, str):
                if block_id in seen_block_ids:
                    found.append(
                        f"{bpath}/block_id: duplicate block_id {block_id!r} (also at {path}/{seen_block_ids[block_id]})"
                    )
                else:
                    seen_block_ids[block_id] = i
            if not found:
                found.extend(_sdk_opinion(block, bpath))
        problems.extend(found)
    return problems


def _sdk_opinion(block: Mapping[str, Any], path: str) -> Problems:
    """What slack_sdk's own model classes object to (they check a few limits we do not)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = Block.parse(dict(block))
            if parsed is not None:
                parsed.to_dict()
    except SlackObjectFormationError as exc:
        return [f"{path}: {exc}"]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return [f"{path}: cannot be parsed as a {block.get('type')} block ({exc})"]
    return []


def _check_block(block: Any, path: str) -> Problems:
    if not isinstance(block, Mapping):
        return [f"{path}: must be an object (got {type(block).__name__})"]
    btype = block.get("type")
    if btype not in KNOWN_BLOCK_TYPES:
        return [f"{path}/type: unknown block type {btype!r}"]
    problems = _check_id(block.get("block_id"), f"{path}/block_id")
    if btype == "section":
        problems.extend(_check_section(block, path))
    elif btype == "header":
        if "text" not in block:
            problems.append(f"{path}/text: is required")
        else:
            problems.extend(_check_text(block["text"], f"{path}/text", MAX_HEADER_TEXT, plain_only=True))
    elif btype == "context":
        problems.extend(_check_context(block, path))
    elif btype == "actions":
        problems.extend(_check_actions(block, path))
    elif btype == "input":
        problems.extend(_check_input(block, path))
    elif btype == "image":
        problems.extend(_check_image(block, path))
    elif btype == "rich_text":
        elements = block.get("elements")
        if not isinstance(elements, Sequence) or isinstance(elements, str):
            problems.append(f"{path}/elements: must be an array")
    return problems


def _check_section(block: Mapping[str, Any], path: str) -> Problems:
    problems: Problems = []
    text = block.get("text")
    fields = block.get("fields")
    if text is None and fields is None:
        problems.append(f"{path}: a section needs text or fields")
    if text is not None:
        problems.extend(_check_text(text, f"{path}/text", MAX_SECTION_TEXT))
    if fields is not None:
        if not isinstance(fields, Sequence) or isinstance(fields, str):
            problems.append(f"{path}/fields: must be an array of text objects")
        else:
            if len(fields) > MAX_SECTION_FIELDS:
                problems.append(_too_many(f"{path}/fields", MAX_SECTION_FIELDS, len(fields), "fields"))
            for j, field in enumerate(fields):
                problems.extend(_check_text(field, f"{path}/fields/{j}", MAX_SECTION_FIELD_TEXT))
    accessory = block.get("accessory")
    if accessory is not None:
        problems.extend(_check_element(accessory, f"{path}/accessory"))
    return problems


def _elements(block: Mapping[str, Any], path: str, limit: int) -> tuple[Sequence[Any], Problems]:
    """A context or actions block's ``elements``, with what is wrong with the array itself."""
    elements = block.get("elements")
    if not isinstance(elements, Sequence) or isinstance(elements, str):
        return [], [f"{path}/elements: must be an array"]
    problems: Problems = []
    if not elements:
        problems.append(f"{path}/elements: must have at least 1 element")
    if len(elements) > limit:
        problems.append(_too_many(f"{path}/elements", limit, len(elements), "elements"))
    return elements, problems


def _check_context(block: Mapping[str, Any], path: str) -> Problems:
    elements, problems = _elements(block, path, MAX_CONTEXT_ELEMENTS)
    for j, element in enumerate(elements):
        epath = f"{path}/elements/{j}"
        if isinstance(element, Mapping) and element.get("type") == "image":
            problems.extend(_check_image(element, epath))
        else:
            problems.extend(_check_text(element, epath, MAX_SECTION_TEXT))
    return problems


def _check_actions(block: Mapping[str, Any], path: str) -> Problems:
    elements, problems = _elements(block, path, MAX_ACTIONS_ELEMENTS)
    seen: dict[str, int] = {}
    for j, element in enumerate(elements):
        epath = f"{path}/elements/{j}"
        problems.extend(_check_element(element, epath))
        if isinstance(element, Mapping):
            action_id = element.get("action_id")
            if isinstance(action_id, str):
                if action_id in seen:
                    problems.append(
                        f"{epath}/action_id: duplicate action_id {action_id!r} in the block "
                        f"(also at {path}/elements/{seen[action_id]})"
                    )
                else:
                    seen[action_id] = j
    return problems


def _check_input(block: Mapping[str, Any], path: str) -> Problems:
    problems: Problems = []
    if "label" not in block:
        problems.append(f"{path}/label: is required")
    else:
        problems.extend(_check_text(block["label"], f"{path}/label", MAX_INPUT_LABEL, plain_only=True))
    if block.get("hint") is not None:
        problems.extend(_check_text(block["hint"], f"{path}/hint", MAX_INPUT_HINT, plain_only=True))
    if "element" not in block:
        problems.append(f"{path}/element: is required")
    else:
        problems.extend(_check_element(block["element"], f"{path}/element"))
    return problems


def _check_image(block: Mapping[str, Any], path: str) -> Problems:
    problems: Problems = []
    if block.get("image_url") is None and block.get("slack_file") is None:
        problems.append(f"{path}: an image needs image_url or slack_file")
    problems.extend(_check_str(block.get("image_url"), f"{path}/image_url", MAX_IMAGE_URL))
    alt = block.get("alt_text")
    if not isinstance(alt, str) or not alt:
        problems.append(f"{path}/alt_text: is required")
    else:
        problems.extend(_check_str(alt, f"{path}/alt_text", MAX_ALT_TEXT))
    if block.get("type") == "image" and block.get("title") is not None:
        problems.extend(_check_text(block["title"], f"{path}/title", MAX_ALT_TEXT, True))
    return problems


def _check_confirm(confirm: Any, path: str) -> Problems:
    if not isinstance(confirm, Mapping):
        return [f"{path}: must be a confirmation dialog object"]
    problems: Problems = []
    for key, limit, plain in (
        ("title", MAX_CONFIRM_TITLE, True),
        ("text", MAX_CONFIRM_TEXT, False),
        ("confirm", MAX_CONFIRM_BUTTON, True),
        ("deny", MAX_CONFIRM_BUTTON, True),
    ):
        if key not in confirm:
            problems.append(f"{path}/{key}: is required")
        else:
            problems.extend(_check_text(confirm[key], f"{path}/{key}", limit, plain))
    return problems


def _check_options(options: Any, path: str, limit: int) -> Problems:
    if not isinstance(options, Sequence) or isinstance(options, str):
        return [f"{path}: must be an array of options"]
    problems: Problems = []
    if len(options) > limit:
        problems.append(_too_many(path, limit, len(options), "options"))
    for k, option in enumerate(options):
        problems.extend(_check_option(option, f"{path}/{k}"))
    return problems


def _check_option(option: Any, path: str) -> Problems:
    if not isinstance(option, Mapping):
        return [f"{path}: must be an option object"]
    problems: Problems = []
    if "text" not in option:
        problems.append(f"{path}/text: is required")
    else:
        problems.extend(_check_text(option["text"], f"{path}/text", MAX_OPTION_TEXT))
    value = option.get("value")
    if value is not None:
        problems.extend(_check_str(value, f"{path}/value", MAX_OPTION_VALUE))
    return problems


def _check_element(element: Any, path: str) -> Problems:
    if not isinstance(element, Mapping):
        return [f"{path}: must be an object (got {type(element).__name__})"]
    etype = element.get("type")
    problems = _check_id(element.get("action_id"), f"{path}/action_id")
    if element.get("confirm") is not None:
        problems.extend(_check_confirm(element["confirm"], f"{path}/confirm"))
    if element.get("placeholder") is not None:
        problems.extend(_check_text(element["placeholder"], f"{path}/placeholder", MAX_PLACEHOLDER, True))
    if etype == "button":
        if "text" not in element:
            problems.append(f"{path}/text: is required")
        else:
            problems.extend(_check_text(element["text"], f"{path}/text", MAX_BUTTON_TEXT, plain_only=True))
        problems.extend(_check_str(element.get("value"), f"{path}/value", MAX_BUTTON_VALUE))
        problems.extend(_check_str(element.get("url"), f"{path}/url", MAX_BUTTON_URL))
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            problems.append(f"{path}/style: must be primary or danger (got {style!r})")
    elif etype in SELECT_TYPES:
        options = element.get("options")
        groups = element.get("option_groups")
        if options is None and groups is None:
            problems.append(f"{path}: a static select needs options or option_groups")
        if options is not None:
            problems.extend(_check_options(options, f"{path}/options", MAX_SELECT_OPTIONS))
        if groups is not None:
            problems.extend(_check_option_groups(groups, f"{path}/option_groups"))
        if element.get("initial_option") is not None:
            problems.extend(_check_option(element["initial_option"], f"{path}/initial_option"))
    elif etype == "overflow":
        problems.extend(_check_options(element.get("options"), f"{path}/options", MAX_OVERFLOW_OPTIONS))
    elif etype in CHOICE_TYPES:
        problems.extend(_check_options(element.get("options"), f"{path}/options", MAX_CHOICE_OPTIONS))
    elif etype == "plain_text_input":
        for key in ("max_length", "min_length"):
            value = element.get(key)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{path}/{key}: must be an integer")
            elif not 0 <= value <= MAX_TEXT_INPUT_LENGTH:
                problems.append(f"{path}/{key}: must be between 0 and {MAX_TEXT_INPUT_LENGTH} (got {value})")
        problems.extend(_check_str(element.get("initial_value"), f"{path}/initial_value", MAX_TEXT_INPUT_LENGTH))
    elif etype == "image":
        problems.extend(_check_image(element, path))
    elif etype not in OTHER_ELEMENT_TYPES:
        problems.append(f"{path}/type: unknown element type {etype!r}")
    return problems


def _check_option_groups(groups: Any, path: str) -> Problems:
    if not isinstance(groups, Sequence) or isinstance(groups, str):
        return [f"{path}: must be an array of option groups"]
    problems: Problems = []
    if len(groups) > MAX_SELECT_OPTIONS:
        problems.append(_too_many(path, MAX_SELECT_OPTIONS, len(groups), "option groups"))
    for k, group in enumerate(groups):
        gpath = f"{path}/{k}"
        if not isinstance(group, Mapping):
            problems.append(f"{gpath}: must be an option group object")
            continue
        problems.extend(_check_text(group.get("label"), f"{gpath}/label", MAX_OPTION_TEXT, True))
        problems.extend(_check_options(group.get("options"), f"{gpath}/options", MAX_SELECT_OPTIONS))
    return problems


__all__ = ["truncate", "validate_message", "validate_view"]
