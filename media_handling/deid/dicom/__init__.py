"""DICOM de-identification: PS3.15 Annex E Basic Profile, keyed UIDs, masks.

The package splits the work: ``walker`` applies the profile attribute by
attribute, ``deidentify`` handles a whole dataset, ``pixels`` masks burned-in
text, ``files`` reads and writes, ``inputs`` walks folders and archives. The
public entry points, all importable from here, are:

- ``deidentify_dataset(ds, options=...)``: clean a dataset in place.
- ``deidentify_file(src, dst, options=...)``: read, clean, write atomically.
- ``burned_in_reason(ds)``: why a human should look at the pixels, or None.
- ``apply_masks(ds, rects, frames=...)``: black out burned-in text.
- ``series_key``/``group_series``/``iter_dicom_files``: batch helpers.

What a cleaned dataset guarantees:

- Every attribute of PS3.15 Table E.1-1 got its action, at any depth inside
  sequences (``dicom_profile`` says how compound actions resolve).
- No private attribute, curve (50xx) or overlay (60xx) group is left, at any
  depth; nor group lengths, which would be wrong after removals.
- Attributes the table does not list are still examined by VR: person names
  get a dummy, dates are removed (or shifted), instance UIDs are replaced,
  free text (LT/ST/UT/UC) and URLs are removed, unknown public tags removed.
- Every instance UID is replaced by ``2.25.<n>`` where n is a UUID built from
  HMAC-SHA256(uid_key, original UID): the same key maps the same UID the same
  way in every file and every run, so series stay series and references
  (Referenced SOP Instance UID, Frame of Reference UID...) keep resolving,
  while nobody without the key can confirm a guessed original UID.
- Patient Name is ``ANONYMOUS``; Patient ID a keyed pseudonym of the
  original; sex kept; age kept only as a band (never an exact age over 89).
- Dates are removed (type 2 ones emptied) unless ``date_shift_days`` is set,
  in which case every DA/DT moves by that many days (TM kept), so intervals
  survive, and Longitudinal Temporal Information Modified says MODIFIED.
- Patient Identity Removed is YES and the De-identification Method Code
  Sequence lists 113100 plus the options used.
"""

from .base import DicomDeidOptions, DicomError
from .deidentify import (
    DEID_METHOD_CODES,
    SECONDARY_CAPTURE_SOP_CLASSES,
    DicomDeidReport,
    burned_in_reason,
    deidentify_dataset,
)
from .files import (
    deidentify_file,
    dicom_file_name,
    group_series,
    instance_sort_key,
    read_deidentified,
    read_dicom,
    series_key,
    write_dicom,
)
from .inputs import (
    InputFile,
    ZipBudget,
    ZipLimits,
    is_dicom_file,
    iter_archive,
    iter_dicom_files,
    iter_input_files,
)
from .pixels import apply_masks, frame_count
from .values import age_band, map_uid

__all__ = [
    "DEID_METHOD_CODES",
    "SECONDARY_CAPTURE_SOP_CLASSES",
    "DicomDeidOptions",
    "DicomDeidReport",
    "DicomError",
    "InputFile",
    "ZipBudget",
    "ZipLimits",
    "age_band",
    "apply_masks",
    "burned_in_reason",
    "deidentify_dataset",
    "deidentify_file",
    "dicom_file_name",
    "frame_count",
    "group_series",
    "instance_sort_key",
    "is_dicom_file",
    "iter_archive",
    "iter_dicom_files",
    "iter_input_files",
    "map_uid",
    "read_deidentified",
    "read_dicom",
    "series_key",
    "write_dicom",
]
