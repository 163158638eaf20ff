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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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

from workspace import audit as audit_trail
from workspace.models import User

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

# RFC 9110 section 14.1.2: "bytes" (any case) "=" a comma-separated list of
# ranges, each first-last, first- or -suffix; digits may have leading zeros.
_UNIT = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=(.*)$", re.DOTALL)
_SPEC = re.compile(r"^([0-9]*)\s*-\s*([0-9]*)$")


class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True)
class MediaAudit:
    """What the audit event of a media response says, apart from the outcome.

    The caller (which owns the policy) names the verb, the target and the case;
    the serving code adds the role, the status and the bytes it answered with.
    """

    actor: User
    verb: str
    target: Any
    case_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _spans(header: str) -> list[tuple[int | None, int | None]] | None:
    """The (first, last) pairs of a bytes Range header, a suffix range as
    (None, length) and an open one as (first, None). None when the header is
    not a bytes range or any range in it is malformed (RFC 9110 lets the
    server ignore it then)."""
    unit = _UNIT.match(header)
    if unit is None or unit.group(1).lower() != "bytes":
        return None
    spans: list[tuple[int | None, int | None]] = []
    for part in unit.group(2).split(","):
        part = part.strip()
        if not part:
            continue  # "1#" lists allow empty elements
        spec = _SPEC.match(part)
        if spec is None:
            return None
        first, last = spec.groups()
        if first == "" and last == "":
            return None
        if first != "" and last != "" and int(last) < int(first):
            return None
        spans.append((int(first) if first else None, int(last) if last else None))
    return spans or None


def _satisfy(span: tuple[int | None, int | None], size: int) -> tuple[int, int] | None:
    first, last = span
    if first is None:
        suffix = last or 0
        if suffix == 0 or size == 0:
            return None
        return max(0, size - suffix), size - 1
    if first >= size:
        return None
    return first, size - 1 if last is None else min(last, size - 1)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a Range header asks for, or None for the whole file.

    Read per RFC 9110: the unit is case-insensitive, numbers may carry leading
    zeros, and a suffix longer than the file means the whole file (as a 206
    of every byte). Several ranges get the whole file as a 200 (a server may
    ignore Range; multipart/byteranges is not worth it for media players),
    unless none of them can be satisfied. A header that is not a bytes range,
    or has a malformed range in it, is ignored. Raises
    ``RangeNotSatisfiable`` when no range overlaps the file (including any
    range of an empty file and a zero-length suffix).
    """
    if not header:
        return None
    spans = _spans(header)
    if spans is None:
        return None
    satisfiable = [s for s in (_satisfy(span, size) for span in spans) if s]
    if not satisfiable:
        raise RangeNotSatisfiable
    if len(spans) > 1:
        return None
    return satisfiable[0]


def serve_rendition(
    request: HttpRequest, asset: MediaAsset, role: str, *, audit: MediaAudit
) -> HttpResponse:
    """Answer a request for one rendition the caller has cleared the viewer for.

    Raises Http404 when the asset has no such rendition. Local files stream
    with ``Accept-Ranges: bytes`` (206 for a satisfiable range, 416 with
    ``Content-Range: bytes */size`` when none is); S3 objects redirect to a
    presigned GET valid for ``MEDIA_URL_EXPIRY_SECONDS``. Nothing is cached.

    Every answer that is not a 404 -- 200, 206, 416, HEAD, the S3 redirect --
    writes exactly one audit event, here and nowhere else, so no form of the
    Range header can skip it. (No validators are sent, so there is no 304.)
    """
    name = asset.rendition_name(role)
    if name is None:
        raise Http404("No such rendition.")
    mime = mime_for(name)
    filename = f"{role}{Path(name).suffix}"
    path = local_path(name)
    if path is None:
        response = _redirect_to_s3(name, mime, filename)
        return _audited(request, response, audit, role, span="s3")
    try:
        size = os.stat(path).st_size
    except FileNotFoundError as exc:
        raise Http404("No such rendition.") from exc

    def body(start: int, length: int):
        if isinstance(request, ASGIRequest):
            return _file_chunks_async(path, start, length)
        return _file_chunks(path, start, length)

    return _ranged(request, size, body, mime, filename, audit, role)


def serve_content(
    request: HttpRequest,
    content: bytes,
    *,
    mime: str,
    filename: str,
    audit: MediaAudit,
    role: str,
) -> HttpResponse:
    """Like ``serve_rendition`` for bytes made on request (e.g. a re-windowed
    DICOM frame): the same ranges, headers and one audit event."""

    def body(start: int, length: int) -> bytes:
        return content[start : start + length]

    return _ranged(request, len(content), body, mime, filename, audit, role)


def _ranged(request, size, body, mime, filename, audit, role) -> HttpResponse:
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = NO_STORE
        return _audited(request, response, audit, role, span="*")
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(0, end - start + 1)
    status = 206 if wanted is not None else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status)
    elif isinstance(chunks := body(start, length), bytes):
        response = HttpResponse(chunks, status=status)
    else:
        response = StreamingHttpResponse(chunks, status=status)
    response["Content-Type"] = mime
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = NO_STORE
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    if wanted is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    span = f"{start}-{end}" if wanted is not None else None
    return _audited(request, response, audit, role, span=span)


def _audited(
    request: HttpRequest,
    response: HttpResponse,
    audit: MediaAudit,
    role: str,
    *,
    span: str | None,
) -> HttpResponse:
    audit_trail.record(
        actor=audit.actor,
        verb=audit.verb,
        target=audit.target,
        case_id=audit.case_id,
        request=request,
        data={
            **audit.data,
            "role": role,
            "status": response.status_code,
            "method": request.method,
            "bytes": span,
        },
    )
    return response


def _redirect_to_s3(name: str, mime: str, filename: str) -> HttpResponse:
    url = storage().url(
        name,
        parameters={
            "ResponseContentType": mime,
            "ResponseContentDisposition": f'inline; filename="{filename}"',
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
