"""DICOM de-identification: PS3.15 Annex E Basic Profile, keyed UIDs, masks.

The public entry points are:

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

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import tempfile
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    UID_dictionary,
)

from . import dicom_profile as profile

__all__ = [
    "DicomDeidOptions",
    "DicomDeidReport",
    "DicomError",
    "InputFile",
    "ZipLimits",
    "age_band",
    "apply_masks",
    "burned_in_reason",
    "deidentify_dataset",
    "deidentify_file",
    "dicom_file_name",
    "group_series",
    "is_dicom_file",
    "iter_dicom_files",
    "iter_input_files",
    "map_uid",
    "read_dicom",
    "series_key",
    "write_dicom",
]


class DicomError(Exception):
    """The input is not DICOM, is corrupt or truncated, or cannot be cleaned."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DicomDeidOptions:
    """How to de-identify. ``uid_key`` is secret: keep it per workspace/case."""

    uid_key: bytes
    date_shift_days: int | None = None
    keep_descriptors: bool = False

    def __post_init__(self) -> None:
        if len(self.uid_key) < 16:
            raise ValueError("uid_key must be at least 16 bytes")


@dataclass
class DicomDeidReport:
    """What de-identification did to one dataset (JSON-ready via ``as_dict``)."""

    removed: dict[str, int] = field(default_factory=dict)
    emptied: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)
    uids_replaced: int = 0
    dates_shifted: int = 0
    private_removed: int = 0
    kept_descriptors: list[str] = field(default_factory=list)
    age_band: str | None = None
    method_codes: list[str] = field(default_factory=list)
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    review_reason: str | None = None
    output_path: str | None = None

    @property
    def needs_review(self) -> bool:
        """True when the pixels may show identifying text or features."""
        return self.review_reason is not None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["needs_review"] = self.needs_review
        return data


# --- Standard codes -------------------------------------------------------

DEID_METHOD_CODES = {
    "113100": "Basic Application Confidentiality Profile",
    "113101": "Clean Pixel Data Option",
    "113102": "Clean Recognizable Visual Features Option",
    "113103": "Clean Graphics Option",
    "113104": "Clean Structured Content Option",
    "113105": "Clean Descriptors Option",
    "113106": "Retain Longitudinal Temporal Information Full Dates Option",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
    "113109": "Retain Device Identity Option",
    "113110": "Retain UIDs Option",
    "113111": "Retain Safe Private Option",
    "113112": "Retain Institution Identity Option",
}
BASIC_PROFILE = "113100"
CLEAN_PIXEL_DATA = "113101"
RETAIN_MODIFIED_DATES = "113107"
RETAIN_PATIENT_CHARACTERISTICS = "113108"

SECONDARY_CAPTURE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.7.1",  # Multi-frame Single Bit SC
        "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
        "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
        "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    }
)

ANONYMOUS_NAME = "ANONYMOUS"
_DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR: dict[str, Any] = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": _DUMMY_TEXT,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": _DUMMY_TEXT,
    "LT": _DUMMY_TEXT,
    "PN": ANONYMOUS_NAME,
    "SH": _DUMMY_TEXT,
    "ST": _DUMMY_TEXT,
    "TM": "000000",
    "UC": _DUMMY_TEXT,
    "UT": _DUMMY_TEXT,
    "UR": "",
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
    "AT": 0,
}
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_FREE_TEXT_VRS = frozenset({"LT", "ST", "UT", "UC"})

# UI attributes outside Table E.1-1 whose values name a class, syntax or
# coding resource, never an instance: kept.
_KEPT_UI_KEYWORD_SUFFIXES = (
    "ClassUID",
    "ClassUIDInFile",
    "SyntaxUID",
    "SyntaxUIDInFile",
)
_KEPT_UI_KEYWORDS = frozenset(
    {
        "SOPClassesInStudy",
        "SOPClassesSupported",
        "PertinentSOPClassesInStudy",
        "PertinentSOPClassesInSeries",
        "CodingSchemeUID",
        "ContextGroupExtensionCreatorUID",
        "ContextUID",
        "MappingResourceUID",
        "CreatorVersionUID",
    }
)
# Free text outside Table E.1-1 that is terminology, not narrative: kept.
_KEPT_TEXT_KEYWORDS = frozenset(
    {
        "ExtendedCodeMeaning",
        "LongCodeValue",
        "CodingSchemeName",
        "CodingSchemeExternalID",
        "CodingSchemeResponsibleOrganization",
        "ImageDisplayFormat",
        "MaskOperationExplanation",
    }
)
_KEPT_URL_KEYWORDS = frozenset({"CodingSchemeURL", "URNCodeValue"})


# --- UIDs and pseudonyms ------------------------------------------------------


@lru_cache(maxsize=131072)
def map_uid(uid_key: bytes, uid: str) -> str:
    """Return the keyed replacement ``2.25.<n>`` for ``uid``.

    n is the integer of a version-8 UUID built from HMAC-SHA256(key, uid), as
    PS3.5 B.2 asks of 2.25 UIDs; the result is at most 44 characters.
    """
    digest = bytearray(
        hmac.new(uid_key, uid.strip("\x00 ").encode("ascii"), hashlib.sha256).digest()[
            :16
        ]
    )
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return f"2.25.{uuid.UUID(bytes=bytes(digest)).int}"


def _pseudonym(uid_key: bytes, label: str, value: str) -> str:
    digest = hmac.new(
        uid_key, f"{label}\x00{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"ANON-{digest[:16].upper()}"


def _is_well_known_uid(value: str) -> bool:
    return value in UID_dictionary


# --- Ages and dates -------------------------------------------------------------

_AS_RE = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$")
_AS_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1, "": 1}


def _age_years(age: str) -> float | None:
    match = _AS_RE.match(age or "")
    if not match:
        return None
    return int(match.group(1)) * _AS_UNIT_YEARS[match.group(2)]


def age_band(age: str) -> str | None:
    """Return the decade band of a DICOM AS age: ``"045Y" -> "40-49"``.

    Under one year (any D/W/M age below 12 months) is ``"<1"``, one to nine is
    ``"1-9"``, and 90 or more is ``"90+"`` so no exact age over 89 is ever
    kept. None when the value is not an age.
    """
    years = _age_years(age)
    if years is None:
        return None
    whole = int(years)
    if whole < 1:
        return "<1"
    if whole >= 90:
        return "90+"
    if whole < 10:
        return "1-9"
    low = whole // 10 * 10
    return f"{low}-{low + 9}"


def _band_as_value(band: str) -> str:
    """The AS value kept in Patient's Age for a band: its lower bound."""
    if band == "<1":
        return "000Y"
    low = int(band.rstrip("+").split("-")[0])
    return f"{low:03d}Y"


def _parse_da(value: str) -> date | None:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _shift_da(value: str, days: int) -> str | None:
    if "-" in value:  # a range, as found in query datasets
        parts = [_shift_da(part, days) if part else "" for part in value.split("-")]
        return None if None in parts else "-".join(p or "" for p in parts)
    parsed = _parse_da(value)
    if parsed is None:
        return None
    try:
        return (parsed + timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


_DT_RE = re.compile(r"^(\d{8})(\d{0,6}(?:\.\d{1,6})?)([+-]\d{4})?$")


def _shift_dt(value: str, days: int) -> str | None:
    # The UTC offset is dropped: Timezone Offset From UTC is removed (X) too.
    match = _DT_RE.match(value.strip())
    if not match:
        return None
    shifted = _shift_da(match.group(1), days)
    return None if shifted is None else shifted + match.group(2)


# --- The walker -------------------------------------------------------------


@lru_cache(maxsize=8192)
def _tag_info(tag: int) -> tuple[str, str]:
    """(keyword, dictionary VR) for a tag; ("", "") when unknown."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "", ""
    return keyword_for_tag(tag), vr


def _keyword(tag: int) -> str:
    return _tag_info(tag)[0] or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@lru_cache(maxsize=8192)
def _base_action(tag: int) -> str:
    """The action for a tag before options; see the module docstring."""
    code = profile.BASIC_PROFILE_CODES.get(tag) or profile.EXTRA_CODES.get(tag)
    if code is not None:
        return profile.resolve_action(code)
    keyword, vr = _tag_info(tag)
    if not vr:
        return "X"  # unknown public attribute: cannot judge it, so drop it
    if vr == "PN":
        return "D"
    if vr in ("DA", "DT"):
        return "X"
    if vr == "UI":
        if keyword.endswith(_KEPT_UI_KEYWORD_SUFFIXES) or keyword in _KEPT_UI_KEYWORDS:
            return "K"
        return "U"
    if vr in _FREE_TEXT_VRS:
        return "K" if keyword in _KEPT_TEXT_KEYWORDS else "X"
    if vr == "UR":
        return "K" if keyword in _KEPT_URL_KEYWORDS else "X"
    if vr == "AE":
        return "X"
    return "K"


@dataclass
class _Context:
    options: DicomDeidOptions
    type1: bool
    removed: Counter[str] = field(default_factory=Counter)
    emptied: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)
    kept_descriptors: set[str] = field(default_factory=set)
    uids_replaced: int = 0
    dates_shifted: int = 0
    private_removed: int = 0


def _action(tag: int, ctx: _Context) -> str:
    action = _base_action(tag)
    options = ctx.options
    if tag in profile.KEEP_CODES:
        return "K"
    if options.keep_descriptors and tag in profile.DESCRIPTOR_TAGS:
        return "KD"
    if ctx.type1 and tag in profile.TYPE1_IN_ENHANCED_OR_SR:
        action = profile.resolve_action(profile.BASIC_PROFILE_CODES[tag], type1=True)
    if options.date_shift_days is not None and tag not in profile.NEVER_SHIFTED_TAGS:
        vr = _tag_info(tag)[1]
        if vr in ("DA", "DT"):
            return "C"
        if vr == "TM" and action != "K":
            return "K"
    return action


def _is_empty(elem: DataElement | RawDataElement) -> bool:
    if isinstance(elem, RawDataElement):
        return elem.length == 0
    return elem.is_empty


def _element_vr(tag: int, elem: DataElement | RawDataElement) -> str:
    vr = _tag_info(tag)[1]
    if vr and " or " not in vr:
        return vr
    return elem.VR or "UN"


def _values(elem: DataElement) -> list[str]:
    value = elem.value
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        return [value.decode("ascii", "replace") if isinstance(value, bytes) else value]
    return [str(v) for v in value]


def _set_values(elem: DataElement, values: list[str]) -> None:
    elem.value = values[0] if len(values) == 1 else values


def _clean(ds: Dataset, ctx: _Context) -> None:
    options = ctx.options
    for tag in list(ds.keys()):
        tag = int(tag)
        group = tag >> 16
        if profile.is_private_group(group):
            del ds[tag]
            ctx.private_removed += 1
            continue
        if tag & 0xFFFF == 0 or group == 0x0002:
            del ds[tag]  # group lengths; file meta never belongs in the body
            continue
        if profile.is_curve_or_overlay_group(group):
            del ds[tag]
            ctx.removed["Curve" if group < 0x6000 else "Overlay"] += 1
            continue
        action = _action(tag, ctx)
        elem = ds.get_item(tag)
        vr = _element_vr(tag, elem)
        keyword = _keyword(tag)
        if action == "X":
            del ds[tag]
            ctx.removed[keyword] += 1
            continue
        if action == "KD":
            if not _is_empty(elem):
                ctx.kept_descriptors.add(keyword)
            continue
        if action == "K" and vr != "SQ":
            continue
        try:
            _apply(ds, tag, vr, action, keyword, elem, ctx, options)
        except (ValueError, TypeError, NotImplementedError, AttributeError, KeyError):
            # A value pydicom cannot parse cannot be examined, so it goes.
            if tag in ds:
                del ds[tag]
            ctx.removed[keyword] += 1


def _apply(
    ds: Dataset,
    tag: int,
    vr: str,
    action: str,
    keyword: str,
    raw: DataElement | RawDataElement,
    ctx: _Context,
    options: DicomDeidOptions,
) -> None:
    if action == "Z":
        if not _is_empty(raw):
            ds.add_new(tag, vr, [] if vr == "SQ" else None)
            ctx.emptied[keyword] += 1
        return
    if vr == "SQ":
        # K, D and U* on a sequence: keep it, clean every item.
        for item in ds[tag].value:
            _clean(item, ctx)
        if action == "D":
            ctx.replaced[keyword] += 1
        return
    if action in ("U", "D") and vr == "UI":
        elem = ds[tag]
        values = _values(elem)
        new = [
            v if _is_well_known_uid(v) else map_uid(options.uid_key, v) for v in values
        ]
        if new != values:
            _set_values(elem, new)
            ctx.uids_replaced += sum(a != b for a, b in zip(new, values, strict=True))
        return
    if action == "U":
        # U on a non-UI VR does not occur in the table; stay on the safe side.
        del ds[tag]
        ctx.removed[keyword] += 1
        return
    if action == "D":
        if _is_empty(raw):
            return
        if vr in _BINARY_VRS:
            ds.add_new(tag, vr, b"\x00\x00")
        else:
            ds.add_new(tag, vr, _DUMMY_BY_VR.get(vr, _DUMMY_TEXT))
        ctx.replaced[keyword] += 1
        return
    if action == "C":
        _shift_element(ds, tag, vr, keyword, ctx, options.date_shift_days or 0)
        return
    raise ValueError(f"unhandled action {action}")


def _shift_element(
    ds: Dataset, tag: int, vr: str, keyword: str, ctx: _Context, days: int
) -> None:
    elem = ds[tag]
    values = _values(elem)
    if not values:
        return
    shift = _shift_da if vr == "DA" else _shift_dt
    shifted = [shift(v, days) for v in values]
    if any(s is None for s in shifted):
        del ds[tag]  # unparseable or partial dates cannot be shifted safely
        ctx.removed[keyword] += 1
        return
    _set_values(elem, [s for s in shifted if s is not None])
    ctx.dates_shifted += 1


# --- Dataset-level steps --------------------------------------------------


def _needs_type1_dummies(ds: Dataset) -> bool:
    """Objects where Content Date/Time, Acquisition DateTime and Device Serial
    Number are type 1: multi-frame functional-group IODs and SR documents."""
    if "SharedFunctionalGroupsSequence" in ds:
        return True
    name = UID(str(ds.get("SOPClassUID", ""))).name
    return "SR Storage" in name or "Key Object Selection" in name


def _original_age_band(ds: Dataset) -> str | None:
    age = ds.get("PatientAge")
    if age:
        band = age_band(str(age))
        if band:
            return band
    birth = _parse_da(str(ds.get("PatientBirthDate", "") or ""))
    if birth is None:
        return None
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        when = _parse_da(str(ds.get(keyword, "") or ""))
        if when is not None and when >= birth:
            years = (
                when.year
                - birth.year
                - ((when.month, when.day) < (birth.month, birth.day))
            )
            return age_band(f"{years:03d}Y")
    return None


def _existing_method_codes(ds: Dataset) -> set[str]:
    codes = set()
    for item in ds.get("DeidentificationMethodCodeSequence", None) or []:
        if str(item.get("CodingSchemeDesignator", "")) == "DCM":
            value = str(item.get("CodeValue", ""))
            if value in DEID_METHOD_CODES:
                codes.add(value)
    return codes


def _set_method(ds: Dataset, codes: Iterable[str]) -> list[str]:
    ordered = sorted(set(codes))
    items = []
    for code in ordered:
        item = Dataset()
        item.CodeValue = code
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = DEID_METHOD_CODES[code]
        items.append(item)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethodCodeSequence = DicomSequence(items)
    methods = ["Consilium: DICOM PS3.15 Annex E Basic Profile", "private tags removed"]
    if RETAIN_MODIFIED_DATES in ordered:
        methods.append("dates shifted by a per-case offset")
    else:
        methods.append("dates removed")
    if CLEAN_PIXEL_DATA in ordered:
        methods.append("burned-in text masked")
    ds.DeidentificationMethod = methods
    return ordered


def _clean_file_meta(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    for tag in list(meta.keys()):
        if int(tag) not in (0x00020001, 0x00020002, 0x00020003, 0x00020010):
            del meta[tag]
    if "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    if hasattr(ds, "preamble"):
        ds.preamble = b"\x00" * 128  # dual-format files hide a TIFF header here


def deidentify_dataset(ds: Dataset, *, options: DicomDeidOptions) -> DicomDeidReport:
    """De-identify ``ds`` in place; see the module docstring for the guarantees.

    The report lists what was removed, emptied, replaced and shifted, the age
    band kept, the method codes recorded and, in ``review_reason``, why the
    pixels still need a human look (burned-in text), if they do.
    """
    band = _original_age_band(ds)
    original_patient_id = str(
        ds.get("PatientID", "") or ds.get("PatientName", "") or ""
    )
    prior_codes = _existing_method_codes(ds) & {CLEAN_PIXEL_DATA}
    sex = str(ds.get("PatientSex", "") or "").strip().upper()

    ctx = _Context(options=options, type1=_needs_type1_dummies(ds))
    _clean(ds, ctx)

    ds.PatientName = ANONYMOUS_NAME
    ds.PatientID = _pseudonym(options.uid_key, "PatientID", original_patient_id)
    ds.PatientSex = sex if sex in ("M", "F", "O") else ""
    if band:
        ds.PatientAge = _band_as_value(band)
    elif "PatientAge" in ds:
        del ds.PatientAge

    codes = {BASIC_PROFILE, RETAIN_PATIENT_CHARACTERISTICS, *prior_codes}
    if options.date_shift_days is not None:
        codes.add(RETAIN_MODIFIED_DATES)
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    method_codes = _set_method(ds, codes)
    _clean_file_meta(ds)

    return DicomDeidReport(
        removed=dict(ctx.removed),
        emptied=dict(ctx.emptied),
        replaced=dict(ctx.replaced),
        uids_replaced=ctx.uids_replaced,
        dates_shifted=ctx.dates_shifted,
        private_removed=ctx.private_removed,
        kept_descriptors=sorted(ctx.kept_descriptors),
        age_band=band,
        method_codes=method_codes,
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        review_reason=burned_in_reason(ds),
    )


# --- Burned-in text ---------------------------------------------------------

_PROJECTION_MODALITIES = frozenset({"XA", "RF", "DX", "CR", "MG", "IO", "PX"})
_PHOTO_MODALITIES = frozenset({"ES", "XC"})


def burned_in_reason(ds: Dataset) -> str | None:
    """Why the pixels may show identifying text or features, or None.

    - Burned In Annotation YES, or Recognizable Visual Features YES.
    - Any Secondary Capture SOP class: screenshots carry whatever the screen
      showed.
    - Ultrasound: scanners write the patient banner into the image, and the
      attribute is rarely set truthfully.
    - Endoscopy (ES) and external-camera photos (XC), unless both attributes
      say NO: scope overlays carry patient details, photos show faces and
      wristbands.
    - Projection X-ray (XA, RF, DX, CR, MG, IO, PX) when Burned In Annotation
      is absent: these systems often stamp names and dates, and the
      attribute is type 3 for several of them, so silence proves nothing.
    Once Clean Pixel Data (113101) is recorded, masking has been done by a
    person and the answer is None.
    """
    if CLEAN_PIXEL_DATA in _existing_method_codes(ds):
        return None
    burned = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    visual = str(ds.get("RecognizableVisualFeatures", "") or "").strip().upper()
    modality = str(ds.get("Modality", "") or "").strip().upper()
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if burned == "YES":
        return "Burned In Annotation is YES: text is drawn into the pixels"
    if visual == "YES":
        return "Recognizable Visual Features is YES: the image may show a face"
    if sop_class in SECONDARY_CAPTURE_SOP_CLASSES:
        return "secondary capture: screenshots keep whatever text was on screen"
    if modality == "US":
        return "ultrasound: scanners draw the patient banner into the image"
    if modality in _PHOTO_MODALITIES and not (burned == "NO" and visual == "NO"):
        return f"{modality} photo/video: overlays, faces or wristbands may be visible"
    if modality in _PROJECTION_MODALITIES and not burned:
        return (
            f"{modality} without Burned In Annotation: these systems often stamp "
            "names and dates into the image"
        )
    return None


# --- Pixel masks ---------------------------------------------------------------


def _frame_count(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


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
    rows, cols, nframes = int(ds.Rows), int(ds.Columns), _frame_count(ds)
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
    _set_method(ds, _existing_method_codes(ds) | {BASIC_PROFILE, CLEAN_PIXEL_DATA})


def _is_lossy(syntax: UID) -> bool:
    return "Lossless" not in syntax.name and syntax != RLELossless


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


# --- Files -------------------------------------------------------------------------


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
        expected = _bytes_per_frame(ds) * _frame_count(ds)
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
    ds = read_dicom(src_path)
    try:
        report = deidentify_dataset(ds, options=options)
    except DicomError:
        raise
    except Exception as exc:
        raise DicomError(f"cannot de-identify: {type(exc).__name__}: {exc}") from exc
    dst = Path(dst_path)
    if dst.is_dir():
        dst = dst / dicom_file_name(ds)
    report.output_path = str(write_dicom(ds, dst))
    return report


# --- Series -------------------------------------------------------------------------


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
        try:
            number = float(ds.get("InstanceNumber", "") or "inf")
        except (TypeError, ValueError):
            number = float("inf")
        sort_key = (number, _slice_position(ds), str(path))
        keyed.setdefault(series_key(ds), []).append((sort_key, path))
    return {key: [p for _, p in sorted(items)] for key, items in keyed.items()}


# --- Folders and archives -------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    """Guards against zip bombs; sizes are counted while streaming, not
    taken from the archive's own (forgeable) headers."""

    max_members: int = 20_000
    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 8 * 1024**3
    max_ratio: int = 1000  # uncompressed / compressed, for members over 1 MiB


@dataclass(frozen=True)
class InputFile:
    """One input: ``path`` is readable while the iterator is on it; ``relpath``
    is where it sits relative to the argument (archives become folders);
    ``error`` is set when it could not be extracted safely."""

    path: Path
    relpath: PurePosixPath
    display: str
    error: str | None = None


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """True when the file has the Part 10 "DICM" prefix at byte 128."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _safe_member_path(name: str) -> PurePosixPath | None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return None
    clean = [p for p in parts if p not in ("", ".")]
    if not clean or any(p == ".." for p in clean):
        return None
    return PurePosixPath(*clean)


def _iter_zip(
    path: Path, rel: PurePosixPath, display: str, limits: ZipLimits
) -> Iterator[InputFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield InputFile(path, rel, display, f"unreadable zip archive: {exc}")
        return
    with archive, tempfile.TemporaryDirectory(prefix="deid-zip-") as tmp:
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) > limits.max_members:
            yield InputFile(
                path,
                rel,
                display,
                f"zip has {len(members)} members (limit {limits.max_members})",
            )
            return
        total = 0
        for index, info in enumerate(members):
            member_display = f"{display}!{info.filename}"
            member_rel = _safe_member_path(info.filename)
            mode = info.external_attr >> 16
            if member_rel is None:
                yield InputFile(
                    path, rel, member_display, "unsafe path in zip (traversal)"
                )
                continue
            if stat.S_ISLNK(mode):
                yield InputFile(path, rel, member_display, "symbolic link in zip")
                continue
            if info.flag_bits & 0x1:
                yield InputFile(path, rel, member_display, "encrypted zip member")
                continue
            if info.file_size > 1024**2 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                yield InputFile(
                    path, rel, member_display, "zip bomb: compression ratio too high"
                )
                continue
            target = Path(tmp) / f"{index}{PurePosixPath(member_rel.name).suffix}"
            error = _extract_member(archive, info, target, limits, total)
            if error:
                target.unlink(missing_ok=True)
                yield InputFile(path, rel, member_display, error)
                if error.startswith("zip bomb: archive"):
                    return
                continue
            total += target.stat().st_size
            try:
                yield InputFile(target, rel / member_rel, member_display)
            finally:
                target.unlink(missing_ok=True)


def _extract_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    limits: ZipLimits,
    total: int,
) -> str | None:
    written = 0
    try:
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > limits.max_member_bytes:
                    return "zip bomb: member larger than the limit"
                if total + written > limits.max_total_bytes:
                    return "zip bomb: archive larger than the limit"
                sink.write(chunk)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
    ) as exc:
        return f"corrupt zip member: {exc}"
    except NotImplementedError as exc:
        return f"unsupported zip compression: {exc}"
    return None


def iter_input_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    limits: ZipLimits | None = None,
    exclude: Path | None = None,
) -> Iterator[InputFile]:
    """Every file under ``paths``: folders walked in sorted order (symlinks
    and hidden files skipped), ``.zip`` archives streamed member by member to
    temp files that live until the iterator moves on. ``exclude`` is a folder
    never entered (the output folder, when it sits inside an input)."""
    limits = limits or ZipLimits()
    exclude = exclude.resolve() if exclude else None
    for raw in paths:
        root = Path(raw)
        if root.is_symlink() or not root.exists():
            yield InputFile(root, PurePosixPath(root.name), str(root), "no such file")
            continue
        if root.is_dir():
            for path in _walk(root, exclude):
                rel = PurePosixPath(root.name, *path.relative_to(root).parts)
                yield from _expand(path, rel, str(path), limits)
        else:
            yield from _expand(root, PurePosixPath(root.name), str(root), limits)


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not (base / d).is_symlink()
            and (exclude is None or (base / d).resolve() != exclude)
        )
        for name in sorted(files):
            path = base / name
            if not name.startswith(".") and not path.is_symlink():
                yield path


def _expand(
    path: Path, rel: PurePosixPath, display: str, limits: ZipLimits
) -> Iterator[InputFile]:
    if path.suffix.lower() == ".zip" or (not path.suffix and _has_zip_magic(path)):
        yield from _iter_zip(path, rel.with_suffix(""), display, limits)
    else:
        yield InputFile(path, rel, display)


def _has_zip_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def iter_dicom_files(
    path: str | os.PathLike[str], *, limits: ZipLimits | None = None
) -> Iterator[Path]:
    """DICOM files (by their "DICM" prefix) under a file, folder or zip.

    Zip members are temp files valid until the next item is requested.
    Raises DicomError for an archive (or member) that is unsafe to extract.
    """
    for item in iter_input_files([path], limits=limits):
        if item.error:
            raise DicomError(f"{item.display}: {item.error}")
        if is_dicom_file(item.path):
            yield item.path
