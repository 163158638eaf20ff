"""Where media bytes live, and how a permitted viewer gets them.

Everything goes through Django's default storage: private local files in
embedded mode, private S3 objects in scale mode. Names never contain an
uploaded file name or a database id: uploads wait under
``incoming/<asset key>`` and renditions live under
``media/<asset key>/<run>/<role>.<ext>``, where ``run`` is new for every
processing run, so a rendition is replaced by writing a new name and
deleting the old one.

``serve_rendition`` is called by views that have already decided the viewer
may see the asset. Locally it streams the file with HTTP range support (video
seeking needs it); on S3 it redirects to a presigned URL that expires after
``MEDIA_URL_EXPIRY_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)

from . import conf
from .models import MediaAsset

CHUNK = 256 * 1024

MIME_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "dcm": "application/dicom",
    "json": "application/json",
}
NO_STORE = "private, no-store"


def storage() -> Storage:
    return default_storage


def local_path(name: str) -> str | None:
    """The file system path of a stored name, or None for remote storage."""
    try:
        return storage().path(name)
    except NotImplementedError:
        return None


def is_local() -> bool:
    return local_path("probe") is not None


# --- names ----------------------------------------------------------------------------


def incoming_name(asset_key) -> str:
    return f"incoming/{asset_key.hex}"


def rendition_name(asset_key, run: str, role: str, ext: str) -> str:
    return f"media/{asset_key.hex}/{run}/{role}.{ext}"


def mime_for(name: str) -> str:
    return MIME_TYPES.get(
        Path(name).suffix.lstrip(".").lower(), "application/octet-stream"
    )


# --- writing and reading --------------------------------------------------------------


def save_path(name: str, path: str | os.PathLike[str]) -> str:
    """Store the local file at ``path`` under ``name``; returns the stored name."""
    with open(path, "rb") as fh:
        return storage().save(name, File(fh, name=Path(name).name))


def save_file(name: str, content: File) -> str:
    """Store ``content`` (an upload or any Django ``File``) under ``name``.

    Local storage moves a temporary upload into place instead of copying it.
    """
    return storage().save(name, content)


@contextlib.contextmanager
def local_copy(name: str, *, suffix: str = "") -> Iterator[Path]:
    """A local path holding the stored ``name`` for the duration of the block.

    Local storage yields the stored file itself; remote storage streams the
    object into a temporary file, deleted afterwards.
    """
    path = local_path(name)
    if path is not None:
        if not os.path.exists(path):
            raise FileNotFoundError(name)
        yield Path(path)
        return
    handle, tmp = tempfile.mkstemp(
        prefix="consilium-media-", suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    try:
        with os.fdopen(handle, "wb") as out, storage().open(name, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(size, sha256 hex) of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def read_bytes(name: str) -> bytes:
    """A whole stored file (small renditions and tests only)."""
    with storage().open(name, "rb") as fh:
        return fh.read()


def delete_names(names: Iterable[str]) -> None:
    """Delete stored names; missing ones are fine (deletion is idempotent)."""
    store = storage()
    for name in names:
        if not name:
            continue
        store.delete(name)
        path = local_path(name)
        if path is not None:
            _remove_empty_parents(Path(path), Path(local_path("")))


def _remove_empty_parents(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def asset_names(asset: MediaAsset) -> list[str]:
    """Every stored name an asset owns: its renditions and a waiting upload."""
    names = [n for n in (asset.renditions or {}).values() if isinstance(n, str)]
    if asset.source_name:
        names.append(asset.source_name)
    return names


# --- serving --------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a Range header asks for, or None for the whole file.

    Only single byte ranges are honoured; several ranges or a header that does
    not parse get the whole file, which RFC 9110 allows. A range that starts
    past the end raises ``RangeNotSatisfiable``.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = size - 1 if last == "" else int(last)
    if last != "" and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def serve_rendition(request: HttpRequest, asset: MediaAsset, role: str) -> HttpResponse:
    """Answer a request for one rendition the caller has cleared the viewer for.

    Raises Http404 when the asset has no such rendition. Local files stream
    with ``Accept-Ranges: bytes`` (206 for a satisfiable range, 416 when it
    starts past the end); S3 objects redirect to a presigned GET valid for
    ``MEDIA_URL_EXPIRY_SECONDS``. Nothing is cached outside the browser
    session that asked, and nothing is cached at all.
    """
    name = asset.rendition_name(role)
    if name is None:
        raise Http404("No such rendition.")
    mime = mime_for(name)
    path = local_path(name)
    if path is None:
        return _redirect_to_s3(name, mime, role)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError as exc:
        raise Http404("No such rendition.") from exc
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = NO_STORE
        return response
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(status=206 if wanted else 200)
    else:
        chunks = (
            _file_chunks_async(path, start, length)
            if isinstance(request, ASGIRequest)
            else _file_chunks(path, start, length)
        )
        response = StreamingHttpResponse(chunks, status=206 if wanted else 200)
    response["Content-Type"] = mime
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = NO_STORE
    response["Content-Disposition"] = f'inline; filename="{role}{Path(name).suffix}"'
    if wanted is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _redirect_to_s3(name: str, mime: str, role: str) -> HttpResponse:
    url = storage().url(
        name,
        parameters={
            "ResponseContentType": mime,
            "ResponseContentDisposition": f'inline; filename="{role}{Path(name).suffix}"',
            "ResponseCacheControl": NO_STORE,
        },
        expire=conf.url_expiry_seconds(),
    )
    response = HttpResponseRedirect(url)
    # The redirect itself must not outlive the signature, nor the session.
    response["Cache-Control"] = NO_STORE
    return response


def _file_chunks(path: str, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        yield from _read_span(fh, length)


def _read_span(fh: IO[bytes], length: int) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = fh.read(min(CHUNK, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


async def _file_chunks_async(
    path: str, start: int, length: int
) -> AsyncIterator[bytes]:
    # Django drains a synchronous iterator into a list before serving it over
    # ASGI (the whole file in memory), so ASGI requests get an async one.
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(fh.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(fh.close)
