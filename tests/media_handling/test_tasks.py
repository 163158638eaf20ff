"""process_asset: de-identifies what was uploaded, keeps only clean renditions,
deletes the original whatever happens, is idempotent and race-safe, and
announces every state change to the asset's group."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from media_handling import pipeline, services
from media_handling import storage as media_storage
from media_handling.deid.video import mp4_metadata_problems
from media_handling.models import MediaAsset
from media_handling.tasks import process_asset
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import (
    accepted_upload,
    stored_bytes,
    stored_names,
    write_face_video,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def frames(monkeypatch):
    """Every payload broadcast after commit, in order."""
    sent = []
    monkeypatch.setattr(
        "workspace.events.send_now",
        lambda group, payload: sent.append((group, payload)),
    )
    return sent


@pytest.fixture
def upload_asset(clinician, django_capture_on_commit_callbacks):
    """Upload bytes as ``clinician`` and run processing as the task would."""

    def upload(data: bytes, name: str = "file", group: str = "case.7") -> MediaAsset:
        with django_capture_on_commit_callbacks(execute=True):
            asset = services.asset_create_from_upload(
                upload=accepted_upload(data, name),
                uploaded_by=clinician,
                owner_group=group,
            )
        asset.refresh_from_db()
        return asset

    return upload


def _stored_planted(asset: MediaAsset) -> dict[str, list[str]]:
    return {
        name: found
        for name, data in stored_bytes(asset).items()
        if (found := mf.planted_found(data))
    }


# --- photos ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [mf.write_jpeg, mf.write_png, mf.write_webp, mf.write_heic],
    ids=["jpeg", "png", "webp", "heic"],
)
def test_no_planted_identifier_survives_in_any_stored_byte_of_a_photo(
    tmp_path, upload_asset, write
):
    source = write(tmp_path / "source").read_bytes()
    assert mf.planted_found(source)

    asset = upload_asset(source)

    assert asset.status == MediaAsset.Status.READY
    assert set(asset.renditions) == {"thumb", "display"}
    assert _stored_planted(asset) == {}
    # and only the renditions are stored: the upload itself is gone
    assert sorted(stored_names(asset)) == sorted(asset.renditions.values())
    assert asset.source_name == ""


def test_a_photo_is_stored_upright_with_its_size_digest_and_report(
    tmp_path, upload_asset
):
    source = mf.write_jpeg(tmp_path / "s.jpg", orientation=6).read_bytes()

    asset = upload_asset(source)

    with default_storage.open(asset.renditions["display"]) as fh:
        display = Image.open(fh)
        display.load()
    assert display.size == (48, 64)
    assert display.getpixel((2, 2))[0] > 200  # red quadrant top-left once upright
    assert not display.getexif()
    assert asset.metadata == {
        "width": 48,
        "height": 64,
        "source_width": 48,
        "source_height": 64,
    }
    assert asset.size == len(source)
    assert len(asset.sha256) == 64
    assert asset.mime == "image/jpeg"
    removed = " ".join(asset.report["removed"])
    assert "GPS location" in removed and "XMP metadata" in removed
    assert "Turned upright (EXIF orientation 6)." in asset.report["notes"]


def test_a_photo_with_a_face_needs_review_with_the_face_proposed(
    tmp_path, upload_asset
):
    source = mf.write_jpeg(
        tmp_path / "f.jpg", displayed=mf.face_picture(), orientation=1
    ).read_bytes()

    asset = upload_asset(source)

    assert asset.status == MediaAsset.Status.NEEDS_REVIEW
    assert asset.status_reason == (
        "Found a possible face: choose what to blur before releasing."
    )
    (face,) = asset.faces["proposed"]
    _, x, y, w, h = face["keyframes"][0]
    assert x < 160 < x + w and y < 110 < y + h  # around the drawn face's centre
    assert asset.faces["frame"] == {"width": 320, "height": 240}


# --- videos ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [mf.write_phone_mp4, mf.write_phone_mov, mf.write_webm],
    ids=["mp4", "mov", "webm"],
)
def test_no_planted_identifier_survives_in_any_stored_byte_of_a_video(
    tmp_path, upload_asset, write
):
    source = write(tmp_path / "source").read_bytes()
    assert len(mf.planted_found(source, mf.VIDEO_PLANTED)) >= 4

    asset = upload_asset(source)

    assert asset.status == MediaAsset.Status.READY, asset.status_reason
    assert set(asset.renditions) == {"video", "poster", "thumb"}
    assert _stored_planted(asset) == {}
    assert sorted(stored_names(asset)) == sorted(asset.renditions.values())
    with media_storage.local_copy(asset.renditions["video"]) as video:
        assert mp4_metadata_problems(video) == []
    assert asset.metadata["duration"] == pytest.approx(1.0, abs=0.1)
    assert (asset.metadata["width"], asset.metadata["height"]) == (64, 48)


def test_a_video_with_a_face_proposes_a_track_across_its_frames(tmp_path, upload_asset):
    source = write_face_video(tmp_path / "face.mp4").read_bytes()

    asset = upload_asset(source)

    assert asset.status == MediaAsset.Status.NEEDS_REVIEW
    (face,) = asset.faces["proposed"]
    times = [k[0] for k in face["keyframes"]]
    assert times == sorted(times) and len(times) >= 2
    assert asset.faces["frame"] == {"width": 320, "height": 240}


# --- refusals -------------------------------------------------------------------------


def _corrupt_jpeg(path):
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x13" * 5000)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda p: mf.truncated_copy(mf.write_jpeg(p / "a.jpg"), p / "t.jpg", 0.6),
            "The image could not be read",
        ),
        (lambda p: mf.write_png_bomb(p / "bomb.png"), "Image too large"),
        (
            lambda p: mf.truncated_copy(
                mf.write_phone_mp4(p / "a.mp4"), p / "t.mp4", 0.5
            ),
            "The video",
        ),
        (lambda p: _corrupt_jpeg(p / "c.jpg"), "The image could not be read"),
    ],
    ids=["truncated-jpeg", "decompression-bomb", "truncated-mp4", "corrupt-jpeg"],
)
def test_a_damaged_or_dangerous_file_is_rejected_with_its_reason_and_nothing_kept(
    tmp_path, upload_asset, make, reason
):
    source = make(tmp_path).read_bytes()

    asset = upload_asset(source)

    assert asset.status == MediaAsset.Status.REJECTED
    assert asset.status_reason.startswith(reason)
    assert asset.renditions == {}
    assert stored_names(asset) == []


def test_an_unexpected_failure_rejects_the_asset_and_still_deletes_the_upload(
    tmp_path, upload_asset, monkeypatch
):
    def explode(source, workdir):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(pipeline.PROCESSORS, "image", explode)

    asset = upload_asset(mf.write_jpeg(tmp_path / "a.jpg").read_bytes())

    assert asset.status == MediaAsset.Status.REJECTED
    assert asset.status_reason == services.SERVER_FAILURE
    assert "fire" not in asset.status_reason
    assert stored_names(asset) == []


# --- idempotency, races, events -------------------------------------------------------


def test_processing_again_changes_nothing(tmp_path, upload_asset):
    asset = upload_asset(mf.write_jpeg(tmp_path / "a.jpg").read_bytes())
    before = (asset.status, asset.renditions, asset.updated)

    result = process_asset.enqueue(asset_id=asset.pk)

    asset.refresh_from_db()
    assert result.return_value == "ready"
    assert (asset.status, asset.renditions, asset.updated) == before
    assert sorted(stored_names(asset)) == sorted(asset.renditions.values())


def test_a_run_that_lost_the_race_discards_its_output(
    tmp_path, clinician, monkeypatch, django_capture_on_commit_callbacks
):
    # Given an uploaded asset whose first run is overtaken by a second run
    # that claims it while the first is still working
    with django_capture_on_commit_callbacks(execute=False):
        asset = services.asset_create_from_upload(
            upload=accepted_upload(mf.write_jpeg(tmp_path / "a.jpg").read_bytes()),
            uploaded_by=clinician,
        )
    real = pipeline.PROCESSORS["image"]
    overtaken = []
    runs = []

    def slow_first_run(source, workdir):
        runs.append(source)
        result = real(source, workdir)
        if len(runs) == 1:
            overtaken.append(services.asset_process(asset_id=asset.pk))
        return result

    monkeypatch.setitem(pipeline.PROCESSORS, "image", slow_first_run)

    # When the first run finishes after the second
    with django_capture_on_commit_callbacks(execute=True):
        first = services.asset_process(asset_id=asset.pk)

    # Then the second run's output is what is stored, and nothing else
    asset.refresh_from_db()
    assert overtaken == ["ready"]
    assert first == "ready"
    assert len(runs) == 2
    assert sorted(stored_names(asset)) == sorted(asset.renditions.values())
    assert len(stored_names(asset)) == 2


def test_every_state_change_is_announced_to_the_owner_group(
    tmp_path, upload_asset, frames
):
    asset = upload_asset(
        mf.write_jpeg(tmp_path / "a.jpg").read_bytes(), group="case.42"
    )

    assert [(g, p["type"], p["asset"]["status"]) for g, p in frames] == [
        ("case.42", "media.updated", "uploaded"),
        ("case.42", "media.updated", "processing"),
        ("case.42", "media.updated", "ready"),
    ]
    assert frames[-1][1]["asset"] == asset.summary()


def test_a_stuck_asset_is_queued_again(
    tmp_path, clinician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        asset = services.asset_create_from_upload(
            upload=accepted_upload(mf.write_jpeg(tmp_path / "a.jpg").read_bytes()),
            uploaded_by=clinician,
        )
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=MediaAsset.Status.PROCESSING, step="deidentify"
    )

    from datetime import timedelta

    count = services.assets_requeue_stale(older_than=timedelta(0))

    asset.refresh_from_db()
    assert count == 1
    assert asset.status == MediaAsset.Status.READY
    assert asset.source_name == ""
