"""Presence and rate limits live in the shared cache (Redis in scale mode)."""

from __future__ import annotations

import itertools
import threading

import pytest

from realtime import presence
from realtime.ratelimit import rate_limit_exceeded

_case_ids = itertools.count(900_000)


@pytest.fixture
def case_id() -> int:
    # Fresh ids: the cache is shared with the rest of this run in scale mode.
    return next(_case_ids)


def test_join_and_leave_report_who_is_present(case_id):
    presence.presence_join(case_id=case_id, connection="c1", user_id=1, name="Ana")
    users = presence.presence_join(
        case_id=case_id, connection="c2", user_id=2, name="Ben"
    )
    assert users == [{"id": 1, "name": "Ana"}, {"id": 2, "name": "Ben"}]

    assert presence.presence_leave(case_id=case_id, connection="c1") == [
        {"id": 2, "name": "Ben"}
    ]
    assert presence.presence_users(case_id) == [{"id": 2, "name": "Ben"}]


def test_a_user_with_two_tabs_stays_present_until_both_close(case_id):
    presence.presence_join(case_id=case_id, connection="tab1", user_id=1, name="Ana")
    presence.presence_join(case_id=case_id, connection="tab2", user_id=1, name="Ana")

    after_one = presence.presence_leave(case_id=case_id, connection="tab1")
    after_both = presence.presence_leave(case_id=case_id, connection="tab2")

    assert after_one == [{"id": 1, "name": "Ana"}]
    assert after_both == []


def test_entries_of_crashed_connections_expire(case_id, monkeypatch):
    presence.presence_join(case_id=case_id, connection="crashed", user_id=1, name="Ana")
    presence.presence_join(case_id=case_id, connection="alive", user_id=2, name="Ben")
    now = presence.time.time()
    # "alive" keeps its heartbeat; "crashed" never says goodbye.
    monkeypatch.setattr(
        presence.time, "time", lambda: now + presence.ENTRY_TTL_SECONDS - 1
    )
    presence.presence_join(case_id=case_id, connection="alive", user_id=2, name="Ben")
    monkeypatch.setattr(
        presence.time, "time", lambda: now + presence.ENTRY_TTL_SECONDS + 1
    )

    assert presence.presence_users(case_id) == [{"id": 2, "name": "Ben"}]


def test_concurrent_joins_lose_no_one(case_id):
    def join(n):
        presence.presence_join(
            case_id=case_id, connection=f"c{n}", user_id=n, name=f"User {n:02d}"
        )

    workers = [threading.Thread(target=join, args=(n,)) for n in range(12)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)

    assert [u["id"] for u in presence.presence_users(case_id)] == list(range(12))


def test_rate_limit_counts_per_user_and_window(settings):
    settings.MESSAGE_RATE_LIMIT = 3
    settings.MESSAGE_RATE_WINDOW_SECONDS = 60
    user = next(_case_ids)

    results = [rate_limit_exceeded(user_id=user) for _ in range(5)]

    assert results == [False, False, False, True, True]
    assert rate_limit_exceeded(user_id=user + 1) is False
