"""Black out burned-in text (PS3.15 Clean Pixel Data Option)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from .base import DicomError
from .deidentify import (
    BASIC_PROFILE,
    CLEAN_PIXEL_DATA,
    existing_method_codes,
    set_method,
)
from .pixel_data import _is_lossy, _write_pixels, frame_count

__all__ = ["apply_masks", "frame_count"]


def apply_masks(
    ds: Dataset,
    rects: Sequence[tuple[int, int, int, int]],
    frames: Iterable[int] | None = None,
) -> None:
    """Black out each ``(x, y, w, h)`` rectangle in ``frames`` (None: all).

    Pixels are set to the lowest stored value (MONOCHROME2), the highest
    (MONOCHROME1, which displays inverted, so the box still shows black) or 0
    in every sample (RGB and palette); rectangles are clipped to the image.
    Compressed pixel data is decoded; the result is written back with RLE
    Lossless when the source was RLE Lossless (an exact round trip), otherwise
    uncompressed Explicit VR Little Endian: re-encoding lossy JPEG would lose
    quality again. Records Clean Pixel Data (113101) and sets Burned In
    Annotation to NO. The SOP Instance UID is kept so references stay valid.
    """
    if "PixelData" not in ds:
        raise DicomError("no pixel data to mask")
    rows, cols, nframes = int(ds.Rows), int(ds.Columns), frame_count(ds)
    boxes = []
    for rect in rects:
        x, y, w, h = (int(v) for v in rect)
        if w <= 0 or h <= 0:
            raise ValueError(f"mask {rect} has no area")
        x0, y0, x1, y1 = max(0, x), max(0, y), min(cols, x + w), min(rows, y + h)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"mask {rect} lies outside the {cols}x{rows} image")
        boxes.append((x0, y0, x1, y1))
    selected = sorted(set(range(nframes) if frames is None else frames))
    if any(not 0 <= f < nframes for f in selected):
        raise ValueError(f"frames must be within 0..{nframes - 1}")

    source_syntax = UID(
        str(ds.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian))
    )
    try:
        arr = ds.pixel_array.copy()
    except Exception as exc:
        raise DicomError(f"cannot decode pixel data: {exc}") from exc
    samples = int(ds.get("SamplesPerPixel", 1))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if samples > 1 or photometric == "PALETTE COLOR":
        fill = 0
    else:
        bits = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
        signed = int(ds.get("PixelRepresentation", 0)) == 1
        low = -(1 << (bits - 1)) if signed else 0
        high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        fill = high if photometric == "MONOCHROME1" else low
    framed = arr if nframes > 1 else arr[np.newaxis, ...]
    for index in selected:
        for x0, y0, x1, y1 in boxes:
            framed[index, y0:y1, x0:x1, ...] = fill

    out_photometric = "RGB" if samples == 3 else photometric
    bits_stored = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
    if source_syntax.is_compressed and source_syntax != RLELossless:
        ds.LossyImageCompression = ds.get("LossyImageCompression") or (
            "01" if _is_lossy(source_syntax) else "00"
        )
    _write_pixels(ds, arr, out_photometric, bits_stored)
    if source_syntax == RLELossless:
        ds.compress(RLELossless, generate_instance_uid=False)
    ds.BurnedInAnnotation = "NO"
    set_method(ds, existing_method_codes(ds) | {BASIC_PROFILE, CLEAN_PIXEL_DATA})
