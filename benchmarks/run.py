"""``make bench``: run every benchmark, print the tables, save the JSON.

Usage: ``.venv/bin/python benchmarks/run.py [NAME ...] [--quick]`` where NAME
is one of ws, pages, uploads, deid (default: all, in that order). Each
benchmark seeds its own throwaway database, starts its own servers on
127.0.0.1 and stops them again, also when it fails; a failed benchmark
prints its error in place of its table and the others still run. Results
go to ``benchmarks/results/<UTC timestamp>.json`` and ``latest.json``;
the tables to ``latest.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import deid, pages, uploads, ws_fanout
from benchmarks.harness import (
    RESULTS_DIR,
    Table,
    kill_all_children,
    log,
    machine_info,
)

BENCHMARKS = {
    "ws": ("WebSocket fan-out", ws_fanout.run),
    "pages": ("Pages", pages.run),
    "uploads": ("Uploads", uploads.run),
    "deid": ("De-identification", deid.run),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for a smoke run"
    )
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    started_at = datetime.now(UTC)
    machine = machine_info()
    report: dict = {
        "started": started_at.isoformat(timespec="seconds"),
        "machine": machine,
        "quick": args.quick,
        "benchmarks": {},
    }
    rendered: list[str] = []
    failed = False
    began = time.monotonic()
    try:
        for name in names:
            title, run = BENCHMARKS[name]
            log(f"--- {title}")
            t0 = time.monotonic()
            try:
                result = run(args.quick)
            except Exception as exc:
                failed = True
                traceback.print_exc()
                table = Table(title, ["benchmark", "result"])
                table.add(title, f"failed: {type(exc).__name__}: {exc}"[:300])
                result = {"name": name, "tables": [table.as_dict()], "error": str(exc)}
            finally:
                kill_all_children()
            result["seconds"] = round(time.monotonic() - t0, 1)
            report["benchmarks"][name] = result
            for table in result["tables"]:
                text = Table(**table).render()
                rendered.append(text)
                print("\n" + text + "\n", flush=True)
    except KeyboardInterrupt:
        kill_all_children()
        print("interrupted", file=sys.stderr)
        return 130
    total = time.monotonic() - began
    report["seconds"] = round(total, 1)
    header = (
        f"Consilium benchmarks, {started_at:%Y-%m-%d %H:%M} UTC, "
        f"{machine['cores']} cores, {machine['memory_gib']} GiB RAM ({machine['cpu']}), "
        f"Python {machine['python']}; load average at start "
        f"{', '.join(map(str, machine['load_average_at_start']))}; "
        f"took {total / 60:.1f} min" + (" (--quick sizes)" if args.quick else "")
    )
    print(header)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    payload = json.dumps(report, indent=1, default=str)
    if not args.quick and set(names) == set(BENCHMARKS):
        (RESULTS_DIR / f"{stamp}.json").write_text(payload)
        (RESULTS_DIR / "latest.json").write_text(payload)
        (RESULTS_DIR / "latest.md").write_text(
            header + "\n\n" + "\n\n".join(rendered) + "\n"
        )
    else:
        (RESULTS_DIR / f"partial-{stamp}.json.tmp").write_text(payload)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
