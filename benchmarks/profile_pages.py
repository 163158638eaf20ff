"""Profile one page in-process on the page benchmark's seeded database.

    .venv/bin/python -m benchmarks.profile_pages case [--requests 20] [--sort tottime]

Uses the database ``benchmarks.pages`` cached (run ``make bench
BENCH_ARGS="pages --only list"`` once to seed it), copied to a temp dir so
the cache stays clean, and renders the page with Django's test client as the
seeded viewer under cProfile. Prints the requests' mean wall time, SQL query
count and the top functions: where a page's time goes, before guessing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Site
from benchmarks.pages import CACHE_DIR, PAGES


def _cached() -> Path:
    found = sorted(
        CACHE_DIR.glob("pages-*/seeded.json"), key=lambda p: p.stat().st_mtime
    )
    if not found:
        raise SystemExit(
            f"no seeded page database under {CACHE_DIR}: run "
            "`.venv/bin/python -m benchmarks.pages --only list` first"
        )
    return found[-1].parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("page", choices=[p[0] for p in PAGES])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()

    cached = _cached()
    seeded = json.loads((cached / "seeded.json").read_text())
    root = Path(tempfile.mkdtemp(prefix="consilium-profile-"))
    shutil.copytree(cached / "var", root / "var")
    os.environ.update(Site(root=root).env())

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    path = next(p[2] for p in PAGES if p[0] == args.page).format(case=seeded["case"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = seeded["session"]
    response = client.get(path)  # warm: imports, template loading, caches
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(args.requests):
        client.get(path)
    profile.disable()
    took = (time.perf_counter() - started) / args.requests
    print(
        f"{path}: {took * 1000:.1f} ms per request under cProfile, "
        f"{len(queries.captured_queries)} queries, {len(response.content)} bytes",
        file=sys.stderr,
    )
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
