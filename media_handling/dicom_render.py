"""Render DICOM frames to PNG for the scrollable viewer, and describe them.

Grayscale frames go through the modality transform (Rescale Slope/Intercept
or a Modality LUT, including the per-frame values of enhanced multi-frame
objects), then a linear VOI window (PS3.3 C.11.2.1.2.1), then MONOCHROME1
inversion. Colour frames (RGB, YBR decoded to RGB, palette colour) pass
through unwindowed. Only numpy and Pillow are used besides pydicom.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, pixel_array

__all__ = [
    "CT_PRESETS",
    "Preset",
    "frame_count",
    "header_summary",
    "render_frame",
    "window_presets",
]


@dataclass(frozen=True)
class Preset:
    name: str
    center: float
    width: float


CT_PRESETS = (
    Preset("Soft tissue", 40, 400),
    Preset("Lung", -600, 1500),
    Preset("Bone", 400, 1800),
    Preset("Brain", 40, 80),
)

_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_MAX_HEADER_VALUE = 200


def frame_count(ds: Dataset) -> int:
    """Number of frames (1 when Number of Frames is absent or invalid)."""
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _as_list(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _voi_source(ds: Dataset, frame_index: int | None = None) -> Dataset | None:
    """The dataset holding Window Center/Width for a frame: the top level, or
    the per-frame / shared Frame VOI LUT functional group."""
    if "WindowCenter" in ds:
        return ds
    for key in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        groups = ds.get(key)
        if not groups:
            continue
        index = (frame_index or 0) if key.startswith("PerFrame") else 0
        if index >= len(groups):
            continue
        voi = groups[index].get("FrameVOILUTSequence")
        if voi and "WindowCenter" in voi[0]:
            return voi[0]
    return None


def _file_presets(source: Dataset | None) -> list[Preset]:
    if source is None:
        return []
    centers = _as_list(source.get("WindowCenter"))
    widths = _as_list(source.get("WindowWidth"))
    names = _as_list(source.get("WindowCenterWidthExplanation"))
    presets = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        try:
            c, w = float(center), float(width)
        except (TypeError, ValueError):
            continue
        if w < 1:
            continue
        name = str(names[index]).strip() if index < len(names) else ""
        presets.append(Preset(name or f"File window {index + 1}", c, w))
    return presets


def window_presets(ds: Dataset) -> list[Preset]:
    """The file's own windows (named by their explanations), then for CT the
    standard soft tissue, lung, bone and brain windows not already listed."""
    presets = _file_presets(_voi_source(ds))
    if str(ds.get("Modality", "")).upper() == "CT":
        known = {(p.center, p.width) for p in presets}
        presets.extend(p for p in CT_PRESETS if (p.center, p.width) not in known)
    return presets


def _rescale(ds: Dataset, frame_index: int) -> tuple[float, float] | None:
    """Slope/intercept from the functional groups of an enhanced object."""
    for key, index in (
        ("PerFrameFunctionalGroupsSequence", frame_index),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        groups = ds.get(key)
        if not groups or index >= len(groups):
            continue
        transform = groups[index].get("PixelValueTransformationSequence")
        if transform and "RescaleSlope" in transform[0]:
            item = transform[0]
            return float(item.RescaleSlope), float(item.get("RescaleIntercept", 0))
    return None


def _modality_values(ds: Dataset, arr: np.ndarray, frame_index: int) -> np.ndarray:
    if "RescaleSlope" not in ds and "ModalityLUTSequence" not in ds:
        rescale = _rescale(ds, frame_index)
        if rescale is not None:
            slope, intercept = rescale
            return arr.astype(np.float64) * slope + intercept
    return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)


def _window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """Linear VOI function of PS3.3 C.11.2.1.2.1 onto 0..255."""
    width = max(float(width), 1.0)
    low = center - 0.5 - (width - 1) / 2
    high = center - 0.5 + (width - 1) / 2
    scaled = ((values - (center - 0.5)) / (width - 1 if width > 1 else 1) + 0.5) * 255
    out = np.where(values <= low, 0.0, np.where(values > high, 255.0, scaled))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _to_uint8(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    top = float((1 << bits) - 1) if bits else float(arr.max() or 1)
    return np.clip(np.rint(arr.astype(np.float64) / top * 255), 0, 255).astype(np.uint8)


def render_frame(
    ds: Dataset,
    frame_index: int,
    *,
    center: float | None = None,
    width: float | None = None,
    max_size: int | None = None,
) -> bytes:
    """PNG bytes of one frame.

    Grayscale uses ``center``/``width`` when both are given, else the file's
    first window, else the frame's full range. ``max_size`` bounds the longer
    side (aspect kept; never enlarged). Raises IndexError for a frame that
    does not exist.
    """
    frames = frame_count(ds)
    if not 0 <= frame_index < frames:
        raise IndexError(f"frame {frame_index} out of range 0..{frames - 1}")
    arr = pixel_array(ds, index=frame_index)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        image = Image.fromarray(
            _to_uint8(rgb, 16 if rgb.dtype != np.uint8 else 8), "RGB"
        )
    elif int(ds.get("SamplesPerPixel", 1)) == 3:
        image = Image.fromarray(_to_uint8(arr, int(ds.get("BitsStored", 8))), "RGB")
    else:
        values = _modality_values(ds, arr, frame_index)
        if center is None or width is None:
            presets = _file_presets(_voi_source(ds, frame_index))
            if presets:
                center, width = presets[0].center, presets[0].width
            else:
                low, high = float(values.min()), float(values.max())
                center, width = (low + high + 1) / 2, max(high - low + 1, 1)
        gray = _window(values, center, width)
        if photometric == "MONOCHROME1":
            gray = 255 - gray
        image = Image.fromarray(gray, "L")
    if max_size and max(image.size) > max_size:
        image.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def _display_value(value: object) -> str:
    if value is None:
        return ""  # an emptied type 2 attribute, not the text "None"
    if isinstance(value, MultiValue | list | tuple):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    if len(text) > _MAX_HEADER_VALUE:
        text = text[: _MAX_HEADER_VALUE - 1] + "…"
    return text


def header_summary(ds: Dataset) -> list[tuple[str, str, str]]:
    """(keyword, name, value) rows of a de-identified dataset's top level for
    the viewer's side panel. Pixel data, binary values and private attributes
    are left out; a sequence shows only its item count."""
    rows = []
    for elem in ds:
        if elem.tag.is_private or elem.tag.group in (0x0002, 0x7FE0):
            continue
        if elem.VR in _BINARY_VRS:
            continue
        if elem.VR == "SQ":
            count = len(elem.value)
            value = f"{count} item" + ("" if count == 1 else "s")
        else:
            value = _display_value(elem.value)
        rows.append((elem.keyword or str(elem.tag), elem.name, value))
    return rows
