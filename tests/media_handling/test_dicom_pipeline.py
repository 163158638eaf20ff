"""A DICOM series from upload to stored, rendered, reviewed and released.

These run the real task (the immediate backend) against the configured
storage: local files in embedded mode, S3 (moto) in scale mode. Every
assertion about stored bytes reads them back from storage.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from media_handling import storage as media_storage
from media_handling.dicom_pipeline import (
    DicomPolicy,
    bundle_write,
    dicom_series_mask,
    dicom_series_release,
    frame_role,
    instance_role,
    policy_options,
    series_frame_locate,
    series_frame_png,
)
from media_handling.dicom_upload import dicom_assets_create, dicom_files_group
from media_handling.models import MediaAsset
from tests.fixtures import dicom_factory as factory
from workspace.services import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploader(make_clinician):
    return make_clinician()


@pytest.fixture
def upload(tmp_path, uploader, django_capture_on_commit_callbacks):
    """Group datasets (or files) into series and process them; returns the
    assets, fresh from the database, in series order."""
    counter = iter(range(10_000))

    def run(*items, policy: DicomPolicy | None = None, user=None) -> list[MediaAsset]:
        inputs = []
        for item in items:
            if isinstance(item, Path):
                inputs.append((item.name, item))
                continue
            path = factory.write(item, tmp_path / "in" / f"{next(counter)}.dcm")
            inputs.append((path.name, path))
        grouping = dicom_files_group(inputs, workdir=tmp_path / f"w{next(counter)}")
        with django_capture_on_commit_callbacks(execute=True):
            assets = dicom_assets_create(
                series=grouping.series,
                policy=policy or DicomPolicy(scope="case:7"),
                uploaded_by=user or uploader,
            )
        for asset in assets:
            asset.refresh_from_db()
        return assets

    return run


def _stored(asset: MediaAsset) -> dict[str, bytes]:
    return {
        role: media_storage.read_bytes(name)
        for role, name in (asset.renditions or {}).items()
    }


def _instances(asset: MediaAsset) -> list[pydicom.Dataset]:
    count = len(asset.metadata["instances"])
    return [
        pydicom.dcmread(io.BytesIO(media_storage.read_bytes(name)))
        for name in (asset.rendition_name(instance_role(i)) for i in range(count))
    ]


def _png(asset: MediaAsset, index: int) -> np.ndarray:
    data = media_storage.read_bytes(asset.rendition_name(frame_role(index)))
    return np.asarray(Image.open(io.BytesIO(data)))


def _planted_leaks(blob: bytes, uids: set[str]) -> list[str]:
    values = {k: v for k, v in factory.PLANTED.items() if k != "Preamble"}
    found = [k for k, v in values.items() if v.encode() in blob]
    found += [u for u in uids if u.encode() in blob]
    if factory.PLANTED["Preamble"].encode() in blob:
        found.append("Preamble")
    return found


# --- processing -----------------------------------------------------------------------


def test_ct_series_becomes_ready_with_every_instance_frame_and_a_thumb_stored(upload):
    (asset,) = upload(*factory.make_ct_series(4))

    assert asset.status == MediaAsset.Status.READY
    assert asset.status_reason == ""
    assert set(asset.renditions) == {
        *(instance_role(i) for i in range(4)),
        *(frame_role(i) for i in range(4)),
        "thumb",
    }
    assert asset.metadata["frame_count"] == 4
    assert asset.metadata["modality"] == "CT"
    assert [i["number"] for i in asset.metadata["instances"]] == [1, 2, 3, 4]
    names = [p["name"] for p in asset.metadata["presets"]]
    assert names == ["SOFT TISSUE", "Lung", "Bone", "Brain"]
    header = {row[0]: row[2] for row in asset.metadata["header"]}
    assert header["PatientName"] == "ANONYMOUS"
    assert header["PatientIdentityRemoved"] == "YES"
    assert _png(asset, 0).shape == (16, 16)


def test_a_mixed_upload_ends_as_clean_series_and_the_corrupt_file_fails_alone(
    tmp_path, upload
):
    ct = factory.make_ct_series(3)
    zipped = factory.make_ct_series(2)
    us = factory.make_ultrasound(frames=2)
    uids = factory.planted_uids([*ct, *zipped, us])
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for n, ds in enumerate(zipped):
            bundle.writestr(f"DICOM/IM{n}", factory.ct_bytes(ds))
    whole = factory.ct_bytes(factory.make_ct_series(1)[0])
    corrupt = tmp_path / "corrupt.dcm"
    corrupt.write_bytes(whole[: len(whole) // 2])

    grouping = dicom_files_group(
        [
            *(
                (f"ct{n}.dcm", factory.write(ds, tmp_path / f"ct{n}.dcm"))
                for n, ds in enumerate(ct)
            ),
            ("us.dcm", factory.write(us, tmp_path / "us.dcm")),
            ("study.zip", archive),
            ("corrupt.dcm", corrupt),
        ],
        workdir=tmp_path / "work",
    )
    assets = upload(*(p for g in grouping.series for p in g.files))

    assert [p.name for p in grouping.failed] == ["corrupt.dcm"]
    by_frames = sorted(
        (a.metadata["modality"], a.metadata["frame_count"], a.status) for a in assets
    )
    assert by_frames == [
        ("CT", 2, MediaAsset.Status.READY),
        ("CT", 3, MediaAsset.Status.READY),
        ("US", 2, MediaAsset.Status.NEEDS_REVIEW),
    ]
    for asset in assets:
        assert len({str(ds.SeriesInstanceUID) for ds in _instances(asset)}) == 1
        for role, data in _stored(asset).items():
            assert _planted_leaks(data, uids) == [], role


def test_the_upload_bundle_is_deleted_once_processed(upload):
    (asset,) = upload(*factory.make_ct_series(2))

    assert asset.source_name == ""
    assert not media_storage.storage().exists(media_storage.incoming_name(asset.key))


def test_no_planted_identifier_survives_in_any_stored_byte_or_record(
    upload, make_workspace
):
    workspace = make_workspace()
    ct = factory.make_ct_series(3)
    us = factory.make_ultrasound(frames=2)
    uids = factory.planted_uids([*ct, us])
    policy = DicomPolicy(scope="case:9", workspace_id=workspace.pk)

    assets = upload(*ct, us, policy=policy)

    assert len(assets) == 2
    for asset in assets:
        for role, data in _stored(asset).items():
            assert _planted_leaks(data, uids) == [], role
        record = json.dumps([asset.metadata, asset.report, asset.status_reason])
        assert _planted_leaks(record.encode(), uids) == []
        key = policy_options(policy).uid_key
        assert workspace.deid_secret not in record
        assert key.hex() not in record


def test_a_series_keeps_one_series_uid_and_its_references_resolve(upload):
    (asset,) = upload(*factory.make_ct_series(4))

    stored = _instances(asset)

    assert len({str(ds.SeriesInstanceUID) for ds in stored}) == 1
    assert len({str(ds.StudyInstanceUID) for ds in stored}) == 1
    assert len({str(ds.FrameOfReferenceUID) for ds in stored}) == 1
    sop_uids = {str(ds.SOPInstanceUID) for ds in stored}
    assert len(sop_uids) == 4
    for ds in stored:
        assert str(ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID) in sop_uids
        assert str(ds.SOPInstanceUID).startswith("2.25.")
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert asset.metadata["series_uid"] == str(stored[0].SeriesInstanceUID)


def test_uploads_to_one_case_map_uids_alike_and_other_cases_differently(upload):
    series = factory.make_ct_series(2)
    original = str(series[0].SeriesInstanceUID)

    first, second = (
        upload(series[0], policy=DicomPolicy(scope="case:1"))[0],
        upload(series[1], policy=DicomPolicy(scope="case:1"))[0],
    )
    other = upload(series[0], policy=DicomPolicy(scope="case:2"))[0]

    uids = [a.metadata["series_uid"] for a in (first, second, other)]
    assert uids[0] == uids[1] != uids[2]
    assert original not in uids
    assert str(
        _instances(first)[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    ) == str(_instances(second)[0].SOPInstanceUID)


def test_workspace_secrets_key_the_mapping(upload, make_workspace):
    series = factory.make_ct_series(1)
    one, two = make_workspace(), make_workspace()

    a = upload(series[0], policy=DicomPolicy(scope="case:1", workspace_id=one.pk))
    b = upload(series[0], policy=DicomPolicy(scope="case:1", workspace_id=two.pk))

    assert a[0].metadata["series_uid"] != b[0].metadata["series_uid"]


def test_dates_are_removed_by_default_and_shifted_with_intervals_on_request(upload):
    removed = upload(*factory.make_ct_series(1))[0]
    shifted = upload(
        *factory.make_ct_series(1), policy=DicomPolicy(scope="c", shift_dates=True)
    )[0]

    plain = _instances(removed)[0]
    moved = _instances(shifted)[0]
    assert not plain.get("StudyDate")
    assert plain.LongitudinalTemporalInformationModified == "REMOVED"
    study, series = (
        pydicom.valuerep.DA(moved.StudyDate),
        pydicom.valuerep.DA(moved.SeriesDate),
    )
    assert (series - study).days == 1  # 20230611 -> 20230612 in the factory
    assert moved.StudyDate != factory.PLANTED["StudyDate"]
    assert moved.LongitudinalTemporalInformationModified == "MODIFIED"
    assert shifted.report["details"]["dates"] == "shifted"


def test_ultrasound_with_burned_in_annotation_needs_review_with_the_reason(upload):
    (asset,) = upload(factory.make_ultrasound(frames=3))

    assert asset.status == MediaAsset.Status.NEEDS_REVIEW
    assert "Burned In Annotation" in asset.status_reason
    assert asset.metadata["frame_count"] == 3
    assert asset.metadata["grayscale"] is False
    assert asset.metadata["presets"] == []
    assert _png(asset, 2).shape == (24, 32, 3)


def test_multiframe_and_compressed_instances_are_decoded_and_rendered(upload):
    enhanced = factory.make_enhanced_multiframe(frames=4)
    rle = factory.compress_rle(factory.make_monochrome8(modality="MR"))
    j2k = factory.compress_jpeg2000_lossless(
        factory.make_ct_series(1, rows=64, cols=64)[0]
    )

    assets = upload(enhanced, rle, j2k)

    assert sorted(a.metadata["frame_count"] for a in assets) == [1, 1, 4]
    assert all(a.status == MediaAsset.Status.READY for a in assets)
    for asset in assets:
        for index in range(asset.metadata["frame_count"]):
            assert _png(asset, index).size > 0


def test_text_inside_compressed_frames_is_gone_from_every_stored_byte(upload):
    ds = factory.compress_jpeg_with_text(
        factory.make_monochrome8(), fragments_per_frame=2
    )
    before = ds.pixel_array.copy()

    (asset,) = upload(ds)

    assert asset.status == MediaAsset.Status.READY
    for role, blob in _stored(asset).items():
        assert factory.FRAME_COMMENT.encode() not in blob, role
        assert factory.FRAME_APP_TEXT.encode() not in blob, role
    (stored,) = _instances(asset)
    assert stored.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
    assert np.array_equal(stored.pixel_array, before)
    assert asset.report["details"]["codestream_segments_removed"] >= 4


def test_an_instance_that_fails_is_listed_and_the_rest_of_the_series_kept(
    tmp_path, uploader, django_capture_on_commit_callbacks
):
    series = factory.make_ct_series(3)
    files = [factory.write(ds, tmp_path / f"{n}.dcm") for n, ds in enumerate(series)]
    whole = files[1].read_bytes()
    files[1].write_bytes(whole[:-64])  # cut after grouping would have read it
    bundle = bundle_write(tmp_path / "b.zip", files, policy=DicomPolicy(scope="x"))

    asset = _asset_from_bundle(bundle, uploader, django_capture_on_commit_callbacks)

    assert asset.status == MediaAsset.Status.READY
    assert asset.metadata["frame_count"] == 2
    assert any(n.startswith("File 2:") for n in asset.report["notes"])
    assert asset.report["details"]["failed"]


def test_a_bundle_with_no_usable_file_is_rejected_with_the_reason(
    tmp_path, uploader, django_capture_on_commit_callbacks
):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\x00" * 128 + b"DICM" + b"\x01" * 40)
    bundle = bundle_write(tmp_path / "b.zip", [bad], policy=DicomPolicy(scope="x"))

    asset = _asset_from_bundle(bundle, uploader, django_capture_on_commit_callbacks)

    assert asset.status == MediaAsset.Status.REJECTED
    assert "No image in this series" in asset.status_reason
    assert asset.renditions == {}


def test_a_raw_dicom_file_not_bundled_by_the_uploader_is_rejected(
    tmp_path, uploader, django_capture_on_commit_callbacks
):
    raw = factory.write(factory.make_ct_series(1)[0], tmp_path / "raw.dcm")

    asset = _asset_from_bundle(raw, uploader, django_capture_on_commit_callbacks)

    assert asset.status == MediaAsset.Status.REJECTED
    assert "upload it again" in asset.status_reason


def _asset_from_bundle(path: Path, user, capture) -> MediaAsset:
    from media_handling.tasks import process_asset

    asset = MediaAsset(kind=MediaAsset.Kind.DICOM_SERIES, uploaded_by=user)
    asset.source_name = media_storage.save_path(
        media_storage.incoming_name(asset.key), path
    )
    asset.save()
    process_asset.enqueue(asset_id=asset.pk)
    asset.refresh_from_db()
    return asset


# --- frames for the viewer ------------------------------------------------------------


def test_frames_are_located_across_instances(upload):
    (asset,) = upload(*factory.make_ct_series(3))

    assert [series_frame_locate(asset, i) for i in range(3)] == [(0, 0), (1, 0), (2, 0)]
    with pytest.raises(IndexError):
        series_frame_locate(asset, 3)
    with pytest.raises(IndexError):
        series_frame_locate(asset, -1)


def test_window_presets_render_from_the_stored_instance_and_are_cached(
    upload, monkeypatch
):
    (asset,) = upload(*factory.make_ct_series(2, rows=24, cols=24))
    by_name = {p["name"]: p["id"] for p in asset.metadata["presets"]}

    lung = series_frame_png(asset, 1, by_name["Lung"])
    bone = series_frame_png(asset, 1, by_name["Bone"])
    monkeypatch.setattr(
        media_storage, "local_copy", lambda *a, **k: pytest.fail("not cached")
    )
    again = series_frame_png(asset, 1, by_name["Lung"])

    assert lung != bone
    assert again == lung
    assert Image.open(io.BytesIO(lung)).size == (24, 24)
    with pytest.raises(KeyError):
        series_frame_png(asset, 0, "nope")


# --- review: masks and release --------------------------------------------------------


def _pixels(asset: MediaAsset) -> np.ndarray:
    return _instances(asset)[0].pixel_array


def test_a_mask_on_one_frame_blacks_out_exactly_its_pixels_where_stored(
    upload, uploader, django_capture_on_commit_callbacks
):
    (asset,) = upload(factory.make_ultrasound(frames=3))
    before, png_before = _pixels(asset), [_png(asset, i) for i in range(3)]
    old_names = dict(asset.renditions)

    with django_capture_on_commit_callbacks(execute=True):
        asset = dicom_series_mask(
            asset=asset, by=uploader, rects=[[4, 2, 6, 5]], frame=1
        )

    after = _pixels(asset)
    inside = np.zeros(after.shape[1:3], bool)
    inside[2:7, 4:10] = True
    assert (after[1][inside] == 0).all()
    assert (after[1][~inside] == before[1][~inside]).all()
    assert (after[0] == before[0]).all() and (after[2] == before[2]).all()
    png = _png(asset, 1)
    assert (png[inside] == 0).all()
    assert (png[~inside] == png_before[1][~inside]).all()
    assert (_png(asset, 0) == png_before[0]).all()
    assert asset.status == MediaAsset.Status.NEEDS_REVIEW
    # Changed files get new names; the old ones are gone from storage.
    assert asset.renditions[frame_role(1)] != old_names[frame_role(1)]
    assert asset.renditions[frame_role(0)] == old_names[frame_role(0)]
    assert not media_storage.storage().exists(old_names[instance_role(0)])
    ds = _instances(asset)[0]
    assert ds.BurnedInAnnotation == "NO"
    codes = {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    assert "113101" in codes
    assert asset.metadata["masks"][0]["rects"] == [[4, 2, 6, 5]]


def test_a_mask_on_every_frame_covers_every_instance_and_is_clipped(
    upload, uploader, django_capture_on_commit_callbacks
):
    sc = [factory.make_rgb_secondary_capture(rows=20, cols=20) for _ in range(2)]
    sc[1].SeriesInstanceUID = sc[0].SeriesInstanceUID
    sc[1].StudyInstanceUID = sc[0].StudyInstanceUID
    sc[1].InstanceNumber = 2
    (asset,) = upload(*sc)
    assert asset.status == MediaAsset.Status.NEEDS_REVIEW

    with django_capture_on_commit_callbacks(execute=True):
        asset = dicom_series_mask(
            asset=asset, by=uploader, rects=[[15, -3, 50, 6]], frame=None
        )

    for ds in _instances(asset):
        arr = ds.pixel_array
        assert (arr[0:3, 15:20] == 0).all()
        assert (arr[3:, :] != 0).any()
    for index in range(2):
        assert (_png(asset, index)[0:3, 15:20] == 0).all()
    assert "every frame" in asset.report["blurred"][-1]


def test_only_the_uploader_masks_and_only_while_the_series_is_in_review(
    upload, uploader, make_clinician
):
    (us,) = upload(factory.make_ultrasound(frames=1))
    (ct,) = upload(*factory.make_ct_series(1))

    with pytest.raises(PermissionDenied):
        dicom_series_mask(asset=us, by=make_clinician(), rects=[[0, 0, 2, 2]])
    with pytest.raises(ServiceError, match="not waiting for review"):
        dicom_series_mask(asset=ct, by=uploader, rects=[[0, 0, 2, 2]])
    with pytest.raises(ServiceError, match="outside"):
        dicom_series_mask(asset=us, by=uploader, rects=[[500, 500, 2, 2]])
    with pytest.raises(ServiceError, match="no such frame"):
        dicom_series_mask(asset=us, by=uploader, rects=[[0, 0, 2, 2]], frame=5)
    with pytest.raises(ServiceError):
        dicom_series_mask(asset=us, by=uploader, rects=[["a", 0, 2, 2]])
    with pytest.raises(ServiceError):
        dicom_series_mask(asset=us, by=uploader, rects=[])


def test_masking_an_rle_series_keeps_it_rle_and_exact(upload, uploader):
    image = factory.make_monochrome8(rows=16, cols=16, modality="XA")
    image.BurnedInAnnotation = "YES"
    (asset,) = upload(factory.compress_rle(image))
    before = _pixels(asset)

    asset = dicom_series_mask(asset=asset, by=uploader, rects=[[0, 0, 4, 4]], frame=0)

    ds = _instances(asset)[0]
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    after = ds.pixel_array
    assert (after[:4, :4] == 0).all()
    assert (after[4:, :] == before[4:, :]).all() and (
        after[:, 4:] == before[:, 4:]
    ).all()


def test_release_makes_a_reviewed_series_ready_and_records_who(upload, uploader):
    (asset,) = upload(factory.make_ultrasound(frames=1))
    asset = dicom_series_mask(asset=asset, by=uploader, rects=[[0, 0, 3, 3]], frame=0)

    asset = dicom_series_release(asset=asset, by=uploader)

    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY
    assert asset.status_reason == ""
    assert asset.metadata["reviewed"]["by"] == uploader.pk
    assert "1 mask applied" in asset.report["notes"][-1]
    with pytest.raises(ServiceError):
        dicom_series_release(asset=asset, by=uploader)


def test_masking_every_frame_replaces_every_file_and_deletes_the_old_ones(
    upload, uploader, django_capture_on_commit_callbacks
):
    (asset,) = upload(factory.make_ultrasound(frames=2))
    old = set(asset.renditions.values())

    with django_capture_on_commit_callbacks(execute=True):
        asset = dicom_series_mask(asset=asset, by=uploader, rects=[[0, 0, 3, 3]])

    assert not old & set(asset.renditions.values())
    for name in old:
        assert not media_storage.storage().exists(name)
    for name in asset.renditions.values():
        assert media_storage.storage().exists(name)


def test_bundle_members_carry_no_uploaded_name(tmp_path):
    path = factory.write(factory.make_ct_series(1)[0], tmp_path / "Quixote.dcm")

    bundle = bundle_write(tmp_path / "b.zip", [path], policy=DicomPolicy(scope="s"))

    with zipfile.ZipFile(bundle) as archive:
        assert archive.namelist() == ["manifest.json", "00000.dcm"]
        assert b"Quixote" not in archive.read("manifest.json")
