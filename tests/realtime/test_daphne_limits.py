"""Frame size limits through a real Daphne: the app's limit
(``WS_MAX_FRAME_BYTES``) is below Daphne's (``--websocket-max-message-size``,
1 MiB), so an oversized frame gets a ``too_long`` error frame and the
connection stays open; only a message over Daphne's own limit is refused at
the protocol layer ("message too big"), before the
application sees it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fixtures.ws import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DAPHNE_LIMIT = 1024 * 1024  # Daphne's default, passed explicitly in deploy/


async def _next(ws, kind: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == kind:
            return frame


def test_the_server_limit_is_above_the_app_limit_everywhere_daphne_starts():
    assert settings.WS_MAX_FRAME_BYTES < DAPHNE_LIMIT
    assert settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE == DAPHNE_LIMIT
    flag = f"--websocket-max-message-size {DAPHNE_LIMIT}"
    for path in ("deploy/Procfile", "deploy/consilium-web@.service", "Makefile"):
        text = (ROOT / path).read_text()
        starts = [line for line in text.splitlines() if "daphne " in line]
        assert starts and all(flag in line for line in starts), path


async def test_oversized_frames_through_daphne(asgi_live_server, discussion):
    cookie = await sync_to_async(session_cookie)(discussion.owner)
    url = asgi_live_server.replace("http://", "ws://")
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
        "Origin": asgi_live_server,
    }
    for path, first in (
        (f"/ws/cases/{discussion.case.pk}/", "hello"),
        ("/ws/notifications/", None),
    ):
        async with connect(url + path, additional_headers=headers) as ws:
            if first:
                await _next(ws, first)
            # Over the app's limit, under Daphne's: an error frame, still open.
            await ws.send("x" * (settings.WS_MAX_FRAME_BYTES + 1))
            error = await _next(ws, "error")
            await ws.send(json.dumps({"type": "ping"}))
            pong = await _next(ws, "pong")
            assert error["code"] == "too_long", path
            assert pong == {"type": "pong"}

            # Over Daphne's limit: the connection is dropped, no close frame.
            await ws.send("x" * (DAPHNE_LIMIT + 1))
            with pytest.raises(ConnectionClosed) as closed:
                await _next(ws, "error")
            assert closed.value.rcvd is None
