"""Uploads: a 1 GiB video through the app, and a 200-file DICOM series
from upload to every asset ready.

Video: the file is a real MP4 (a one-second clip from
``tests/fixtures/media_factory``) followed by a top-level ``free`` box of
filler up to exactly 1 GiB, so it sniffs and probes as the video it is. It
goes the way the browser sends large files: ``POST .../media/uploads/`` to
open an upload session, one ``PUT`` per part (``MEDIA_UPLOAD_PART_BYTES``,
8 MiB; ``IN_FLIGHT`` at once), then ``complete``, which checks and stores the file and creates the
``MediaAsset``. What is timed is exactly that, until ``complete`` answers:
the transport and storing, not the de-identification task (no worker runs
for this row). Memory is the Daphne process's peak resident set (``VmHWM``),
read after the upload, against its value before. The ceiling is copying the
same file on the same disk (``shutil.copyfile``).

DICOM: 200 planted CT files (512×512) zipped (stored, no compression) and
sent to the case's study upload in session parts like the video, then
``complete`` (``--dicom-files N`` for another count; 2,000 is ~1 GiB), with a ``db_worker``
running; timed until every ``MediaAsset`` the upload created has left
``uploaded``/``processing`` (polled in the SQLite file, read-only).

Run alone: ``.venv/bin/python -m benchmarks.uploads [--quick]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import sqlite3
import struct
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    REPO,
    Deadline,
    Processes,
    Site,
    Table,
    embedded_site,
    log,
    peak_rss_mib,
    rss_mib,
)

GIB = 1024**3
PART_TIMEOUT = 30  # seconds without an answer before a part is sent again
PART_ATTEMPTS = 3
DICOM_FILES = 200
IN_FLIGHT = 3  # parts in flight at once, as static/js/upload_client.js


# --- inputs ---------------------------------------------------------------------


def make_video(path: Path, size: int) -> Path:
    """A valid MP4 padded with a ``free`` box to exactly ``size`` bytes."""
    sys.path.insert(0, str(REPO))
    from tests.fixtures import media_factory

    clip = path.with_suffix(".clip.mp4")
    media_factory.write_video(clip, size=(320, 240), seconds=1.0)
    head = clip.read_bytes()
    clip.unlink()
    filler = size - len(head) - 16
    block = secrets.token_bytes(1024 * 1024)
    with open(path, "wb") as out:
        out.write(head)
        out.write(struct.pack(">I4sQ", 1, b"free", filler + 16))
        while filler > 0:
            chunk = block[: min(len(block), filler)]
            out.write(chunk)
            filler -= len(chunk)
    return path


def make_dicom_zip(path: Path, count: int) -> Path:
    sys.path.insert(0, str(REPO))
    from tests.fixtures import dicom_factory

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, ds in enumerate(
            dicom_factory.make_ct_series(count, rows=512, cols=512)
        ):
            archive.writestr(f"series/IM{index:05d}.dcm", dicom_factory.ct_bytes(ds))
    return path


# --- HTTP -----------------------------------------------------------------------


class Browser:
    """A logged-in client with a CSRF token, like the page's JavaScript."""

    def __init__(self, port: int, session: str, timeout: float = 600) -> None:
        self.port = port
        self.session = session
        self.timeout = timeout
        self.csrf = secrets.token_hex(16)
        self.cookie = f"sessionid={session}; csrftoken={self.csrf}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=self.timeout
        )

    def request(
        self, method: str, path: str, body=None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        all_headers = {
            "Cookie": self.cookie,
            "X-CSRFToken": self.csrf,
            "Accept": "application/json",
            "Origin": f"http://127.0.0.1:{self.port}",
            "Referer": f"http://127.0.0.1:{self.port}/",
            **(headers or {}),
        }
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method: str, path: str, payload=None, **kwargs) -> dict:
        body = json.dumps(payload).encode() if payload is not None else None
        status, data = self.request(
            method, path, body, {"Content-Type": "application/json"}
        )
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


def send_parts(browser: Browser, opened: dict, path: Path) -> list[int]:
    """PUT every part of a local session, ``IN_FLIGHT`` at once as the
    page's upload client does, each worker on its own connection; a part
    with no answer is sent again on a new connection (the server replaces
    it). Returns the parts that stalled."""
    if opened.get("mode") != "local":
        raise RuntimeError(f"expected a local upload session, got {opened}")
    part_size = int(opened["part_size"])
    numbers = list(range(1, int(opened["part_count"]) + 1))
    stalls: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        client = Browser(browser.port, browser.session, timeout=PART_TIMEOUT)
        client.cookie, client.csrf = browser.cookie, browser.csrf
        with open(path, "rb") as handle:
            while True:
                with lock:
                    if not numbers:
                        break
                    number = numbers.pop(0)
                handle.seek((number - 1) * part_size)
                chunk = handle.read(part_size)
                for attempt in range(PART_ATTEMPTS):
                    try:
                        status, data = client.request(
                            "PUT",
                            opened["part_url"].replace("{n}", str(number)),
                            chunk,
                            {"Content-Type": "application/octet-stream"},
                        )
                        break
                    except TimeoutError:
                        stalls.append(number)
                        client.reconnect()
                        if attempt == PART_ATTEMPTS - 1:
                            raise RuntimeError(
                                f"part {number}: no answer in {PART_ATTEMPTS} tries"
                            ) from None
                if status != 200:
                    raise RuntimeError(
                        f"part {number} answered {status}: {data[:300]!r}"
                    )
        client.close()

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        for future in [pool.submit(worker) for _ in range(IN_FLIGHT)]:
            future.result()
    return stalls


def upload_video(browser: Browser, case_id: int, path: Path) -> dict:
    size = path.stat().st_size
    started = time.perf_counter()
    opened = browser.json("POST", f"/cases/{case_id}/media/uploads/", {"size": size})
    stalls = send_parts(browser, opened, path)
    browser.timeout = 600  # complete checks and stores the whole file
    browser.reconnect()
    done = browser.json("POST", opened["complete_url"])
    return {
        "seconds": time.perf_counter() - started,
        "parts": int(opened["part_count"]),
        "stalled_parts": stalls,
        "part_bytes": int(opened["part_size"]),
        "response": {k: done.get(k) for k in ("ok", "status", "kind") if k in done},
    }


def _asset_states(db: Path, since_id: int) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT status FROM media_handling_mediaasset WHERE id > ?", (since_id,)
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def _max_asset_id(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(
            "SELECT COALESCE(MAX(id), 0) FROM media_handling_mediaasset"
        ).fetchone()[0]
    finally:
        conn.close()


def upload_dicom(
    browser: Browser, site: Site, case_id: int, archive: Path, timeout: float
) -> dict:
    db = site.var_dir / "consilium.sqlite3"
    before = _max_asset_id(db)
    started = time.perf_counter()
    opened = browser.json(
        "POST",
        f"/cases/{case_id}/studies/uploads/",
        {"size": archive.stat().st_size},
    )
    stalls = send_parts(browser, opened, archive)
    browser.timeout = 600  # complete reads the zip and bundles the series
    browser.reconnect()
    answer = browser.json("POST", opened["complete_url"], {"name": archive.name})
    uploaded = time.perf_counter() - started
    deadline = Deadline(timeout)
    states: list[str] = []
    while not deadline.expired:
        states = _asset_states(db, before)
        if states and all(s not in ("uploaded", "processing") for s in states):
            break
        time.sleep(0.2)
    total = time.perf_counter() - started
    return {
        "upload_seconds": round(uploaded, 2),
        "total_seconds": round(total, 2),
        "images": answer.get("images"),
        "series": len(answer.get("series") or []),
        "failed": answer.get("failed"),
        "states": states,
        "timed_out": deadline.expired,
        "parts": int(opened["part_count"]),
        "stalled_parts": stalls,
    }


def _copy_ceiling(path: Path) -> float:
    target = path.with_name(path.name + ".copy")
    started = time.perf_counter()
    shutil.copyfile(path, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def run(quick: bool = False, dicom_files: int | None = None) -> dict:
    video_size = 128 * 1024**2 if quick else GIB
    dicom_count = dicom_files or (40 if quick else DICOM_FILES)
    table = Table(
        "Uploads (one Daphne, embedded mode)",
        [
            "upload",
            "path",
            "size MiB",
            "seconds",
            "MiB/s",
            "× ceiling",
            "server peak RSS MiB (before → after)",
            "result",
        ],
    )
    data: dict = {}
    with embedded_site("uploads") as site:
        seeded = site.seed("ws", "--clients", "0", "--cases", "1")
        case_id = seeded["cases"][0]["id"]
        work = site.root / "files"
        work.mkdir()
        log(f"uploads: writing a {video_size // 1024**2} MiB video")
        video = make_video(work / "video.mp4", video_size)
        mib = video_size / 1024**2
        ceiling = _copy_ceiling(video)
        table.add(
            "video",
            "ceiling: copy on the same disk",
            round(mib),
            round(ceiling, 2),
            round(mib / ceiling, 1),
            "1.00×",
            "–",
            "",
        )
        with Processes(site.root) as procs:
            proc, port = procs.daphne("daphne-uploads", env=site.env())
            browser = Browser(port, seeded["sender_session"], timeout=PART_TIMEOUT)
            browser.request("GET", f"/cases/{case_id}/")  # warm up
            rss_before = peak_rss_mib(proc.pid)
            log("uploads: video through the app")
            try:
                result = upload_video(browser, case_id, video)
            except (RuntimeError, OSError) as exc:
                table.add(
                    "video",
                    "app: session parts + complete",
                    round(mib),
                    f"error: {exc}",
                )
                result = None
            rss_after = peak_rss_mib(proc.pid)
            if result:
                seconds = result["seconds"]
                data["video"] = {
                    **result,
                    "bytes": video_size,
                    "ceiling_seconds": ceiling,
                    "peak_rss_mib_before": rss_before,
                    "peak_rss_mib_after": rss_after,
                    "rss_mib_now": rss_mib(proc.pid),
                }
                table.add(
                    "video",
                    f"app: {result['parts']} × {result['part_bytes'] // 1024**2} MiB "
                    "parts + complete",
                    round(mib),
                    round(seconds, 2),
                    round(mib / seconds, 1),
                    f"{ceiling / seconds:.2f}×",
                    f"{rss_before:.0f} → {rss_after:.0f}",
                    "stored: "
                    + json.dumps(result["response"])
                    + (
                        f"; {len(result['stalled_parts'])} part(s) got no answer "
                        f"in {PART_TIMEOUT} s and were re-sent: {result['stalled_parts']}"
                        if result["stalled_parts"]
                        else ""
                    ),
                )
            browser.close()
            video.unlink()

            log(f"uploads: {dicom_count}-file DICOM series")
            archive = make_dicom_zip(work / "series.zip", dicom_count)
            zip_mib = archive.stat().st_size / 1024**2
            procs.start(
                "db-worker",
                [
                    PYTHON,
                    REPO / "manage.py",
                    "db_worker",
                    "--interval",
                    "0.2",
                    "--no-reload",
                ],
                env=site.env(),
            )
            worker = procs.procs[-1][1]
            browser = Browser(port, seeded["sender_session"])
            time.sleep(2)  # let the worker finish starting up
            rss_before = peak_rss_mib(proc.pid)
            worker_before = peak_rss_mib(worker.pid)
            try:
                result = upload_dicom(browser, site, case_id, archive, timeout=300)
            except (RuntimeError, OSError) as exc:
                table.add(
                    "DICOM series",
                    "app: zip upload → every asset ready",
                    round(zip_mib),
                    f"error: {exc}",
                )
                result = None
            browser.close()
            if result:
                rss_after = peak_rss_mib(proc.pid)
                worker_peak = peak_rss_mib(worker.pid)
                data["dicom"] = {
                    **result,
                    "files": dicom_count,
                    "zip_bytes": archive.stat().st_size,
                    "daphne_peak_rss_mib_before": rss_before,
                    "daphne_peak_rss_mib": rss_after,
                    "worker_peak_rss_mib_before": worker_before,
                    "worker_peak_rss_mib": worker_peak,
                }
                states = ", ".join(
                    f"{states_count} {state}"
                    for state, states_count in sorted(
                        {s: result["states"].count(s) for s in result["states"]}.items()
                    )
                )
                table.add(
                    "DICOM series",
                    f"app: {dicom_count} files (zip), {result['parts']} session parts "
                    "→ every asset ready",
                    round(zip_mib),
                    result["total_seconds"],
                    round(zip_mib / result["total_seconds"], 1),
                    "–",
                    f"{rss_before:.0f} → {rss_after:.0f} (worker {worker_before:.0f} → "
                    f"{worker_peak:.0f})",
                    ("timed out: " if result["timed_out"] else "")
                    + f"upload {result['upload_seconds']} s, "
                    f"{dicom_count / result['total_seconds']:.1f} files/s; {states}",
                )
    table.notes += [
        "video: timed from opening the upload session to `complete` answering "
        "(every part received, sniffed, stored, asset created); de-identifying "
        "it is the task's job and not part of this row",
        "× ceiling: copy time over upload time (1.00× = as fast as the disk)",
        "peak RSS: VmHWM of the Daphne process, before and after the upload; "
        "a flat value means request bodies are never held whole",
        "DICOM: a stored zip sent in upload-session parts like the video, then "
        "`complete` reads it member by member and bundles each series, and a "
        "db_worker de-identifies and renders; timed until no asset is "
        "uploaded/processing; RSS of Daphne and of the worker, before → after",
        f"parts: {IN_FLIGHT} in flight at once, each on its own connection, as "
        "the page's upload client sends them",
    ]
    return {"name": "uploads", "tables": [table.as_dict()], "data": data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--dicom-files", type=int, default=None, help="512×512 CT files (~0.5 MiB)"
    )
    args = parser.parse_args()
    result = run(args.quick, args.dicom_files)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1)[:3000])


if __name__ == "__main__":
    main()
