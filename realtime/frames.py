"""The JSON shapes of the WebSocket protocol (DESIGN.md), built in one place.

Services, consumers and views all use these, so a message looks the same in
``message.new``, ``message.updated``, ``history`` and the page's data.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from cases.phi_gate import PHIFound
from cases.services.cases import finding_as_dict
from workspace.models import User

from .anchors import anchor_frame
from .models import Message, Thread

__all__ = [
    "message_frame",
    "message_html",
    "phi_findings",
    "thread_frame",
    "user_frame",
]


def user_frame(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


MESSAGE_TEMPLATE = "realtime/_message.html"


def message_html(message: Message) -> str:
    """The message's list item, from the template the page includes.

    The same for every reader (no viewer in the context), so a broadcast is
    rendered once for the whole group. Times are written in ``TIME_ZONE``
    whatever zone the request that posted it had active; each page rewrites
    them in its reader's zone (``Consilium.formatTime``), and ``datetime``
    attributes are UTC either way.
    """
    with timezone.override(settings.TIME_ZONE):
        return render_to_string(MESSAGE_TEMPLATE, {"m": message}).strip()


def message_frame(message: Message) -> dict[str, Any]:
    """A message as the protocol sends it; a deleted one is a tombstone.
    ``html`` is its list item (``message_html``)."""
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
        "html": message_html(message),
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
