"""One case socket's standing with the case: the access check (on connect,
before each state-changing frame, on access events and every heartbeat), the
database threads it runs in, the group it joins and leaves, and the presence
entries it keeps fresh.

``CaseConnection`` is the part of ``realtime.consumers.CaseConsumer`` that
does this; see that module's docstring for when access is re-checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from cases.models import Case
from cases.permissions import CaseAccess, case_access
from workspace.events import case_group, group_event
from workspace.models import User

from . import presence, reads, selectors, services
from .frames import thread_frame, user_frame
from .protocol import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_NOT_LOGGED_IN

__all__ = [
    "PRESENCE_COALESCE_SECONDS",
    "READ_THREADS",
    "AccessLost",
    "CaseConnection",
    "CheckedAccess",
    "close_read_connections",
    "hello_frame",
    "load_access",
    "read_db",
]

logger = logging.getLogger(__name__)

# Presence changes are announced at most once per case in this window, by
# whichever process sees the first change: a hundred pages opening at once
# cost a hundred hellos and one presence frame each, not a hundred squared.
PRESENCE_COALESCE_SECONDS = 1.0

# Reads (access checks, hello, history) run on a small pool of their own
# rather than Channels' one shared database thread, so many pages can open at
# once; writes (posting, editing) stay on that thread, one at a time. Each
# pool thread keeps one database connection (CONN_MAX_AGE applies).
READ_THREADS = 4
_read_pool: tuple[int, ThreadPoolExecutor] | None = None


def _read_executor() -> ThreadPoolExecutor:
    global _read_pool
    # A forked process inherits the pool but not its threads: start afresh.
    if _read_pool is None or _read_pool[0] != os.getpid():
        _read_pool = (
            os.getpid(),
            ThreadPoolExecutor(READ_THREADS, thread_name_prefix="consilium-db-read"),
        )
    return _read_pool[1]


def read_db(fn):
    return database_sync_to_async(fn, thread_sensitive=False, executor=_read_executor())


def close_read_connections() -> None:
    """Close the database connection of every read thread (tests, shutdown)."""
    if _read_pool is None or _read_pool[0] != os.getpid():
        return
    pool = _read_pool[1]
    # Every thread must take one task, so each waits for all to arrive.
    barrier = threading.Barrier(READ_THREADS)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connections.close_all()

    for future in [pool.submit(close) for _ in range(READ_THREADS)]:
        future.result()


class AccessLost(Exception):
    def __init__(self, close_code: int) -> None:
        super().__init__(close_code)
        self.close_code = close_code


@dataclass
class CheckedAccess:
    case: Case
    access: CaseAccess
    user: User


def load_access(user_id: int, case_id: int) -> CheckedAccess:
    """Re-read the user and the case and decide access (DB, in a thread)."""
    user = (
        User.objects.select_related("clinician_profile")
        .filter(pk=user_id, is_active=True)
        .first()
    )
    if user is None:
        raise AccessLost(CLOSE_NOT_LOGGED_IN)
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise AccessLost(CLOSE_NOT_FOUND)
    access = case_access(user, case)
    if not access.can_view:
        raise AccessLost(CLOSE_FORBIDDEN)
    return CheckedAccess(case=case, access=access, user=user)


def hello_frame(checked: CheckedAccess) -> dict:
    """The ``hello`` a socket gets on connect (its ``presence`` still empty)."""
    case = checked.case
    services.thread_default(case=case)
    threads = [
        {**thread_frame(t), "unread": t.unread, "last_read": t.last_read}
        for t in reads.threads_with_unread(case=case, user=checked.user)
    ]
    last_id, last_seq = selectors.case_last_message(case)
    return {
        "type": "hello",
        "case": {"id": case.pk, "title": case.title},
        "user": {
            **user_frame(checked.user),
            "can_comment": checked.access.can_comment,
        },
        "threads": threads,
        "presence": [],
        "last_id": last_id,
        "last_seq": last_seq,
    }


# Pending announcements, referenced so they are not garbage-collected; they
# outlive the connection that scheduled them.
_ANNOUNCEMENTS: set[asyncio.Task] = set()


async def _announce_presence_later(layer, case_id: int) -> None:
    try:
        await asyncio.sleep(PRESENCE_COALESCE_SECONDS)
        users = await sync_to_async(
            presence.presence_announce_read, thread_sensitive=False
        )(case_id)
        await layer.group_send(
            case_group(case_id), group_event({"type": "presence", "users": users})
        )
    except Exception:
        logger.exception("presence announcement failed for case %s", case_id)


class CaseConnection:
    """Access, group membership and presence of one case socket.

    Mixed into ``CaseConsumer``, which sets ``case_id``, ``group``,
    ``joined``, ``closing``, ``heartbeat`` and ``presence_seen`` on connect.
    """

    def _remember(self, checked: CheckedAccess) -> None:
        self.user = checked.user
        self.case = checked.case
        self.access = checked.access

    async def _presence_join(self) -> list[dict]:
        # The cache is thread-safe: no need to queue behind database calls.
        users = await sync_to_async(presence.presence_join, thread_sensitive=False)(
            case_id=self.case_id,
            connection=self.channel_name,
            user_id=self.user.pk,
            name=self.user.display_name,
        )
        return users

    async def _announce_presence(self) -> None:
        """Have the case's presence sent to the group shortly (coalesced)."""
        claimed = await sync_to_async(
            presence.presence_announce_claim, thread_sensitive=False
        )(self.case_id)
        if claimed:
            task = asyncio.ensure_future(
                _announce_presence_later(self.channel_layer, self.case_id)
            )
            _ANNOUNCEMENTS.add(task)
            task.add_done_callback(_ANNOUNCEMENTS.discard)

    async def _beat(self) -> None:
        try:
            while True:
                await asyncio.sleep(presence.HEARTBEAT_SECONDS)
                if not await self._recheck():
                    return
                users = await self._presence_join()
                if users != self.presence_seen:
                    # An entry expired (its process crashed without a leave).
                    await self._announce_presence()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("presence heartbeat failed for case %s", self.case_id)

    async def _leave(self) -> None:
        if self.heartbeat is not None:
            # The heartbeat itself may be the one leaving (it lost access).
            if self.heartbeat is not asyncio.current_task():
                self.heartbeat.cancel()
            self.heartbeat = None
        if not getattr(self, "joined", False):
            return
        self.joined = False
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await sync_to_async(presence.presence_leave, thread_sensitive=False)(
            case_id=self.case_id, connection=self.channel_name
        )
        await self._announce_presence()

    async def _lose_access(self, close_code: int) -> None:
        if self.closing:
            return
        self.closing = True
        await self._leave()
        await self.close(code=close_code)

    async def _recheck(self) -> bool:
        """Re-read access from the database; close with 44xx when it is gone."""
        if self.closing:
            return False
        try:
            checked = await read_db(load_access)(self.user.pk, self.case_id)
        except AccessLost as lost:
            await self._lose_access(lost.close_code)
            return False
        self._remember(checked)
        return True
