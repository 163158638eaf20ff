"""Page speed: four pages under concurrent load, against a no-query baseline.

Seeds (``seeding pages``) 10,000 published cases, one case with 1,000
messages, 50 ready media items and 30 voted differentials, an open consult
queue for the viewer's specialties and an inbox of patients' submissions.
One Daphne on 127.0.0.1 serves production settings (DEBUG off) with the
benchmark URLconf; ``wrk`` (Debian's package; ``benchmarks.http_load`` when
it is missing) loads each page with the viewer's session for a fixed time.
The baseline for each page is a Django view in the same server, through the
same middleware, returning a page of the same size without any query.
Query counts come from rendering each page in-process under
``CaptureQueriesContext``.

Run alone: ``.venv/bin/python -m benchmarks.pages [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import urllib.request

from benchmarks.harness import (
    PYTHON,
    REPO,
    Processes,
    Table,
    embedded_site,
    log,
    ratio,
)

PAGES = [
    ("case list", "/cases/"),
    ("case page", "/cases/{case}/"),
    ("consult queue", "/consults/"),
    ("clinician inbox", "/inbox/"),
]
CONNECTIONS = 8
SECONDS = 5


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {
        "requests": int(total.group(1)) if total else 0,
        "requests_per_second": float(rps.group(1)) if rps else None,
        "p50_ms": _ms(p50.group(1)) if p50 else None,
        "p99_ms": _ms(p99.group(1)) if p99 else None,
        "errors": (int(bad.group(1)) if bad else 0)
        + (int(errors.group(1)) if errors else 0),
    }


def load(url: str, cookie: str, seconds: int, env: dict[str, str]) -> dict:
    wrk = shutil.which("wrk")
    if wrk:
        argv = [
            wrk,
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=True
        )
        result = parse_wrk(done.stdout)
        result["tool"] = "wrk"
        return result
    argv = [
        str(PYTHON),
        "-m",
        "benchmarks.http_load",
        url,
        "--connections",
        str(CONNECTIONS),
        "--seconds",
        str(seconds),
        "--cookie",
        cookie,
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=True,
        cwd=REPO,
        env=env,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["tool"] = "http_load (python)"
    return result


def _warm(url: str, cookie: str, times: int = 3) -> int:
    status = 0
    for _ in range(times):
        request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status = response.status
    return status


def run(quick: bool = False) -> dict:
    seconds = 2 if quick else SECONDS
    counts = (
        {"cases": 500, "messages": 100}
        if quick
        else {"cases": 10_000, "messages": 1_000}
    )
    table = Table(
        f"Pages ({CONNECTIONS} concurrent connections, {seconds} s per row, one Daphne)",
        [
            "page",
            "server",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "SQL queries",
            "KiB",
            "req/s ÷ baseline",
        ],
    )
    data: dict = {"seed": counts, "rows": []}
    with embedded_site("pages") as site:
        log(f"pages: seeding {counts['cases']} cases")
        seeded = site.seed(
            "pages",
            "--cases",
            str(counts["cases"]),
            "--messages",
            str(counts["messages"]),
        )
        cookie = f"sessionid={seeded['session']}"
        urls = [(label, path.format(case=seeded["case"])) for label, path in PAGES]
        measured = site.seed(
            "pages-measure", "--session", seeded["session"], *[u for _, u in urls]
        )
        data["pages"] = measured
        with Processes(site.root) as procs:
            _, port = procs.daphne("daphne-pages", env=site.env())
            base = f"http://127.0.0.1:{port}"
            for label, path in urls:
                info = measured[path]
                if info["status"] != 200:
                    table.skip(label, f"{path} answered {info['status']} in-process")
                    continue
                baseline_path = f"/bench/baseline/{info['bytes']}/"
                _warm(base + path, cookie)
                _warm(base + baseline_path, cookie)
                log(f"pages: {label}")
                page = load(base + path, cookie, seconds, site.env())
                baseline = load(base + baseline_path, cookie, seconds, site.env())
                for server, result, queries in (
                    ("Consilium", page, info["queries"]),
                    ("baseline (no queries)", baseline, 0),
                ):
                    data["rows"].append(
                        {"page": label, "path": path, "server": server, **result}
                    )
                    table.add(
                        label,
                        server,
                        result["requests_per_second"],
                        result["p50_ms"],
                        result["p99_ms"],
                        result["errors"],
                        queries,
                        round(info["bytes"] / 1024, 1),
                        ratio(
                            result["requests_per_second"],
                            baseline["requests_per_second"],
                        ),
                    )
                data["tool"] = page["tool"]
    table.notes += [
        f"seeded: {counts['cases']:,} published cases; the case page holds "
        f"{counts['messages']:,} messages, 50 media items, 30 differentials "
        "with votes; the queue has 60 open consults, the inbox 60 submissions",
        f"load: {data.get('tool', '?')} from its own process, keep-alive, "
        "logged in as the viewer; SQL queries counted in-process for one "
        "request (CaptureQueriesContext)",
        "req/s ÷ baseline: the page's throughput over a no-query page of the "
        "same size from the same server (1.00× = the page costs no more than "
        "Django's request cycle itself)",
    ]
    return {"name": "pages", "tables": [table.as_dict()], "data": data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = run(args.quick)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1)[:3000])


if __name__ == "__main__":
    main()
