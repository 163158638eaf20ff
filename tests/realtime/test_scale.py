"""Scale mode: two real Daphne processes share one Redis channel layer and one
cache, so messages and presence cross processes both ways."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from realtime.services import thread_default
from tests.fixtures.ws import session_cookie

pytestmark = [
    pytest.mark.scale,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).with_name("daphne")
LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if settings.IS_POSTGRES:
        auth = quote(db.get("USER") or "postgres")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        # The same namespaces as this test run, so the processes meet here.
        CHANNELS_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        CACHE_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        TASKS_BACKEND="immediate",
        DEBUG="1",
        LOG_LEVEL="INFO",
    )
    return env


def _start_daphnes(count: int) -> list[tuple[subprocess.Popen, int]]:
    env = _env()
    procs = [
        subprocess.Popen(
            [str(DAPHNE), "-b", "127.0.0.1", "-p", "0", "workspace.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    started = []
    deadline = time.monotonic() + 60
    for proc in procs:
        port = None
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            match = LISTENING.search(line)
            if match:
                port = int(match.group(1))
        if port is None:
            for p in procs:
                p.kill()
            raise RuntimeError("Daphne did not start")
        started.append((proc, port))
    return started


async def _receive(ws, kind: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if frame["type"] == kind:
            return frame


@pytest.fixture
def daphnes(requires_redis):
    started = _start_daphnes(2)
    try:
        yield [port for _proc, port in started]
    finally:
        for proc, _port in started:
            proc.terminate()
        for proc, _port in started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()


async def test_messages_and_presence_cross_two_daphne_processes(daphnes, discussion):
    port_a, port_b = daphnes
    thread = await sync_to_async(lambda: thread_default(case=discussion.case).pk)()
    cookies = {
        user: await sync_to_async(session_cookie)(user)
        for user in (discussion.owner, discussion.colleague)
    }

    def socket(user, port):
        return connect(
            f"ws://127.0.0.1:{port}/ws/cases/{discussion.case.pk}/",
            additional_headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookies[user]}",
                "Origin": f"http://127.0.0.1:{port}",
            },
            open_timeout=15,
        )

    async with (
        socket(discussion.owner, port_a) as olive,
        socket(discussion.colleague, port_b) as colin,
    ):
        await _receive(olive, "hello")
        colin_hello = await _receive(colin, "hello")
        # Presence is in the shared cache: B's hello already lists A's user.
        assert {u["id"] for u in colin_hello["presence"]} == {
            discussion.owner.pk,
            discussion.colleague.pk,
        }

        await olive.send(
            json.dumps(
                {
                    "type": "message.send",
                    "thread": thread,
                    "client_id": "a-1",
                    "body": "from A",
                }
            )
        )
        on_b = await _receive(colin, "message.new")
        await colin.send(
            json.dumps(
                {
                    "type": "message.send",
                    "thread": thread,
                    "client_id": "b-1",
                    "body": "from B",
                }
            )
        )
        on_a = await _receive(olive, "message.new")
        while on_a["message"]["client_id"] == "a-1":  # its own message came first
            on_a = await _receive(olive, "message.new")
        await colin.send(json.dumps({"type": "typing", "thread": thread}))
        typing_on_a = await _receive(olive, "typing")

    assert on_b["message"]["body_html"] == "<p>from A</p>"
    assert on_b["message"]["author"]["id"] == discussion.owner.pk
    assert on_a["message"]["body_html"] == "<p>from B</p>"
    assert on_a["message"]["seq"] == on_b["message"]["seq"] + 1
    assert typing_on_a["user"]["id"] == discussion.colleague.pk
