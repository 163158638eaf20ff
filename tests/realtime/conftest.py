"""Helpers for discussion tests: the autouse per-test reset and the shared
setup; the socket helpers live in tests/fixtures/ws.py and are re-exported."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import connections

from cases.models import Case, CaseParticipant

# The socket helpers, for branches that still import them from here.
from tests.fixtures.cache import local_cache_clear
from tests.fixtures.ws import *  # noqa: F403


@pytest.fixture(autouse=True)
def _fresh_layer_and_cache(monkeypatch):
    """Each test starts with no groups and no presence or rate-limit counters,
    and presence announcements come quickly.

    Only process-local backends are cleared: in scale mode the Redis keys of
    this run live under a per-run prefix and tests use fresh ids anyway.
    """
    from realtime import connection

    monkeypatch.setattr(connection, "PRESENCE_COALESCE_SECONDS", 0.05)
    layer = get_channel_layer()
    if hasattr(layer, "groups") and hasattr(layer, "channels"):
        layer.groups.clear()
        layer.channels.clear()
    local_cache_clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _close_consumer_read_connections(django_db_setup):
    """At the end of the run, before the test database is dropped, close the
    connections of the consumers' read threads and of asgiref's shared sync
    thread (other apps' async tests use them too)."""
    yield
    from asgiref.sync import SyncToAsync

    from realtime.connection import close_read_connections

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
    from realtime.connection import _ANNOUNCEMENTS, close_read_connections

    for task in list(_ANNOUNCEMENTS):
        task.cancel()
    await asyncio.gather(*_ANNOUNCEMENTS, return_exceptions=True)
    await database_sync_to_async(connections.close_all)()
    close_read_connections()
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.clear()


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
