"""A small HTTP load generator, used when ``wrk`` is not installed.

``python -m benchmarks.http_load URL --connections 8 --seconds 5
--cookie sessionid=...`` keeps ``connections`` keep-alive connections busy
(one thread each) for ``seconds`` and prints one JSON object: requests per
second, latency percentiles in milliseconds and the non-2xx count. Slower
than wrk (the GIL), so its numbers are a floor, and the table says which
tool measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import threading
import time
from urllib.parse import urlsplit


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--cookie", default="")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Cookie": args.cookie} if args.cookie else {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=30
                )
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if not 200 <= response.status < 400:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 60)
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "requests_per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": _pct(latencies, 50),
                "p99_ms": _pct(latencies, 99),
                "errors": errors[0],
            }
        )
    )


if __name__ == "__main__":
    main()
