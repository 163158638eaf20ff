"""Announce changes to WebSocket groups once the transaction commits.

Services call ``broadcast_on_commit``; the consumers in ``realtime`` join the
groups named here and forward every ``consilium.event`` to their client.
Nothing is sent for a transaction that rolls back.

A group event carries the payload already encoded (``group_event``): JSON is
written once per broadcast, not once per open socket, and the channel layer
copies (in memory) or packs (Redis) one string instead of a nested dict for
every recipient. ``kind`` is the payload's ``type``, so consumers decide
without decoding whether an event is only relayed (``message.new`` …) or
needs their own look (``event_payload``).
"""

from __future__ import annotations

import json
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


def group_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message that carries ``payload`` to a group."""
    return {
        "type": EVENT_TYPE,
        "kind": payload.get("type"),
        "text": json.dumps(payload, separators=(",", ":")),
    }


def event_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The payload of a group event (``group_event``, or a plain ``payload``)."""
    if "text" in message:
        return json.loads(message["text"])
    return message.get("payload") or {}


def send_now(group: str, payload: dict[str, Any]) -> None:
    """Send immediately; for callers already outside any transaction."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, group_event(payload))
    except Exception:
        # A broadcast is best effort: clients resync through `history` and
        # `seq`, so a layer hiccup must not fail the action that caused it.
        logger.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to ``group`` after the current transaction commits."""
    transaction.on_commit(lambda: send_now(group, payload))
