"""A per-user fixed-window counter in the shared cache (Redis in scale mode).

The counter lives in the cache rather than in a process, so a user spreading
sends over several Daphne processes still gets one budget. ``cache.add`` then
``cache.incr`` are each atomic on Redis and on the local-memory cache, so
concurrent sends never under-count.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

__all__ = ["rate_limit_exceeded"]


def rate_limit_exceeded(
    *,
    user_id: int,
    scope: str = "message",
    limit: int | None = None,
    window: int | None = None,
) -> bool:
    """Count one action for ``user_id``; True when it goes over the limit.

    Defaults come from ``MESSAGE_RATE_LIMIT`` actions per
    ``MESSAGE_RATE_WINDOW_SECONDS``. Refused actions count too, so hammering
    does not buy an earlier slot.
    """
    limit = settings.MESSAGE_RATE_LIMIT if limit is None else limit
    window = max(1, settings.MESSAGE_RATE_WINDOW_SECONDS if window is None else window)
    bucket = int(time.time() // window)
    key = f"realtime:rate:{scope}:{user_id}:{bucket}"
    # The key outlives its window a little so a slow clock never resets it early.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        # Evicted between add and incr: start the window again.
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count > limit
