"""De-identify one dataset and say whether its pixels need a human look."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID

from .base import DicomDeidOptions
from .codestream import clean_pixel_codestreams
from .values import age_band, band_as_value, parse_da, pseudonym
from .walker import ANONYMOUS_NAME, Context, clean_dataset


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
    # COM/APPn segments (JPEG) or COM markers (JPEG 2000) removed from the
    # compressed frames; True when the pixels had to be stored uncompressed.
    codestream_segments_removed: int = 0
    pixels_transcoded: bool = False

    @property
    def needs_review(self) -> bool:
        """True when the pixels may show identifying text or features."""
        return self.review_reason is not None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["needs_review"] = self.needs_review
        return data


# CID 7050 "De-identification Method" (DCM codes).
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
    birth = parse_da(str(ds.get("PatientBirthDate", "") or ""))
    if birth is None:
        return None
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        when = parse_da(str(ds.get(keyword, "") or ""))
        if when is not None and when >= birth:
            years = (
                when.year
                - birth.year
                - ((when.month, when.day) < (birth.month, birth.day))
            )
            return age_band(f"{years:03d}Y")
    return None


def existing_method_codes(ds: Dataset) -> set[str]:
    """The CID 7050 codes already recorded in the dataset (others ignored)."""
    codes = set()
    for item in ds.get("DeidentificationMethodCodeSequence", None) or []:
        if str(item.get("CodingSchemeDesignator", "")) == "DCM":
            value = str(item.get("CodeValue", ""))
            if value in DEID_METHOD_CODES:
                codes.add(value)
    return codes


def set_method(ds: Dataset, codes: Iterable[str]) -> list[str]:
    """Record Patient Identity Removed, the method text and exactly ``codes``
    in the De-identification Method Code Sequence; return them sorted."""
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
    """De-identify ``ds`` in place; ``media_handling.deid.dicom`` lists the
    guarantees.

    The report lists what was removed, emptied, replaced and shifted, the age
    band kept, the method codes recorded and, in ``review_reason``, why the
    pixels still need a human look (burned-in text), if they do. Run it on
    originals: a second pass would map the already replaced UIDs once more.
    """
    band = _original_age_band(ds)
    original_patient_id = str(
        ds.get("PatientID", "") or ds.get("PatientName", "") or ""
    )
    prior_codes = existing_method_codes(ds) & {CLEAN_PIXEL_DATA}
    sex = str(ds.get("PatientSex", "") or "").strip().upper()

    ctx = Context(options=options, type1=_needs_type1_dummies(ds))
    clean_dataset(ds, ctx, top=True)
    # Comments and application segments inside compressed frames escape the
    # attribute profile; they go too (or the pixels are decoded).
    codestreams = clean_pixel_codestreams(ds)
    for keyword in ("PatientName", "PatientID"):
        ctx.emptied.pop(keyword, None)
        ctx.replaced[keyword] += 1

    ds.PatientName = ANONYMOUS_NAME
    ds.PatientID = pseudonym(options.uid_key, "PatientID", original_patient_id)
    ds.PatientSex = sex if sex in ("M", "F", "O") else ""
    if band:
        ds.PatientAge = band_as_value(band)
    elif "PatientAge" in ds:
        del ds.PatientAge

    codes = {BASIC_PROFILE, RETAIN_PATIENT_CHARACTERISTICS, *prior_codes}
    if options.date_shift_days is not None:
        codes.add(RETAIN_MODIFIED_DATES)
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    method_codes = set_method(ds, codes)
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
        codestream_segments_removed=codestreams.segments_removed,
        pixels_transcoded=codestreams.transcoded,
    )


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
    if CLEAN_PIXEL_DATA in existing_method_codes(ds):
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
