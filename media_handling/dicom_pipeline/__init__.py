"""Process a DICOM series asset: de-identify, store, render; mask and release.

A series reaches processing as a *bundle*: a zip archive (stored, not
compressed) written by ``dicom_upload`` holding ``manifest.json`` and the
series' original files in display order. The manifest carries the
de-identification policy the caller chose (``DicomPolicy``): a key scope such
as ``"case:12"``, the workspace whose ``deid_secret`` keys it, and whether
dates are shifted or removed. The secret itself is never written anywhere:
``policy_options`` derives the UID key (and the date offset) from it when
the task runs, so the same scope always maps a UID the same way and series
and references stay intact across uploads to one case.

``deidentify_series`` is the ``"dicom_series"`` entry of
``pipeline.PROCESSORS``: the media task calls it with the bundle and stores
what it returns. Renditions, by role:

- ``dicom.<i>``: the de-identified instance ``i`` (Part 10 file);
- ``frame.<n>``: frame ``n`` of the series (0-based, across instances) as a
  PNG in the default window, for the viewer;
- ``thumb``: the middle frame, small, for galleries.

Other window presets are rendered on request from the stored instance and
cached (``series_frame_png``). A series whose pixels may show burned-in text
goes to ``needs_review``; its uploader masks rectangles
(``dicom_series_mask``: one frame or every frame, blacked out in the stored
pixel data, frames re-rendered) and then releases it
(``dicom_series_release``).
"""

from .frames import (
    DEFAULT_PRESET,
    frame_role,
    instance_role,
    series_frame_locate,
    series_frame_png,
)
from .policy import BUNDLE_MANIFEST, DicomPolicy, bundle_write, policy_options
from .process import deidentify_series
from .review import MAX_MASK_RECTS, dicom_series_mask, dicom_series_release

__all__ = [
    "BUNDLE_MANIFEST",
    "DEFAULT_PRESET",
    "MAX_MASK_RECTS",
    "DicomPolicy",
    "bundle_write",
    "deidentify_series",
    "dicom_series_mask",
    "dicom_series_release",
    "frame_role",
    "instance_role",
    "policy_options",
    "series_frame_locate",
    "series_frame_png",
]
