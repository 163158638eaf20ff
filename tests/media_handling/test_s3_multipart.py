"""Presigned multipart uploads against S3 (moto in scale mode): the "browser"
PUTs parts straight to the bucket, the server verifies and processes."""

from __future__ import annotations

import urllib.error
import urllib.request

import numpy as np
import pytest
from botocore.exceptions import ClientError
from django.test import override_settings
from PIL import Image

from media_handling import s3_multipart, services
from media_handling import storage as media_storage
from media_handling.models import MediaAsset, UploadSession
from media_handling.sniff import MediaError
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import stored_names
from workspace.services import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
PLANTED_TRAILER = b"TRAILER Patient John Planted, MRN 99887766 "


@pytest.fixture
def s3(requires_s3):
    with override_settings(MEDIA_UPLOAD_PART_BYTES=5 * MiB, MEDIA_DIRECT_UPLOADS=True):
        yield


def _big_jpeg(tmp_path) -> bytes:
    """A photo with planted metadata and, after its end marker, 5.5 MB of
    trailing data that names the patient: two parts, and junk that must go."""
    noise = np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    photo = mf.write_jpeg(tmp_path / "big.jpg", displayed=Image.fromarray(noise))
    trailer = PLANTED_TRAILER * (int(5.5 * MiB) // len(PLANTED_TRAILER))
    return photo.read_bytes() + trailer


def _put(url: str, data: bytes) -> int:
    """What the browser does: a plain PUT of the part's bytes, no cookies."""
    request = urllib.request.Request(  # noqa: S310 (a presigned moto URL)
        url,
        data=data,
        method="PUT",
        # urllib would call it a form otherwise, and moto would parse it as one
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


def _send(session: UploadSession, user, data: bytes, numbers=None) -> None:
    numbers = numbers or list(range(1, session.part_count + 1))
    urls = services.upload_session_sign(session=session, by=user, numbers=numbers)
    for n in numbers:
        part = data[(n - 1) * session.part_size : n * session.part_size]
        assert _put(urls[n], part) == 200


def test_parts_go_straight_to_s3_and_the_object_becomes_a_clean_asset(
    s3, tmp_path, clinician, django_capture_on_commit_callbacks
):
    # Given a 5.5 MB photo and an S3 session for it
    data = _big_jpeg(tmp_path)
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=len(data)
    )
    assert session.mode == UploadSession.Mode.S3
    assert session.part_count == 2

    # When the browser PUTs both parts to their presigned URLs and the app
    # completes the upload
    _send(session, clinician, data)
    with django_capture_on_commit_callbacks(execute=True):
        asset = services.upload_session_complete(session=session, by=clinician)

    # Then the asset was made from the object and processed, and only clean
    # renditions remain in the bucket
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY, asset.status_reason
    assert asset.size == len(data)
    assert not media_storage.storage().exists(session.object_name)
    names = stored_names(asset)
    assert sorted(names) == sorted(asset.renditions.values())
    for name in names:
        stored = media_storage.read_bytes(name)
        assert mf.planted_found(stored) == []
        assert b"Planted" not in stored


def test_a_presigned_part_url_is_short_lived_and_only_for_that_part(
    s3, clinician, settings
):
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=6 * MiB
    )

    urls = services.upload_session_sign(session=session, by=clinician, numbers=[2, 1])

    assert sorted(urls) == [1, 2]
    assert f"X-Amz-Expires={settings.MEDIA_URL_EXPIRY_SECONDS}" in urls[1]
    assert "partNumber=1" in urls[1] and "partNumber=2" in urls[2]
    with pytest.raises(ServiceError, match="No such part"):
        services.upload_session_sign(session=session, by=clinician, numbers=[3])


def test_completing_with_a_part_missing_leaves_the_upload_open_for_it(
    s3, tmp_path, clinician, django_capture_on_commit_callbacks
):
    data = _big_jpeg(tmp_path)
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=len(data)
    )
    _send(session, clinician, data, numbers=[1])

    with pytest.raises(services.UploadIncomplete, match="1 of 2 parts"):
        services.upload_session_complete(session=session, by=clinician)

    # The missing part can still be sent, and then it completes
    _send(session, clinician, data, numbers=[2])
    with django_capture_on_commit_callbacks(execute=True):
        asset = services.upload_session_complete(session=session, by=clinician)
    assert asset.size == len(data)


def test_an_object_whose_bytes_are_not_media_is_deleted_after_completion(s3, clinician):
    data = b"Dear colleague, the patient John Planted...\n" * 200_000
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=len(data)
    )
    _send(session, clinician, data)

    with pytest.raises(MediaError, match="Unrecognised file type"):
        services.upload_session_complete(session=session, by=clinician)

    session.refresh_from_db()
    assert session.status == UploadSession.Status.ABORTED
    assert not media_storage.storage().exists(session.object_name)
    assert not MediaAsset.objects.exists()


def test_an_object_over_the_cap_for_its_kind_is_deleted(s3, tmp_path, clinician):
    data = _big_jpeg(tmp_path)
    with override_settings(MEDIA_MAX_IMAGE_BYTES=5 * MiB):
        session = services.upload_session_start(
            uploaded_by=clinician, owner_group="case.9", size=len(data)
        )
        _send(session, clinician, data)

        with pytest.raises(MediaError, match="Photos may be at most 5 MB"):
            services.upload_session_complete(session=session, by=clinician)

    assert not media_storage.storage().exists(session.object_name)


def test_a_size_that_differs_from_the_declared_one_is_refused(s3, tmp_path, clinician):
    data = _big_jpeg(tmp_path)
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=len(data) + 10
    )
    _send(session, clinician, data)

    with pytest.raises(MediaError, match=r"holds .* bytes, but the file has"):
        services.upload_session_complete(session=session, by=clinician)


def test_aborting_frees_the_parts_and_its_urls_stop_working(s3, clinician):
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=6 * MiB
    )
    urls = services.upload_session_sign(session=session, by=clinician, numbers=[1])

    services.upload_session_abort(session=session, by=clinician)

    with pytest.raises(ClientError):
        s3_multipart.multipart_parts(session.object_name, session.s3_upload_id)
    with pytest.raises(urllib.error.HTTPError):
        _put(urls[1], b"x" * (5 * MiB))
    with pytest.raises(ServiceError, match="not waiting for parts"):
        services.upload_session_sign(session=session, by=clinician, numbers=[1])


def test_only_the_uploader_gets_part_urls(s3, clinician, make_clinician):
    session = services.upload_session_start(
        uploaded_by=clinician, owner_group="case.9", size=6 * MiB
    )

    with pytest.raises(PermissionDenied):
        services.upload_session_sign(session=session, by=make_clinician(), numbers=[1])
