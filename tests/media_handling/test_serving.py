"""serve_rendition: local files stream with byte ranges (sync and ASGI); S3
objects redirect to a presigned URL that expires."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404
from django.test import AsyncRequestFactory, RequestFactory, override_settings

from media_handling.models import MediaAsset
from media_handling.storage import serve_rendition
from tests.media_handling.test_storage import local_storages

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes


@pytest.fixture
def local(tmp_path):
    with override_settings(STORAGES=local_storages(tmp_path)):
        yield


def _asset(clinician) -> MediaAsset:
    asset = MediaAsset.objects.create(
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.READY,
        uploaded_by=clinician,
    )
    name = default_storage.save(f"media/{asset.key.hex}/r/video.mp4", ContentFile(DATA))
    asset.renditions = {"video": name}
    asset.save()
    return asset


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_streams_with_its_type_and_length(local, clinician):
    asset = _asset(clinician)

    response = serve_rendition(RequestFactory().get("/"), asset, "video")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(DATA))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response) == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-", 1000, len(DATA) - 1),
        ("bytes=-500", len(DATA) - 500, len(DATA) - 1),
        ("bytes=300000-700000", 300000, 700000),
    ],
)
def test_a_byte_range_gets_206_with_exactly_those_bytes(
    local, clinician, header, start, end
):
    asset = _asset(clinician)

    response = serve_rendition(
        RequestFactory().get("/", HTTP_RANGE=header), asset, "video"
    )

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert _body(response) == DATA[start : end + 1]


def test_a_range_past_the_end_gets_416_with_the_size(local, clinician):
    asset = _asset(clinician)

    response = serve_rendition(
        RequestFactory().get("/", HTTP_RANGE=f"bytes={len(DATA)}-"), asset, "video"
    )

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


def test_head_answers_the_headers_without_a_body(local, clinician):
    asset = _asset(clinician)

    response = serve_rendition(
        RequestFactory().head("/", HTTP_RANGE="bytes=0-9"), asset, "video"
    )

    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


async def _aread(response) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


def test_over_asgi_the_file_streams_from_an_async_iterator(local, clinician):
    # Django would otherwise read a sync iterator into one list: the whole
    # file in memory for every viewer.
    from asgiref.sync import async_to_sync

    asset = _asset(clinician)
    request = AsyncRequestFactory().get("/", headers={"Range": "bytes=10-"})
    assert isinstance(request, ASGIRequest)

    response = serve_rendition(request, asset, "video")

    assert response.is_async
    assert async_to_sync(_aread)(response) == DATA[10:]


def test_a_role_the_asset_does_not_have_is_not_found(local, clinician):
    asset = _asset(clinician)

    with pytest.raises(Http404):
        serve_rendition(RequestFactory().get("/"), asset, "poster")


def test_on_s3_the_viewer_is_sent_to_a_presigned_url_that_expires(
    requires_s3, clinician, settings
):
    # Given a rendition stored in the (moto) bucket
    asset = _asset(clinician)

    # When it is served
    response = serve_rendition(RequestFactory().get("/"), asset, "video")

    # Then the answer is a redirect nobody caches, to a signed GET that lives
    # for MEDIA_URL_EXPIRY_SECONDS
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_URL_EXPIRY_SECONDS)]
    assert "X-Amz-Signature" in query
    assert query["response-content-type"] == ["video/mp4"]
    # and the signed URL serves byte ranges too (video seeking)
    request = urllib.request.Request(url, headers={"Range": "bytes=100-199"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as got:  # noqa: S310
        assert got.status == 206
        assert got.read() == DATA[100:200]
    # while the bare object URL is private
    bare = url.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bare, timeout=10)  # noqa: S310
    assert refused.value.code == 403
