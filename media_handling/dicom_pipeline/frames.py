"""Find and render a series' frames for the viewer."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from django.core.cache import cache
from pydicom.dataset import Dataset

from .. import storage as media_storage
from ..deid.dicom import read_dicom
from ..dicom_render import render_frame
from ..models import MediaAsset

DEFAULT_PRESET = "default"
FRAME_MAX_SIZE = 2048
THUMB_SIZE = 320
FRAME_CACHE_SECONDS = 3600


def instance_role(index: int) -> str:
    """Rendition role of the stored, de-identified instance ``index``."""
    return f"dicom.{index}"


def frame_role(index: int) -> str:
    """Rendition role of series frame ``index`` in the default window."""
    return f"frame.{index}"


def series_frame_locate(asset: MediaAsset, index: int) -> tuple[int, int]:
    """(instance, frame within it) of series frame ``index`` (0-based).

    Raises IndexError when the series has no such frame.
    """
    remaining = index
    if remaining >= 0:
        for number, instance in enumerate((asset.metadata or {}).get("instances", [])):
            frames = int(instance.get("frames") or 0)
            if remaining < frames:
                return number, remaining
            remaining -= frames
    raise IndexError(f"no frame {index} in this series")


def _preset(asset: MediaAsset, preset_id: str) -> dict[str, Any]:
    for preset in (asset.metadata or {}).get("presets", []):
        if preset.get("id") == preset_id:
            return preset
    raise KeyError(preset_id)


class _DatasetCache:
    """The last few stored instances read, so scrolling a multi-frame object
    in another window decodes its file once, not once per frame."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.items: OrderedDict[str, Dataset] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, name: str) -> Dataset:
        with self.lock:
            if name in self.items:
                self.items.move_to_end(name)
                return self.items[name]
        with media_storage.local_copy(name, suffix=".dcm") as path:
            ds = read_dicom(path)
        with self.lock:
            self.items[name] = ds
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return ds


_datasets = _DatasetCache()


def series_frame_png(asset: MediaAsset, index: int, preset_id: str) -> bytes:
    """PNG bytes of series frame ``index`` in window preset ``preset_id``.

    Rendered from the stored (de-identified) instance and cached under the
    instance's storage name, which changes whenever its pixels do. Raises
    IndexError for a missing frame and KeyError for an unknown preset.
    """
    instance, local = series_frame_locate(asset, index)
    preset = _preset(asset, preset_id)
    name = asset.rendition_name(instance_role(instance))
    if name is None:
        raise IndexError(f"no stored instance for frame {index}")
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    key = f"dicom-frame:{digest}:{local}:{preset['center']}:{preset['width']}"
    png = cache.get(key)
    if png is None:
        png = render_frame(
            _datasets.get(name),
            local,
            center=float(preset["center"]),
            width=float(preset["width"]),
            max_size=FRAME_MAX_SIZE,
        )
        cache.set(key, png, FRAME_CACHE_SECONDS)
    return png
