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

The pieces live beside this module: the wire format in ``realtime.protocol``,
access, groups and presence in ``realtime.connection``, and the handler of
each client frame type in ``realtime.case_frames``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from workspace import online
from workspace.events import EVENT_TYPE, case_group, event_payload, user_group
from workspace.services import ServiceError

from .case_frames import CaseFrames
from .connection import (
    AccessLost,
    CaseConnection,
    hello_frame,
    load_access,
    read_db,
)
from .protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_NOT_LOGGED_IN,
    BadFrame,
    dumps,
    error_frame,
    frame_ref,
    parse_frame,
    refusal_frame,
)

logger = logging.getLogger(__name__)

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


class CaseConsumer(CaseFrames, CaseConnection, _RelayingConsumer):
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
            checked = await read_db(load_access)(user.pk, self.case_id)
        except AccessLost as lost:
            await self.close(code=lost.close_code)
            return
        self._remember(checked)
        # Join before reading last_id, so every later message arrives live.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        hello = await read_db(hello_frame)(checked)
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

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=dumps(content))

    async def _error(self, code: str, detail: str, ref: Any = None, **extra) -> None:
        await self.send_json(error_frame(code, detail, ref, **extra))

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
        ref = frame_ref(kind, frame)
        try:
            await handler(self, frame)
        except BadFrame as bad:
            await self._error(bad.code, bad.detail, ref)
        except AccessLost as lost:
            await self._error(
                "forbidden", "You no longer have access to this case.", ref
            )
            await self._lose_access(lost.close_code)
        except ServiceError as refused:
            await self.send_json(refusal_frame(refused, ref))

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
            await self._send(error_frame(bad.code, bad.detail))
            return
        kind = frame.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
        else:
            await self._send(
                error_frame(
                    "unknown_type",
                    f"Unknown frame type {kind!r}.",
                    kind if isinstance(kind, str) else None,
                )
            )

    async def _send(self, content: dict) -> None:
        await self.send(text_data=dumps(content))

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
