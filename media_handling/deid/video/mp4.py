"""Read MP4/QuickTime boxes back, to prove what a cleaned file holds."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from media_handling.sniff import MediaError

_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts",
                    b"dinf", b"mvex", b"moof", b"traf", b"tref", b"ilst", b"meta"}  # fmt: skip
_TIMED_BOXES = {b"mvhd", b"tkhd", b"mdhd"}
# Every box FFmpeg's MP4 muxer writes for one H.264 and one AAC track, down
# to the sample tables (sample entries inside stsd are not walked). It also
# writes an empty udta/meta/ilst, which the check allows only while empty.
_WRITTEN_BY_MUXER = {
    b"ftyp", b"free", b"skip", b"mdat", b"moov", b"mvhd", b"iods", b"trak",
    b"tkhd", b"edts", b"elst", b"mdia", b"mdhd", b"hdlr", b"minf", b"vmhd",
    b"smhd", b"dinf", b"dref", b"stbl", b"stsd", b"stts", b"stss", b"ctts",
    b"cslg", b"stsc", b"stsz", b"stco", b"co64", b"sgpd", b"sbgp", b"sdtp",
    b"udta", b"meta", b"ilst",
}  # fmt: skip
_GENERIC_HANDLER_NAMES = {b"", b"VideoHandler", b"SoundHandler"}


@dataclass(frozen=True)
class Mp4Box:
    path: str  # e.g. "moov/trak/mdia/mdhd"
    type: bytes
    payload: bytes  # the box content after its header (empty for mdat)


def read_mp4_boxes(path: str | os.PathLike[str]) -> list[Mp4Box]:
    """Every box of an MP4/QuickTime file, depth first, without mdat contents.

    Only ``moov`` and other small top-level boxes are read into memory.
    """
    boxes: list[Mp4Box] = []
    with open(path, "rb") as fh:
        for box_type, start, size, header in _top_level(fh):
            if box_type == b"mdat":
                boxes.append(Mp4Box("mdat", box_type, b""))
                continue
            fh.seek(start + header)
            payload = fh.read(size - header)
            boxes.append(Mp4Box(_box_name(box_type), box_type, payload))
            if box_type in _CONTAINER_BOXES:
                boxes.extend(_children(payload, _box_name(box_type), box_type))
    return boxes


def _top_level(fh: BinaryIO) -> Iterator[tuple[bytes, int, int, int]]:
    end = fh.seek(0, os.SEEK_END)
    pos = 0
    while pos + 8 <= end:
        fh.seek(pos)
        size, box_type = struct.unpack(">I4s", fh.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", fh.read(8))[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaError(f"Damaged MP4: box {box_type!r} overruns the file.")
        yield box_type, pos, size, header
        pos += size


def _children(data: bytes, parent_path: str, parent: bytes) -> Iterator[Mp4Box]:
    pos = 0
    # ISO meta is a full box (4 bytes of version/flags); QuickTime's is not.
    if parent == b"meta" and data[4:8] not in (b"hdlr", b"keys", b"ilst"):
        pos = 4
    while pos + 8 <= len(data):
        size, box_type = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            raise MediaError(f"Damaged MP4: box {box_type!r} overruns its parent.")
        payload = data[pos + header : pos + size]
        path = f"{parent_path}/{_box_name(box_type)}"
        yield Mp4Box(path, box_type, payload)
        if box_type in _CONTAINER_BOXES:
            yield from _children(payload, path, box_type)
        pos += size


def _box_name(box_type: bytes) -> str:
    name = box_type.decode("latin-1")
    return name if name.isprintable() else box_type.hex()


def box_times(box: Mp4Box) -> tuple[int, int]:
    """(creation, modification) seconds since 1904 from an mvhd/tkhd/mdhd box."""
    if box.payload[0] == 1:
        return struct.unpack(">QQ", box.payload[4:20])
    return struct.unpack(">II", box.payload[4:12])


def mp4_metadata_problems(path: str | os.PathLike[str]) -> list[str]:
    """What in the MP4 at ``path`` could identify someone, read from its boxes.

    Empty for a file ``clean_video`` may store: only the boxes the MP4 muxer
    writes for plain audio and video (anything else, such as ``keys``,
    ``loci``, ``©xyz`` or ``uuid``, is a problem), zero creation and
    modification times in every mvhd/tkhd/mdhd, only video and sound tracks
    with the muxer's generic handler names, and no metadata items.
    """
    problems = []
    for box in read_mp4_boxes(path):
        if box.type not in _WRITTEN_BY_MUXER:
            problems.append(f"unexpected box {box.path}")
        elif box.type in _TIMED_BOXES and box_times(box) != (0, 0):
            problems.append(f"{box.path} carries a timestamp")
        elif box.type == b"hdlr":
            handler, name = box.payload[8:12], box.payload[24:].rstrip(b"\x00")
            if box.path.endswith("mdia/hdlr") and handler not in (b"vide", b"soun"):
                problems.append(f"a track of type {handler.decode('latin-1')!r}")
            if name not in _GENERIC_HANDLER_NAMES:
                problems.append(f"{box.path} carries a handler name")
        elif box.type == b"ilst" and box.payload:
            problems.append(f"{box.path} holds metadata items")
    return problems
