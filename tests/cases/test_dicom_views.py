"""DICOM studies on a case: upload, viewer, frames, review; who may do what."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from cases.models import Case, CaseAsset
from media_handling import storage as media_storage
from media_handling.models import MediaAsset
from tests.fixtures import dicom_factory as factory
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


def _file(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def client_as(client_for):
    def make(user) -> Client:
        return client_for(user) if user is not None else Client()

    return make


@pytest.fixture
def upload(client_as, django_capture_on_commit_callbacks):
    """POST files to a case's DICOM upload as ``user``; processing runs."""

    def run(case: Case, user, files: list[io.BytesIO], **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client_as(user).post(
                reverse("case_dicom_upload", args=[case.pk]),
                {"files": files, **extra},
                HTTP_ACCEPT="application/json",
            )

    return run


@pytest.fixture
def case(cast):
    return cast.case(visibility=Case.Visibility.WORKSPACE)


@pytest.fixture
def ct(case, cast, upload):
    """A released CT series of three slices in the case, uploaded by its owner."""
    series = factory.make_ct_series(3)
    response = upload(
        case,
        cast.owner,
        [_file(f"{i}.dcm", factory.ct_bytes(ds)) for i, ds in enumerate(series)],
    )
    item = CaseAsset.objects.get(case=case, asset_id=response.json()["series"][0]["id"])
    item.released_at = item.created
    item.save()
    return item.asset


@pytest.fixture
def us(case, cast, upload):
    """An ultrasound clip waiting for its uploader's review."""
    response = upload(
        case, cast.owner, [_file("us.dcm", factory.ct_bytes(factory.make_ultrasound()))]
    )
    return MediaAsset.objects.get(pk=response.json()["series"][0]["id"])


def _url(name: str, case: Case, asset: MediaAsset, *extra) -> str:
    return reverse(name, args=[case.pk, asset.pk, *extra])


# --- upload ---------------------------------------------------------------------------


def test_an_upload_becomes_one_item_per_series_and_bad_files_fail_alone(
    case, cast, upload
):
    ct = factory.make_ct_series(3)
    other = factory.make_ct_series(2)
    whole = factory.ct_bytes(factory.make_ct_series(1)[0])
    files = [
        *(_file(f"ct{i}.dcm", factory.ct_bytes(ds)) for i, ds in enumerate(ct)),
        _file("us.dcm", factory.ct_bytes(factory.make_ultrasound(frames=2))),
        _file(
            "other.zip",
            _zip({f"s/{i}": factory.ct_bytes(ds) for i, ds in enumerate(other)}),
        ),
        _file("cut.dcm", whole[:-80]),
        _file("notes.txt", b"Quixote Zelda, MRN-88431907"),
    ]

    response = upload(case, cast.owner, files)

    assert response.status_code == 200
    data = response.json()
    assert all(s["status"] == "uploaded" for s in data["series"])
    assets = MediaAsset.objects.filter(pk__in=[s["id"] for s in data["series"]])
    statuses = sorted((a.status, a.metadata["frame_count"]) for a in assets)
    assert statuses == [("needs_review", 2), ("ready", 2), ("ready", 3)]
    assert {p["name"] for p in data["failed"]} == {"cut.dcm", "notes.txt"}
    assert data["images"] == 6
    items = CaseAsset.objects.filter(case=case)
    assert items.count() == 3
    assert all(i.added_by == cast.owner and i.released_at is None for i in items)
    assert sorted(i.caption for i in items) == [
        "CT series, 2 images",
        "CT series, 3 images",
        "US series, 1 image",
    ]
    event = AuditEvent.objects.get(verb="media.dicom.upload")
    assert event.data["images"] == 6 and event.data["failed"] == 1


def test_dates_are_shifted_when_the_uploader_asks(case, cast, upload):
    response = upload(
        case,
        cast.owner,
        [_file("a.dcm", factory.ct_bytes(factory.make_ct_series(1)[0]))],
        shift_dates="on",
    )

    asset = MediaAsset.objects.get(pk=response.json()["series"][0]["id"])
    assert asset.report["details"]["dates"] == "shifted"


@pytest.mark.parametrize(
    ("role", "status"),
    [("collaborator", 200), ("viewer", 403), ("outsider", 404), ("patient", 404)],
)
def test_only_editors_of_the_case_may_upload(case, cast, upload, role, status):
    response = upload(case, cast.users[role], [_file("a.dcm", b"x" * 200)])

    assert response.status_code == status
    if status != 200:
        assert not CaseAsset.objects.filter(case=case).exists()


def test_anonymous_uploads_are_sent_to_log_in(case, upload):
    response = upload(case, None, [_file("a.dcm", b"x")])

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_archived_cases_take_no_studies(cast, upload):
    archived = cast.case(status=Case.Status.ARCHIVED)

    response = upload(archived, cast.owner, [_file("a.dcm", b"x")])

    assert response.status_code == 403


def test_the_upload_page_offers_files_folders_and_date_shifting(case, cast, client_as):
    response = client_as(cast.owner).get(reverse("case_dicom_upload", args=[case.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "webkitdirectory" in html
    assert 'name="shift_dates"' in html
    assert (
        client_as(cast.viewer)
        .get(reverse("case_dicom_upload", args=[case.pk]))
        .status_code
        == 403
    )


# --- viewer and frames: who sees what -------------------------------------------------


VIEW_MATRIX = {
    "owner": 200,
    "collaborator": 200,
    "viewer": 200,
    "member": 200,
    "outsider": 404,
    "unverified": 404,
    "patient": 404,
}


def test_a_released_series_opens_for_everyone_who_sees_the_case(
    case, cast, ct, client_as
):
    # One upload, every role: uploading is the slow part.
    for role, status in VIEW_MATRIX.items():
        client = client_as(cast.users[role])

        viewer = client.get(_url("case_dicom_viewer", case, ct))
        frame = client.get(_url("case_dicom_frame", case, ct, 1))
        status_json = client.get(_url("case_dicom_status", case, ct))

        assert viewer.status_code == status, role
        assert status_json.status_code == status, role
        # 302 in scale mode: a presigned S3 URL.
        assert frame.status_code in ((200, 302) if status == 200 else (404,)), role


def test_anonymous_viewers_are_sent_to_log_in(case, ct, client_as):
    for url in (
        _url("case_dicom_viewer", case, ct),
        _url("case_dicom_frame", case, ct, 1),
        _url("case_dicom_review", case, ct),
    ):
        response = client_as(None).get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_an_unreleased_series_is_only_its_uploaders(case, cast, ct, client_as):
    CaseAsset.objects.filter(asset=ct).update(released_at=None)

    assert (
        client_as(cast.owner).get(_url("case_dicom_viewer", case, ct)).status_code
        == 200
    )
    for role in ("collaborator", "member"):
        user = cast.users[role]
        assert (
            client_as(user).get(_url("case_dicom_viewer", case, ct)).status_code == 404
        )
        assert (
            client_as(user).get(_url("case_dicom_frame", case, ct, 1)).status_code
            == 404
        )


@pytest.mark.parametrize(
    "status", [MediaAsset.Status.NEEDS_REVIEW, MediaAsset.Status.PROCESSING]
)
def test_a_released_series_back_under_review_is_hidden_again(
    case, cast, ct, client_as, status
):
    colleague = client_as(cast.collaborator)
    routes = [
        _url("case_dicom_viewer", case, ct),
        _url("case_dicom_status", case, ct),
        _url("case_dicom_frame", case, ct, 1),
    ]
    assert all(colleague.get(url).status_code in (200, 302) for url in routes)

    MediaAsset.objects.filter(pk=ct.pk).update(status=status)

    assert [colleague.get(url).status_code for url in routes] == [404, 404, 404]
    assert client_as(cast.owner).get(routes[0]).status_code == 200
    MediaAsset.objects.filter(pk=ct.pk).update(status=MediaAsset.Status.READY)
    assert all(colleague.get(url).status_code in (200, 302) for url in routes)


def test_a_series_is_only_reachable_through_its_own_case(cast, ct, client_as):
    other = cast.case()

    response = client_as(cast.owner).get(_url("case_dicom_viewer", other, ct))

    assert response.status_code == 404


def test_the_viewer_opens_at_the_slice_of_a_pasted_link(case, cast, ct, client_as):
    response = client_as(cast.member).get(
        _url("case_dicom_viewer", case, ct) + "?frame=3"
    )

    html = response.content.decode()
    data = json.loads(
        re.search(
            r'id="dicom-viewer-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data["frame"] == 3 and data["frames"] == 3
    assert data["shareUrl"].endswith(_url("case_dicom_viewer", case, ct))
    assert _url("case_dicom_frame", case, ct, 3) in html
    assert [p["name"] for p in data["presets"]] == [
        "SOFT TISSUE",
        "Lung",
        "Bone",
        "Brain",
    ]
    # The de-identified header is in the side panel; no planted value is.
    assert "ANONYMOUS" in html
    assert all(v not in html for v in ("Quixote", "MRN-88431907", "ACC-77120034"))


def test_out_of_range_slices_in_a_link_open_the_nearest_one(case, cast, ct, client_as):
    response = client_as(cast.owner).get(
        _url("case_dicom_viewer", case, ct) + "?frame=99"
    )

    assert _url("case_dicom_frame", case, ct, 3) in response.content.decode()


def test_a_frame_in_another_window_is_rendered_on_request(case, cast, ct, client_as):
    client = client_as(cast.collaborator)
    lung = next(p["id"] for p in ct.metadata["presets"] if p["name"] == "Lung")

    rendered = client.get(_url("case_dicom_frame", case, ct, 2) + f"?preset={lung}")

    assert rendered.status_code == 200
    assert rendered["Content-Type"] == "image/png"
    assert rendered["Cache-Control"] == media_storage.NO_STORE
    assert Image.open(io.BytesIO(rendered.content)).size == (16, 16)
    stored = media_storage.read_bytes(ct.rendition_name("frame.1"))
    assert rendered.content != stored
    assert (
        client.get(_url("case_dicom_frame", case, ct, 2) + "?preset=zz").status_code
        == 404
    )
    assert client.get(_url("case_dicom_frame", case, ct, 4)).status_code == 404
    assert client.get(_url("case_dicom_frame", case, ct, 0)).status_code == 404


def test_the_default_window_is_the_stored_frame(case, cast, ct, client_as):
    response = client_as(cast.collaborator).get(_url("case_dicom_frame", case, ct, 2))

    if response.status_code == 302:  # S3: a short-lived presigned URL
        assert "X-Amz-Signature" in response["Location"]
    else:
        body = b"".join(response.streaming_content)
        assert body == media_storage.read_bytes(ct.rendition_name("frame.1"))


def test_viewing_is_audited_and_every_frame_response_too(case, cast, ct, client_as):
    client = client_as(cast.member)

    client.get(_url("case_dicom_viewer", case, ct))
    for number in (1, 2, 3, 2):
        client.get(_url("case_dicom_frame", case, ct, number))
    lung = next(p["id"] for p in ct.metadata["presets"] if p["name"] == "Lung")
    client.get(_url("case_dicom_frame", case, ct, 2) + f"?preset={lung}")

    verbs = list(
        AuditEvent.objects.filter(actor=cast.member).values_list("verb", flat=True)
    )
    assert verbs.count("media.dicom.view") == 1
    frames = AuditEvent.objects.filter(actor=cast.member, verb="media.dicom.frames")
    assert [e.data["frame"] for e in frames.order_by("id")] == [1, 2, 3, 2, 2]


@pytest.mark.parametrize(
    ("header", "status"),
    [("Bytes=0-", 206), ("bytes=00-", 206), ("bytes=1-2,0-", 200), ("bytes=-0", 416)],
)
@pytest.mark.parametrize("windowed", [False, True])
def test_a_frame_with_any_range_is_audited_once(
    case, cast, ct, client_as, header, status, windowed
):
    lung = next(p["id"] for p in ct.metadata["presets"] if p["name"] == "Lung")
    preset = f"?preset={lung}" if windowed else ""
    response = client_as(cast.member).get(
        _url("case_dicom_frame", case, ct, 1) + preset, HTTP_RANGE=header
    )

    if not (response.status_code == 302 and not preset):  # S3 redirects
        assert response.status_code == status
    events = AuditEvent.objects.filter(actor=cast.member, verb="media.dicom.frames")
    assert events.count() == 1
    assert events.get().data["status"] == response.status_code


def test_a_processing_series_shows_its_state_to_the_uploader(case, cast, ct, client_as):
    MediaAsset.objects.filter(pk=ct.pk).update(status=MediaAsset.Status.PROCESSING)

    page = client_as(cast.owner).get(_url("case_dicom_viewer", case, ct))
    status = client_as(cast.owner).get(_url("case_dicom_status", case, ct)).json()

    assert "De-identifying this series" in page.content.decode()
    assert "dicom-viewer-data" not in page.content.decode()
    assert status["status"] == "processing"
    assert (
        client_as(cast.owner).get(_url("case_dicom_frame", case, ct, 1)).status_code
        == 404
    )


# --- review ---------------------------------------------------------------------------


# The owner (the uploader) comes last: their release ends the review.
REVIEW_MATRIX = {
    "collaborator": 404,
    "member": 404,
    "outsider": 404,
    "patient": 404,
    "owner": 200,
}


def test_only_the_uploader_reviews_a_series(case, cast, us, client_as):
    for role, status in REVIEW_MATRIX.items():
        client = client_as(cast.users[role])

        review = client.get(_url("case_dicom_review", case, us))
        frame = client.get(_url("case_dicom_frame", case, us, 1))
        mask = client.post(
            _url("case_dicom_mask", case, us),
            json.dumps({"rects": [[0, 0, 4, 4]], "frame": 1}),
            content_type="application/json",
        )
        release = client.post(_url("case_dicom_release", case, us))

        assert review.status_code == status, role
        assert frame.status_code in ((200, 302) if status == 200 else (404,)), role
        if status == 404:
            assert mask.status_code == 404, role
            assert release.status_code == 404, role
    us.refresh_from_db()
    assert us.status == MediaAsset.Status.READY  # the owner's release went through
    assert len(us.metadata["masks"]) == 1


def test_the_review_page_lists_frames_and_sizes_for_drawing(case, cast, us, client_as):
    response = client_as(cast.owner).get(_url("case_dicom_review", case, us))

    html = response.content.decode()
    data = json.loads(
        re.search(
            r'id="dicom-review-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data["frames"] == 3
    assert data["sizes"] == [[32, 24]] * 3
    assert data["maskUrl"] == _url("case_dicom_mask", case, us)


def test_masking_then_releasing_shows_the_series_to_the_case(
    case, cast, us, client_as, django_capture_on_commit_callbacks
):
    owner = client_as(cast.owner)
    assert (
        client_as(cast.collaborator)
        .get(_url("case_dicom_viewer", case, us))
        .status_code
        == 404
    )

    with django_capture_on_commit_callbacks(execute=True):
        masked = owner.post(
            _url("case_dicom_mask", case, us),
            json.dumps({"rects": [[2, 3, 10, 6]], "frame": None}),
            content_type="application/json",
        )
        released = owner.post(_url("case_dicom_release", case, us))

    assert masked.status_code == 200 and masked.json()["ok"]
    assert "every frame" in masked.json()["message"]
    assert released.status_code == 302
    assert released["Location"] == _url("case_dicom_viewer", case, us)
    us.refresh_from_db()
    assert us.status == MediaAsset.Status.READY
    assert CaseAsset.objects.get(asset=us).released_at is not None
    assert (
        client_as(cast.collaborator)
        .get(_url("case_dicom_viewer", case, us))
        .status_code
        == 200
    )
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"media.dicom.mask", "media.dicom.release"} <= verbs
    # The review page of a released series leads to the viewer.
    assert owner.get(_url("case_dicom_review", case, us)).status_code == 302


def test_bad_mask_requests_are_refused_with_a_reason(case, cast, us, client_as):
    owner = client_as(cast.owner)
    url = _url("case_dicom_mask", case, us)

    not_json = owner.post(url, "rects", content_type="application/json")
    outside = owner.post(
        url,
        json.dumps({"rects": [[900, 900, 5, 5]], "frame": 1}),
        content_type="application/json",
    )
    no_frame = owner.post(
        url,
        json.dumps({"rects": [[0, 0, 5, 5]], "frame": 9}),
        content_type="application/json",
    )

    assert not_json.status_code == 400
    assert outside.status_code == 400 and "outside" in outside.json()["error"]
    assert no_frame.status_code == 400 and "no such frame" in no_frame.json()["error"]


# --- strict CSP -----------------------------------------------------------------------


def test_dicom_pages_have_no_inline_script_style_or_handler(
    case, cast, ct, us, client_as
):
    owner = client_as(cast.owner)
    pages = [
        owner.get(reverse("case_dicom_upload", args=[case.pk])),
        owner.get(_url("case_dicom_viewer", case, ct)),
        owner.get(_url("case_dicom_review", case, us)),
    ]

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert " style=" not in html
        assert not re.search(r"\son[a-z]+=", html)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'type="application/json"' in tag or (
                "src=" in tag and "nonce=" in tag
            )


def test_the_case_gallery_leads_to_the_upload_page_and_the_viewer(
    case, cast, ct, client_as
):
    gallery = reverse("case_media_gallery", args=[case.pk])

    owner_html = client_as(cast.owner).get(gallery).content.decode()
    member_html = client_as(cast.member).get(gallery).content.decode()

    assert reverse("case_dicom_upload", args=[case.pk]) in owner_html
    assert reverse("case_dicom_upload", args=[case.pk]) not in member_html
    assert _url("case_dicom_viewer", case, ct) in member_html
