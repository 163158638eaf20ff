"""Deriving an asset from another one's master (a patient's file becoming a
case finding): faces found are blurred in the same pass, a video is
transcoded once, and the caller's continuation runs once when it is done."""

from __future__ import annotations

import numpy as np
import pytest
from django.tasks import task

from media_handling import pipeline, services
from media_handling import storage as media_storage
from media_handling.deid.video import display_frames
from media_handling.models import MediaAsset
from media_handling.sniff import MediaError
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import accepted_upload, write_face_video

pytestmark = pytest.mark.django_db

CONTINUED: list[dict] = []


@task
def record_continuation(asset_id: int, **kwargs) -> None:
    """The caller's continuation in these tests: remembers what it was given."""
    CONTINUED.append({"asset_id": asset_id, **kwargs})


THEN = services.Continuation(
    task=f"{__name__}.record_continuation", kwargs={"finding_id": 7}
)


@pytest.fixture(autouse=True)
def _fresh_record():
    CONTINUED.clear()


@pytest.fixture
def transcodes(monkeypatch):
    """Every clean_video call the pipeline makes, by source file name."""
    calls: list[str] = []
    real = pipeline.clean_video

    def counted(src, dst, **kwargs):
        calls.append(str(src))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(pipeline, "clean_video", counted)
    return calls


def _frames(name: str) -> list[np.ndarray]:
    with media_storage.local_copy(name) as path:
        return [np.asarray(image, dtype=np.int16) for _, image in display_frames(path)]


@pytest.fixture
def face_video(tmp_path, clinician, run) -> MediaAsset:
    source = write_face_video(tmp_path / "face.mp4", seconds=2.0)
    asset = run(
        services.asset_create_from_upload,
        upload=accepted_upload(source.read_bytes()),
        uploaded_by=clinician,
    )
    asset.refresh_from_db()
    assert asset.faces["proposed"], "the fixture video must show a face"
    return asset


def test_a_derived_video_has_its_faces_blurred_in_one_transcode(
    face_video, make_clinician, run, transcodes
):
    colleague = make_clinician("dr_copy")
    sharp = _frames(face_video.renditions["video"])
    (face,) = face_video.faces["proposed"]

    copy = run(
        services.asset_derive,
        source=face_video,
        uploaded_by=colleague,
        owner_group="case.1",
        blur=True,
        then=THEN,
    )

    copy.refresh_from_db()
    assert len(transcodes) == 1
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert copy.status_reason == services.REVIEW_AFTER_BLUR
    assert copy.faces["proposed"] == [] and len(copy.faces["blurred"]) == 1
    assert copy.uploaded_by == colleague and copy.owner_group == "case.1"
    assert "blurred in" in copy.report["blurred"][0]
    blurred = _frames(copy.renditions["video"])
    assert len(blurred) == len(sharp)
    for index in (0, 10, len(sharp) - 1):
        _, x, y, w, h = min(face["keyframes"], key=lambda k: abs(k[0] - index / 10))
        centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        assert np.abs(blurred[index] - sharp[index])[centre].mean() > 5
        assert np.abs(blurred[index] - sharp[index])[:20, -20:].mean() < 3
    # The source is untouched and still proposes its face.
    face_video.refresh_from_db()
    assert face_video.faces["proposed"] == [face]
    assert [{"asset_id": copy.pk, "finding_id": 7}] == CONTINUED


def test_without_blur_the_derived_video_proposes_its_faces_for_review(
    face_video, clinician, run, transcodes
):
    copy = run(
        services.asset_derive,
        source=face_video,
        uploaded_by=clinician,
        owner_group="",
        blur=False,
    )

    copy.refresh_from_db()
    assert len(transcodes) == 1
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert len(copy.faces["proposed"]) == 1 and copy.faces["blurred"] == []
    assert copy.faces["review_required"] is True
    assert CONTINUED == []


def test_a_derived_photo_is_blurred_where_the_face_was(tmp_path, clinician, run):
    source = mf.write_jpeg(
        tmp_path / "f.jpg", displayed=mf.face_picture(), orientation=1
    )
    photo = run(
        services.asset_create_from_upload,
        upload=accepted_upload(source.read_bytes()),
        uploaded_by=clinician,
    )
    photo.refresh_from_db()
    (face,) = photo.faces["proposed"]

    copy = run(
        services.asset_derive,
        source=photo,
        uploaded_by=clinician,
        owner_group="",
        blur=True,
        then=THEN,
    )

    copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert copy.faces["proposed"] == [] and copy.faces["blurred"]

    def pixels(asset):
        with media_storage.local_copy(asset.renditions["display"]) as path:
            return np.asarray(mf.Image.open(path).convert("RGB"), dtype=np.int16)

    _, x, y, w, h = face["keyframes"][0]
    before, after = pixels(photo), pixels(copy)
    centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    assert np.abs(after - before)[centre].mean() > 5
    assert [{"asset_id": copy.pk, "finding_id": 7}] == CONTINUED


def test_the_continuation_runs_once_even_when_processing_runs_again(
    face_video, clinician, run
):
    copy = run(
        services.asset_derive,
        source=face_video,
        uploaded_by=clinician,
        owner_group="",
        blur=True,
        then=THEN,
    )

    again = run(services.asset_process, asset_id=copy.pk)

    assert again == MediaAsset.Status.NEEDS_REVIEW
    assert [{"asset_id": copy.pk, "finding_id": 7}] == CONTINUED
    copy.refresh_from_db()
    assert copy.on_processed == {}


def test_a_derivation_that_fails_still_tells_the_caller(
    face_video, clinician, run, monkeypatch
):
    def broken(*args, **kwargs):
        raise MediaError("The video could not be decoded.")

    monkeypatch.setitem(pipeline.PROCESSORS, "video", broken)

    copy = run(
        services.asset_derive,
        source=face_video,
        uploaded_by=clinician,
        owner_group="",
        blur=True,
        then=THEN,
    )

    copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.REJECTED
    assert copy.status_reason == "The video could not be decoded."
    assert [{"asset_id": copy.pk, "finding_id": 7}] == CONTINUED


def test_a_continuation_that_names_no_task_is_refused_before_anything_is_stored(
    face_video, clinician
):
    before = MediaAsset.objects.count()

    with pytest.raises(ImportError):
        services.asset_derive(
            source=face_video,
            uploaded_by=clinician,
            owner_group="",
            blur=True,
            then=services.Continuation(task="media_handling.tasks.no_such_task"),
        )

    assert MediaAsset.objects.count() == before


def test_only_a_processed_photo_or_video_can_be_derived(clinician, run, tmp_path):
    pending = MediaAsset.objects.create(
        kind=MediaAsset.Kind.VIDEO, uploaded_by=clinician, source_name="incoming/x"
    )

    with pytest.raises(MediaError, match="no picture"):
        services.asset_derive(
            source=pending, uploaded_by=clinician, owner_group="", blur=True
        )
