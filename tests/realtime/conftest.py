"""Helpers for discussion tests: WebSocket clients through the real ASGI stack
(origin validation, session auth, routing), and frame readers."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import Client

from cases.models import Case, CaseParticipant

TIMEOUT = 5
ORIGIN = b"http://127.0.0.1"


@pytest.fixture(autouse=True)
def _fresh_layer_and_cache(monkeypatch):
    """Each test starts with no groups and no presence or rate-limit counters,
    and presence announcements come quickly.

    Only process-local backends are cleared: in scale mode the Redis keys of
    this run live under a per-run prefix and tests use fresh ids anyway.
    """
    from realtime import consumers

    monkeypatch.setattr(consumers, "PRESENCE_COALESCE_SECONDS", 0.05)
    layer = get_channel_layer()
    if hasattr(layer, "groups") and hasattr(layer, "channels"):
        layer.groups.clear()
        layer.channels.clear()
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _close_consumer_read_connections(django_db_setup):
    """At the end of the run, before the test database is dropped, close the
    connections of the consumers' read threads and of asgiref's shared sync
    thread (other apps' async tests use them too)."""
    yield
    from asgiref.sync import SyncToAsync

    from realtime.consumers import close_read_connections

    close_read_connections()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(10)


@pytest.fixture
async def close_db_threads():
    """Release what an async test bound to its own event loop.

    ``database_sync_to_async`` runs every call of a test on one worker thread;
    its connection would outlive the test and block dropping the test
    database on PostgreSQL. The Redis channel layer keeps pools and a lock
    bound to the loop that first used them; the next test gets a new layer.
    """
    yield
    from realtime.consumers import _ANNOUNCEMENTS, close_read_connections

    for task in list(_ANNOUNCEMENTS):
        task.cancel()
    await asyncio.gather(*_ANNOUNCEMENTS, return_exceptions=True)
    await database_sync_to_async(connections.close_all)()
    close_read_connections()
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.clear()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def application():
    from workspace.asgi import application as app

    return app


async def open_socket(
    user, path: str, *, origin: bytes = ORIGIN
) -> WebsocketCommunicator:
    """An accepted connection (the consumer may close it right after)."""
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if user is not None:
        key = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()))
    comm = WebsocketCommunicator(application(), path, headers=headers)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    return comm


async def join(user, case: Case | int) -> tuple[WebsocketCommunicator, dict]:
    """Connect to a case and return the client with its ``hello`` frame."""
    case_id = getattr(case, "pk", case)
    comm = await open_socket(user, f"/ws/cases/{case_id}/")
    hello = await comm.receive_json_from(timeout=TIMEOUT)
    assert hello["type"] == "hello", hello
    return comm, hello


async def frame_of(comm: WebsocketCommunicator, kind: str) -> dict:
    """The next frame of type ``kind``, skipping presence updates only."""
    while True:
        frame = await comm.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame
        assert frame["type"] == "presence", f"expected {kind}, got {frame}"


async def frames_of(comm: WebsocketCommunicator, *kinds: str) -> dict[str, dict]:
    """One frame of each type in ``kinds``, in any order (presence skipped)."""
    found: dict[str, dict] = {}
    while len(found) < len(kinds):
        frame = await comm.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == "presence" and "presence" not in kinds:
            continue
        assert frame["type"] in kinds and frame["type"] not in found, (
            f"expected {kinds}, got {frame}"
        )
        found[frame["type"]] = frame
    return found


async def settle(comm: WebsocketCommunicator) -> None:
    """Read every queued presence frame; fail on anything else."""
    while not await comm.receive_nothing(timeout=0.15):
        frame = await comm.receive_json_from(timeout=TIMEOUT)
        assert frame["type"] == "presence", f"unexpected {frame}"


async def send(comm: WebsocketCommunicator, frame: dict) -> None:
    await comm.send_to(text_data=json.dumps(frame))


async def close_code(comm: WebsocketCommunicator) -> int:
    """Skip frames until the server closes; return the close code."""
    while True:
        output = await comm.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output.get("code")


async def nothing_more(comm: WebsocketCommunicator) -> bool:
    """True when no frame other than presence arrives shortly."""
    await settle(comm)
    return await comm.receive_nothing(timeout=0.3)


@pytest.fixture
def discussion(make_clinician, make_case):
    """A private case with an owner, a collaborator, a viewer and an outsider."""

    class Setup:
        owner = make_clinician("olive", first_name="Olive", last_name="Owner")
        colleague = make_clinician("colin", first_name="Colin", last_name="Lab")
        viewer = make_clinician("vera", first_name="Vera", last_name="View")
        outsider = make_clinician("otto", first_name="Otto", last_name="Side")
        case = make_case(
            owner,
            participants={
                colleague: CaseParticipant.Role.COLLABORATOR,
                viewer: CaseParticipant.Role.VIEWER,
            },
            status=Case.Status.PUBLISHED,
            title="Rash after new medication",
        )

    return Setup
