"""Whether a user has any Consilium page open (an open ``/ws/notifications/``).

Every signed-in page opens the notifications socket, so "online" means "would
see a notification arrive live". Each connection owns one entry in a per-user
map in the cache (Redis in scale mode) and refreshes it every
``HEARTBEAT_SECONDS``; an entry that is not refreshed expires after
``ENTRY_TTL_SECONDS``, so a Daphne process that dies without running
``disconnect`` stops counting within a minute. Like case presence this is
advisory: a lost update is repaired by the next heartbeat, and the worst a
stale answer does is delay or send one e-mail digest.
"""

from __future__ import annotations

import time

from django.core.cache import cache

HEARTBEAT_SECONDS = 20
ENTRY_TTL_SECONDS = 60


def _key(user_id: int) -> str:
    return f"online:user:{int(user_id)}"


def _live(entries: dict | None, now: float) -> dict:
    return {
        conn: expires
        for conn, expires in (entries or {}).items()
        if isinstance(expires, int | float) and expires > now
    }


def user_connection_open(*, user_id: int, connection: str) -> None:
    """Add or refresh ``connection`` for ``user_id`` (connect and every heartbeat)."""
    now = time.time()
    entries = _live(cache.get(_key(user_id)), now)
    entries[connection] = now + ENTRY_TTL_SECONDS
    cache.set(_key(user_id), entries, timeout=ENTRY_TTL_SECONDS + 5)


def user_connection_close(*, user_id: int, connection: str) -> None:
    now = time.time()
    entries = _live(cache.get(_key(user_id)), now)
    entries.pop(connection, None)
    if entries:
        cache.set(_key(user_id), entries, timeout=ENTRY_TTL_SECONDS + 5)
    else:
        cache.delete(_key(user_id))


def user_is_online(user_id: int) -> bool:
    return bool(_live(cache.get(_key(user_id)), time.time()))
