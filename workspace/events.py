"""Announce changes to WebSocket groups once the transaction commits.

Services call ``broadcast_on_commit``; the consumers in ``realtime`` join the
groups named here and forward every ``consilium.event`` to their client as the
payload's JSON. Nothing is sent for a transaction that rolls back.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_TYPE = "consilium.event"


def case_group(case_or_id: Any) -> str:
    case_id = getattr(case_or_id, "pk", case_or_id)
    return f"case.{int(case_id)}"


def user_group(user_or_id: Any) -> str:
    user_id = getattr(user_or_id, "pk", user_or_id)
    return f"user.{int(user_id)}"


def send_now(group: str, payload: dict[str, Any]) -> None:
    """Send immediately; for callers already outside any transaction."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": EVENT_TYPE, "payload": payload})
    except Exception:
        # A broadcast is best effort: clients resync through `history` and
        # `seq`, so a layer hiccup must not fail the action that caused it.
        logger.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to ``group`` after the current transaction commits."""
    transaction.on_commit(lambda: send_now(group, payload))
