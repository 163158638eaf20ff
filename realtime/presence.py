"""Who has a case open, shared by every Daphne process through the cache.

Each open connection owns one entry in a per-case map stored in the Django
cache (Redis in scale mode): ``{connection: [user_id, name, expires_at]}``.
A connection refreshes its entry every ``HEARTBEAT_SECONDS``; an entry whose
``expires_at`` has passed is ignored and pruned, so a Daphne process that
crashes (and never runs ``disconnect``) drops out of presence within
``ENTRY_TTL_SECONDS``. The whole key also expires, so a case nobody watches
leaves nothing behind.

Read-modify-write on the map is serialised by a short lock taken with
``cache.add`` (atomic ``SET NX`` on Redis). The lock has its own expiry, so a
process that dies holding it blocks the others for at most
``LOCK_TTL_SECONDS``; a writer that cannot get it in time writes anyway —
presence is advisory, and the next heartbeat repairs a lost update.

A user with two tabs open has two entries and stays present until both close.
"""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache

__all__ = [
    "ENTRY_TTL_SECONDS",
    "HEARTBEAT_SECONDS",
    "presence_announce_claim",
    "presence_announce_read",
    "presence_join",
    "presence_leave",
    "presence_users",
]

HEARTBEAT_SECONDS = 20
ENTRY_TTL_SECONDS = 60
LOCK_TTL_SECONDS = 2
LOCK_WAIT_SECONDS = 1.0


def _key(case_id: int) -> str:
    return f"realtime:presence:{int(case_id)}"


def _live(entries: dict, now: float) -> dict:
    return {
        conn: entry
        for conn, entry in (entries or {}).items()
        if isinstance(entry, list | tuple) and len(entry) == 3 and entry[2] > now
    }


def _users(entries: dict) -> list[dict]:
    users: dict[int, str] = {}
    for user_id, name, _expires in entries.values():
        users[int(user_id)] = name
    return [
        {"id": user_id, "name": name}
        for user_id, name in sorted(users.items(), key=lambda item: (item[1], item[0]))
    ]


def _update(case_id: int, change) -> list[dict]:
    key = _key(case_id)
    lock_key = f"{key}:lock"
    token = uuid.uuid4().hex
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    locked = cache.add(lock_key, token, timeout=LOCK_TTL_SECONDS)
    while not locked and time.monotonic() < deadline:
        time.sleep(0.005)
        locked = cache.add(lock_key, token, timeout=LOCK_TTL_SECONDS)
    try:
        now = time.time()
        entries = _live(cache.get(key) or {}, now)
        change(entries, now)
        if entries:
            cache.set(key, entries, timeout=ENTRY_TTL_SECONDS + 5)
        else:
            cache.delete(key)
        return _users(entries)
    finally:
        # Only release a lock this writer holds; it may have expired and been
        # taken by another writer meanwhile.
        if locked and cache.get(lock_key) == token:
            cache.delete(lock_key)


def presence_join(
    *, case_id: int, connection: str, user_id: int, name: str
) -> list[dict]:
    """Add or refresh ``connection``'s entry; return who is present now."""

    def change(entries: dict, now: float) -> None:
        entries[connection] = [int(user_id), name, now + ENTRY_TTL_SECONDS]

    return _update(case_id, change)


def presence_leave(*, case_id: int, connection: str) -> list[dict]:
    """Remove ``connection``'s entry; return who is still present."""

    def change(entries: dict, now: float) -> None:
        entries.pop(connection, None)

    return _update(case_id, change)


def presence_users(case_id: int) -> list[dict]:
    """Who has the case open: ``[{"id", "name"}]`` sorted by name."""
    return _users(_live(cache.get(_key(case_id)) or {}, time.time()))


# --- coalescing announcements ------------------------------------------------------
# The first change in a quiet case claims the announcement; changes made while
# it is pending are covered by it, because the claimer reads the list only
# after releasing the claim. The claim expires on its own if its process dies.
ANNOUNCE_CLAIM_TTL_SECONDS = 10


def presence_announce_claim(case_id: int) -> bool:
    """True for the one caller that should announce the case's presence."""
    return cache.add(f"{_key(case_id)}:announce", 1, timeout=ANNOUNCE_CLAIM_TTL_SECONDS)


def presence_announce_read(case_id: int) -> list[dict]:
    """Release the claim, then read who is present (in that order)."""
    cache.delete(f"{_key(case_id)}:announce")
    return presence_users(case_id)
