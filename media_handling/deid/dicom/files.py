"""Read, write and group DICOM files; truncation is caught, writes are atomic."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from .base import DicomDeidOptions, DicomError
from .deidentify import DicomDeidReport, deidentify_dataset
from .pixels import frame_count


def _bytes_per_frame(ds: Dataset) -> int:
    pixels = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
    bits = int(ds.BitsAllocated)
    return (pixels * bits + 7) // 8


def _check_complete(ds: Dataset, size: int) -> None:
    """Raise DicomError when the file was cut short (pydicom reads it silently)."""
    tags = list(ds.keys())
    if not tags:
        raise DicomError("no data elements: not a DICOM file")
    last = ds.get_item(tags[-1])
    if isinstance(last, RawDataElement) and last.value is not None:
        if last.length != 0xFFFFFFFF:
            end = last.value_tell + last.length
            if len(last.value) < last.length:
                raise DicomError("truncated: the last element is cut short")
        else:
            end = last.value_tell + len(last.value) + 8
        if end < size:
            raise DicomError(
                f"corrupt or truncated: {size - end} bytes could not be read"
            )
    pixel = ds.get_item(0x7FE00010)
    if pixel is None:
        if "Image Storage" in UID(str(ds.get("SOPClassUID", ""))).name:
            raise DicomError("image without pixel data (truncated?)")
        return
    try:
        if getattr(pixel, "length", 0) == 0xFFFFFFFF or (
            isinstance(pixel, DataElement) and pixel.is_undefined_length
        ):
            return
        expected = _bytes_per_frame(ds) * frame_count(ds)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise DicomError(f"incomplete image pixel module: {exc}") from exc
    value = pixel.value if pixel.value is not None else b""
    if len(value) < expected:
        raise DicomError(f"truncated pixel data: {len(value)} of {expected} bytes")


def read_dicom(
    path: str | os.PathLike[str],
    *,
    stop_before_pixels: bool = False,
    specific_tags: list[int] | None = None,
) -> Dataset:
    """Read a DICOM file, forcing past a missing preamble; DicomError if bad.

    A readable dataset must hold SOP Class and SOP Instance UIDs (type 1 in
    every IOD) and, when read whole, must not be truncated.
    """
    path = Path(path)
    kwargs: dict[str, Any] = {"stop_before_pixels": stop_before_pixels}
    if specific_tags:
        kwargs["specific_tags"] = [*specific_tags, 0x00080016, 0x00080018]
    try:
        try:
            ds = pydicom.dcmread(path, **kwargs)
        except InvalidDicomError:
            ds = pydicom.dcmread(path, force=True, **kwargs)
        if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
            raise DicomError("not a DICOM instance (no SOP Class/Instance UID)")
        if not stop_before_pixels and not specific_tags:
            _check_complete(ds, path.stat().st_size)
        str(ds.SOPInstanceUID)  # force the parse of a corrupt header now
    except DicomError:
        raise
    except OSError as exc:
        raise DicomError(f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:
        raise DicomError(f"corrupt DICOM: {type(exc).__name__}: {exc}") from exc
    _ensure_transfer_syntax(ds)
    return ds


def _ensure_transfer_syntax(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        if implicit:
            meta.TransferSyntaxUID = ImplicitVRLittleEndian
        elif little:
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
        else:
            meta.TransferSyntaxUID = ExplicitVRBigEndian


_SWAP_WIDTH = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}


def _swap_binary(ds: Dataset) -> None:
    for elem in ds:  # iterating converts every raw element to a value
        if elem.VR == "SQ":
            for item in elem.value:
                _swap_binary(item)
        elif elem.VR in _SWAP_WIDTH and elem.tag != 0x7FE00010 and elem.value:
            width = _SWAP_WIDTH[elem.VR]
            elem.value = (
                np.frombuffer(elem.value, f">u{width}").astype(f"<u{width}").tobytes()
            )


def _write_little_endian(ds: Dataset, handle: Any) -> None:
    """Big endian is retired: convert, decoding the pixels first (pydicom only
    swaps decoded values; binary data needs swapping by hand)."""
    arr = ds.pixel_array if "PixelData" in ds else None
    _swap_binary(ds)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if arr is not None:
        ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        ds["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    pydicom.dcmwrite(
        handle, ds, implicit_vr=False, little_endian=True, enforce_file_format=True
    )


def write_dicom(ds: Dataset, dst_path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` as a conformant Part 10 file, atomically: a temp file in
    the same folder is renamed over ``dst_path`` only once fully written, so
    a failure never leaves a partial or stale file behind."""
    dst = Path(dst_path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=".deid-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            if ds.file_meta.get("TransferSyntaxUID") == ExplicitVRBigEndian:
                _write_little_endian(ds, handle)
            else:
                ds.save_as(handle, enforce_file_format=True)
        os.replace(tmp_name, dst)
    except Exception as exc:
        Path(tmp_name).unlink(missing_ok=True)
        if isinstance(exc, DicomError):
            raise
        raise DicomError(f"cannot write DICOM: {type(exc).__name__}: {exc}") from exc
    return dst


def dicom_file_name(ds: Dataset) -> str:
    """A file name that carries no identifier: the (new) SOP Instance UID."""
    return f"{ds.SOPInstanceUID}.dcm"


def read_deidentified(
    src_path: str | os.PathLike[str], *, options: DicomDeidOptions
) -> tuple[Dataset, DicomDeidReport]:
    """Read one file and de-identify it in memory: the cleaned dataset and
    its report. Raises DicomError for non-DICOM, corrupt or truncated input
    and for any failure while cleaning it."""
    ds = read_dicom(src_path)
    try:
        report = deidentify_dataset(ds, options=options)
    except DicomError:
        raise
    except Exception as exc:
        raise DicomError(f"cannot de-identify: {type(exc).__name__}: {exc}") from exc
    return ds, report


def deidentify_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    options: DicomDeidOptions,
) -> DicomDeidReport:
    """Read, de-identify and write one file; nothing is written on failure.

    ``dst_path`` may be an existing directory, in which case the file is named
    after its new SOP Instance UID. Raises DicomError for non-DICOM, corrupt
    or truncated input.
    """
    ds, report = read_deidentified(src_path, options=options)
    dst = Path(dst_path)
    if dst.is_dir():
        dst = dst / dicom_file_name(ds)
    report.output_path = str(write_dicom(ds, dst))
    return report


def series_key(ds: Dataset) -> tuple[str, str]:
    """(StudyInstanceUID, SeriesInstanceUID): the files of one series."""
    return str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", ""))


def _slice_position(ds: Dataset) -> float:
    try:
        position = [float(v) for v in ds.ImagePositionPatient]
        orientation = [float(v) for v in ds.ImageOrientationPatient]
    except (AttributeError, TypeError, ValueError):
        return 0.0
    normal = np.cross(orientation[:3], orientation[3:])
    return float(np.dot(normal, position))


def instance_sort_key(ds: Dataset) -> tuple[float, float]:
    """Where an instance sits in its series: (Instance Number, position along
    the slice normal); a missing or invalid Instance Number sorts last."""
    try:
        number = float(ds.get("InstanceNumber", "") or "inf")
    except (TypeError, ValueError):
        number = float("inf")
    return number, _slice_position(ds)


def group_series(
    paths: Iterable[str | os.PathLike[str]],
) -> dict[tuple[str, str], list[Path]]:
    """Group DICOM files by series from their headers alone.

    Each series lists its files by Instance Number, then position along the
    slice normal (Image Position/Orientation Patient), then path. Raises
    DicomError naming the first file that is not readable DICOM.
    """
    tags = [
        0x0020000D,  # StudyInstanceUID
        0x0020000E,  # SeriesInstanceUID
        0x00200013,  # InstanceNumber
        0x00200032,  # ImagePositionPatient
        0x00200037,  # ImageOrientationPatient
    ]
    keyed: dict[tuple[str, str], list[tuple[tuple[float, float, str], Path]]] = {}
    for raw_path in paths:
        path = Path(raw_path)
        try:
            ds = read_dicom(path, stop_before_pixels=True, specific_tags=tags)
        except DicomError as exc:
            raise DicomError(f"{path}: {exc.reason}") from exc
        sort_key = (*instance_sort_key(ds), str(path))
        keyed.setdefault(series_key(ds), []).append((sort_key, path))
    return {key: [p for _, p in sorted(items)] for key, items in keyed.items()}
