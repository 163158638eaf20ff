"""WebSocket fan-out load generator, run as its own process.

``python -m benchmarks.ws_client CONFIG.json`` opens ``clients`` receiving
connections (split round-robin over ``urls``), waits until every one is
ready and the connection storm has quietened, then one sender posts
``messages`` frames at ``rate`` per second. Each frame's ``client_id``
carries the wall-clock send time, so every receiver measures each delivery's
latency on its own (all processes share the machine's clock). Prints one
JSON object with the latencies' percentiles and the lost and duplicated
counts.

Protocols: ``consilium`` speaks the case protocol (``message.send`` in,
``message.new`` out, with session cookies) and also checks that each
receiver's ``seq`` numbers are consecutive; ``relay`` sends the same text to
the bare relay consumer, which echoes it to the group verbatim.
Every phase has a timeout, so the process always ends by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


@dataclass
class Receiver:
    index: int
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    counts: Counter = field(default_factory=Counter)
    seqs: list[int] = field(default_factory=list)
    frames: int = 0
    closed: int | None = None
    error: str = ""


@dataclass
class State:
    tag: str
    protocol: str
    expected: int
    latencies: list[float] = field(default_factory=list)
    unique: int = 0
    last_frame_at: float = 0.0
    first_delivery: float | None = None
    last_delivery: float | None = None
    bytes_received: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)


def _delivered_id(state: State, frame: dict) -> tuple[str | None, int | None]:
    if state.protocol == "consilium":
        if frame.get("type") != "message.new":
            return None, None
        message = frame.get("message") or {}
        return message.get("client_id"), message.get("seq")
    if frame.get("type") == "message.send":
        return frame.get("client_id"), None
    return None, None


async def _listen(ws: ClientConnection, rec: Receiver, state: State) -> None:
    try:
        async for raw in ws:
            now_ns = time.time_ns()
            state.last_frame_at = time.monotonic()
            state.bytes_received += len(raw)
            rec.frames += 1
            frame = json.loads(raw)
            if not rec.ready.is_set():
                if frame.get("type") == "hello":
                    rec.ready.set()
                continue
            client_id, seq = _delivered_id(state, frame)
            if not client_id or not client_id.startswith(state.tag):
                continue
            sent_ns = int(client_id.rsplit("-", 1)[1])
            state.latencies.append((now_ns - sent_ns) / 1e6)
            rec.counts[client_id] += 1
            if seq is not None:
                rec.seqs.append(seq)
            if rec.counts[client_id] == 1:
                state.unique += 1
                now = time.monotonic()
                state.first_delivery = state.first_delivery or now
                state.last_delivery = now
                if state.unique >= state.expected:
                    state.all_in.set()
    except Exception as exc:  # a dropped connection shows up as lost messages
        rec.error = type(exc).__name__
    finally:
        rec.closed = ws.close_code if ws.close_code is not None else -1


def _headers(session: str | None) -> dict[str, str]:
    return {"Cookie": f"sessionid={session}"} if session else {}


async def _open(url: str, path: str, session: str | None, timeout: float):
    http_origin = url.replace("ws://", "http://", 1)
    return await connect(
        url + path,
        additional_headers=_headers(session),
        origin=http_origin,
        open_timeout=timeout,
        ping_interval=None,
        close_timeout=2,
        max_size=None,
        max_queue=None,
        compression=None,
    )


async def run(config: dict[str, Any]) -> dict[str, Any]:
    protocol = config["protocol"]
    clients = int(config["clients"])
    messages = int(config["messages"])
    rate = float(config["rate"])
    urls: list[str] = config["urls"]
    path: str = config["path"]
    sessions: list[str] = config.get("sessions") or []
    tag = "b" + secrets.token_hex(3)
    state = State(tag=tag, protocol=protocol, expected=clients * messages)
    receivers = [Receiver(index=i) for i in range(clients)]
    sockets: list[ClientConnection] = []
    tasks: list[asyncio.Task] = []
    result: dict[str, Any] = {"clients": clients, "messages": messages, "rate": rate}
    connect_gate = asyncio.Semaphore(int(config.get("connect_concurrency", 25)))
    connect_timeout = float(config.get("connect_timeout", 120))
    failures: Counter = Counter()

    async def open_receiver(rec: Receiver) -> None:
        session = sessions[rec.index] if protocol == "consilium" else None
        url = urls[rec.index % len(urls)]
        async with connect_gate:
            try:
                ws = await _open(url, path, session, timeout=30)
            except Exception as exc:
                failures[type(exc).__name__] += 1
                return
            sockets.append(ws)
            if protocol == "relay":
                rec.ready.set()  # the relay says nothing on connect
            tasks.append(asyncio.ensure_future(_listen(ws, rec, state)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rec.ready.wait(), timeout=30)

    sender_ready = asyncio.Event()
    sender_stats: Counter = Counter()
    try:
        sender = await _open(urls[0], path, config.get("sender_session"), timeout=30)
    except Exception as exc:
        result["error"] = f"sender could not connect: {exc}"
        return result
    sockets.append(sender)

    async def sender_listen() -> None:
        with contextlib.suppress(Exception):
            async for raw in sender:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "hello":
                    sender_ready.set()
                elif kind == "message.ack":
                    sender_stats["acks"] += 1
                    if frame.get("duplicate"):
                        sender_stats["duplicate_acks"] += 1
                elif kind == "error":
                    sender_stats[f"error:{frame.get('code')}"] += 1

    tasks.append(asyncio.ensure_future(sender_listen()))
    # The sender is in the room first, like the case's owner; readers join.
    if protocol == "consilium":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender_ready.wait(), timeout=30)
    started = time.monotonic()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(open_receiver(r) for r in receivers)),
            timeout=connect_timeout,
        )
    except TimeoutError:
        failures["connect phase timeout"] += 1
    ready = sum(r.ready.is_set() for r in receivers)
    result["connect_seconds"] = round(time.monotonic() - started, 2)
    result["ready_clients"] = ready
    # Let the storm of presence frames that the connects caused die down, so
    # the measured deliveries do not queue behind it.
    settle = time.monotonic()
    settle_timeout = float(config.get("settle_timeout", 60))
    while time.monotonic() - settle < settle_timeout:
        if time.monotonic() - max(state.last_frame_at, settle) > 1.0:
            break
        await asyncio.sleep(0.2)
    result["settle_seconds"] = round(time.monotonic() - settle, 2)
    result["settled"] = time.monotonic() - settle < settle_timeout
    # What the joins cost the readers: every frame before the first message
    # (hello, presence) and its bytes.
    result["join_frames"] = sum(r.frames for r in receivers)
    result["join_mib"] = round(state.bytes_received / 1024**2, 2)

    send_started = time.monotonic()
    send_deadline = send_started + messages / rate + 30
    for i in range(messages):
        due = send_started + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.monotonic() > send_deadline:
            break
        client_id = f"{tag}-{i}-{time.time_ns()}"
        frame = {"type": "message.send", "client_id": client_id}
        if protocol == "consilium":
            frame["thread"] = config["thread"]
            frame["body"] = f"Fan-out message {i}: **no change** in the rash today."
        else:
            frame["body"] = f"Fan-out message {i}: **no change** in the rash today."
        try:
            await sender.send(json.dumps(frame))
        except Exception as exc:
            sender_stats[f"send failed: {type(exc).__name__}"] += 1
            break
        sender_stats["sent"] += 1
    send_seconds = time.monotonic() - send_started
    # Wait for the stragglers while deliveries keep coming; give up after
    # ``drain_idle`` seconds without a new one, or ``drain_timeout`` in all.
    drain_timeout = float(config.get("drain_timeout", 60))
    drain_idle = float(config.get("drain_idle", 10))
    drain_end = time.monotonic() + drain_timeout
    while not state.all_in.is_set() and time.monotonic() < drain_end:
        last = state.last_delivery or send_started
        if time.monotonic() - max(last, send_started + send_seconds) > drain_idle:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.all_in.wait(), timeout=0.5)
    result["drain_seconds"] = round(time.monotonic() - send_started - send_seconds, 2)
    await asyncio.sleep(0.3)  # late duplicates

    sent = sender_stats["sent"]
    delivered = sum(sum(r.counts.values()) for r in receivers)
    lost = sum(max(0, sent - len(r.counts)) for r in receivers if r.ready.is_set())
    duplicated = delivered - state.unique
    gaps = 0
    for r in receivers:
        for a, b in zip(r.seqs, r.seqs[1:], strict=False):
            if b != a + 1:
                gaps += 1
    span = (
        (state.last_delivery - send_started)
        if state.last_delivery is not None
        else None
    )
    result.update(
        sent=sent,
        send_seconds=round(send_seconds, 2),
        expected_deliveries=sent * ready,
        delivered=delivered,
        unique_delivered=state.unique,
        lost=lost + (clients - ready) * sent,
        duplicated=duplicated,
        seq_gaps=gaps,
        delivered_per_second=round(state.unique / span, 1) if span else None,
        p50_ms=_pct(state.latencies, 50),
        p95_ms=_pct(state.latencies, 95),
        p99_ms=_pct(state.latencies, 99),
        max_ms=max(state.latencies) if state.latencies else None,
        closed_early=sum(1 for r in receivers if r.closed not in (None,)),
        connect_failures=dict(failures),
        sender=dict(sender_stats),
    )
    await _close_all(sockets, tasks)
    return result


async def _close_all(
    sockets: list[ClientConnection], tasks: list[asyncio.Task]
) -> None:
    async def close(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), timeout=3)

    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(close(ws) for ws in sockets)), timeout=15
        )
    for task in tasks:
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*tasks, return_exceptions=True), timeout=5
        )


def main() -> None:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    result = asyncio.run(run(config))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
