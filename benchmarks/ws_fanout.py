"""WebSocket fan-out: one sender, N readers with the case open.

For each N the bare relay consumer (the baseline: same Daphne, same channel
layer, no auth, no database, no JSON) runs first, then Consilium's case
consumer. Embedded mode is one Daphne on the in-memory channel layer and
SQLite; scale mode is two Daphne processes on the Redis channel layer and
PostgreSQL, with the readers split between them and the sender on the first.
The load generator (``benchmarks.ws_client``) is a separate process.

Run alone: ``.venv/bin/python -m benchmarks.ws_fanout [--quick] [--mode embedded|scale]
[--sizes 200,500]``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    REPO,
    Deadline,
    Processes,
    Site,
    Skipped,
    Table,
    embedded_site,
    log,
    ratio,
    scale_site,
)

SIZES = (10, 50, 200, 500)
QUICK_SIZES = (10, 50)
MESSAGES = 20
RATE = 4.0  # messages per second from the one sender: a very busy discussion
CONNECT_TIMEOUT = 30
SETTLE_TIMEOUT = 15
DRAIN_TIMEOUT = 40  # at most, after the last send...
DRAIN_IDLE = 10  # ...and never longer than this without a new delivery
BUDGET_SECONDS = 420  # both modes; rows that do not fit are skipped

COLUMNS = [
    "mode",
    "clients",
    "server",
    "ready",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "delivered/s",
    "lost",
    "dup",
    "seq gaps",
    "connect s (+ settle)",
    "join frames (MiB)",
    "p95 ÷ baseline",
]


def _client(config: dict, workdir: Path, env: dict[str, str]) -> dict:
    path = workdir / f"ws-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(config))
    budget = (
        config["connect_timeout"]
        + config["settle_timeout"]
        + config["messages"] / config["rate"]
        + config["drain_timeout"]
        + 90
    )
    try:
        done = subprocess.run(
            [str(PYTHON), "-m", "benchmarks.ws_client", str(path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=budget,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"load generator timed out after {budget:.0f}s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "?"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(table: Table, mode: str, size: int, result: dict, baseline: dict) -> None:
    protocol = result["protocol"]
    label = "baseline relay" if protocol == "relay" else "Consilium"
    if "error" in result:
        table.add(mode, size, label, f"error: {result['error']}")
        return
    connect = f"{result['connect_seconds']:.1f}"
    if protocol == "consilium":
        connect += f" + {result['settle_seconds']:.0f}"
        if not result.get("settled"):
            connect += " (storm)"
    table.add(
        mode,
        size,
        label,
        f"{result['ready_clients']}/{size}",
        result["p50_ms"],
        result["p95_ms"],
        result["p99_ms"],
        result["delivered_per_second"],
        result["lost"],
        result["duplicated"],
        result["seq_gaps"] if protocol == "consilium" else "–",
        connect,
        f"{result.get('join_frames', 0):,} ({result.get('join_mib', 0):.1f})",
        "1.00×"
        if protocol == "relay"
        # Latencies of the few messages that got through are no comparison.
        else ratio(result["p95_ms"], baseline.get("p95_ms"))
        if not result["lost"] and result["ready_clients"] == size
        else "– (lost)",
    )


def _run_mode(
    mode: str,
    site: Site,
    servers: int,
    sizes: tuple[int, ...],
    table: Table,
    budget: Deadline,
) -> list[dict]:
    seeded = site.seed("ws", "--clients", str(max(sizes)), "--cases", str(len(sizes)))
    rows: list[dict] = []
    for size, case in zip(sizes, seeded["cases"], strict=False):
        if budget.left() < 30:
            table.skip(f"{mode} {size}", "the WebSocket time budget ran out")
            continue
        # Fresh servers for each N: the previous run's disconnects must not
        # be processed during this one.
        with Processes(site.root) as procs:
            urls = []
            for index in range(servers):
                _, port = procs.daphne(f"daphne-{mode}-{size}-{index}", env=site.env())
                urls.append(f"ws://127.0.0.1:{port}")
            baseline: dict = {}
            for protocol in ("relay", "consilium"):
                config = {
                    "protocol": protocol,
                    "clients": size,
                    "messages": MESSAGES,
                    "rate": RATE,
                    "urls": urls,
                    "connect_timeout": min(
                        CONNECT_TIMEOUT, max(10, budget.left() - 60)
                    ),
                    "settle_timeout": SETTLE_TIMEOUT,
                    "drain_timeout": DRAIN_TIMEOUT,
                    "drain_idle": DRAIN_IDLE,
                }
                if protocol == "relay":
                    config["path"] = f"/ws/bench-relay/?g={secrets.token_hex(4)}"
                else:
                    config.update(
                        path=f"/ws/cases/{case['id']}/",
                        thread=case["thread"],
                        sessions=seeded["sessions"][:size],
                        sender_session=seeded["sender_session"],
                    )
                log(f"ws {mode}: {size} clients, {protocol}")
                result = _client(config, site.root, site.env())
                result.update(mode=mode, protocol=protocol, servers=servers)
                rows.append(result)
                _row(table, mode, size, result, baseline)
                if protocol == "relay":
                    baseline = result
    return rows


def run(
    quick: bool = False,
    modes: tuple[str, ...] = ("embedded", "scale"),
    sizes: tuple[int, ...] | None = None,
) -> dict:
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    table = Table(
        f"WebSocket fan-out ({MESSAGES} messages at {RATE:g}/s from one sender)",
        COLUMNS,
    )
    data: dict = {"messages": MESSAGES, "rate": RATE, "runs": []}
    budget = Deadline(BUDGET_SECONDS)
    if "embedded" in modes:
        with embedded_site("ws") as site:
            # Embedded mode may use what scale mode will not need.
            half = Deadline(budget.left() * (0.5 if "scale" in modes else 1.0) + 30)
            data["runs"] += _run_mode("embedded", site, 1, sizes, table, half)
    if "scale" in modes:
        try:
            with scale_site("ws") as site:
                data["runs"] += _run_mode("scale", site, 2, sizes, table, budget)
        except Skipped as skipped:
            table.skip("scale", str(skipped))
            data["scale_skipped"] = str(skipped)
    table.notes += [
        "latency: sender's send time to each reader's receipt, per delivered "
        "message (all processes on one clock)",
        "delivered/s: unique deliveries to readers ÷ time from first send to "
        "last delivery; lost: never delivered, waiting up to "
        f"{DRAIN_TIMEOUT} s after the last send and {DRAIN_IDLE} s without a "
        "delivery; lost and dup must be 0",
        "ready: readers whose connection was accepted (Consilium: that got "
        "`hello`); connect s: until every reader was ready, + settle: until "
        "the presence frames that the joins set off stopped (bounded; "
        "'(storm)' = still going when sending began)",
        "join frames: frames (and MiB) all readers received while joining, "
        "before the first message: `hello` and `presence` (none for the relay)",
        "p95 ÷ baseline: Consilium's p95 latency over the bare relay's at the "
        "same N in the same run (1.00× = no cost over Channels itself)",
    ]
    return {"name": "ws_fanout", "tables": [table.as_dict()], "data": data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mode", choices=["embedded", "scale"], action="append")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        help="comma-separated reader counts (default: 10,50,200,500)",
    )
    args = parser.parse_args()
    result = run(args.quick, tuple(args.mode or ("embedded", "scale")), args.sizes)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1)[:4000])


if __name__ == "__main__":
    main()
