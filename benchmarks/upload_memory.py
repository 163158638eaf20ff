"""Peak server memory while a 1 GiB file is uploaded, three ways.

1. **Session parts through Daphne** (what the page's script does for any file
   over one part): ``POST .../media/uploads/``, one ``PUT`` per 8 MiB part,
   ``complete``.
2. **One multipart POST through Daphne** (``CappedUploadHandler``, what the
   page does for small files and a form without JavaScript does for any).
3. **One multipart POST to Django's ASGI handler without Daphne**: the same
   request fed chunk by chunk by a ``receive()`` that reads the file lazily,
   in a fresh process, so what is measured is Django, the upload handler and
   Consilium alone.

Each row gets a fresh server process; the number is that process's peak
resident set (``VmHWM``) before and after. Rows 2 and 3 tell apart what the
app holds (flat: the handler streams to disk) from what Daphne holds: Daphne
reads a whole request body and queues it for the app before the app runs, so
a single 1 GiB request costs Daphne about 1 GiB. That is why large files go
up in parts (or straight to S3 in scale mode).

Measured here (2 cores, Daphne 4.2, Twisted 26): one multipart POST costs
Daphne about 13× its size (64 MiB → +835 MiB, 128 MiB → +1.7 GiB), so row 2
sends a smaller file (``--form-mib``, default 64) rather than take ~13 GiB
of a shared machine for 1 GiB.

Bounded: every wait has a timeout, children are killed on exit, row 2 is
skipped unless ``MemAvailable`` leaves 20× its size, and all files live in
a temp dir that is removed. No de-identification runs (no task worker).

Run: ``.venv/bin/python -m benchmarks.upload_memory [--size-mib N] [--form-mib N]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    REPO,
    Processes,
    Table,
    embedded_site,
    log,
    peak_rss_mib,
)
from benchmarks.uploads import Browser, make_video, upload_video

MiB = 1024**2
CHUNK = MiB


def mem_available() -> int:
    with open("/proc/meminfo") as info:
        for row in info:
            if row.startswith("MemAvailable:"):
                return int(row.split()[1]) * 1024
    return 0


def _form_parts(path: Path) -> tuple[bytes, bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/form-data; boundary={boundary}"


def _streamed_body(path: Path, head: bytes, tail: bytes):
    yield head
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
    yield tail


def form_post_via_daphne(port: int, session: str, case_id: int, path: Path) -> dict:
    """One multipart POST, streamed from disk by the client."""
    head, tail, content_type = _form_parts(path)
    length = len(head) + path.stat().st_size + len(tail)
    browser = Browser(port, session)
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", f"/cases/{case_id}/media/upload/")
    for name, value in {
        "Cookie": browser.cookie,
        "X-CSRFToken": browser.csrf,
        "Accept": "application/json",
        "Origin": f"http://127.0.0.1:{port}",
        "Referer": f"http://127.0.0.1:{port}/",
        "Content-Type": content_type,
        "Content-Length": str(length),
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    for chunk in _streamed_body(path, head, tail):
        conn.send(chunk)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    browser.close()
    if response.status != 200:
        raise RuntimeError(f"upload answered {response.status}: {data[:300]!r}")
    files = json.loads(data)["files"]
    return {
        "seconds": time.perf_counter() - started,
        "result": [
            {"ok": f["ok"], **({"error": f["error"]} if not f["ok"] else {})}
            for f in files
        ],
    }


# Runs in a fresh Python: Django's ASGI handler and nothing else in front.
_IN_PROCESS = textwrap.dedent(
    """
    import asyncio, json, sys, time, uuid
    import django
    django.setup()
    from django.core.handlers.asgi import ASGIHandler

    path, session, case_id = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def hwm():
        for row in open("/proc/self/status"):
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024

    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\\r\\nContent-Disposition: form-data; name="files"; '
            f'filename="video.mp4"\\r\\nContent-Type: video/mp4\\r\\n\\r\\n').encode()
    tail = f"\\r\\n--{boundary}--\\r\\n".encode()
    size = __import__("os").path.getsize(path)
    csrf = "b" * 32
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": f"/cases/{case_id}/media/upload/",
        "raw_path": b"", "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"cookie", f"sessionid={session}; csrftoken={csrf}".encode()),
            (b"x-csrftoken", csrf.encode()),
            (b"origin", b"http://127.0.0.1"),
            (b"accept", b"application/json"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"content-length", str(len(head) + size + len(tail)).encode()),
        ],
    }

    def chunks():
        yield head
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk
        yield tail

    async def main():
        source = chunks()
        finished = asyncio.Event()
        state = {"done": False}
        async def receive():
            if state["done"]:
                # Like a server: nothing more until the response has gone out.
                await finished.wait()
                return {"type": "http.disconnect"}
            body = next(source, None)
            if body is None:
                state["done"] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": body, "more_body": True}
        sent = []
        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished.set()
        before = hwm()
        started = time.perf_counter()
        await ASGIHandler()(scope, receive, send)
        seconds = time.perf_counter() - started
        status = sent[0]["status"]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        print(json.dumps({"before": before, "after": hwm(), "seconds": seconds,
                          "status": status, "body": body[:300].decode("utf-8", "replace")}))

    asyncio.run(main())
    """
)


def form_post_in_process(site, session: str, case_id: int, path: Path) -> dict:
    done = subprocess.run(
        [str(PYTHON), "-c", _IN_PROCESS, str(path), session, str(case_id)],
        env=site.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(size_mib: int = 1024, form_mib: int = 64) -> dict:
    size = size_mib * MiB
    form_size = min(form_mib, size_mib) * MiB
    table = Table(
        f"Peak server memory during a {size_mib} MiB upload",
        [
            "path",
            "server",
            "seconds",
            "peak RSS MiB before → after",
            "growth MiB",
            "result",
        ],
    )
    data: dict = {"bytes": size}
    with embedded_site("upload-memory") as site:
        seeded = site.seed("ws", "--clients", "0", "--cases", "1")
        case_id = seeded["cases"][0]["id"]
        session = seeded["sender_session"]
        work = site.root / "files"
        work.mkdir()
        log(f"upload-memory: writing a {size_mib} MiB video")
        video = make_video(work / "video.mp4", size)

        with Processes(site.root) as procs:
            log("upload-memory: session parts through Daphne")
            proc, port = procs.daphne("daphne-parts", env=site.env())
            browser = Browser(port, session)
            browser.request("GET", f"/cases/{case_id}/")
            before = peak_rss_mib(proc.pid)
            result = upload_video(browser, case_id, video)
            after = peak_rss_mib(proc.pid)
            browser.close()
            procs.stop(proc)
            data["parts"] = {**result, "before": before, "after": after}
            table.add(
                f"{result['parts']} parts × {result['part_bytes'] // MiB} MiB",
                "Daphne",
                round(result["seconds"], 1),
                f"{before:.0f} → {after:.0f}",
                round(after - before),
                json.dumps(result["response"]),
            )

            if mem_available() < 20 * form_size:
                table.skip("one multipart POST", "not enough free memory to risk it")
            else:
                log(f"upload-memory: one {form_size // MiB} MiB POST through Daphne")
                small = make_video(work / "small.mp4", form_size)
                proc, port = procs.daphne("daphne-form", env=site.env())
                Browser(port, session).request("GET", f"/cases/{case_id}/")
                before = peak_rss_mib(proc.pid)
                result = form_post_via_daphne(port, session, case_id, small)
                after = peak_rss_mib(proc.pid)
                procs.stop(proc)
                small.unlink()
                data["form_daphne"] = {
                    **result,
                    "bytes": form_size,
                    "before": before,
                    "after": after,
                }
                table.add(
                    f"one multipart POST of {form_size // MiB} MiB (not {size_mib})",
                    "Daphne",
                    round(result["seconds"], 1),
                    f"{before:.0f} → {after:.0f}",
                    round(after - before),
                    json.dumps(result["result"]),
                )

        log("upload-memory: one multipart POST to Django's ASGI handler")
        result = form_post_in_process(site, session, case_id, video)
        data["form_asgi"] = result
        table.add(
            "one multipart POST",
            "Django ASGIHandler, no Daphne",
            round(result["seconds"], 1),
            f"{result['before']:.0f} → {result['after']:.0f}",
            round(result["after"] - result["before"]),
            f"{result['status']} {result['body'][:80]}",
        )
        video.unlink()
    table.notes += [
        "peak RSS: VmHWM of the server process, read before and after the upload",
        "Daphne buffers each request body whole (and then some) before the app "
        "sees it; parts keep every request at 8 MiB, and the app itself streams "
        "to disk either way",
    ]
    return {"name": "upload_memory", "tables": [table.as_dict()], "data": data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--form-mib", type=int, default=64)
    args = parser.parse_args()
    result = run(args.size_mib, args.form_mib)
    for t in result["tables"]:
        print(Table(**t).render())
    print(json.dumps(result["data"], indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
