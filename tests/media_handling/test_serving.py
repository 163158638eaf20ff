"""serve_rendition: local files stream with byte ranges (sync and ASGI); S3
objects redirect to a presigned URL that expires; every response, whatever its
Range header, writes exactly one audit event."""

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
from media_handling.storage import MediaAudit, serve_content, serve_rendition
from tests.media_handling.test_storage import local_storages
from workspace.models import AuditEvent

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


def serve(request, asset, role="video"):
    return serve_rendition(
        request,
        asset,
        role,
        audit=MediaAudit(
            actor=asset.uploaded_by, verb="media.test", target=asset, data={"k": 1}
        ),
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_streams_with_its_type_and_length(local, clinician):
    asset = _asset(clinician)

    response = serve(RequestFactory().get("/"), asset)

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

    response = serve(RequestFactory().get("/", HTTP_RANGE=header), asset, "video")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert _body(response) == DATA[start : end + 1]


def test_a_range_past_the_end_gets_416_with_the_size(local, clinician):
    asset = _asset(clinician)

    response = serve(
        RequestFactory().get("/", HTTP_RANGE=f"bytes={len(DATA)}-"), asset, "video"
    )

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


N = len(DATA)

# (Range header, status, (first, last) served or None for the whole file)
RANGE_VARIANTS = [
    (None, 200, None),
    ("bytes=0-", 206, (0, N - 1)),
    ("Bytes=0-", 206, (0, N - 1)),  # the unit is case-insensitive
    ("BYTES=0-99", 206, (0, 99)),
    ("bytes=00-", 206, (0, N - 1)),  # leading zeros
    ("bytes=0001-0002", 206, (1, 2)),
    ("bytes=-100000000", 206, (0, N - 1)),  # a suffix longer than the file
    ("bytes=-500", 206, (N - 500, N - 1)),
    ("bytes = 10 - 20", 206, (10, 20)),
    ("bytes=1-2,", 206, (1, 2)),  # empty list elements are allowed
    ("bytes=1 0-20", 200, None),  # a space inside a number is malformed
    ("bytes=10-99999999999", 206, (10, N - 1)),
    ("bytes=1-2,0-", 200, None),  # several ranges: the whole file
    ("bytes=0-1, 5-6", 200, None),
    (f"bytes={N}-, 0-0", 200, None),  # one of several is satisfiable
    (f"bytes={N}-", 416, None),
    (f"bytes={N}-,{N + 5}-{N + 9}", 416, None),  # none of several
    ("bytes=-0", 416, None),
    ("bytes=5-1", 200, None),  # malformed: ignored
    ("bytes=1-2,5-1", 200, None),
    ("bytes=abc", 200, None),
    ("bytes=", 200, None),
    ("bytes=-", 200, None),
    ("items=0-1", 200, None),
    ("bytes=\u0663-", 200, None),  # a non-ASCII digit is not a number
]


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize(("header", "status", "span"), RANGE_VARIANTS)
def test_every_range_variant_gets_its_rfc_9110_answer_and_one_audit_event(
    local, clinician, method, header, status, span
):
    asset = _asset(clinician)
    headers = {"HTTP_RANGE": header} if header is not None else {}

    response = serve(getattr(RequestFactory(), method)("/", **headers), asset)

    assert response.status_code == status
    if status == 416:
        assert response["Content-Range"] == f"bytes */{N}"
    elif span is not None:
        first, last = span
        assert response["Content-Range"] == f"bytes {first}-{last}/{N}"
        assert response["Content-Length"] == str(last - first + 1)
        if method == "get":
            assert _body(response) == DATA[first : last + 1]
    else:
        assert not response.has_header("Content-Range")
        assert response["Content-Length"] == str(N)
        if method == "get":
            assert _body(response) == DATA
    events = list(AuditEvent.objects.filter(verb="media.test"))
    assert len(events) == 1
    assert events[0].target_id == str(asset.pk)
    assert events[0].actor == clinician
    assert events[0].data == {
        "k": 1,
        "role": "video",
        "status": status,
        "method": method.upper(),
        "bytes": "*" if status == 416 else (f"{span[0]}-{span[1]}" if span else None),
    }


def test_an_empty_file_serves_whole_but_cannot_satisfy_a_range(local, clinician):
    asset = _asset(clinician)
    name = default_storage.save(f"media/{asset.key.hex}/r/empty.mp4", ContentFile(b""))
    asset.renditions = {"video": name}
    asset.save()

    whole = serve(RequestFactory().get("/"), asset)
    ranged = serve(RequestFactory().get("/", HTTP_RANGE="bytes=0-"), asset)

    assert (whole.status_code, _body(whole)) == (200, b"")
    assert (ranged.status_code, ranged["Content-Range"]) == (416, "bytes */0")
    assert AuditEvent.objects.filter(verb="media.test").count() == 2


@pytest.mark.parametrize(("header", "status", "span"), RANGE_VARIANTS)
def test_made_content_answers_ranges_the_same_way_and_is_audited(
    clinician, header, status, span
):
    headers = {"HTTP_RANGE": header} if header is not None else {}

    response = serve_content(
        RequestFactory().get("/", **headers),
        DATA,
        mime="image/png",
        filename="frame-1.png",
        role="frame.0",
        audit=MediaAudit(actor=clinician, verb="media.test", target=None),
    )

    assert response.status_code == status
    if status != 416:
        first, last = span or (0, N - 1)
        assert response.content == DATA[first : last + 1]
    assert AuditEvent.objects.filter(verb="media.test").count() == 1


def test_a_missing_rendition_serves_nothing_and_is_not_audited(local, clinician):
    asset = _asset(clinician)

    with pytest.raises(Http404):
        serve(RequestFactory().get("/", HTTP_RANGE="bytes=0-"), asset, "thumb")

    assert not AuditEvent.objects.filter(verb="media.test").exists()


def test_head_answers_the_headers_without_a_body(local, clinician):
    asset = _asset(clinician)

    response = serve(RequestFactory().head("/", HTTP_RANGE="bytes=0-9"), asset, "video")

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

    response = serve(request, asset)

    assert response.is_async
    assert async_to_sync(_aread)(response) == DATA[10:]


def test_a_role_the_asset_does_not_have_is_not_found(local, clinician):
    asset = _asset(clinician)

    with pytest.raises(Http404):
        serve(RequestFactory().get("/"), asset, "poster")


def test_on_s3_the_viewer_is_sent_to_a_presigned_url_that_expires(
    requires_s3, clinician, settings
):
    # Given a rendition stored in the (moto) bucket
    asset = _asset(clinician)

    # When it is served
    response = serve(RequestFactory().get("/"), asset)

    # Then the answer is a redirect nobody caches, to a signed GET that lives
    # for MEDIA_URL_EXPIRY_SECONDS
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_URL_EXPIRY_SECONDS)]
    assert "X-Amz-Signature" in query
    assert query["response-content-type"] == ["video/mp4"]
    # and the redirect is audited like any other answer, ranges included
    ranged = serve(RequestFactory().get("/", HTTP_RANGE="Bytes=00-"), asset)
    assert ranged.status_code == 302
    statuses = AuditEvent.objects.filter(verb="media.test").values_list(
        "data__status", "data__bytes"
    )
    assert list(statuses) == [(302, "s3"), (302, "s3")]
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
