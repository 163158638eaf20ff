"""WebSocket consumers: ``/ws/cases/<id>/`` and ``/ws/notifications/``.

The protocol is the contract in DESIGN.md (extensions are listed in the
README). Consumers are thin: they parse frames, check access and call
``realtime.services``; every change is broadcast by the service on commit and
reaches clients through ``consilium_event``.

Access is checked on connect and again, against the database, for every
frame that changes state or reads history. Relaying a group event costs no
query: instead each connection re-checks at once when the case announces a
change that can move access (``case.updated`` from the cases services when
participants, status, visibility or workspace change; ``case.access_changed``
and ``case.deleted``), and every ``HEARTBEAT_SECONDS`` for changes made
elsewhere (a workspace membership ended, a clinician's verification
withdrawn). A participant removed through ``participant_remove`` is therefore
cut off before the next frame; the heartbeat bounds the rest. A connection
that has lost access leaves the group and is closed with 4403 immediately,
so it neither sends nor receives anything more. Typing uses the last check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import connections

from cases.models import Case
from cases.permissions import CaseAccess, case_access
from workspace import online
from workspace.events import (
    EVENT_TYPE,
    case_group,
    event_payload,
    group_event,
    user_group,
)
from workspace.models import User
from workspace.services import PermissionDenied, ServiceError

from . import presence, reads, selectors, services
from .frames import message_frame, phi_findings, thread_frame, user_frame
from .models import Thread

logger = logging.getLogger(__name__)

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

# The largest frame read is settings.WS_MAX_FRAME_BYTES (256 KiB of UTF-8):
# more than any valid frame (10,000 characters JSON-escaped as \uXXXX pairs
# is 120 KB) and below Daphne's own limit (1 MiB), so an oversized frame gets
# a `too_long` error frame; only a message over Daphne's limit never reaches
# the app (autobahn drops the connection: tests/realtime/test_daphne_limits.py).
TYPING_THROTTLE_SECONDS = 3.0
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


# Group events that may change who can see the case (see the module doc).
ACCESS_EVENTS = frozenset({"case.access_changed", "case.updated", "case.deleted"})
# Group events for the consumers themselves, never forwarded to clients.
INTERNAL_EVENTS = frozenset({"case.access_changed"})
# Group events a consumer looks into (decodes) before forwarding; every other
# event is relayed as the text encoded once for the whole group.
LOOKED_AT_EVENTS = ACCESS_EVENTS | {
    "typing",
    "thread.new",
    "presence",
    "differential.updated",
}


class BadFrame(Exception):
    def __init__(self, detail: str, code: str = "bad_request") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class AccessLost(Exception):
    def __init__(self, close_code: int) -> None:
        super().__init__(close_code)
        self.close_code = close_code


def _int(frame: dict, key: str, *, required: bool = True) -> int | None:
    value = frame.get(key)
    if value is None:
        if required:
            raise BadFrame(f"`{key}` is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadFrame(f"`{key}` must be a non-negative integer.")
    return value


def _error_frame(code: str, detail: str, ref: Any = None, **extra: Any) -> dict:
    return {"type": "error", "code": code, "detail": detail, "ref": ref, **extra}


def _too_long(text: str, limit: int) -> bool:
    """True when ``text`` is more than ``limit`` bytes of UTF-8 (encoded only
    when the character count leaves it in doubt)."""
    if len(text) * 4 <= limit:
        return False
    if len(text) > limit:
        return True
    return len(text.encode("utf-8", "surrogatepass")) > limit


def parse_frame(text_data: str | None) -> dict:
    """The client's frame as a dict, or ``BadFrame`` (``bad_json`` /
    ``too_long``) for anything else; never raises anything but ``BadFrame``.

    Nesting too deep for the decoder (``"[" * 100000``) is ``bad_json``: the
    C decoder stops at the interpreter's recursion limit with a
    ``RecursionError``, which would otherwise end the consumer (a 1011 close).
    """
    if text_data is None:
        raise BadFrame("Send JSON as text frames.", "bad_json")
    limit = settings.WS_MAX_FRAME_BYTES
    if _too_long(text_data, limit):
        raise BadFrame(
            f"Frames are at most {limit:,} bytes; this one was not read.", "too_long"
        )
    try:
        frame = json.loads(text_data)
    except RecursionError:
        raise BadFrame("Frames must not be nested this deeply.", "bad_json") from None
    except ValueError:
        raise BadFrame("Frames must be JSON objects.", "bad_json") from None
    if not isinstance(frame, dict):
        raise BadFrame("Frames must be JSON objects.", "bad_json")
    return frame


def _ref(kind: str, frame: dict) -> Any:
    """What an error frame's ``ref`` names: the ``client_id`` of a
    ``message.send`` (or of a ``thread.create`` that has one), the message id
    of a ``message.edit``, otherwise the frame type."""
    if kind in ("message.send", "thread.create"):
        ref = frame.get("client_id")
        if isinstance(ref, str) and 0 < len(ref) <= 64:
            return ref
    elif kind == "message.edit":
        ref = frame.get("id")
        if isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0:
            return ref
    return kind


@dataclass
class _Access:
    case: Case
    access: CaseAccess
    user: User


def _load_access(user_id: int, case_id: int) -> _Access:
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
    return _Access(case=case, access=access, user=user)


def _hello(checked: _Access) -> dict:
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


class _RelayingConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message: dict) -> None:
        # Channels hops to the shared database thread before every handler
        # (to close stale connections); a relayed group event touches no
        # database, and with fifty pages open that hop per page per message
        # was most of the delivery time. Database work still goes through
        # database_sync_to_async, which does the same housekeeping itself.
        if message.get("type") == EVENT_TYPE:
            await self.consilium_event(message)
        else:
            await super().dispatch(message)

    async def consilium_event(self, event: dict) -> None:
        raise NotImplementedError


class CaseConsumer(_RelayingConsumer):
    """One browser tab's live view of one case's discussion."""

    async def connect(self) -> None:
        self.joined = False
        self.closing = False
        self.heartbeat: asyncio.Task | None = None
        self.typing_sent: dict[int, float] = {}
        self.read_sent: dict[int, int] = {}  # thread -> marker stored
        self.presence_seen: list[dict] = []
        self.case_id = int(self.scope["url_route"]["kwargs"]["case_id"])
        self.group = case_group(self.case_id)
        # Accept first: a close code is only delivered on an open socket, and
        # clients need 4401/4403/4404 to stop reconnecting.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        try:
            checked = await read_db(_load_access)(user.pk, self.case_id)
        except AccessLost as lost:
            await self.close(code=lost.close_code)
            return
        self._remember(checked)
        # Join before reading last_id, so every later message arrives live.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        hello = await read_db(_hello)(checked)
        hello["presence"] = await self._presence_join()
        self.thread_ids = {t["id"] for t in hello["threads"]}
        self.read_sent = {t["id"]: t["last_read"] for t in hello["threads"]}
        await self.send_json(hello)
        self.presence_seen = hello["presence"]
        await self._announce_presence()
        self.heartbeat = asyncio.ensure_future(self._beat())

    async def disconnect(self, code: int) -> None:
        await self._leave()

    # --- helpers ----------------------------------------------------------------

    def _remember(self, checked: _Access) -> None:
        self.user = checked.user
        self.case = checked.case
        self.access = checked.access

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def _error(self, code: str, detail: str, ref: Any = None, **extra) -> None:
        await self.send_json(_error_frame(code, detail, ref, **extra))

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
            checked = await read_db(_load_access)(self.user.pk, self.case_id)
        except AccessLost as lost:
            await self._lose_access(lost.close_code)
            return False
        self._remember(checked)
        return True

    # --- client frames ------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.closing:
            return
        try:
            frame = parse_frame(text_data)
        except BadFrame as bad:
            await self._error(bad.code, bad.detail)
            return
        kind = frame.get("type")
        handler = self.HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._error(
                "unknown_type",
                f"Unknown frame type {kind!r}." if kind else "Frames need a `type`.",
                kind if isinstance(kind, str) else None,
            )
            return
        ref = _ref(kind, frame)
        try:
            await handler(self, frame)
        except BadFrame as bad:
            await self._error(bad.code, bad.detail, ref)
        except AccessLost as lost:
            await self._error(
                "forbidden", "You no longer have access to this case.", ref
            )
            await self._lose_access(lost.close_code)
        except PermissionDenied as denied:
            await self._error("forbidden", str(denied), ref)
        except services.PHIFound as refused:
            await self._error(
                "phi_found", str(refused), ref, findings=phi_findings(refused)
            )
        except services.BadAnchor as refused:
            await self._error(refused.code, str(refused), ref)
        except services.RateLimited as refused:
            await self._error(
                refused.code, str(refused), ref, retry_after=refused.retry_after
            )
        except services.DiscussionError as refused:
            await self._error(refused.code, str(refused), ref)
        except ServiceError as refused:
            await self._error("bad_request", str(refused), ref)

    async def _run(self, fn, *, read: bool = False):
        """Call ``fn(checked)`` in a DB thread after a fresh access check."""
        if self.closing:
            raise AccessLost(CLOSE_FORBIDDEN)

        def call():
            checked = _load_access(self.user.pk, self.case_id)
            return checked, fn(checked)

        runner = read_db if read else database_sync_to_async
        checked, result = await runner(call)()
        self._remember(checked)
        return result

    def _ip(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def on_message_send(self, frame: dict) -> None:
        thread = _int(frame, "thread")
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise BadFrame("`client_id` must be a string of 1–64 characters.")
        body = frame.get("body")
        if not isinstance(body, str):
            raise BadFrame("`body` must be a string.")
        dismissed = frame.get("phi_dismissed")
        anchor = frame.get("anchor")

        def post(checked: _Access):
            result = services.message_post(
                case=checked.case,
                thread=thread,
                by=checked.user,
                body=body,
                client_id=client_id,
                phi_dismissed=dismissed,
                ip=self._ip(),
                anchor=anchor,
            )
            return result.message.pk, result.message.seq, result.duplicate

        message_id, seq, duplicate = await self._run(post)
        await self.send_json(
            {
                "type": "message.ack",
                "client_id": client_id,
                "id": message_id,
                "seq": seq,
                "duplicate": duplicate,
            }
        )

    async def on_message_edit(self, frame: dict) -> None:
        message_id = _int(frame, "id")
        body = frame.get("body")
        if not isinstance(body, str):
            raise BadFrame("`body` must be a string.")
        dismissed = frame.get("phi_dismissed")
        await self._run(
            lambda checked: services.message_edit(
                message=message_id,
                by=checked.user,
                body=body,
                case=checked.case,
                ip=self._ip(),
                phi_dismissed=dismissed,
            )
        )

    async def on_message_delete(self, frame: dict) -> None:
        message_id = _int(frame, "id")
        await self._run(
            lambda checked: services.message_delete(
                message=message_id, by=checked.user, case=checked.case, ip=self._ip()
            )
        )

    async def on_thread_create(self, frame: dict) -> None:
        title = frame.get("title")
        if not isinstance(title, str):
            raise BadFrame("`title` must be a string.")
        dismissed = frame.get("phi_dismissed")
        await self._run(
            lambda checked: services.thread_create(
                case=checked.case,
                by=checked.user,
                title=title,
                phi_dismissed=dismissed,
                ip=self._ip(),
            )
        )

    async def on_history(self, frame: dict) -> None:
        thread = _int(frame, "thread", required=False)
        after = _int(frame, "after", required=False)
        before = _int(frame, "before", required=False)
        limit = _int(frame, "limit", required=False)
        if limit is None:
            limit = selectors.HISTORY_DEFAULT_LIMIT
        if not 1 <= limit <= selectors.HISTORY_MAX_LIMIT:
            raise BadFrame(f"`limit` must be 1–{selectors.HISTORY_MAX_LIMIT}.")

        def read(checked: _Access):
            if (
                thread is not None
                and not Thread.objects.filter(pk=thread, case=checked.case).exists()
            ):
                raise services.NotFound("That topic does not exist in this case.")
            page = selectors.message_history(
                case=checked.case,
                thread=thread,
                after=after,
                before=before,
                limit=limit,
            )
            return [message_frame(m) for m in page.messages], page.has_more

        messages, has_more = await self._run(read, read=True)
        await self.send_json(
            {
                "type": "history",
                "thread": thread,
                "after": after,
                "before": before,
                "messages": messages,
                "has_more": has_more,
            }
        )

    async def on_typing(self, frame: dict) -> None:
        thread = _int(frame, "thread")
        if not self.access.can_comment:
            raise PermissionDenied(
                "Viewers can read the discussion but not post to it."
            )
        if thread not in self.thread_ids:
            exists = await read_db(
                Thread.objects.filter(pk=thread, case_id=self.case_id).exists
            )()
            if not exists:
                raise services.NotFound("That topic does not exist in this case.")
            self.thread_ids.add(thread)
        now = time.monotonic()
        if now - self.typing_sent.get(thread, -1e9) < TYPING_THROTTLE_SECONDS:
            return
        self.typing_sent[thread] = now
        await self.channel_layer.group_send(
            self.group,
            group_event(
                {"type": "typing", "user": user_frame(self.user), "thread": thread}
            ),
        )

    async def on_ping(self, frame: dict) -> None:
        await self.send_json({"type": "pong"})

    async def on_read(self, frame: dict) -> None:
        """``read``: the user has seen ``thread`` up to message ``up_to``.
        Answered with ``read.state`` to this connection only; a report that
        does not move this connection's marker forward costs no query."""
        thread = _int(frame, "thread")
        up_to = _int(frame, "up_to")
        if up_to <= self.read_sent.get(thread, 0):
            return
        state = await self._run(
            lambda checked: reads.thread_mark_read(
                case=checked.case, user=checked.user, thread=thread, up_to=up_to
            )
        )
        self.read_sent[thread] = state.last_read
        await self.send_json(state.frame())

    HANDLERS = {
        "message.send": on_message_send,
        "message.edit": on_message_edit,
        "message.delete": on_message_delete,
        "thread.create": on_thread_create,
        "history": on_history,
        "typing": on_typing,
        "ping": on_ping,
        "read": on_read,
    }

    # --- group events ---------------------------------------------------------------

    def _may_move_access(self, payload: dict) -> bool:
        """False only for a ``case.updated`` that provably changed nothing
        access depends on (autosaves of the text announce one every few
        seconds; re-checking every open page for each would be waste)."""
        if payload.get("type") != "case.updated":
            return True
        return (
            bool(payload.get("participants"))
            or payload.get("status") != self.case.status
            or payload.get("visibility") != self.case.visibility
            or "workspace" in (payload.get("fields") or ())
            or "status" not in payload
        )

    async def consilium_event(self, event: dict) -> None:
        if self.closing or not getattr(self, "joined", False):
            return
        text = event.get("text")
        if text is not None and event.get("kind") not in LOOKED_AT_EVENTS:
            # The common case (message.new …): nothing to decide per reader,
            # so no decoding, encoding, query or check; access is re-checked
            # on the events that can move it.
            await self.send(text_data=text)
            return
        payload = event_payload(event)
        kind = payload.get("type")
        if kind == "typing" and (payload.get("user") or {}).get("id") == self.user.pk:
            return
        if (
            kind in ACCESS_EVENTS
            and self._may_move_access(payload)
            and not await self._recheck()
        ):
            return
        if kind == "thread.new":
            self.thread_ids.add(payload["thread"]["id"])
        elif kind == "presence":
            self.presence_seen = payload.get("users") or []
        if kind in INTERNAL_EVENTS:
            return
        if kind == "differential.updated" and "blind" in payload:
            payload = blind_for(payload, self.user.pk)
        await self.send_json(payload)


def blind_for(payload: dict, user_id: int) -> dict:
    """A ``differential.updated`` frame of an independent case as ``user_id``
    may see it (cases/services/differentials.py): the full ranking once they
    have submitted their round, the blind one (no one else's votes, working
    order) before. ``blind`` itself never leaves the server."""
    blind = payload["blind"]
    frame = {k: v for k, v in payload.items() if k != "blind"}
    if user_id in (blind.get("submitted") or ()):
        return frame
    frame["ranking"] = blind.get("ranking") or []
    frame["hidden"] = True
    return frame


class NotificationConsumer(_RelayingConsumer):
    """The signed-in user's own notifications (``notification`` frames)."""

    async def connect(self) -> None:
        self.group = None
        self.beat = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.user_id = user.pk
        self.group = user_group(user)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # While this socket is open the user counts as online, so missed-mention
        # e-mails wait (workspace.online, workspace.mail). Recorded before the
        # accept, so a page that sees its socket open is already counted.
        await self._online()
        await self.accept()
        self.beat = asyncio.create_task(self._beat())

    async def _online(self) -> None:
        await sync_to_async(online.user_connection_open, thread_sensitive=False)(
            user_id=self.user_id, connection=self.channel_name
        )

    async def _beat(self) -> None:
        try:
            while True:
                await asyncio.sleep(online.HEARTBEAT_SECONDS)
                await self._online()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("online heartbeat failed for user %s", self.user_id)

    async def disconnect(self, code: int) -> None:
        if self.beat is not None:
            self.beat.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await sync_to_async(online.user_connection_close, thread_sensitive=False)(
                user_id=self.user_id, connection=self.channel_name
            )

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        try:
            frame = parse_frame(text_data)
        except BadFrame as bad:
            await self._send(_error_frame(bad.code, bad.detail))
            return
        kind = frame.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
        else:
            await self._send(
                _error_frame(
                    "unknown_type",
                    f"Unknown frame type {kind!r}.",
                    kind if isinstance(kind, str) else None,
                )
            )

    async def _send(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def consilium_event(self, event: dict) -> None:
        if self.group:
            text = event.get("text")
            if text is not None:
                await self.send(text_data=text)
            else:
                await self._send(event.get("payload") or {})


__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_NOT_FOUND",
    "CLOSE_NOT_LOGGED_IN",
    "CaseConsumer",
    "NotificationConsumer",
]
