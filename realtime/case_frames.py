"""What a case socket does with each client frame type (DESIGN.md):
``message.send``, ``message.edit``, ``message.delete``, ``thread.create``,
``history``, ``typing``, ``ping`` and ``read``.

Each handler reads its fields (``BadFrame`` for bad ones) and calls a service
or selector after a fresh access check; ``CaseConsumer.receive`` turns what
they raise into ``error`` frames.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from workspace.events import group_event
from workspace.services import PermissionDenied

from . import reads, selectors, services
from .connection import AccessLost, CheckedAccess, load_access, read_db
from .frames import message_frame, user_frame
from .models import Thread
from .protocol import CLOSE_FORBIDDEN, BadFrame, int_field

__all__ = ["TYPING_THROTTLE_SECONDS", "CaseFrames"]

TYPING_THROTTLE_SECONDS = 3.0


class CaseFrames:
    """The client-frame handlers of ``CaseConsumer``, by frame type in
    ``HANDLERS``; mixed in with ``realtime.connection.CaseConnection``."""

    async def _run(self, fn: Callable[[CheckedAccess], Any], *, read: bool = False):
        """Call ``fn(checked)`` in a DB thread after a fresh access check."""
        if self.closing:
            raise AccessLost(CLOSE_FORBIDDEN)

        def call():
            checked = load_access(self.user.pk, self.case_id)
            return checked, fn(checked)

        runner = read_db if read else database_sync_to_async
        checked, result = await runner(call)()
        self._remember(checked)
        return result

    def _ip(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def on_message_send(self, frame: dict) -> None:
        thread = int_field(frame, "thread")
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise BadFrame("`client_id` must be a string of 1–64 characters.")
        body = frame.get("body")
        if not isinstance(body, str):
            raise BadFrame("`body` must be a string.")
        dismissed = frame.get("phi_dismissed")
        anchor = frame.get("anchor")

        def post(checked: CheckedAccess):
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
        message_id = int_field(frame, "id")
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
        message_id = int_field(frame, "id")
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
        thread = int_field(frame, "thread", required=False)
        after = int_field(frame, "after", required=False)
        before = int_field(frame, "before", required=False)
        limit = int_field(frame, "limit", required=False)
        if limit is None:
            limit = selectors.HISTORY_DEFAULT_LIMIT
        if not 1 <= limit <= selectors.HISTORY_MAX_LIMIT:
            raise BadFrame(f"`limit` must be 1–{selectors.HISTORY_MAX_LIMIT}.")

        def read(checked: CheckedAccess):
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
        thread = int_field(frame, "thread")
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
        thread = int_field(frame, "thread")
        up_to = int_field(frame, "up_to")
        if up_to <= self.read_sent.get(thread, 0):
            return
        state = await self._run(
            lambda checked: reads.thread_mark_read(
                case=checked.case, user=checked.user, thread=thread, up_to=up_to
            )
        )
        self.read_sent[thread] = state.last_read
        await self.send_json(state.frame())

    HANDLERS: dict[str, Callable[[CaseFrames, dict], Awaitable[None]]] = {
        "message.send": on_message_send,
        "message.edit": on_message_edit,
        "message.delete": on_message_delete,
        "thread.create": on_thread_create,
        "history": on_history,
        "typing": on_typing,
        "ping": on_ping,
        "read": on_read,
    }
