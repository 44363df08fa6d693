"""Keep the Slack cards of a requirement in step with a decision made off Slack (the REST API).

A decision made by a click updates its cards in the Slack listener; a decision made through
``POST /api/approvals/{id}/resolve`` comes here, which does exactly the same: every card recorded
for the requirement (in the run's thread and in the approvals channel) is ``chat.update``d with
the decided card, through the same ``SlackNotifier.refresh_cards`` the listener uses.

Without Slack credentials there is nothing to update and this is a no-op. A ``Deps`` may carry
its own ``card_updater`` (a callable taking a requirement id) to replace this, e.g. in a process
that already holds a notifier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.deps import Deps
from storage.errors import NotFound

log = logging.getLogger(__name__)

CardUpdater = Callable[[str], None]


def slack_configured(deps: Deps) -> bool:
    token = deps.settings.slack_bot_token
    return token is not None and bool(token.get_secret_value())


def sync_cards(deps: Deps, requirement_id: str) -> int:
    """Update every card of a decided requirement; returns how many messages were concerned.

    Never raises for a Slack problem (logged): the decision is already recorded in SQL, and the
    card can be refreshed later, while failing the API call would make the caller retry a
    decision that was in fact taken.
    """
    updater: Any = getattr(deps, "card_updater", None)
    if callable(updater):
        updater(requirement_id)
        return -1
    if not slack_configured(deps):
        return 0
    try:
        req = deps.db.get_requirement(requirement_id)
    except NotFound:
        return 0
    if req.is_pending:
        return 0
    from bot.notifier import CARD_PURPOSES, SlackNotifier

    cards = [m for m in deps.db.slack_messages(requirement_id=requirement_id) if m.purpose in CARD_PURPOSES]
    if not cards:
        return 0
    try:
        SlackNotifier.from_settings(deps.settings, deps.db, deps.registry).refresh_cards([req])
    except Exception:
        log.exception("updating the Slack cards of requirement %s failed", requirement_id)
    return len(cards)
