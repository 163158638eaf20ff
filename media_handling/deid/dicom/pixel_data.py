"""Pixel data primitives every DICOM module shares: the frame count, whether
a transfer syntax is lossy, and writing decoded pixels back uncompressed.

No de-identification here: ``codestream`` (cleaning compressed frames) and
``pixels`` (masks) both build on it.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless


def frame_count(ds: Dataset) -> int:
    """Number of frames (1 when Number of Frames is absent or invalid)."""
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


_LOSSLESS_SYNTAXES = frozenset(
    {
        RLELossless,
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless, Non-Hierarchical (Process 14)
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless, SV1
        "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
        "1.2.840.10008.1.2.4.90",  # JPEG 2000 (Lossless Only)
        "1.2.840.10008.1.2.4.92",  # JPEG 2000 Part 2 Multi-component (Lossless)
        "1.2.840.10008.1.2.4.201",  # HTJ2K (Lossless Only)
        "1.2.840.10008.1.2.4.202",  # HTJ2K with RPCL Options (Lossless Only)
    }
)


def _is_lossy(syntax: UID) -> bool:
    return syntax.is_compressed and str(syntax) not in _LOSSLESS_SYNTAXES


def _write_pixels(ds: Dataset, arr: np.ndarray, photometric: str, bits: int) -> None:
    if arr.dtype.itemsize <= 2:
        ds.set_pixel_data(arr, photometric, bits, generate_instance_uid=False)
        return
    # 32-bit data: set_pixel_data only takes 8/16-bit arrays.
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW"
    ds["PixelData"].is_undefined_length = False
    ds.PhotometricInterpretation = photometric
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
