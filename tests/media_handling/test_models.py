"""MediaAsset and UploadSession: what they expose and compute."""

from __future__ import annotations

import pytest

from media_handling.models import MediaAsset, UploadSession


@pytest.mark.django_db
def test_a_status_frame_carries_ids_and_states_but_nothing_shown_to_the_uploader(
    clinician,
):
    asset = MediaAsset.objects.create(
        kind=MediaAsset.Kind.IMAGE,
        status=MediaAsset.Status.REJECTED,
        status_reason="The image could not be read.",
        uploaded_by=clinician,
        owner_group="case.3",
        renditions={"thumb": "media/x/thumb.jpg"},
    )

    summary = asset.summary()

    assert set(summary) == {"id", "kind", "status", "version"}
    assert summary["status"] == "rejected"
    assert "could not be read" not in str(summary)


@pytest.mark.django_db
def test_the_version_changes_with_the_status(clinician):
    asset = MediaAsset.objects.create(kind=MediaAsset.Kind.VIDEO, uploaded_by=clinician)
    before = asset.version

    asset.status = MediaAsset.Status.PROCESSING
    asset.save()

    assert asset.version != before
    assert asset.version.startswith("processing-")


def test_rendition_names_ignore_roles_that_are_not_stored_files():
    asset = MediaAsset(renditions={"thumb": "media/a/thumb.jpg", "frames": ["x"]})

    assert asset.rendition_name("thumb") == "media/a/thumb.jpg"
    assert asset.rendition_name("frames") is None
    assert asset.rendition_name("video") is None


def test_pending_means_the_task_still_has_work():
    pending = {s for s in MediaAsset.Status if MediaAsset(status=s).is_pending}

    assert pending == {MediaAsset.Status.UPLOADED, MediaAsset.Status.PROCESSING}


@pytest.mark.parametrize(
    ("size", "part_size", "count", "last"),
    [(10, 4, 3, 2), (8, 4, 2, 4), (3, 4, 1, 3)],
)
def test_a_session_splits_the_file_into_parts_with_a_shorter_last_one(
    size, part_size, count, last
):
    session = UploadSession(size=size, part_size=part_size)

    assert session.part_count == count
    assert session.part_length(count) == last
    assert all(session.part_length(n) == part_size for n in range(1, count))
