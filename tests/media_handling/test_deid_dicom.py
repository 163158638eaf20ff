"""DICOM de-identification: profile, UIDs, dates, private tags, masks, files."""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from media_handling.deid import dicom_profile as profile
from media_handling.deid.dicom import (
    DicomDeidOptions,
    DicomError,
    ZipLimits,
    age_band,
    apply_masks,
    burned_in_reason,
    deidentify_dataset,
    deidentify_file,
    group_series,
    iter_dicom_files,
    iter_input_files,
    map_uid,
    read_dicom,
    series_key,
)
from tests.fixtures import dicom_factory as factory

KEY = bytes(range(32))
OPTIONS = DicomDeidOptions(uid_key=KEY)


def _walk(ds: Dataset):
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk(item)


def _deidentify_to_bytes(
    ds: Dataset, tmp_path: Path, options: DicomDeidOptions = OPTIONS
) -> tuple[bytes, Dataset]:
    src = factory.write(ds, tmp_path / "in" / "src.dcm")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    report = deidentify_file(src, out, options=options)
    raw = Path(report.output_path).read_bytes()
    return raw, pydicom.dcmread(report.output_path)


def _minted_uids(ds: Dataset) -> set[bytes]:
    """Every UI value the pipeline wrote, nested sequences included."""
    minted: set[bytes] = set()

    def collect(dataset: Dataset, element) -> None:
        if element.VR == "UI" and element.value:
            values = element.value if element.VM > 1 else [element.value]
            minted.update(str(value).encode() for value in values)

    ds.walk(collect)
    return minted


def _leaks(raw: bytes, uids: set[str], planted: dict[str, str]) -> list[str]:
    """Planted values and original UIDs found anywhere in ``raw``.

    Freshly minted UIDs are 39 random digits, so a six-digit planted time
    can turn up inside one by chance (about once in 5,000 files): those are
    cut out before looking for planted values, never before looking for UIDs.
    """
    outside_uids = raw
    for minted in sorted(
        _minted_uids(pydicom.dcmread(io.BytesIO(raw))), key=len, reverse=True
    ):
        outside_uids = outside_uids.replace(minted, b"")
    found = [key for key, value in planted.items() if value.encode() in outside_uids]
    return found + sorted(uid for uid in uids if uid.encode() in raw)


# --- The profile as data -------------------------------------------------------


def test_profile_table_holds_every_attribute_row_with_a_known_tag_and_code():
    codes = set(profile.BASIC_PROFILE_CODES.values())

    assert len(profile.BASIC_PROFILE_CODES) >= 600
    assert codes <= {"X", "Z", "D", "U", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"}
    for tag in profile.BASIC_PROFILE_CODES:
        assert dictionary_VR(tag)  # a typo in the table would raise KeyError


def test_profile_rows_match_the_standard_for_well_known_attributes():
    rows = profile.BASIC_PROFILE_CODES

    assert rows[0x00100010] == "Z"  # Patient's Name
    assert rows[0x00080080] == "X/Z/D"  # Institution Name
    assert rows[0x0020000D] == "U"  # Study Instance UID
    assert rows[0x00081140] == "X/Z/U*"  # Referenced Image Sequence
    assert rows[0x00400275] == "X"  # Request Attributes Sequence
    assert rows[0x00181000] == "X/Z/D"  # Device Serial Number
    assert rows[0x04000561] == "X"  # Original Attributes Sequence


@pytest.mark.parametrize(
    ("code", "type1", "expected"),
    [
        ("X/Z", False, "Z"),
        ("Z/D", False, "Z"),
        ("Z/D", True, "D"),
        ("X/D", False, "X"),
        ("X/D", True, "D"),
        ("X/Z/D", False, "Z"),
        ("X/Z/D", True, "D"),
        ("X/Z/U*", False, "U*"),
        ("U", False, "U"),
    ],
)
def test_compound_codes_resolve_to_one_action(code, type1, expected):
    assert profile.resolve_action(code, type1=type1) == expected


@pytest.mark.parametrize(
    ("age", "band"),
    [
        ("045Y", "40-49"),
        ("040Y", "40-49"),
        ("089Y", "80-89"),
        ("090Y", "90+"),
        ("104Y", "90+"),
        ("005Y", "1-9"),
        ("000Y", "<1"),
        ("012D", "<1"),
        ("030W", "<1"),
        ("011M", "<1"),
        ("018M", "1-9"),
        ("nonsense", None),
    ],
)
def test_age_band_groups_ages_by_decade_and_caps_at_ninety(age, band):
    assert age_band(age) == band


# --- Nothing planted survives ---------------------------------------------------

FACTORIES: dict[str, Callable[[], Dataset]] = {
    "ct": lambda: factory.make_ct_series(1)[0],
    "enhanced-multiframe": lambda: factory.plant_identifiers(
        factory.make_enhanced_multiframe()
    ),
    "ultrasound-rgb": factory.make_ultrasound,
    "secondary-capture-rgb": factory.make_rgb_secondary_capture,
    "ct-rle": lambda: factory.compress_rle(factory.make_ct_series(1)[0]),
    "ct-jpeg2000-lossless": lambda: factory.compress_jpeg2000_lossless(
        factory.make_ct_series(1, rows=64, cols=64)[0]
    ),
    "dx-jpeg-baseline": lambda: factory.compress_jpeg_baseline(
        factory.make_monochrome8()
    ),
    "rgb-jpeg-baseline": lambda: factory.compress_jpeg_baseline(
        factory.make_rgb_secondary_capture()
    ),
}


@pytest.mark.parametrize("kind", FACTORIES)
def test_no_planted_identifier_or_uid_survives_anywhere_in_the_output(kind, tmp_path):
    ds = FACTORIES[kind]()
    uids = factory.planted_uids([ds])
    planted = factory.PLANTED | factory.PLANTED_TIMES

    raw, _ = _deidentify_to_bytes(ds, tmp_path)

    assert _leaks(raw, uids, planted) == []


def test_nothing_planted_survives_with_dates_shifted_either(tmp_path):
    ds = factory.make_ct_series(1)[0]
    uids = factory.planted_uids([ds])

    raw, _ = _deidentify_to_bytes(
        ds, tmp_path, DicomDeidOptions(uid_key=KEY, date_shift_days=-417)
    )

    # Times are kept when dates are shifted (intervals need them); the rest go.
    assert _leaks(raw, uids, factory.PLANTED) == []


def test_cleaned_dataset_has_no_private_overlay_or_curve_element_at_any_depth(tmp_path):
    _, out = _deidentify_to_bytes(factory.make_ct_series(1)[0], tmp_path)

    groups = {elem.tag.group for elem in _walk(out)}

    assert not any(group % 2 for group in groups)
    assert not any(0x5000 <= group <= 0x60FF for group in groups)


def test_clinical_attributes_and_age_band_are_kept(tmp_path):
    ds = factory.make_ct_series(1)[0]
    ds.PatientAge = "094Y"

    _, out = _deidentify_to_bytes(ds, tmp_path)

    original = pydicom.dcmread(tmp_path / "in" / "src.dcm")
    for keyword in factory.KEPT:
        assert out[keyword].value == original[keyword].value, keyword
    assert out.ImageOrientationPatient == ds.ImageOrientationPatient
    assert out.ImagePositionPatient == ds.ImagePositionPatient
    assert out.PatientAge == "090Y"  # the band's lower bound, never 94


def test_age_band_comes_from_birth_and_study_dates_when_age_is_missing():
    ds = factory.make_ct_series(1)[0]
    del ds.PatientAge
    ds.PatientBirthDate = "19800615"
    ds.StudyDate = "20230614"

    report = deidentify_dataset(ds, options=OPTIONS)

    assert report.age_band == "40-49"
    assert ds.PatientAge == "040Y"
    assert "PatientBirthDate" in ds
    assert not ds.PatientBirthDate


def test_patient_gets_dummy_name_and_a_keyed_pseudonym_consistent_across_files():
    first, second = factory.make_ct_series(2)
    other_key = DicomDeidOptions(uid_key=b"x" * 32)
    third = copy.deepcopy(first)

    deidentify_dataset(first, options=OPTIONS)
    deidentify_dataset(second, options=OPTIONS)
    deidentify_dataset(third, options=other_key)

    assert first.PatientName == "ANONYMOUS"
    assert first.PatientID == second.PatientID
    assert first.PatientID != third.PatientID
    assert factory.PLANTED["PatientID"] not in first.PatientID


def test_identity_removed_and_method_codes_are_recorded():
    ds = factory.make_ct_series(1)[0]

    report = deidentify_dataset(ds, options=OPTIONS)

    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert ds.PatientIdentityRemoved == "YES"
    assert codes == ["113100", "113108"] == report.method_codes
    assert all(
        item.CodingSchemeDesignator == "DCM"
        for item in ds.DeidentificationMethodCodeSequence
    )
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    assert "Basic Profile" in ds.DeidentificationMethod[0]


def test_report_lists_removed_emptied_replaced_and_private_counts():
    ds = factory.make_ct_series(1)[0]

    report = deidentify_dataset(ds, options=OPTIONS).as_dict()

    assert report["removed"]["OtherPatientIDs"] == 1
    assert report["removed"]["RequestAttributesSequence"] == 1
    assert report["emptied"]["AccessionNumber"] == 1
    assert report["replaced"]["TextValue"] == 1
    assert report["private_removed"] == 3  # creator, value, private sequence
    assert report["uids_replaced"] >= 5
    assert report["needs_review"] is False


# --- UIDs -------------------------------------------------------------------------


def test_series_stays_one_series_and_references_resolve_to_new_instances(tmp_path):
    series = factory.make_ct_series(4)
    paths = [
        factory.write(ds, tmp_path / "in" / f"{i}.dcm") for i, ds in enumerate(series)
    ]
    out = tmp_path / "out"
    out.mkdir()

    reports = [deidentify_file(path, out, options=OPTIONS) for path in paths]
    cleaned = [pydicom.dcmread(r.output_path) for r in reports]

    new_instances = {ds.SOPInstanceUID for ds in cleaned}
    assert len(new_instances) == 4
    assert len({series_key(ds) for ds in cleaned}) == 1
    assert len({ds.FrameOfReferenceUID for ds in cleaned}) == 1
    for original, ds in zip(series, cleaned, strict=True):
        ref = ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID
        assert ref in new_instances
        assert ref != ds.SOPInstanceUID
        target = original.ReferencedImageSequence[0].ReferencedSOPInstanceUID
        assert ref == map_uid(KEY, target)


def test_uids_are_2_25_keyed_stable_across_runs_and_differ_by_key():
    uid = "1.2.826.0.1.3680043.10.1177.5.123456789"

    first, again = map_uid(KEY, uid), map_uid(KEY, uid)
    other = map_uid(b"y" * 32, uid)

    assert first == again != other
    assert first.startswith("2.25.")
    assert len(first) <= 64
    assert UID(first).is_valid


def test_file_meta_instance_uid_matches_the_new_sop_instance_uid(tmp_path):
    _, out = _deidentify_to_bytes(factory.make_ct_series(1)[0], tmp_path)

    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPClassUID == out.SOPClassUID
    assert "SourceApplicationEntityTitle" not in out.file_meta


def test_class_uids_and_well_known_uids_are_kept():
    ds = factory.make_ct_series(1)[0]
    ds.FrameOfReferenceUID = "1.2.840.10008.1.4.1.1"  # Talairach atlas frame

    deidentify_dataset(ds, options=OPTIONS)

    assert ds.SOPClassUID == factory.CT_IMAGE
    assert ds.ReferencedImageSequence[0].ReferencedSOPClassUID == factory.CT_IMAGE
    assert ds.FrameOfReferenceUID == "1.2.840.10008.1.4.1.1"


# --- Dates --------------------------------------------------------------------------


def test_dates_are_removed_or_emptied_by_default():
    ds = factory.plant_identifiers(factory.make_enhanced_multiframe())

    deidentify_dataset(ds, options=OPTIONS)

    dated = [
        (elem.keyword, elem.value)
        for elem in _walk(ds)
        if elem.VR in ("DA", "DT") and elem.value
    ]
    # What must stay (type 1 in enhanced objects: Content Date, Acquisition
    # and per-frame DateTimes) holds the profile's dummy, not a real date.
    assert {keyword for keyword, _ in dated} == {
        "ContentDate",
        "AcquisitionDateTime",
        "FrameAcquisitionDateTime",
        "FrameReferenceDateTime",
    }
    assert all(str(value).startswith("19000101") for _, value in dated)
    assert ds.DeviceSerialNumber == "ANONYMIZED"


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def test_date_shift_moves_every_date_by_the_offset_so_intervals_survive():
    ds = factory.plant_identifiers(factory.make_enhanced_multiframe())
    original = copy.deepcopy(ds)
    shift = DicomDeidOptions(uid_key=KEY, date_shift_days=-1000)

    report = deidentify_dataset(ds, options=shift)

    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        moved = _as_date(ds.data_element(keyword).value)
        before = _as_date(original.data_element(keyword).value)
        assert (before - moved).days == 1000, keyword
    frames = ds.PerFrameFunctionalGroupsSequence
    before_frames = original.PerFrameFunctionalGroupsSequence
    for frame, before in zip(frames, before_frames, strict=True):
        new_dt = frame.FrameContentSequence[0].FrameAcquisitionDateTime
        old_dt = before.FrameContentSequence[0].FrameAcquisitionDateTime
        assert new_dt[8:] == old_dt[8:]  # time of day kept
        assert (_as_date(old_dt) - _as_date(new_dt)).days == 1000
    assert ds.StudyTime == original.StudyTime
    assert not ds.PatientBirthDate  # birth dates are never shifted, only emptied
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "113107" in report.method_codes
    assert report.dates_shifted > 0


def test_unparseable_dates_are_removed_rather_than_shifted():
    ds = factory.make_ct_series(1, plant=False)[0]
    ds.StudyDate = "2023"

    deidentify_dataset(ds, options=DicomDeidOptions(uid_key=KEY, date_shift_days=5))

    assert "StudyDate" not in ds


# --- Descriptors ----------------------------------------------------------------------


def test_descriptors_are_removed_unless_kept_and_patient_notes_always_go():
    removed = factory.make_ct_series(1)[0]
    kept = copy.deepcopy(removed)

    deidentify_dataset(removed, options=OPTIONS)
    report = deidentify_dataset(
        kept, options=DicomDeidOptions(uid_key=KEY, keep_descriptors=True)
    )

    assert "StudyDescription" not in removed
    assert "SeriesDescription" not in removed
    assert kept.SeriesDescription == factory.PLANTED["SeriesDescription"]
    assert "SeriesDescription" in report.kept_descriptors
    assert "AdditionalPatientHistory" not in kept
    assert "ImageComments" not in kept


# --- Burned-in text ----------------------------------------------------------------------


def test_burned_in_reason_flags_declared_text_ultrasound_and_screenshots():
    ct = factory.make_ct_series(1, plant=False)[0]
    declared = copy.deepcopy(ct)
    declared.BurnedInAnnotation = "YES"
    xa_silent = copy.deepcopy(ct)
    xa_silent.Modality = "XA"
    photo = copy.deepcopy(ct)
    photo.Modality = "XC"
    ultrasound = factory.make_ultrasound()
    del ultrasound.BurnedInAnnotation

    assert burned_in_reason(ct) is None
    assert "YES" in burned_in_reason(declared)
    assert "ultrasound" in burned_in_reason(ultrasound)
    assert "secondary capture" in burned_in_reason(factory.make_rgb_secondary_capture())
    assert "XA" in burned_in_reason(xa_silent)
    assert "XC" in burned_in_reason(photo)
    assert burned_in_reason(factory.make_monochrome8(modality="DX")) is None


def test_ultrasound_is_reported_as_needing_review():
    report = deidentify_dataset(factory.make_ultrasound(), options=OPTIONS)

    assert report.needs_review
    assert "Burned In Annotation" in report.review_reason


# --- Masks ---------------------------------------------------------------------------------


def test_mask_blacks_out_exactly_the_rectangle_in_a_signed_ct():
    ds = factory.make_ct_series(1, plant=False)[0]
    before = ds.pixel_array.copy()

    apply_masks(ds, [(2, 3, 5, 4)])

    after = ds.pixel_array
    expected = before.copy()
    expected[3:7, 2:7] = -32768
    assert np.array_equal(after, expected)
    assert ds.BurnedInAnnotation == "NO"
    assert "113101" in [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]


def test_mask_on_a_multiframe_touches_only_the_chosen_frames():
    ds = factory.make_enhanced_multiframe(frames=4)
    before = ds.pixel_array.copy()

    apply_masks(ds, [(0, 0, 3, 2), (8, 10, 5, 5)], frames=[1, 3])

    after = ds.pixel_array
    expected = before.copy()
    for frame in (1, 3):
        expected[frame, 0:2, 0:3] = 0
        expected[frame, 10:12, 8:10] = 0  # clipped to the 10x12 image
    assert np.array_equal(after, expected)


def test_mask_on_rgb_ultrasound_sets_every_sample_to_zero_on_all_frames():
    ds = factory.make_ultrasound(frames=3)
    before = ds.pixel_array.copy()

    apply_masks(ds, [(4, 0, 10, 6)])

    after = ds.pixel_array
    expected = before.copy()
    expected[:, 0:6, 4:14, :] = 0
    assert np.array_equal(after, expected)
    assert burned_in_reason(ds) is None  # a person has masked it


def test_mask_on_monochrome1_uses_the_highest_value_so_it_displays_black():
    ds = factory.make_monochrome8()
    ds.PhotometricInterpretation = "MONOCHROME1"

    apply_masks(ds, [(0, 0, 2, 2)])

    assert (ds.pixel_array[0:2, 0:2] == 255).all()


def test_mask_on_rle_is_written_back_as_rle_and_decodes_exactly():
    ds = factory.compress_rle(factory.make_ct_series(1, plant=False)[0])
    before = ds.pixel_array.copy()

    apply_masks(ds, [(1, 1, 2, 2)])

    assert ds.file_meta.TransferSyntaxUID == RLELossless
    expected = before.copy()
    expected[1:3, 1:3] = -32768
    assert np.array_equal(ds.pixel_array, expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda: factory.compress_jpeg_baseline(factory.make_monochrome8()),
        lambda: factory.compress_jpeg_baseline(factory.make_rgb_secondary_capture()),
        lambda: factory.compress_jpeg2000_lossless(
            factory.make_ct_series(1, plant=False, rows=64, cols=64)[0]
        ),
    ],
    ids=["jpeg-gray", "jpeg-rgb", "jpeg2000-lossless"],
)
def test_mask_on_other_compressed_data_writes_uncompressed_and_changes_nothing_else(
    make, tmp_path
):
    ds = make()
    decoded = ds.pixel_array.copy()
    samples = int(ds.SamplesPerPixel)

    apply_masks(ds, [(3, 2, 4, 5)])
    path = factory.write(ds, tmp_path / "masked.dcm")
    reread = pydicom.dcmread(path)

    expected = decoded.copy()
    fill = 0 if samples == 3 or int(ds.PixelRepresentation) == 0 else -32768
    expected[2:7, 3:7, ...] = fill
    assert reread.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert np.array_equal(reread.pixel_array, expected)
    if samples == 3:
        assert reread.PhotometricInterpretation == "RGB"


def test_mask_outside_the_image_or_without_area_is_refused():
    ds = factory.make_ct_series(1, plant=False)[0]

    with pytest.raises(ValueError):
        apply_masks(ds, [(100, 100, 5, 5)])
    with pytest.raises(ValueError):
        apply_masks(ds, [(0, 0, 0, 5)])
    with pytest.raises(ValueError):
        apply_masks(ds, [(0, 0, 2, 2)], frames=[3])


# --- Files ---------------------------------------------------------------------------------


def _valid_bytes() -> bytes:
    return factory.ct_bytes(factory.make_ct_series(1)[0])


def _truncated(ds: Dataset, cut: int) -> bytes:
    return factory.ct_bytes(ds)[:-cut]


BAD_INPUTS = {
    "empty": lambda: b"",
    "text": lambda: b"just some text, not an image\n" * 20,
    "garbage-after-prefix": lambda: b"\x00" * 128 + b"DICM" + b"\xff" * 300,
    "truncated-pixels": lambda: _truncated(factory.make_ct_series(1)[0], 300),
    "truncated-header": lambda: factory.ct_bytes(factory.make_ct_series(1)[0])[:900],
    "truncated-rle": lambda: _truncated(
        factory.compress_rle(factory.make_ct_series(1, rows=64, cols=64)[0]), 700
    ),
    "truncated-jpeg": lambda: _truncated(
        factory.compress_jpeg_baseline(factory.make_monochrome8()), 200
    ),
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_raises_dicom_error_and_writes_nothing(kind, tmp_path):
    src = tmp_path / "bad.dcm"
    src.write_bytes(BAD_INPUTS[kind]())
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(DicomError):
        deidentify_file(src, out / "clean.dcm", options=OPTIONS)

    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    ["ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm", "MR_small_bigendian.dcm"],
)
def test_files_without_meta_or_in_big_endian_become_little_endian_part_10(
    name, tmp_path
):
    src = get_testdata_file(name, download=False)
    original = pydicom.dcmread(src, force=True)

    report = deidentify_file(src, tmp_path / "out.dcm", options=OPTIONS)

    out = pydicom.dcmread(report.output_path)
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.file_meta.TransferSyntaxUID.is_little_endian
    assert out.PatientName == "ANONYMOUS"
    if "PixelData" in original:
        assert np.array_equal(out.pixel_array, original.pixel_array)


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "rtplan.dcm"]
)
def test_bundled_samples_lose_their_patient_identity(name, tmp_path):
    src = Path(get_testdata_file(name, download=False))
    original = pydicom.dcmread(src)
    names = [str(original.PatientName)] if str(original.PatientName) else []

    report = deidentify_file(src, tmp_path / "out.dcm", options=OPTIONS)

    raw = Path(report.output_path).read_bytes()
    for value in [*names, str(original.SOPInstanceUID), str(original.StudyInstanceUID)]:
        assert value.encode() not in raw
    cleaned = pydicom.dcmread(report.output_path)
    assert not any(elem.tag.is_private for elem in _walk(cleaned))


# --- Series and inputs -----------------------------------------------------------------------


def test_group_series_groups_by_series_and_sorts_by_instance_number(tmp_path):
    first = factory.make_ct_series(3, plant=False)
    second = factory.make_ct_series(2, plant=False)
    paths = {}
    for index, ds in enumerate([first[2], second[1], first[0], second[0], first[1]]):
        paths[ds.SOPInstanceUID] = factory.write(ds, tmp_path / f"{index}.dcm")

    groups = group_series(paths.values())

    assert groups[series_key(first[0])] == [paths[ds.SOPInstanceUID] for ds in first]
    assert groups[series_key(second[0])] == [paths[ds.SOPInstanceUID] for ds in second]


def test_group_series_names_a_file_that_is_not_dicom(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not dicom")

    with pytest.raises(DicomError, match=r"notes\.txt"):
        group_series([bad])


def test_iter_dicom_files_expands_folders_and_zips(tmp_path):
    series = factory.make_ct_series(3, plant=False)
    factory.write(series[0], tmp_path / "in" / "a" / "one.dcm")
    (tmp_path / "in" / "readme.txt").write_text("hello")
    with zipfile.ZipFile(tmp_path / "in" / "more.zip", "w") as archive:
        archive.writestr("series/two.dcm", factory.ct_bytes(series[1]))
        archive.writestr("series/three.dcm", factory.ct_bytes(series[2]))

    found = [read_dicom(p).SOPInstanceUID for p in iter_dicom_files(tmp_path / "in")]

    assert sorted(found) == sorted(ds.SOPInstanceUID for ds in series)


def test_zip_members_escaping_the_archive_or_too_large_are_rejected(tmp_path):
    archive_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(
        archive_path, "w", compression=zipfile.ZIP_DEFLATED
    ) as archive:
        archive.writestr("../../escape.dcm", b"x")
        archive.writestr("/abs/path.dcm", b"x")
        archive.writestr("bomb.bin", b"\x00" * (3 * 1024 * 1024))
        archive.writestr("ok/fine.txt", b"fine")

    items = list(
        iter_input_files([archive_path], limits=ZipLimits(max_member_bytes=1024 * 1024))
    )

    errors = {item.display.split("!")[1]: item.error for item in items if item.error}
    assert "traversal" in errors["../../escape.dcm"]
    assert "traversal" in errors["/abs/path.dcm"]
    assert "zip bomb" in errors["bomb.bin"]
    fine = [item for item in items if not item.error]
    assert [str(item.relpath) for item in fine] == ["evil/ok/fine.txt"]
    assert not (tmp_path / "escape.dcm").exists()


def test_zip_member_with_an_extreme_compression_ratio_is_rejected_unread(tmp_path):
    archive_path = tmp_path / "ratio.zip"
    with zipfile.ZipFile(
        archive_path, "w", compression=zipfile.ZIP_DEFLATED
    ) as archive:
        archive.writestr("zeros.bin", b"\x00" * (8 * 1024 * 1024))

    items = list(iter_input_files([archive_path], limits=ZipLimits(max_ratio=100)))

    assert [item.error for item in items] == ["zip bomb: compression ratio too high"]


def test_zip_resource_forks_and_hidden_members_are_skipped_like_hidden_files(tmp_path):
    archive_path = tmp_path / "mac.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("scan/one.dcm", b"x")
        archive.writestr("__MACOSX/scan/._one.dcm", b"x")
        archive.writestr("scan/.DS_Store", b"x")

    items = list(iter_input_files([archive_path]))

    assert [(str(item.relpath), item.error) for item in items] == [
        ("mac/scan/one.dcm", None)
    ]


# --- Text inside compressed frames -----------------------------------------------------

FRAME_TEXTS = [factory.FRAME_COMMENT.encode(), factory.FRAME_APP_TEXT.encode()]

JPEG_WITH_TEXT = {
    "mono-single-frame": lambda: factory.compress_jpeg_with_text(
        factory.make_monochrome8()
    ),
    "rgb-multiframe": lambda: factory.compress_jpeg_with_text(
        factory.make_ultrasound()
    ),
    "rgb-multiframe-3-fragments-each": lambda: factory.compress_jpeg_with_text(
        factory.make_ultrasound(), fragments_per_frame=3
    ),
    "progressive-scans": lambda: factory.compress_jpeg_with_text(
        factory.make_ultrasound(frames=2), progressive=True
    ),
    "rgb-with-adobe-transform": lambda: factory.compress_jpeg_with_text(
        factory.make_rgb_secondary_capture(), adobe_rgb=True
    ),
}


@pytest.mark.parametrize("make", JPEG_WITH_TEXT.values(), ids=JPEG_WITH_TEXT.keys())
def test_comments_and_app_segments_leave_jpeg_frames_whose_pixels_stay_exact(
    make, tmp_path
):
    ds = make()
    planted = factory.ct_bytes(ds)
    assert all(text in planted for text in FRAME_TEXTS)
    before = ds.pixel_array.copy()
    syntax = ds.file_meta.TransferSyntaxUID

    raw, cleaned = _deidentify_to_bytes(ds, tmp_path)

    assert [text for text in FRAME_TEXTS if text in raw] == []
    assert b"Smith" not in raw and b"Exif" not in raw
    # not re-encoded: the same transfer syntax and exactly the same pixels
    assert cleaned.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(cleaned.pixel_array, before)


def test_the_jpeg_cleaner_keeps_only_the_numbers_decoding_needs():
    from media_handling.deid.dicom.codestream import clean_jpeg

    frame = factory._rgb_pixels(1, 16, 24)[0]
    data = factory.jpeg_with_text(frame, adobe_rgb=True)

    cleaned, removed = clean_jpeg(data)

    assert removed >= 4  # COM, APP1, APP11 and the bytes after the end marker
    assert cleaned.endswith(b"\xff\xd9")
    assert b"Adobe" in cleaned  # APP14: its transform flag says "RGB, not YCbCr"
    adobe = cleaned.index(b"Adobe")
    assert int.from_bytes(cleaned[adobe - 2 : adobe], "big") == 14  # no extra bytes
    decoded = np.asarray(Image.open(io.BytesIO(cleaned)))
    assert np.abs(decoded.astype(int) - frame).mean() < 10
    assert np.array_equal(decoded, np.asarray(Image.open(io.BytesIO(data))))


def test_an_unparseable_jpeg_frame_is_decoded_and_stored_uncompressed(tmp_path):
    ds = factory.compress_jpeg_with_text(factory.make_monochrome8())
    frame = factory.jpeg_with_text(
        np.asarray(ds.pixel_array, dtype=np.uint8), progressive=False
    )
    # Stray bytes between two header segments: decoders skip them (with a
    # warning), the segment parser will not guess.
    sof = frame.index(b"\xff\xdb")
    ds.PixelData = encapsulate([frame[:sof] + b"\x00\x00" + frame[sof:]])
    before = ds.pixel_array.copy()

    raw, cleaned = _deidentify_to_bytes(ds, tmp_path)

    assert [text for text in FRAME_TEXTS if text in raw] == []
    assert cleaned.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert cleaned.LossyImageCompression == "01"
    assert np.array_equal(cleaned.pixel_array, before)


def test_jpeg_2000_comments_go_from_main_and_tile_part_headers(tmp_path):
    from media_handling.deid.dicom.codestream import clean_j2k

    ds = factory.compress_jpeg2000_lossless(
        factory.make_ct_series(1, rows=64, cols=64)[0]
    )
    before = ds.pixel_array.copy()
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    assert b"OpenJPEG" in frame  # OpenJPEG's own COM marker
    # Plant a comment in the tile-part header too, fixing up its length.
    sot = frame.index(b"\xff\x90")
    comment = b"\xff\x64" + (len(factory.FRAME_COMMENT) + 4).to_bytes(2, "big")
    comment += b"\x00\x01" + factory.FRAME_COMMENT.encode()
    psot = int.from_bytes(frame[sot + 6 : sot + 10], "big")
    planted = (
        frame[: sot + 6]
        + (psot + len(comment)).to_bytes(4, "big")
        + frame[sot + 10 : sot + 12]
        + comment
        + frame[sot + 12 :]
    )
    ds.PixelData = encapsulate([planted])
    assert np.array_equal(ds.pixel_array, before)

    raw, cleaned = _deidentify_to_bytes(ds, tmp_path)

    assert factory.FRAME_COMMENT.encode() not in raw
    assert b"OpenJPEG" not in raw
    assert cleaned.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
    assert np.array_equal(cleaned.pixel_array, before)
    assert clean_j2k(bytes(planted))[1] == 2


def test_compressed_video_pixel_data_that_cannot_be_cleaned_is_refused(tmp_path):
    ds = factory.make_monochrome8()
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + factory.FRAME_COMMENT.encode()])
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 MP@ML
    src = factory.write(ds, tmp_path / "in" / "video.dcm")

    with pytest.raises(DicomError, match="cannot clean or decode"):
        deidentify_file(src, tmp_path / "out.dcm", options=OPTIONS)

    assert not (tmp_path / "out.dcm").exists()
