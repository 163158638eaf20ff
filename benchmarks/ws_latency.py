"""Delivery latency of case discussion messages to many open pages.

Starts real Daphne process(es) on loopback against a throwaway database,
connects ``--clients`` WebSocket clients to one case (each as a different
clinician) and has one of them post ``--messages`` messages. For every
delivery it measures the time from the sender's ``message.send`` to the
``message.new`` frame arriving at each client, and prints p50/p95/max.

    .venv/bin/python benchmarks/ws_latency.py                 # embedded: SQLite, in-memory layer
    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1/bench \\
        .venv/bin/python benchmarks/ws_latency.py --servers 2 # scale mode, two processes

Bounded: every wait has a timeout and the run stops after the last message
(about 15 s on two cores with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


def prepare(clients: int) -> tuple[int, int, list[str]]:
    """Migrate the database; create a case, its participants and sessions."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from cases.models import Case, CaseParticipant
    from realtime.services import thread_default
    from workspace.models import ClinicianProfile, User

    call_command("migrate", verbosity=0, interactive=False)
    run = uuid.uuid4().hex[:6]
    users = []
    for n in range(clients):
        user = User.objects.create_user(
            username=f"bench{run}{n}",
            password=None,
            first_name="Bench",
            last_name=str(n),
            kind=User.Kind.CLINICIAN,
        )
        ClinicianProfile.objects.create(
            user=user, verification=ClinicianProfile.Verification.VERIFIED
        )
        users.append(user)
    case = Case.objects.create(
        owner=users[0], title="Latency bench", status=Case.Status.PUBLISHED
    )
    CaseParticipant.objects.create(
        case=case, user=users[0], role=CaseParticipant.Role.OWNER
    )
    CaseParticipant.objects.bulk_create(
        CaseParticipant(case=case, user=u, role=CaseParticipant.Role.COLLABORATOR)
        for u in users[1:]
    )
    thread = thread_default(case=case)
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    from django.db import connections

    connections.close_all()
    return case.pk, thread.pk, cookies


def start_daphne(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("daphne")),
            "-b",
            "127.0.0.1",
            "-p",
            "0",
            "workspace.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = LISTENING.search(line)
        if match:
            return proc, int(match.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("Daphne did not start")


async def measure(
    ports: list[int],
    case_id: int,
    thread_id: int,
    cookies: list[str],
    messages: int,
    interval: float,
) -> list[float]:
    from websockets.asyncio.client import connect

    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    expected = messages * len(cookies)
    done = asyncio.Event()

    async def reader(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "message.new":
                started = sent_at.get(frame["message"]["client_id"])
                if started is not None:
                    latencies.append(time.perf_counter() - started)
                    if len(latencies) >= expected:
                        done.set()

    sockets = []
    for n, cookie in enumerate(cookies):
        port = ports[n % len(ports)]
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/cases/{case_id}/",
            additional_headers={
                "Cookie": f"sessionid={cookie}",
                "Origin": f"http://127.0.0.1:{port}",
            },
            open_timeout=30,
            max_queue=None,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert hello["type"] == "hello", hello
        sockets.append(ws)
    # Let the join-time presence broadcasts settle before timing anything.
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    await asyncio.sleep(2)
    sender = sockets[0]
    for n in range(messages):
        client_id = f"bench-{uuid.uuid4()}"
        sent_at[client_id] = time.perf_counter()
        await sender.send(
            json.dumps(
                {
                    "type": "message.send",
                    "thread": thread_id,
                    "client_id": client_id,
                    "body": f"Bench message {n} with **some** markdown",
                }
            )
        )
        await asyncio.sleep(interval)
    try:
        await asyncio.wait_for(done.wait(), 60)
    except TimeoutError:
        print(f"timed out: {len(latencies)} of {expected} deliveries arrived")
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument(
        "--interval", type=float, default=0.2, help="seconds between sends"
    )
    parser.add_argument(
        "--servers", type=int, default=1, help="Daphne processes (>1 needs REDIS_URL)"
    )
    args = parser.parse_args()
    if args.servers > 1 and not os.environ.get("REDIS_URL"):
        raise SystemExit("--servers > 1 needs REDIS_URL (and a shared DATABASE_URL)")

    env = dict(os.environ)
    scratch = None
    if not env.get("DATABASE_URL"):
        scratch = tempfile.mkdtemp(prefix="consilium-bench-")
        env["CONSILIUM_VAR_DIR"] = scratch
    env.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        TASKS_BACKEND="immediate",
        MESSAGE_RATE_LIMIT="100000",
        LOG_LEVEL="INFO",
        CHANNELS_PREFIX=f"bench-{uuid.uuid4().hex[:6]}",
        CACHE_PREFIX=f"bench-{uuid.uuid4().hex[:6]}",
    )
    os.environ.update(env)
    case_id, thread_id, cookies = prepare(args.clients)

    servers = [start_daphne(env) for _ in range(args.servers)]
    try:
        latencies = asyncio.run(
            measure(
                [port for _proc, port in servers],
                case_id,
                thread_id,
                cookies,
                args.messages,
                args.interval,
            )
        )
    finally:
        for proc, _port in servers:
            proc.terminate()
            proc.wait(10)
    if not latencies:
        raise SystemExit("no deliveries measured")
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    mode = "redis" if os.environ.get("REDIS_URL") else "in-memory"
    db = (
        "postgresql"
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "sqlite"
    )
    print(
        f"ws_latency: {args.clients} clients, {args.messages} messages, "
        f"{args.servers} daphne ({mode} layer, {db}): {len(ms)} deliveries, "
        f"p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
