"""Clean what rides inside compressed pixel data, without re-encoding it.

A JPEG frame in encapsulated Pixel Data is a whole JPEG file: it may carry
COM segments ("Patient John Smith"), APPn segments (EXIF with dates and
device serials, XMP, ICC profiles, vendor blocks) and bytes after its end
marker, none of which the DICOM attribute profile ever sees. JPEG 2000
codestreams carry COM markers too (OpenJPEG writes one by default), and a
JP2 wrapper carries XML and UUID boxes.

``clean_pixel_codestreams`` rewrites each frame keeping only what decoding
needs, byte for byte (the entropy-coded data is copied untouched, so the
pixels are exactly the same):

- JPEG (baseline, extended, lossless, JPEG-LS): COM and every APPn are
  dropped, except that JFIF (APP0) and Adobe (APP14) are rebuilt from their
  numeric fields alone, because libjpeg reads the colour transform from them
  (Adobe's transform flag tells RGB from YCbCr); JFIF's density and
  thumbnail go. Anything after the end-of-image marker goes.
- JPEG 2000 / HTJ2K: COM markers go from the main and the tile-part headers
  (tile-part lengths are fixed up, and TLM, which would then be stale, is
  dropped: it is optional); a JP2 wrapper is reduced to its codestream, the
  form DICOM specifies.
- RLE and native pixel data carry no such segments.

A frame that cannot be parsed safely is not guessed at: the whole pixel
data is decoded and stored uncompressed instead (the comments cannot
survive decoding). Compressed data that can neither be cleaned nor decoded
(MPEG-2/4, H.264/HEVC video, JPIP references) raises ``DicomError``: a file
that could not be cleaned is never written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from .base import DicomError
from .pixel_data import _is_lossy, _write_pixels, frame_count

JPEG_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1)
        "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 & 4)
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless (Process 14)
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
        "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
        "1.2.840.10008.1.2.4.81",  # JPEG-LS Near-Lossless
    }
)
J2K_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
        "1.2.840.10008.1.2.4.91",  # JPEG 2000
        "1.2.840.10008.1.2.4.92",  # JPEG 2000 Part 2 Multi-component Lossless
        "1.2.840.10008.1.2.4.93",  # JPEG 2000 Part 2 Multi-component
        "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K Lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)
_LOSSLESS = frozenset(
    {
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.92",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
    }
)
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


class CodestreamError(ValueError):
    """A frame that does not parse as the codestream its syntax promises."""


@dataclass(frozen=True)
class CodestreamReport:
    """What cleaning the compressed frames did: segments dropped or rebuilt,
    and whether the pixels had to be decoded and stored uncompressed."""

    segments_removed: int = 0
    transcoded: bool = False


# --- JPEG -----------------------------------------------------------------------------


def _kept_app(code: int, payload: bytes) -> bytes | None:
    """The neutral form of an APP0 JFIF / APP14 Adobe segment, else None."""
    if code == 0xE0 and payload[:5] == b"JFIF\x00" and len(payload) >= 7:
        # version, units 0 (aspect ratio only), density 1:1, no thumbnail
        body = b"JFIF\x00" + payload[5:7] + b"\x00\x00\x01\x00\x01\x00\x00"
    elif code == 0xEE and payload[:5] == b"Adobe" and len(payload) >= 12:
        # version, flags0, flags1, colour transform: numbers, no text
        body = payload[:12]
    else:
        return None
    return bytes([0xFF, code]) + (len(body) + 2).to_bytes(2, "big") + body


def clean_jpeg(data: bytes) -> tuple[bytes, int]:
    """(``data`` without COM/APPn segments or trailing bytes, segments removed
    or rebuilt). Entropy-coded scans are copied as they are."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise CodestreamError("not a JPEG codestream (no start-of-image marker)")
    out = bytearray(b"\xff\xd8")
    removed = 0
    jpeg_ls = False
    i = 2
    while True:
        if i >= n or data[i] != 0xFF:
            raise CodestreamError("expected a marker")
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            raise CodestreamError("cut short before the end-of-image marker")
        code = data[i]
        i += 1
        if code == 0xD9:  # end of image; whatever follows is dropped
            out += b"\xff\xd9"
            return bytes(out), removed + (1 if i < n and data[i:].strip(b"\0") else 0)
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # standalone markers
            out += bytes([0xFF, code])
            continue
        if i + 2 > n:
            raise CodestreamError("marker segment cut short")
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > n:
            raise CodestreamError("marker segment longer than the frame")
        segment = data[i - 2 : i + length]
        payload = data[i + 2 : i + length]
        i += length
        if code == 0xFE or 0xE0 <= code <= 0xEF:
            kept = _kept_app(code, payload)
            if kept != segment:
                removed += 1
            if kept is not None:
                out += kept
            continue
        if code == 0xF7:  # SOF55: JPEG-LS, whose scans stuff bits differently
            jpeg_ls = True
        out += segment
        if code == 0xDA:  # start of scan: copy the entropy-coded data
            start = i
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    raise CodestreamError("scan runs past the end of the frame")
                following = data[j + 1]
                if following == 0xFF:
                    i = j + 1
                elif 0xD0 <= following <= 0xD7:  # restart markers stay in a scan
                    i = j + 2
                elif following >= 0x80 if jpeg_ls else following != 0x00:
                    break
                else:  # a stuffed byte (JPEG) or stuffed bit (JPEG-LS)
                    i = j + 2
            out += data[start:j]
            i = j


# --- JPEG 2000 ------------------------------------------------------------------------


def _jp2_codestream(data: bytes) -> bytes:
    """The contiguous codestream (jp2c) box of a JP2 file."""
    i, n = 0, len(data)
    while i + 8 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        header = 8
        if length == 1:
            length = int.from_bytes(data[i + 8 : i + 16], "big")
            header = 16
        elif length == 0:
            length = n - i
        if length < header or i + length > n:
            raise CodestreamError("JP2 box longer than the frame")
        if kind == b"jp2c":
            return data[i + header : i + length]
        i += length
    raise CodestreamError("JP2 file without a codestream box")


def _segments(data: bytes, i: int, stop: int) -> tuple[list[tuple[int, bytes]], int]:
    """Marker segments from ``i`` up to the marker ``stop`` (not included)."""
    found = []
    n = len(data)
    while True:
        if i + 2 > n or data[i] != 0xFF:
            raise CodestreamError("expected a marker")
        code = data[i + 1]
        if code == stop:
            return found, i
        if i + 4 > n:
            raise CodestreamError("marker segment cut short")
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > n:
            raise CodestreamError("marker segment longer than the frame")
        found.append((code, data[i : i + 2 + length]))
        i += 2 + length


def clean_j2k(data: bytes) -> tuple[bytes, int]:
    """(``data`` without COM markers or a JP2 wrapper, markers removed)."""
    removed = 0
    if data.startswith(_JP2_SIGNATURE):
        data = _jp2_codestream(data)
        removed += 1
    n = len(data)
    if data[:2] != b"\xff\x4f":
        raise CodestreamError("not a JPEG 2000 codestream (no SOC marker)")
    main, i = _segments(data, 2, 0x90)
    tiles = bytearray()
    lengths_changed = False
    while True:
        if i + 2 > n or data[i] != 0xFF:
            raise CodestreamError("expected a tile-part or the end of the codestream")
        if data[i + 1] == 0xD9:
            break
        if data[i + 1] != 0x90 or i + 12 > n:
            raise CodestreamError("expected a tile-part")
        psot = int.from_bytes(data[i + 6 : i + 10], "big")
        if psot == 0:  # the last tile-part runs to the EOC marker
            end = data.rfind(b"\xff\xd9")
            if end < i:
                raise CodestreamError("open-ended tile-part without an EOC marker")
        else:
            end = i + psot
        if end > n or end < i + 14:
            raise CodestreamError("tile-part longer than the frame")
        header, sod = _segments(data, i + 12, 0x93)
        kept = b"".join(seg for code, seg in header if code != 0x64)
        dropped = sum(1 for code, _ in header if code == 0x64)
        body = data[sod:end]
        if dropped:
            removed += dropped
            lengths_changed = True
        new_psot = 0 if psot == 0 else 12 + len(kept) + len(body)
        tiles += data[i : i + 6] + new_psot.to_bytes(4, "big") + data[i + 10 : i + 12]
        tiles += kept + body
        i = end
    out = bytearray(b"\xff\x4f")
    for code, segment in main:
        if code == 0x64 or (code == 0x55 and lengths_changed):
            removed += 1
            continue
        out += segment
    out += tiles + b"\xff\xd9"
    return bytes(out), removed + (1 if data[i + 2 :].strip(b"\0") else 0)


# --- datasets -------------------------------------------------------------------------


def _transcode(ds: Dataset, syntax: UID) -> None:
    """Decode the pixels and store them uncompressed (no segment survives)."""
    try:
        arr = ds.pixel_array
    except Exception as exc:
        raise DicomError(
            f"cannot clean or decode the compressed pixel data ({syntax.name}): {exc}"
        ) from exc
    samples = int(ds.get("SamplesPerPixel", 1))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if _is_lossy(syntax):
        ds.LossyImageCompression = "01"
    bits = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
    _write_pixels(ds, arr, "RGB" if samples == 3 else photometric, bits)
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            delattr(ds, keyword)


def clean_pixel_codestreams(ds: Dataset) -> CodestreamReport:
    """Strip comments and application data from every compressed frame of
    ``ds`` in place (see the module docstring); native data is untouched."""
    if "PixelData" not in ds:
        return CodestreamReport()
    meta = getattr(ds, "file_meta", None)
    syntax = UID(str(getattr(meta, "TransferSyntaxUID", ExplicitVRLittleEndian)))
    if not syntax.is_compressed or syntax == RLELossless:
        return CodestreamReport()
    if syntax in JPEG_SYNTAXES:
        cleaner = clean_jpeg
    elif syntax in J2K_SYNTAXES:
        cleaner = clean_j2k
    else:
        _transcode(ds, syntax)
        return CodestreamReport(transcoded=True)
    try:
        extended = None
        if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
            extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
        frames = list(
            generate_frames(
                ds.PixelData,
                number_of_frames=frame_count(ds),
                extended_offsets=extended,
            )
        )
        cleaned, removed = [], 0
        for frame in frames:
            data, count = cleaner(bytes(frame))
            cleaned.append(data)
            removed += count
    except (CodestreamError, ValueError, KeyError, IndexError, TypeError):
        _transcode(ds, syntax)
        return CodestreamReport(transcoded=True)
    if sum(len(f) + 8 for f in cleaned) + 8 * len(cleaned) < 2**32 - 1:
        ds.PixelData = encapsulate(cleaned, has_bot=True)
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in ds:
                delattr(ds, keyword)
    else:
        pixel_data, offsets, lengths = encapsulate_extended(cleaned)
        ds.PixelData = pixel_data
        ds.ExtendedOffsetTable = offsets
        ds.ExtendedOffsetTableLengths = lengths
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return CodestreamReport(segments_removed=removed)
