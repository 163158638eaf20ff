"""Grouping uploaded DICOM files and archives into series, one asset each."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from media_handling import storage as media_storage
from media_handling.deid.dicom import ZipLimits
from media_handling.dicom_pipeline import BUNDLE_MANIFEST, DicomPolicy
from media_handling.dicom_upload import dicom_assets_create, dicom_files_group
from media_handling.models import MediaAsset
from tests.fixtures import dicom_factory as factory

POLICY = DicomPolicy(scope="case:1")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _ct_files(folder: Path, count: int = 3, **kwargs) -> list[Path]:
    series = factory.make_ct_series(count, **kwargs)
    return [factory.write(ds, folder / f"slice{i}.dcm") for i, ds in enumerate(series)]


def test_files_of_one_series_form_one_group_in_instance_number_order(tmp_path):
    files = _ct_files(tmp_path / "in", 4)

    grouping = dicom_files_group(
        [(p.name, p) for p in reversed(files)], workdir=tmp_path / "work"
    )

    assert len(grouping.series) == 1
    assert grouping.series[0].files == files
    assert grouping.series[0].modality == "CT"
    assert grouping.accepted == 4
    assert grouping.failed == [] and grouping.skipped == []


def test_two_series_of_one_study_and_another_study_make_three_groups(tmp_path):
    study = factory.planted_uid()
    first = factory.make_ct_series(2, study_uid=study)
    second = factory.make_ct_series(3, study_uid=study)
    other = [factory.make_ultrasound(frames=2)]
    inputs = []
    for n, ds in enumerate(first + other + second):
        path = factory.write(ds, tmp_path / f"{n}.dcm")
        inputs.append((path.name, path))

    grouping = dicom_files_group(inputs, workdir=tmp_path)

    sizes = [(g.modality, len(g.files)) for g in grouping.series]
    assert sorted(sizes) == [("CT", 2), ("CT", 3), ("US", 1)]
    # Series of the same study stay next to each other.
    assert [g.study_uid == study for g in grouping.series].count(True) == 2
    assert grouping.series[2].modality == "US" or grouping.series[0].modality == "US"


def test_zip_members_are_grouped_with_loose_files_of_the_same_series(tmp_path):
    series = factory.make_ct_series(4)
    loose = factory.write(series[0], tmp_path / "loose.dcm")
    archive = _zip(
        tmp_path / "study.zip",
        {f"DICOM/IM{n}": factory.ct_bytes(ds) for n, ds in enumerate(series[1:], 1)},
    )

    grouping = dicom_files_group(
        [("loose.dcm", loose), ("study.zip", archive)], workdir=tmp_path / "work"
    )

    assert len(grouping.series) == 1
    assert len(grouping.series[0].files) == 4
    # Extracted members were moved into the work folder and outlive the walk.
    assert all(p.exists() for p in grouping.series[0].files)


def test_corrupt_and_truncated_files_fail_alone_with_their_own_reason(tmp_path):
    good = _ct_files(tmp_path, 2)
    whole = factory.ct_bytes(factory.make_ct_series(1)[0])
    truncated = tmp_path / "cut.dcm"
    truncated.write_bytes(whole[: len(whole) - 100])
    corrupt = tmp_path / "corrupt.dcm"
    corrupt.write_bytes(whole[:132] + b"\xff" * 300)

    grouping = dicom_files_group(
        [(p.name, p) for p in [good[0], truncated, corrupt, good[1]]],
        workdir=tmp_path / "work",
    )

    assert [len(g.files) for g in grouping.series] == [2]
    failed = {p.name: p.reason for p in grouping.failed}
    assert set(failed) == {"cut.dcm", "corrupt.dcm"}
    assert "truncated" in failed["cut.dcm"]
    assert failed["corrupt.dcm"]


def test_non_images_dicomdir_and_duplicates_are_skipped_not_failed(tmp_path):
    ct = _ct_files(tmp_path / "a", 2)
    duplicate = tmp_path / "copy.dcm"
    duplicate.write_bytes(ct[0].read_bytes())
    text = tmp_path / "README.txt"
    text.write_text("Burn this CD for the patient Quixote")
    dicomdir = tmp_path / "DICOMDIR"
    dicomdir.write_bytes(ct[1].read_bytes())
    report = factory.make_ct_series(1)[0]
    del report.PixelData
    report.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    report.file_meta.MediaStorageSOPClassUID = report.SOPClassUID
    no_pixels = tmp_path / "report.dcm"
    no_pixels.write_bytes(factory.ct_bytes(report))

    grouping = dicom_files_group(
        [(p.name, p) for p in [*ct, duplicate, text, dicomdir, no_pixels]],
        workdir=tmp_path / "work",
    )

    assert [len(g.files) for g in grouping.series] == [2]
    skipped = {p.name: p.reason for p in grouping.skipped}
    assert set(skipped) == {"copy.dcm", "README.txt", "DICOMDIR", "report.dcm"}
    assert "twice" in skipped["copy.dcm"]
    assert grouping.failed == []


def test_unsafe_zip_members_fail_with_the_archive_name_and_the_rest_is_kept(
    tmp_path,
):
    series = factory.make_ct_series(2)
    archive = _zip(
        tmp_path / "upload.bin",  # recognised by content, not by name
        {
            "ok/1.dcm": factory.ct_bytes(series[0]),
            "../../escape.dcm": factory.ct_bytes(series[1]),
            "nested.zip": _zip(tmp_path / "inner.zip", {"a": b"x"}).read_bytes(),
        },
    )

    grouping = dicom_files_group(
        [("study.zip", archive)], workdir=tmp_path / "work", limits=ZipLimits()
    )

    assert [len(g.files) for g in grouping.series] == [1]
    assert [(p.name, "traversal" in p.reason) for p in grouping.failed] == [
        ("study.zip!../../escape.dcm", True)
    ]
    assert [p.name for p in grouping.skipped] == ["study.zip!nested.zip"]


def test_unreadable_zip_fails_as_one_file(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 50)

    grouping = dicom_files_group([("broken.zip", broken)], workdir=tmp_path)

    assert grouping.series == []
    assert [p.name for p in grouping.failed] == ["broken.zip"]


@pytest.mark.django_db
def test_each_series_becomes_an_uploaded_asset_whose_bundle_holds_no_file_name(
    tmp_path, make_clinician
):
    user = make_clinician()
    names = ["Quixote_Zelda_CT_1.dcm", "Quixote_Zelda_CT_2.dcm"]
    series = factory.make_ct_series(2)
    inputs = [
        (n, factory.write(ds, tmp_path / n))
        for n, ds in zip(names, series, strict=True)
    ]
    us = factory.write(factory.make_ultrasound(frames=2), tmp_path / "us.dcm")
    grouping = dicom_files_group([*inputs, ("us.dcm", us)], workdir=tmp_path / "w")

    assets = dicom_assets_create(
        series=grouping.series, policy=POLICY, uploaded_by=user, owner_group=""
    )

    assert len(assets) == 2
    for asset in assets:
        asset.refresh_from_db()
        assert asset.kind == MediaAsset.Kind.DICOM_SERIES
        assert asset.status == MediaAsset.Status.UPLOADED
        assert asset.source_name == media_storage.incoming_name(asset.key)
        with (
            media_storage.local_copy(asset.source_name) as local,
            zipfile.ZipFile(local) as bundle,
        ):
            manifest = json.loads(bundle.read(BUNDLE_MANIFEST))
            members = bundle.namelist()
        assert manifest["policy"] == POLICY.as_dict()
        assert all("Quixote" not in m for m in members)
        assert set(members) == {BUNDLE_MANIFEST, *manifest["files"]}
    media_storage.delete_names(a.source_name for a in assets)


@pytest.mark.django_db
def test_when_storing_fails_no_asset_and_no_bundle_is_left(
    tmp_path, make_clinician, monkeypatch
):
    user = make_clinician()
    grouping = dicom_files_group(
        [(p.name, p) for p in _ct_files(tmp_path, 2)]
        + [("us.dcm", factory.write(factory.make_ultrasound(), tmp_path / "us.dcm"))],
        workdir=tmp_path / "w",
    )
    saved: list[str] = []
    real_save = media_storage.save_path

    def save_then_fail(name, path):
        if saved:
            raise OSError("disk full")
        saved.append(real_save(name, path))
        return saved[-1]

    monkeypatch.setattr(media_storage, "save_path", save_then_fail)

    with pytest.raises(OSError):
        dicom_assets_create(series=grouping.series, policy=POLICY, uploaded_by=user)

    assert MediaAsset.objects.count() == 0
    assert not media_storage.storage().exists(saved[0])


# --- zip-bomb guards ------------------------------------------------------------------


def _forge_sizes(path: Path, member: str, declared: int) -> None:
    """Rewrite the uncompressed size that both headers of ``member`` declare."""
    import struct

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    # Local header: the size sits at offset 22; central directory entry: 24.
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    name = member.encode()
    start = 0
    while (central := data.find(b"PK\x01\x02", start)) != -1:
        (length,) = struct.unpack_from("<H", data, central + 28)
        if bytes(data[central + 46 : central + 46 + length]) == name:
            struct.pack_into("<I", data, central + 24, declared)
        start = central + 4
    path.write_bytes(bytes(data))


def test_an_archive_declaring_more_than_the_limit_is_refused_before_extracting(
    tmp_path,
):
    series = factory.make_ct_series(3)
    archive = _zip(
        tmp_path / "study.zip",
        {f"{i}.dcm": factory.ct_bytes(ds) for i, ds in enumerate(series)},
    )
    total = sum(len(factory.ct_bytes(ds)) for ds in series)

    grouping = dicom_files_group(
        [("study.zip", archive)],
        workdir=tmp_path / "work",
        limits=ZipLimits(max_total_bytes=total - 1),
    )

    assert grouping.series == []
    assert [p.name for p in grouping.failed] == ["study.zip"]
    assert "archive larger than the limit" in grouping.failed[0].reason
    assert list((tmp_path / "work").iterdir()) == []


def test_the_limits_hold_for_all_archives_of_one_upload_together(tmp_path):
    series = factory.make_ct_series(4)
    first = _zip(
        tmp_path / "a.zip", {f"{i}.dcm": factory.ct_bytes(series[i]) for i in (0, 1)}
    )
    second = _zip(
        tmp_path / "b.zip", {f"{i}.dcm": factory.ct_bytes(series[i]) for i in (2, 3)}
    )

    grouping = dicom_files_group(
        [("a.zip", first), ("b.zip", second)],
        workdir=tmp_path / "work",
        limits=ZipLimits(max_members=3),
    )

    assert [len(g.files) for g in grouping.series] == [2]
    assert [p.name for p in grouping.failed] == ["b.zip"]
    assert "limit 3" in grouping.failed[0].reason


def test_a_member_whose_headers_understate_its_size_fails_alone(tmp_path):
    series = factory.make_ct_series(2)
    archive = _zip(
        tmp_path / "study.zip",
        {
            "good.dcm": factory.ct_bytes(series[0]),
            "liar.dcm": factory.ct_bytes(series[1]),
        },
    )
    _forge_sizes(archive, "liar.dcm", 200)

    grouping = dicom_files_group(
        [("study.zip", archive)], workdir=tmp_path / "work", limits=ZipLimits()
    )

    assert [len(g.files) for g in grouping.series] == [1]
    assert [p.name for p in grouping.failed] == ["study.zip!liar.dcm"]
    assert "corrupt zip member" in grouping.failed[0].reason


def test_a_member_declaring_more_than_the_member_limit_is_not_extracted(tmp_path):
    series = factory.make_ct_series(2)
    archive = _zip(
        tmp_path / "study.zip",
        {
            "good.dcm": factory.ct_bytes(series[0]),
            "huge.dcm": factory.ct_bytes(series[1]),
        },
    )
    size = len(factory.ct_bytes(series[0]))
    _forge_sizes(archive, "huge.dcm", 50 * size)

    grouping = dicom_files_group(
        [("study.zip", archive)],
        workdir=tmp_path / "work",
        limits=ZipLimits(max_member_bytes=10 * size),
    )

    assert [len(g.files) for g in grouping.series] == [1]
    assert [(p.name, p.reason) for p in grouping.failed] == [
        ("study.zip!huge.dcm", "zip bomb: member larger than the limit")
    ]


def test_a_forged_entry_count_is_refused_before_the_directory_is_read(tmp_path):
    import struct

    archive = _zip(tmp_path / "many.zip", {"a.dcm": b"x", "b.dcm": b"y"})
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60000, 60000)
    archive.write_bytes(bytes(data))

    grouping = dicom_files_group(
        [("many.zip", archive)],
        workdir=tmp_path / "work",
        limits=ZipLimits(max_members=100),
    )

    assert [p.name for p in grouping.failed] == ["many.zip"]
    assert "60000 entries" in grouping.failed[0].reason


def test_uploads_use_the_configured_zip_limits(tmp_path, settings):
    settings.MEDIA_DICOM_ZIP_MAX_MEMBERS = 1
    series = factory.make_ct_series(2)
    archive = _zip(
        tmp_path / "study.zip",
        {f"{i}.dcm": factory.ct_bytes(ds) for i, ds in enumerate(series)},
    )

    grouping = dicom_files_group([("study.zip", archive)], workdir=tmp_path / "work")

    assert grouping.series == []
    assert "limit 1" in grouping.failed[0].reason
