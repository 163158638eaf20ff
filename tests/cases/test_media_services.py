"""Case media services: who may add, review, release and remove; what each
writes to the audit trail; which frames the case group hears."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseAsset
from cases.services import media as services
from media_handling.models import MediaAsset
from media_handling.sniff import MediaError
from tests.fixtures.media_uploads import (
    accepted_upload,
    photo_bytes,
    reviewed,
    stored_names,
)
from workspace.models import AuditEvent
from workspace.services import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


@pytest.fixture
def case(cast):
    return cast.case(visibility=Case.Visibility.COMMUNITY)


@pytest.fixture
def add(case, on_commit, tmp_path):
    """Upload a photo to the case as ``user``; processing runs on commit."""

    def upload(user, *, face: bool = False) -> CaseAsset:
        item = on_commit(
            services.case_media_upload,
            case=case,
            by=user,
            upload=accepted_upload(photo_bytes(tmp_path, face=face), "p.jpg"),
        )
        item.refresh_from_db()
        item.asset.refresh_from_db()
        return item

    return upload


def _visible(case, user) -> list[int]:
    return list(
        CaseAsset.objects.filter(case=case)
        .visible_to(user)
        .values_list("pk", flat=True)
    )


@pytest.mark.parametrize("role", ["owner", "collaborator"])
def test_editors_add_photos_that_are_processed_and_audited(cast, case, add, role):
    item = add(cast.users[role])

    # No face found, and still a person checks it before anyone else sees it.
    assert item.asset.status == MediaAsset.Status.NEEDS_REVIEW
    assert not item.asset.faces["proposed"]
    assert item.asset.owner_group == f"case.{case.pk}"
    assert item.added_by == cast.users[role]
    event = AuditEvent.objects.get(verb="media.upload")
    assert (event.actor, event.case_id, event.data["kind"]) == (
        cast.users[role],
        case.pk,
        "image",
    )


@pytest.mark.parametrize("role", ["consultant", "viewer", "member", "outsider"])
def test_those_who_cannot_edit_the_case_cannot_add_media(cast, case, add, role):
    with pytest.raises(PermissionDenied):
        add(cast.users[role])
    assert not MediaAsset.objects.exists()


def test_nothing_is_added_to_an_archived_case(cast, add, case):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.ARCHIVED)
    case.refresh_from_db()

    with pytest.raises(PermissionDenied, match="archived"):
        add(cast.owner)


def test_a_refused_upload_raises_its_reason_and_stores_nothing(cast, case):
    upload = accepted_upload(b"plain text, not a photo " * 300, "lying.jpg")

    with pytest.raises(MediaError, match="Unrecognised file type"):
        services.case_media_upload(case=case, by=cast.owner, upload=upload)

    assert not CaseAsset.objects.exists()


def test_only_the_uploader_sees_an_item_until_it_is_released(cast, case, add):
    item = add(cast.collaborator)

    assert _visible(case, cast.collaborator) == [item.pk]
    for role in ("owner", "consultant", "viewer", "outsider"):
        assert _visible(case, cast.users[role]) == [], role

    with pytest.raises(ServiceError, match="Review it for faces"):
        services.case_media_release(item=item, by=cast.collaborator)
    reviewed(item, cast.collaborator)
    for role in ("owner", "consultant", "viewer", "outsider"):
        assert _visible(case, cast.users[role]) == [], role
    services.case_media_release(item=item, by=cast.collaborator)

    for role in ("owner", "consultant", "viewer", "outsider"):
        assert _visible(case, cast.users[role]) == [item.pk], role


def test_a_photo_with_a_face_cannot_be_released_before_its_review(cast, case, add):
    item = add(cast.owner, face=True)
    assert item.asset.status == MediaAsset.Status.NEEDS_REVIEW

    with pytest.raises(ServiceError, match="Review it for faces"):
        services.case_media_release(item=item, by=cast.owner)


def test_confirming_faces_blurs_then_releases_to_the_case(cast, case, add, on_commit):
    item = add(cast.owner, face=True)
    (face,) = item.asset.faces["proposed"]

    on_commit(
        services.case_media_faces_confirm,
        item=item,
        by=cast.owner,
        keep=[face["id"]],
        drawn=[[0, 0, 30, 30]],
    )

    item.refresh_from_db()
    assert item.asset.status == MediaAsset.Status.READY
    assert item.released_at is not None
    assert item.asset.report["blurred"] == ["2 regions blurred in the photo."]
    assert _visible(case, cast.viewer) == [item.pk]
    event = AuditEvent.objects.get(verb="media.faces")
    assert event.data == {"faces": 1, "drawn": 1, "release": True}


def test_faces_can_be_confirmed_without_releasing(cast, case, add, on_commit):
    item = add(cast.owner, face=True)

    on_commit(
        services.case_media_faces_confirm, item=item, by=cast.owner, release=False
    )

    item.refresh_from_db()
    assert item.asset.status == MediaAsset.Status.READY
    assert item.released_at is None
    assert _visible(case, cast.viewer) == []


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_nobody_but_the_uploader_reviews_or_releases(cast, case, add, role):
    item = add(cast.collaborator, face=True)

    with pytest.raises(PermissionDenied):
        services.case_media_faces_confirm(item=item, by=cast.users[role])
    with pytest.raises(PermissionDenied):
        services.case_media_release(item=item, by=cast.users[role])
    with pytest.raises(PermissionDenied):
        services.case_media_caption(item=item, by=cast.users[role], caption="x")


def test_release_all_releases_only_ones_own_ready_items(cast, case, add):
    mine = reviewed(add(cast.owner), cast.owner)
    unreviewed = add(cast.owner)
    faces = add(cast.owner, face=True)
    theirs = reviewed(add(cast.collaborator), cast.collaborator)

    count = services.case_media_release_all(case=case, by=cast.owner)

    assert count == 1
    assert _visible(case, cast.viewer) == [mine.pk]
    assert faces.pk not in _visible(case, cast.viewer)
    assert unreviewed.pk not in _visible(case, cast.viewer)
    assert theirs.pk not in _visible(case, cast.viewer)


def test_the_uploader_or_the_case_owner_removes_an_item_and_its_files_go(
    cast, case, add, on_commit
):
    first = add(cast.collaborator)
    second = add(cast.collaborator)
    asset = second.asset

    with pytest.raises(PermissionDenied):
        services.case_media_remove(item=first, by=cast.consultant)
    on_commit(services.case_media_remove, item=first, by=cast.collaborator)
    on_commit(services.case_media_remove, item=second, by=cast.owner)

    assert not CaseAsset.objects.exists()
    assert not MediaAsset.objects.exists()
    assert stored_names(asset) == []
    assert AuditEvent.objects.filter(verb="media.remove").count() == 2


def test_captions_are_trimmed_and_limited(cast, case, add):
    item = add(cast.owner)

    services.case_media_caption(item=item, by=cast.owner, caption="  Left forearm  ")
    with pytest.raises(ServiceError, match="at most 300"):
        services.case_media_caption(item=item, by=cast.owner, caption="x" * 301)

    item.refresh_from_db()
    assert item.caption == "Left forearm"


def test_the_case_group_hears_each_step_with_ids_and_states_only(
    cast, case, case_events, tmp_path
):
    def upload():
        services.case_media_upload(
            case=case,
            by=cast.owner,
            upload=accepted_upload(photo_bytes(tmp_path), "p.jpg"),
        )

    frames = case_events(case, upload)

    assert [f["type"] for f in frames] == ["media.updated"] * 3
    assert [f["asset"]["status"] for f in frames] == [
        "uploaded",
        "processing",
        "needs_review",
    ]
    assert set(frames[-1]["asset"]) == {"id", "kind", "status", "version"}

    item = reviewed(CaseAsset.objects.get(), cast.owner)
    released = case_events(
        case, lambda: services.case_media_release(item=item, by=cast.owner)
    )
    assert [(f["type"], f["asset"]["id"]) for f in released] == [
        ("media.updated", item.asset_id)
    ]
