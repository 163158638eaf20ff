"""Decide what an uploaded file is from its first bytes.

The file name and the content type the client sent are never consulted: both
are chosen by the uploader. Only the formats the pipeline can de-identify get
a ``kind``; everything else comes back with ``kind=None`` and a reason that can
be shown to the uploader.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Literal

import filetype

from workspace.errors import ServiceError

Kind = Literal["image", "video", "dicom", "zip"]

HEAD_BYTES = 4096


class MediaError(ServiceError):
    """A file the media pipeline cannot accept; the message is for the uploader."""


class UploadLimitExceeded(MediaError):
    """The uploader has too many uploads open at once (HTTP 429 Too Many
    Requests); finishing or cancelling one frees room."""

    status = 429


@dataclass(frozen=True)
class Sniffed:
    kind: Kind | None
    mime: str | None
    ext: str | None
    reason: str = ""

    @property
    def supported(self) -> bool:
        return self.kind is not None


def sniff(source: str | os.PathLike[str] | BinaryIO) -> Sniffed:
    """Identify ``source`` (a path or a binary file object) from its first bytes.

    A file object is read from its current position, which is restored
    afterwards when the object can seek.
    """
    return sniff_bytes(_read_head(source))


def sniff_bytes(head: bytes) -> Sniffed:
    """Identify a file from its first bytes (``HEAD_BYTES`` are enough)."""
    if not head:
        return Sniffed(None, None, None, "The file is empty.")
    for check in (_jpeg, _png, _riff, _iso_bmff, _ebml, _dicom, _zip):
        found = check(head)
        if found is not None:
            return found
    return _unsupported(head)


def _read_head(source: str | os.PathLike[str] | BinaryIO) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            return fh.read(HEAD_BYTES)
    position = source.tell() if source.seekable() else None
    try:
        return source.read(HEAD_BYTES)
    finally:
        if position is not None:
            source.seek(position)


def _jpeg(head: bytes) -> Sniffed | None:
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", "jpg")
    return None


def _png(head: bytes) -> Sniffed | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", "png")
    return None


def _riff(head: bytes) -> Sniffed | None:
    if not head.startswith(b"RIFF") or len(head) < 12:
        return None
    form = head[8:12]
    if form == b"WEBP":
        return Sniffed("image", "image/webp", "webp")
    if form == b"AVI ":
        return Sniffed(None, "video/x-msvideo", "avi", "AVI videos are not supported.")
    if form == b"WAVE":
        return Sniffed(None, "audio/wav", "wav", "Audio files are not supported.")
    return None


# ISO base media file format (ISO/IEC 14496-12): an ``ftyp`` box names a major
# brand and compatible brands. HEIF images and MP4/QuickTime video share it.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"NDAS",
    b"dash", b"f4v ", b"mmp4", b"XAVC", b"CAEP", b"FACE",
}  # fmt: skip
_3GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3gs6", b"3ge6", b"3gg6", b"3g2a", b"3g2b"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_QUICKTIME_FIRST_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _iso_bmff(head: bytes) -> Sniffed | None:
    if len(head) < 12:
        return None
    size, box = struct.unpack(">I4s", head[:8])
    if box == b"ftyp" and 16 <= size <= 4096 and size % 4 == 0:
        major = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        return _from_brands(major, compatible)
    if box in _QUICKTIME_FIRST_BOXES and (size in (0, 1) or size >= 8):
        # Files from before ``ftyp`` existed start straight with an atom. A
        # ``free``/``skip`` atom alone proves little, so the next must fit too.
        if box in (b"free", b"skip"):
            if size < 8 or len(head) < size + 8:
                return None
            if head[size + 4 : size + 8] not in _QUICKTIME_FIRST_BOXES:
                return None
        return Sniffed("video", "video/quicktime", "mov")
    return None


def _from_brands(major: bytes, compatible: set[bytes]) -> Sniffed:
    for brands in ({major}, compatible):
        if brands & _HEIC_BRANDS:
            return Sniffed("image", "image/heic", "heic")
        if brands & _AVIF_BRANDS:
            return Sniffed("image", "image/avif", "avif")
        if brands & _HEIF_BRANDS:
            return Sniffed("image", "image/heif", "heif")
        if b"qt  " in brands:
            return Sniffed("video", "video/quicktime", "mov")
        if brands & _3GP_BRANDS:
            return Sniffed("video", "video/3gpp", "3gp")
        if brands & _MP4_BRANDS:
            return Sniffed("video", "video/mp4", "mp4")
        if brands & _AUDIO_BRANDS:
            return Sniffed(None, "audio/mp4", "m4a", "Audio files are not supported.")
    brand = major.decode("latin-1").strip() or "?"
    return Sniffed(None, None, None, f"Unsupported ISO media file (brand {brand!r}).")


_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = 0x4282


def _ebml(head: bytes) -> Sniffed | None:
    if not head.startswith(_EBML_MAGIC):
        return None
    doctype = _ebml_doctype(head)
    if doctype == b"webm":
        return Sniffed("video", "video/webm", "webm")
    if doctype == b"matroska":
        return Sniffed("video", "video/x-matroska", "mkv")
    shown = doctype.decode("latin-1") if doctype else "missing"
    return Sniffed(None, None, None, f"Unsupported Matroska document type ({shown}).")


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType string from an EBML header, or None if it cannot be read."""
    parsed = _vint(head, 4, keep_marker=False)
    if parsed is None:
        return None
    header_size, pos = parsed
    end = min(len(head), pos + header_size)
    while pos < end:
        element = _vint(head, pos, keep_marker=True)
        if element is None:
            return None
        element_id, pos = element
        length = _vint(head, pos, keep_marker=False)
        if length is None:
            return None
        size, pos = length
        if element_id == _EBML_DOCTYPE:
            return head[pos : pos + size].rstrip(b"\x00") if pos + size <= end else None
        pos += size
    return None


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """Read an EBML variable-size integer at ``pos``; return (value, next pos)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _dicom(head: bytes) -> Sniffed | None:
    if head[128:132] == b"DICM":
        return Sniffed("dicom", "application/dicom", "dcm")
    if _looks_like_bare_dicom(head):
        return Sniffed("dicom", "application/dicom", "dcm")
    return None


# Value representations whose length field is 4 bytes after 2 reserved bytes
# in explicit VR little endian (PS3.5 7.1.2).
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
             b"UR", b"UT", b"UV"}  # fmt: skip
_SHORT_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS",
              b"LO", b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL",
              b"US"}  # fmt: skip
_UNDEFINED_LENGTH = 0xFFFFFFFF


def _looks_like_bare_dicom(head: bytes) -> bool:
    """Whether ``head`` opens a DICOM data set written without the preamble.

    Old modalities and some PACS exports start straight with group 0002 or
    0008 in little endian. Random data rarely passes: the first tag must be in
    one of those groups and the next elements must parse, in ascending tag
    order, with plausible lengths, in either explicit or implicit VR.
    """
    if len(head) < 8:
        return False
    group = struct.unpack("<H", head[:2])[0]
    if group not in (0x0002, 0x0008):
        return False
    return _walk_elements(head, explicit=True) or _walk_elements(head, explicit=False)


def _walk_elements(head: bytes, *, explicit: bool, needed: int = 3) -> bool:
    pos, previous, parsed = 0, -1, 0
    while parsed < needed:
        if pos + 8 > len(head):
            return parsed >= 2
        group, element = struct.unpack("<HH", head[pos : pos + 4])
        tag = (group << 16) | element
        if tag <= previous or group > 0x7FE0 or (parsed == 0 and element > 0x00FF):
            return False
        if explicit:
            vr = head[pos + 4 : pos + 6]
            if vr in _LONG_VRS:
                if head[pos + 6 : pos + 8] != b"\x00\x00" or pos + 12 > len(head):
                    return False
                length = struct.unpack("<I", head[pos + 8 : pos + 12])[0]
                pos += 12
            elif vr in _SHORT_VRS:
                length = struct.unpack("<H", head[pos + 6 : pos + 8])[0]
                pos += 8
            else:
                return False
            if length == _UNDEFINED_LENGTH and vr in (b"SQ", b"UN"):
                return parsed + 1 >= 2
        else:
            length = struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            pos += 8
            if length == _UNDEFINED_LENGTH:
                return parsed + 1 >= 2
        if length > 0x00FFFFFF or length % 2:
            return False
        pos += length
        previous = tag
        parsed += 1
    return True


def _zip(head: bytes) -> Sniffed | None:
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return Sniffed("zip", "application/zip", "zip")
    return None


def _unsupported(head: bytes) -> Sniffed:
    guess = filetype.guess(head)
    if guess is None:
        return Sniffed(None, None, None, "Unrecognised file type.")
    return Sniffed(
        None, guess.mime, guess.extension, f"Unsupported file type ({guess.mime})."
    )
