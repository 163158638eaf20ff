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

Run alone: ``.venv/bin/python -m benchmarks.pages [--quick] [--only NAME[,NAME]]``
where NAME is a page's short name (``list``, ``case``, ``queue``, ``inbox``)
or its label (``"case list"``). The seeded database is cached under
``$BENCH_CACHE_DIR`` (default ``/tmp/consilium-bench-cache``), keyed by the
seed sizes and the contents of every migration and of ``benchmarks/seeding.py``,
so a second run skips the seeding; ``--reseed`` ignores the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    REPO,
    Processes,
    Site,
    Table,
    embedded_site,
    log,
    ratio,
    run_checked,
)

# (short name, label, path)
PAGES = [
    ("list", "case list", "/cases/"),
    ("case", "case page", "/cases/{case}/"),
    ("queue", "consult queue", "/consults/"),
    ("inbox", "clinician inbox", "/inbox/"),
]
CACHE_DIR = Path(
    os.environ.get("BENCH_CACHE_DIR")
    or Path(tempfile.gettempdir()) / "consilium-bench-cache"
)
# Seeded sessions expire after a day (benchmarks.seeding.sessions_for).
CACHE_MAX_AGE = 20 * 3600
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


def select_pages(only: str | None) -> list[tuple[str, str, str]]:
    """The pages ``--only`` names (short names or labels, comma-separated)."""
    if not only:
        return list(PAGES)
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    known = {name: page for page in PAGES for name in (page[0], page[1])}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        choices = ", ".join(p[0] for p in PAGES)
        raise SystemExit(f"unknown page {', '.join(unknown)}; choose from {choices}")
    return [p for p in PAGES if p[0] in {known[w][0] for w in wanted}]


def _seed_key(counts: dict) -> str:
    digest = hashlib.sha256(json.dumps(counts, sort_keys=True).encode())
    sources = sorted(REPO.glob("*/migrations/0*.py"))
    for source in [*sources, REPO / "benchmarks" / "seeding.py"]:
        digest.update(str(source.relative_to(REPO)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _checkpoint(site: Site) -> None:
    run_checked(
        [
            PYTHON,
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
            "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
            site.var_dir / "consilium.sqlite3",
        ],
        env=site.env(),
        timeout=120,
    )


def seeded_site(site: Site, counts: dict, *, reseed: bool = False) -> dict:
    """Seed ``site`` (``seeding pages``), or copy a cached seeded var dir."""
    cached = CACHE_DIR / f"pages-{_seed_key(counts)}"
    info = cached / "seeded.json"
    fresh = info.is_file() and time.time() - info.stat().st_mtime < CACHE_MAX_AGE
    if fresh and not reseed:
        log(f"pages: reusing the seeded database in {cached}")
        shutil.rmtree(site.var_dir, ignore_errors=True)
        shutil.copytree(cached / "var", site.var_dir)
        return json.loads(info.read_text())
    log(f"pages: seeding {counts['cases']} cases")
    seeded = site.seed(
        "pages", "--cases", str(counts["cases"]), "--messages", str(counts["messages"])
    )
    _checkpoint(site)
    shutil.rmtree(cached, ignore_errors=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="pages-", dir=CACHE_DIR))
    shutil.copytree(site.var_dir, partial / "var")
    (partial / "seeded.json").write_text(json.dumps(seeded))
    partial.rename(cached)
    return seeded


def run(quick: bool = False, *, only: str | None = None, reseed: bool = False) -> dict:
    pages = select_pages(only)
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
        seeded = seeded_site(site, counts, reseed=reseed)
        cookie = f"sessionid={seeded['session']}"
        urls = [(label, path.format(case=seeded["case"])) for _, label, path in pages]
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
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"measure only these pages: {', '.join(p[0] for p in PAGES)}",
    )
    parser.add_argument(
        "--reseed", action="store_true", help="seed afresh, ignoring the cache"
    )
    args = parser.parse_args()
    select_pages(args.only)  # unknown names fail before anything starts
    result = run(args.quick, only=args.only, reseed=args.reseed)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1)[:3000])


if __name__ == "__main__":
    main()
