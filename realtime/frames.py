"""The JSON shapes of the WebSocket protocol (DESIGN.md), built in one place.

Services, consumers and views all use these, so a message looks the same in
``message.new``, ``message.updated``, ``history`` and the page's data.
"""

from __future__ import annotations

from typing import Any

from cases.phi_gate import PHIFound
from cases.services.cases import finding_as_dict
from workspace.models import User

from .anchors import anchor_frame
from .models import Message, Thread

__all__ = [
    "message_frame",
    "phi_findings",
    "thread_frame",
    "user_frame",
]


def user_frame(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def message_frame(message: Message) -> dict[str, Any]:
    """A message as the protocol sends it; a deleted one is a tombstone."""
    deleted = message.is_deleted
    return {
        "id": message.pk,
        "seq": message.seq,
        "thread": message.thread_id,
        "author": user_frame(message.author),
        "body_html": "" if deleted else message.body_html,
        "body": "" if deleted else message.body,
        "created": _iso(message.created),
        "edited": _iso(message.edited),
        "deleted": deleted,
        "client_id": message.client_id,
        "anchor": anchor_frame(message),
    }


def thread_frame(thread: Thread, *, last_id: int | None = None) -> dict[str, Any]:
    frame = {
        "id": thread.pk,
        "title": thread.title,
        "default": thread.is_default,
        "created_by": thread.created_by_id,
    }
    if last_id is None:
        last_id = getattr(thread, "last_id", None)
    frame["last_id"] = last_id or 0
    return frame


def phi_findings(refused: PHIFound) -> list[dict[str, Any]]:
    """The findings of a ``phi_found`` error: the gate's payload (``key``,
    ``field``, ``kind``, ``start``, ``end``, ``text``, ``reason``) plus
    ``label`` and an excerpt, ``before`` / ``match`` / ``after``, so a client
    highlights the span without converting offsets (Python counts code
    points, JavaScript UTF-16 units).
    """
    found = []
    for finding in refused.findings:
        data = finding_as_dict(finding, text=refused.texts.get(finding.field, ""))
        del data["dismissed"]  # a refused frame holds only unresolved findings
        data["text"] = finding.text
        found.append(data)
    return found
