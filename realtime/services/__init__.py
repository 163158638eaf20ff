"""Actions on discussions: the only place a topic is created or a message is
posted, edited or deleted. The WebSocket consumer and the HTML form fallback
both call these, so both get the same rules, limits and broadcasts.

Every broadcast is sent on commit (``workspace.events.broadcast_on_commit``),
so nobody hears of a message that was rolled back.

- ``rules``: the errors, the rate limit and the shared input checks;
- ``topics``: ``thread_default``, ``thread_create``;
- ``messages``: ``message_post``, ``message_edit``, ``message_delete``.
"""

from __future__ import annotations

from cases.phi_gate import PHIFound

from ..anchors import BadAnchor
from .messages import PostResult, message_delete, message_edit, message_post
from .rules import (
    MAX_DISMISSED_KEYS,
    BadRequest,
    BodyTooLong,
    DiscussionError,
    NotFound,
    RateLimited,
)
from .topics import thread_create, thread_default

__all__ = [
    "MAX_DISMISSED_KEYS",
    "BadAnchor",
    "BadRequest",
    "BodyTooLong",
    "DiscussionError",
    "NotFound",
    "PHIFound",
    "PostResult",
    "RateLimited",
    "message_delete",
    "message_edit",
    "message_post",
    "thread_create",
    "thread_default",
]
