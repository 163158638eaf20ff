"""Media services: face decisions and blurring, deletion, part-by-part uploads."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings
from PIL import Image

from media_handling import services, uploads
from media_handling import storage as media_storage
from media_handling.deid.video import display_frames
from media_handling.faces import detect_faces
from media_handling.models import MediaAsset, UploadSession
from media_handling.sniff import MediaError
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import accepted_upload, stored_names, write_face_video
from workspace.services import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db

LOCAL_SESSIONS = override_settings(MEDIA_DIRECT_UPLOADS=False)


@pytest.fixture
def face_photo(tmp_path, clinician, run):
    source = mf.write_jpeg(
        tmp_path / "f.jpg", displayed=mf.face_picture(), orientation=1
    )
    asset = run(
        services.asset_create_from_upload,
        upload=accepted_upload(source.read_bytes()),
        uploaded_by=clinician,
    )
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.NEEDS_REVIEW
    return asset


def _display(asset: MediaAsset) -> np.ndarray:
    with media_storage.local_copy(asset.renditions["display"]) as path:
        return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


# --- faces ----------------------------------------------------------------------------


def test_blurring_a_kept_face_changes_pixels_inside_it_and_not_outside(
    face_photo, clinician, run
):
    # Given the stored photo and its proposed face
    before = _display(face_photo)
    (face,) = face_photo.faces["proposed"]
    _, x, y, w, h = face["keyframes"][0]
    old_names = set(face_photo.renditions.values())

    # When the uploader keeps it
    run(services.asset_faces_decide, asset=face_photo, by=clinician, keep=[face["id"]])

    # Then the stored display is blurred inside the rect, and outside it only
    # JPEG re-encoding noise remains
    face_photo.refresh_from_db()
    after = _display(face_photo)
    inside = np.zeros(before.shape[:2], bool)
    inside[y : y + h, x : x + w] = True
    assert np.abs(after - before)[inside].mean() > 8
    # the blurred face has lost its detail
    assert after[inside].std() < before[inside].std() * 0.8
    outside = ~inside
    # keep clear of the border, where JPEG blocks straddle the edge of the rect
    outside[max(0, y - 8) : y + h + 8, max(0, x - 8) : x + w + 8] = False
    assert np.abs(after - before)[outside].mean() < 1.5
    # and the sharp renditions are gone from storage
    assert face_photo.status == MediaAsset.Status.READY
    assert not old_names & set(stored_names(face_photo))
    assert sorted(stored_names(face_photo)) == sorted(face_photo.renditions.values())
    assert face_photo.faces["proposed"] == []
    assert face_photo.report["blurred"] == ["1 region blurred in the photo."]


def test_choosing_nothing_marks_the_photo_reviewed_and_keeps_its_pixels(
    face_photo, clinician, run
):
    names = dict(face_photo.renditions)

    run(services.asset_faces_decide, asset=face_photo, by=clinician, keep=[])

    face_photo.refresh_from_db()
    assert face_photo.status == MediaAsset.Status.READY
    assert face_photo.renditions == names
    assert face_photo.report["blurred"] == ["Reviewed: nothing blurred."]


def test_drawn_regions_are_clipped_to_the_picture_and_tiny_ones_dropped(
    face_photo, clinician, run
):
    run(
        services.asset_faces_decide,
        asset=face_photo,
        by=clinician,
        drawn=[[-10, -10, 50, 40], [300, 200, 100, 100], [5, 5, 1, 1]],
    )

    face_photo.refresh_from_db()
    assert face_photo.faces["blurred"] == [
        [[0.0, 0, 0, 40, 30]],
        [[0.0, 300, 200, 20, 40]],
    ]
    assert face_photo.report["blurred"] == ["2 regions blurred in the photo."]


def test_only_the_uploader_decides_on_faces(face_photo, make_clinician):
    with pytest.raises(PermissionDenied):
        services.asset_faces_decide(asset=face_photo, by=make_clinician(), keep=["f1"])


@pytest.mark.parametrize(
    ("keep", "drawn", "message"),
    [
        (["f9"], [], "not in this media"),
        ([], [[1, 2, 3]], "x, y, width and height"),
        ([], [["a", 0, 1, 1]], "must be numbers"),
        ([], [[0, 0, 5, 5]] * 51, "At most 50"),
    ],
)
def test_malformed_decisions_are_refused(face_photo, clinician, keep, drawn, message):
    with pytest.raises(ServiceError, match=message):
        services.asset_faces_decide(
            asset=face_photo, by=clinician, keep=keep, drawn=drawn
        )


def test_a_kept_face_track_is_blurred_in_every_frame_it_covers(
    tmp_path, clinician, run
):
    # Given a video whose face was proposed as a track
    source = write_face_video(tmp_path / "face.mp4", seconds=2.0)
    asset = run(
        services.asset_create_from_upload,
        upload=accepted_upload(source.read_bytes()),
        uploaded_by=clinician,
    )
    asset.refresh_from_db()
    (face,) = asset.faces["proposed"]
    with media_storage.local_copy(asset.renditions["video"]) as path:
        sharp = [np.asarray(img, dtype=np.int16) for _, img in display_frames(path)]

    # When the uploader keeps it
    run(services.asset_faces_decide, asset=asset, by=clinician, keep=[face["id"]])

    # Then each frame is blurred where the face was, and the corner stays put
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY, asset.status_reason
    with media_storage.local_copy(asset.renditions["video"]) as path:
        blurred = [np.asarray(img, dtype=np.int16) for _, img in display_frames(path)]
    assert len(blurred) == len(sharp) == 20
    for index in (0, 10, 19):
        _, x, y, w, h = min(face["keyframes"], key=lambda k: abs(k[0] - index / 10))
        centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        assert np.abs(blurred[index] - sharp[index])[centre].mean() > 5
        assert np.abs(blurred[index] - sharp[index])[:20, -20:].mean() < 3
    assert "blurred in 20 of 20 frames" in asset.report["blurred"][0]


# --- deleting -------------------------------------------------------------------------


def test_deleting_an_asset_deletes_its_files(face_photo, run):
    assert stored_names(face_photo)

    run(services.asset_delete, asset=face_photo)

    assert not MediaAsset.objects.filter(pk=face_photo.pk).exists()
    assert stored_names(face_photo) == []


# --- sessions through the app ---------------------------------------------------------


def _noisy_jpeg(tmp_path) -> bytes:
    """A JPEG of about 20 KB with every planted identifier: several 4 KB parts."""
    noise = np.random.default_rng(7).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    path = mf.write_jpeg(tmp_path / "n.jpg", displayed=Image.fromarray(noise))
    return path.read_bytes()


def _send_parts(session, user, data: bytes) -> UploadSession:
    for n in range(1, session.part_count + 1):
        chunk = data[(n - 1) * session.part_size : n * session.part_size]
        session = services.upload_session_part(
            session=session,
            by=user,
            number=n,
            stream=io.BytesIO(chunk),
            length=len(chunk),
        )
    return session


@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_PART_BYTES=4096)
def test_a_file_sent_in_parts_becomes_an_asset_and_is_processed(
    tmp_path, clinician, run
):
    data = _noisy_jpeg(tmp_path)
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )
    assert session.mode == UploadSession.Mode.LOCAL
    assert session.part_count > 2

    session = _send_parts(session, clinician, data)
    asset = run(services.upload_session_complete, session=session, by=clinician)

    asset.refresh_from_db()
    session.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY
    assert (asset.size, asset.owner_group, asset.kind) == (len(data), "case.5", "image")
    assert session.status == UploadSession.Status.COMPLETE
    assert not uploads.session_path(session.token).exists()
    assert stored_names(asset) and all(
        not mf.planted_found(media_storage.read_bytes(n)) for n in stored_names(asset)
    )
    # Completing again (a retried request) gives the same asset
    assert services.upload_session_complete(session=session, by=clinician) == asset


@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_PART_BYTES=4096)
def test_parts_may_arrive_in_any_order_but_with_their_exact_length(tmp_path, clinician):
    data = _noisy_jpeg(tmp_path)
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )
    assert session.part_count >= 3

    with pytest.raises(MediaError, match="must hold 4096 bytes"):
        services.upload_session_part(
            session=session, by=clinician, number=1, stream=io.BytesIO(data), length=100
        )

    def send(number: int) -> None:
        chunk = data[(number - 1) * 4096 : number * 4096]
        services.upload_session_part(
            session=session,
            by=clinician,
            number=number,
            stream=io.BytesIO(chunk),
            length=len(chunk),
        )

    for number in range(session.part_count, 1, -1):
        send(number)
    with pytest.raises(services.UploadIncomplete, match="incomplete"):
        services.upload_session_complete(session=session, by=clinician)
    session.refresh_from_db()
    assert session.status == UploadSession.Status.OPEN
    assert session.parts_done == list(range(2, session.part_count + 1))

    send(1)
    send(2)  # a retried part replaces itself
    asset = services.upload_session_complete(session=session, by=clinician)

    with media_storage.storage().open(asset.source_name, "rb") as stored:
        assert stored.read() == data


@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_PART_BYTES=4096)
def test_a_first_part_of_an_unsupported_type_ends_the_session(clinician):
    data = b"just some text about the patient\n" * 300
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )

    with pytest.raises(MediaError, match="Unrecognised file type"):
        services.upload_session_part(
            session=session,
            by=clinician,
            number=1,
            stream=io.BytesIO(data[:4096]),
            length=4096,
        )

    session.refresh_from_db()
    assert session.status == UploadSession.Status.ABORTED
    assert not uploads.session_path(session.token).exists()


@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_PART_BYTES=4096, MEDIA_MAX_VIDEO_BYTES=10_000)
def test_a_declared_size_over_the_cap_for_the_sniffed_kind_ends_the_session(
    tmp_path, clinician
):
    data = mf.write_phone_mp4(tmp_path / "v.mp4").read_bytes() + b"\x00" * 20_000
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )

    with pytest.raises(MediaError, match=r"Videos may be at most 9\.8 KB"):
        _send_parts(session, clinician, data)


def test_a_session_larger_than_every_cap_is_refused_at_once(clinician):
    with pytest.raises(MediaError, match="too large"):
        services.upload_session_start(
            uploaded_by=clinician, owner_group="case.5", size=10 * 1024**4
        )
    with pytest.raises(MediaError, match="empty"):
        services.upload_session_start(
            uploaded_by=clinician, owner_group="case.5", size=0
        )


@LOCAL_SESSIONS
def test_only_the_uploader_may_send_or_cancel_parts(clinician, make_clinician):
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=10
    )
    other = make_clinician()

    with pytest.raises(PermissionDenied):
        services.upload_session_part(
            session=session, by=other, number=1, stream=io.BytesIO(b"x" * 10), length=10
        )
    with pytest.raises(PermissionDenied):
        services.upload_session_abort(session=session, by=other)


@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_PART_BYTES=4096)
def test_cancelling_and_expiring_sessions_free_their_bytes(tmp_path, clinician):
    data = _noisy_jpeg(tmp_path)
    first = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )
    second = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=len(data)
    )
    for session in (first, second):
        services.upload_session_part(
            session=session,
            by=clinician,
            number=1,
            stream=io.BytesIO(data[:4096]),
            length=4096,
        )

    services.upload_session_abort(session=first, by=clinician)
    with override_settings(MEDIA_UPLOAD_SESSION_TTL_SECONDS=0):
        expired = services.upload_sessions_expire()

    assert expired == 1
    for session in (first, second):
        session.refresh_from_db()
        assert session.status == UploadSession.Status.ABORTED
        assert not uploads.session_path(session.token).exists()


def test_face_detection_is_safe_from_several_threads_at_once():
    # Two uploads processed at once (two request threads with the immediate
    # task backend, or a threaded worker) share the detector.
    image = mf.face_picture(size=(640, 480), face=(200, 120, 200, 200))
    expected = detect_faces(image)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detect_faces(image), range(24)))

    assert len(expected) == 1
    assert all(result == expected for result in results)


@LOCAL_SESSIONS
def test_the_cleanup_command_expires_sessions_and_requeues_stuck_assets(
    tmp_path, clinician, django_capture_on_commit_callbacks
):
    # Given an abandoned session, and an upload whose worker died mid-run
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.5", size=10
    )
    with django_capture_on_commit_callbacks(execute=False):
        asset = services.asset_create_from_upload(
            upload=accepted_upload(mf.write_jpeg(tmp_path / "a.jpg").read_bytes()),
            uploaded_by=clinician,
        )
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=MediaAsset.Status.PROCESSING, step=MediaAsset.Step.DEIDENTIFY
    )
    out = io.StringIO()

    # When the cleanup runs
    with (
        override_settings(MEDIA_UPLOAD_SESSION_TTL_SECONDS=0),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("media_cleanup", stale_minutes=0, stdout=out)

    # Then the session is gone and the asset was processed after all
    session.refresh_from_db()
    asset.refresh_from_db()
    assert out.getvalue().strip() == (
        "1 upload session(s) expired, 1 asset(s) requeued."
    )
    assert session.status == UploadSession.Status.ABORTED
    assert asset.status == MediaAsset.Status.READY
    assert sorted(stored_names(asset)) == sorted(asset.renditions.values())


def test_staff_see_assets_in_the_admin_and_deleting_one_deletes_its_files(
    face_photo, client, django_user_model, django_capture_on_commit_callbacks
):
    staff = django_user_model.objects.create_superuser("root", "r@example.org", "pw")
    client.force_login(staff)
    listing = client.get("/admin/media_handling/mediaasset/")
    assert listing.status_code == 200
    assert face_photo.key.hex[:8] in listing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/media_handling/mediaasset/{face_photo.pk}/delete/", {"post": "yes"}
        )

    assert not MediaAsset.objects.filter(pk=face_photo.pk).exists()
    assert stored_names(face_photo) == []
