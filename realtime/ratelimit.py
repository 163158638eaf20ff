"""A per-user fixed-window counter in the shared cache (Redis in scale mode).

The counter lives in the cache rather than in a process, so a user spreading
sends over several Daphne processes still gets one budget. ``cache.add`` then
``cache.incr`` are each atomic on Redis and on the local-memory cache, so
concurrent sends never under-count.

Scopes and their settings (each ``<PREFIX>_RATE_LIMIT`` actions per
``<PREFIX>_RATE_WINDOW_SECONDS``):

- ``message``: posting (``MESSAGE_``, 20 per 10 s);
- ``change``: editing and deleting messages (``MESSAGE_CHANGE_``, 20 per 10 s);
- ``topic``: adding topics (``TOPIC_``, 5 per 60 s);
- ``read``: read reports (``READ_``, 60 per 10 s; ``realtime.reads``).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

__all__ = ["SCOPES", "rate_limit_exceeded", "rate_limit_retry_after"]

# scope -> settings prefix
SCOPES = {
    "message": "MESSAGE",
    "change": "MESSAGE_CHANGE",
    "topic": "TOPIC",
    "read": "READ",
}


def _limits(scope: str, limit: int | None, window: int | None) -> tuple[int, int]:
    prefix = SCOPES.get(scope, "MESSAGE")
    if limit is None:
        limit = getattr(settings, f"{prefix}_RATE_LIMIT", settings.MESSAGE_RATE_LIMIT)
    if window is None:
        window = getattr(
            settings,
            f"{prefix}_RATE_WINDOW_SECONDS",
            settings.MESSAGE_RATE_WINDOW_SECONDS,
        )
    return limit, max(1, window)


def rate_limit_retry_after(
    *,
    user_id: int,
    scope: str = "message",
    limit: int | None = None,
    window: int | None = None,
) -> int:
    """Count one action for ``user_id``; 0 when allowed, otherwise the whole
    seconds until the current window ends (at least 1): the retry hint.

    Refused actions count too, so hammering does not buy an earlier slot.
    """
    limit, window = _limits(scope, limit, window)
    now = time.time()
    bucket = int(now // window)
    key = f"realtime:rate:{scope}:{user_id}:{bucket}"
    # The key outlives its window a little so a slow clock never resets it early.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        # Evicted between add and incr: start the window again.
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count <= limit:
        return 0
    return max(1, math.ceil((bucket + 1) * window - now))


def rate_limit_exceeded(
    *,
    user_id: int,
    scope: str = "message",
    limit: int | None = None,
    window: int | None = None,
) -> bool:
    """Count one action for ``user_id``; True when it goes over the limit."""
    return (
        rate_limit_retry_after(user_id=user_id, scope=scope, limit=limit, window=window)
        > 0
    )
