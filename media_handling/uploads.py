"""Receive uploads without ever holding a whole file in memory.

Two ways in, both ending in a temporary file (or an S3 object) that the
processing task reads:

- ``CappedUploadHandler`` for multipart form posts: each file streams to a
  temporary file chunk by chunk; its type is sniffed from its first bytes, so
  the size cap for that kind applies while it streams, and a file that is
  empty, of an unsupported type, or over its cap is refused on its own. A
  refused file appears in ``request.FILES`` as a ``RejectedUpload`` carrying
  the message for the uploader, so the other files in the same request still
  go through.
- Session uploads (``UploadSession``) for large files: parts of at most
  ``MEDIA_UPLOAD_PART_BYTES`` each, PUT one per request (several at once,
  in any order) and written at their offset of one temporary file here (or sent straight to S3, see ``s3_multipart``). Daphne
  holds a whole request body in memory before the app sees it, so bounding
  each request is what keeps the server's memory flat for a 2 GB video.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from . import conf
from .sniff import HEAD_BYTES, MediaError, Sniffed, sniff, sniff_bytes

CHUNK = 64 * 1024


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def check_kind(sniffed: Sniffed, accepted: dict[str, str] | None = None) -> str:
    """The MediaAsset kind for a sniffed file; MediaError if not accepted.

    ``accepted`` maps sniffed kinds to asset kinds (default
    ``conf.ACCEPTED_KINDS``: photos and videos).
    """
    if not sniffed.supported:
        raise MediaError(sniffed.reason or "Unrecognised file type.")
    kind = (conf.ACCEPTED_KINDS if accepted is None else accepted).get(
        sniffed.kind or ""
    )
    if kind is None:
        label = {"dicom": "DICOM files", "zip": "ZIP archives"}.get(
            sniffed.kind or "", f"{sniffed.mime} files"
        )
        raise MediaError(f"{label} are not accepted here yet.")
    return kind


def check_size(sniffed: Sniffed, size: int) -> None:
    """MediaError when ``size`` is zero or over the cap for the sniffed kind."""
    if size == 0:
        raise MediaError("The file is empty.")
    cap = conf.max_bytes(sniffed.kind)
    if size > cap:
        noun = {"image": "Photos", "video": "Videos"}.get(sniffed.kind or "", "Files")
        raise MediaError(
            f"The file is too large ({format_bytes(size)}): {noun} may be at most "
            f"{format_bytes(cap)}."
        )


class RejectedUpload(UploadedFile):
    """A file refused while it streamed in; ``error`` says why."""

    def __init__(self, name: str, error: str, size: int) -> None:
        super().__init__(file=io.BytesIO(), name=name, size=size)
        self.error = error


class AcceptedUpload(TemporaryUploadedFile):
    """A file that streamed to a temporary file and passed the first checks."""

    sniffed: Sniffed
    kind: str
    sha256: str


class CappedUploadHandler(FileUploadHandler):
    """Stream each file of a multipart body to a temporary file, with caps.

    The first ``HEAD_BYTES`` of a file are held back until its type is
    known; from then on every chunk goes straight to disk, and the cap for
    that kind is checked as the bytes arrive. Once a file is refused, the
    rest of its bytes are read from the request and dropped. Install it on a
    view before ``request.POST`` or ``request.FILES`` is touched.
    """

    chunk_size = CHUNK
    # Sniffed kind -> asset kind; None: ``conf.ACCEPTED_KINDS``.
    accepted_kinds: dict[str, str] | None = None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._pending = bytearray()
        self._file: AcceptedUpload | None = None
        self._error: str | None = None
        self._sniffed: Sniffed | None = None
        self._kind = ""
        self._size = 0
        self._too_large = False
        self._digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._error is not None:
            return None
        if self._sniffed is None:
            self._pending.extend(raw_data)
            if len(self._pending) >= HEAD_BYTES:
                self._decide(bytes(self._pending))
                if self._error is None:
                    self._write(bytes(self._pending))
                self._pending = bytearray()
            return None
        if self._size > conf.max_bytes(self._sniffed.kind):
            self._refuse_size()
            return None
        self._write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        name = self.file_name or "upload"
        if self._error is None and self._sniffed is None:
            if not self._pending:
                return RejectedUpload(name, "The file is empty.", 0)
            self._decide(bytes(self._pending))
            if self._error is None:
                self._write(bytes(self._pending))
        if self._too_large:
            # The final size is known only now that the rest was read and dropped.
            try:
                check_size(self._sniffed, self._size)
            except MediaError as exc:
                self._error = str(exc)
        if self._error is not None:
            self._discard()
            return RejectedUpload(name, self._error, self._size)
        upload = self._file
        upload.file.flush()
        upload.file.seek(0)
        upload.size = self._size
        upload.sha256 = self._digest.hexdigest()
        self._file = None
        return upload

    def upload_interrupted(self) -> None:
        self._discard()

    def _decide(self, head: bytes) -> None:
        sniffed = sniff_bytes(head[:HEAD_BYTES])
        self._sniffed = sniffed
        try:
            self._kind = check_kind(sniffed, self.accepted_kinds)
            check_size(sniffed, self._size)
        except MediaError as exc:
            self._error = str(exc)
            return
        upload = AcceptedUpload(
            self.file_name or "upload",
            sniffed.mime,
            0,
            None,
        )
        upload.sniffed = sniffed
        upload.kind = self._kind
        self._file = upload

    def _write(self, data: bytes) -> None:
        self._digest.update(data)
        self._file.write(data)

    def _refuse_size(self) -> None:
        self._too_large = True
        self._error = "The file is too large."
        self._discard()

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()  # a TemporaryUploadedFile deletes itself on close
            self._file = None


# --- session uploads through the app ----------------------------------------------


def session_dir() -> Path:
    base = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
    path = base / "consilium-uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def session_path(token) -> Path:
    return session_dir() / f"{token.hex}.part"


PART_CHUNK = 1024 * 1024


def part_write(
    path: Path, *, offset: int, length: int, stream: IO[bytes], size: int
) -> int:
    """Write ``length`` bytes read from ``stream`` at ``offset`` of ``path``.

    The file is created at its full ``size`` (sparse) by whichever part comes
    first, so parts may arrive in any order, several at once, each writing
    its own range; a retried part overwrites its range. Raises MediaError
    when the stream holds a different number of bytes; returns the bytes
    written.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    written = 0
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
        while written < length:
            chunk = stream.read(min(PART_CHUNK, length - written))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                done = os.pwrite(fd, view, offset + written)
                written += done
                view = view[done:]
        extra = stream.read(1)
    finally:
        os.close(fd)
    if written != length or extra:
        raise MediaError(
            f"The part should hold {length} bytes but {'more' if extra else written} "
            "arrived."
        )
    return written


def sniff_path(path: Path) -> Sniffed:
    return sniff(path)


class LocalUploadFile(File):
    """A finished session file that local storage may move instead of copying."""

    def __init__(self, path: Path) -> None:
        super().__init__(open(path, "rb"), name=path.name)  # noqa: SIM115
        self._path = path

    def temporary_file_path(self) -> str:
        return os.fspath(self._path)
