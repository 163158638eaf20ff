"""ASGI guard for request bodies: refuse large ones, hand the rest over in
large chunks.

- A body declared (``Content-Length``) or found, while it arrives, to be
  over ``REQUEST_BODY_MAX_BYTES`` is refused with 413 before Django reads
  it, with a JSON or HTML explanation: large files go through an upload
  session (``media_handling.uploads``), in parts of at most
  ``MEDIA_UPLOAD_PART_BYTES``, which no single request exceeds.
- Daphne passes a body on in 8 KiB messages; Django spools a body over
  ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to disk with one thread hop per message,
  which made an 8 MiB part cost a thousand hops. The messages are joined
  here into chunks of ``CHUNK`` bytes (Daphne has already buffered the
  body, so this only changes how it is handed over), bounding the extra
  memory to one chunk per request.
"""

from __future__ import annotations

import html
import json

from django.conf import settings

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def max_body_bytes() -> int:
    return int(getattr(settings, "REQUEST_BODY_MAX_BYTES", DEFAULT_MAX_BYTES))


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def refusal_message(limit: int) -> str:
    return (
        f"This request is too large: one request may carry at most {_mib(limit)}. "
        "Larger files (videos, DICOM studies, zip archives) are sent in parts "
        "through an upload session; the upload pages do this for you, so reload "
        "the page and add the file there again."
    )


def _header(scope, name: bytes) -> bytes:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return b""


async def _refuse(scope, send, limit: int) -> None:
    message = refusal_message(limit)
    accept = _header(scope, b"accept").decode("latin-1")
    if "application/json" in accept or "text/html" not in accept:
        body = json.dumps(
            {"ok": False, "error": message, "max_bytes": limit, "use": "upload session"}
        ).encode()
        content_type = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<title>Request too large</title><h1>Request too large</h1>"
            f"<p>{html.escape(message)}</p></html>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class RequestBodyLimit:
    """Wrap an ASGI HTTP app with the body limit and the chunk joining."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = max_body_bytes()
        try:
            declared = int(_header(scope, b"content-length") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return await _refuse(scope, send, limit)
        seen = 0
        pending: list[dict] = []
        started = False

        async def joined():
            nonlocal seen
            if pending:
                return pending.pop(0)
            message = await receive()
            if message["type"] != "http.request":
                return message
            parts = [message.get("body", b"")]
            size = len(parts[0])
            while message.get("more_body") and size < CHUNK:
                message = await receive()
                if message["type"] != "http.request":
                    pending.append(message)
                    break
                parts.append(message.get("body", b""))
                size += len(parts[-1])
            seen += size
            if seen > limit:
                raise _TooLarge
            more = message["type"] == "http.request" and message.get("more_body", False)
            return {"type": "http.request", "body": b"".join(parts), "more_body": more}

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            return await self.app(scope, joined, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(scope, send, limit)
