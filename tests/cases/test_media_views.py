"""Case media pages and endpoints: batch uploads with a verdict per file,
part-by-part uploads, live gallery data, face review, report, release."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from cases.models import Case, CaseAsset
from cases.phi import finding_key, scan_fields
from media_handling import storage as media_storage
from media_handling.models import MediaAsset, UploadSession
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import _walk, photo_bytes, reviewed, stored_names
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def case(cast):
    return cast.case(visibility=Case.Visibility.COMMUNITY)


@pytest.fixture
def owner(client_for, cast):
    return client_for(cast.owner)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _upload(client, case, files, on_commit, **extra):
    return on_commit(
        client.post,
        reverse("case_media_upload", args=[case.pk]),
        {"files": [SimpleUploadedFile(name, data) for name, data in files]},
        **extra,
    )


def test_a_batch_upload_answers_each_file_and_keeps_the_good_ones(
    owner, case, tmp_path, on_commit
):
    # Given a batch: two good files, text pretending to be a photo, an empty
    # file, and a truncated video
    video = mf.write_phone_mp4(tmp_path / "v.mp4")
    truncated = mf.truncated_copy(video, tmp_path / "t.mp4", 0.5).read_bytes()
    files = [
        ("good.jpg", photo_bytes(tmp_path)),
        ("notes.jpg", b"Patient John Planted " * 500),
        ("empty.png", b""),
        ("clip.mp4", video.read_bytes()),
        ("cut.mp4", truncated),
    ]

    # When they are posted in one request
    response = _upload(owner, case, files, on_commit, **JSON)

    # Then each file has its own verdict, in order
    assert response.status_code == 200
    results = response.json()["files"]
    assert [(r["name"], r["ok"]) for r in results] == [
        ("good.jpg", True),
        ("notes.jpg", False),
        ("empty.png", False),
        ("clip.mp4", True),
        ("cut.mp4", True),
    ]
    assert results[1]["error"] == "Unrecognised file type."
    assert results[2]["error"] == "The file is empty."
    assert 'data-asset="' in results[0]["html"]
    # and the damaged video is rejected by processing, with its reason
    statuses = [
        (i.asset.kind, i.asset.status, i.asset.status_reason[:30])
        for i in CaseAsset.objects.filter(case=case).select_related("asset")
    ]
    # (every photo and video waits for its uploader's face review)
    assert [s[:2] for s in statuses[:2]] == [
        ("image", "needs_review"),
        ("video", "needs_review"),
    ]
    assert all(s[2].startswith("Check this for faces") for s in statuses[:2])
    assert statuses[2][:2] == ("video", "rejected")
    assert statuses[2][2].startswith("The video could not be read")


def test_an_oversize_file_is_refused_while_the_rest_of_the_batch_arrives(
    owner, case, tmp_path, on_commit
):
    big = photo_bytes(tmp_path) + b"\x00" * 300_000
    with override_settings(MEDIA_MAX_IMAGE_BYTES=200_000):
        response = _upload(
            owner,
            case,
            [("big.jpg", big), ("small.jpg", photo_bytes(tmp_path))],
            on_commit,
            **JSON,
        )

    results = response.json()["files"]
    assert results[0]["ok"] is False
    assert results[0]["error"].startswith("The file is too large (")
    assert results[1]["ok"] is True
    assert CaseAsset.objects.count() == 1


def test_without_javascript_the_upload_redirects_with_a_message_per_file(
    owner, case, tmp_path, on_commit
):
    response = _upload(
        owner, case, [("a.jpg", photo_bytes(tmp_path)), ("b.txt", b"hello")], on_commit
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/{case.pk}/#media")
    page = owner.get(response["Location"])
    text = page.content.decode()
    assert "a.jpg: uploaded, processing." in text
    assert "b.txt: Unrecognised file type." in text


def test_the_upload_endpoint_checks_the_csrf_token(cast, case, tmp_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)

    response = client.post(
        reverse("case_media_upload", args=[case.pk]),
        {"files": [SimpleUploadedFile("a.jpg", photo_bytes(tmp_path))]},
    )

    assert response.status_code == 403
    assert not MediaAsset.objects.exists()


def test_a_request_without_files_is_a_clear_error(owner, case):
    response = owner.post(reverse("case_media_upload", args=[case.pk]), **JSON)

    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "Choose at least one file.",
        "errors": {},
    }


@override_settings(MEDIA_UPLOAD_PART_BYTES=4096, MEDIA_DIRECT_UPLOADS=False)
def test_a_large_file_arrives_part_by_part_through_the_endpoints(
    owner, case, tmp_path, on_commit
):
    noise = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    data = mf.write_jpeg(
        tmp_path / "n.jpg", displayed=Image.fromarray(noise)
    ).read_bytes()

    start = owner.post(
        reverse("case_media_upload_start", args=[case.pk]),
        json.dumps({"size": len(data)}),
        content_type="application/json",
    ).json()
    assert start["ok"] and start["mode"] == "local" and start["part_count"] > 2
    for n in range(1, start["part_count"] + 1):
        part = data[(n - 1) * start["part_size"] : n * start["part_size"]]
        response = owner.put(
            start["part_url"].replace("{n}", str(n)),
            part,
            content_type="application/octet-stream",
        )
        assert response.status_code == 200, response.content
    done = on_commit(owner.post, start["complete_url"], **JSON).json()

    assert done["ok"] is True
    item = CaseAsset.objects.get(case=case)
    assert item.asset.status == MediaAsset.Status.NEEDS_REVIEW
    assert item.asset.size == len(data)
    for name in stored_names(item.asset):
        assert mf.planted_found(media_storage.read_bytes(name)) == []


@override_settings(MEDIA_UPLOAD_PART_BYTES=4096, MEDIA_DIRECT_UPLOADS=False)
def test_parts_are_refused_to_anyone_but_the_uploader(owner, cast, case, client_for):
    start = owner.post(
        reverse("case_media_upload_start", args=[case.pk]),
        json.dumps({"size": 5000}),
        content_type="application/json",
    ).json()
    url = start["part_url"].replace("{n}", "1")

    other = client_for(cast.collaborator).put(url, b"x" * 4096)
    anonymous = Client().put(url, b"x" * 4096)
    complete = client_for(cast.collaborator).post(start["complete_url"])

    assert other.status_code == 404
    assert anonymous.status_code == 401
    assert complete.status_code == 404
    assert UploadSession.objects.get().received == 0


@override_settings(MEDIA_UPLOAD_PART_BYTES=4096, MEDIA_DIRECT_UPLOADS=False)
def test_the_status_endpoint_tells_the_uploader_alone_where_to_resume(
    owner, cast, case, client_for, tmp_path
):
    noise = np.random.default_rng(2).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    data = mf.write_jpeg(
        tmp_path / "n.jpg", displayed=Image.fromarray(noise)
    ).read_bytes()
    assert len(data) > 2 * 4096
    start = owner.post(
        reverse("case_media_upload_start", args=[case.pk]),
        json.dumps({"size": len(data)}),
        content_type="application/json",
    ).json()
    first = owner.put(
        start["part_url"].replace("{n}", "1"),
        data[:4096],
        content_type="application/octet-stream",
    )
    assert first.status_code == 200, first.content

    status = owner.get(start["status_url"])
    other = client_for(cast.collaborator).get(start["status_url"])
    anonymous = Client().get(start["status_url"])

    assert status.status_code == 200
    body = status.json()
    assert (body["status"], body["received"]) == ("open", 4096)
    assert body["part_count"] == start["part_count"] > 2
    assert body["part_url"] == start["part_url"] and "asset" not in body
    assert other.status_code == 404
    assert anonymous.status_code == 401


def test_a_session_cannot_complete_in_another_case(owner, cast, case):
    start = owner.post(
        reverse("case_media_upload_start", args=[case.pk]),
        json.dumps({"size": 5000}),
        content_type="application/json",
    ).json()
    other_case = cast.case()
    url = reverse("case_media_upload_complete", args=[other_case.pk, start["token"]])

    response = owner.post(url)

    assert response.status_code == 403
    assert "another case" in response.json()["error"]


def test_the_items_endpoint_lists_what_the_viewer_may_see_with_html(
    owner, cast, case, client_for, tmp_path, on_commit
):
    _upload(owner, case, [("a.jpg", photo_bytes(tmp_path))], on_commit, **JSON)
    url = reverse("case_media_items", args=[case.pk])

    mine = owner.get(url).json()["items"]
    theirs = client_for(cast.viewer).get(url).json()["items"]

    assert [(i["status"], "Needs review" in i["html"]) for i in mine] == [
        ("needs_review", True)
    ]
    assert theirs == []


def test_the_review_page_shows_the_proposed_face_to_the_uploader_only(
    owner, cast, case, client_for, tmp_path, on_commit
):
    _upload(owner, case, [("f.jpg", photo_bytes(tmp_path, face=True))], on_commit)
    asset = MediaAsset.objects.get()
    url = reverse("case_media_review", args=[case.pk, asset.pk])

    page = owner.get(url)
    other = client_for(cast.collaborator).get(url)

    assert page.status_code == 200
    data = json.loads(
        page.content.decode()
        .split('id="face-data" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert data["frame"] == {"width": 320, "height": 240}
    assert [f["id"] for f in data["proposed"]] == ["f1"]
    assert 'name="keep" value="f1" checked' in page.content.decode()
    assert other.status_code == 404


def test_submitting_the_review_blurs_and_releases(owner, case, tmp_path, on_commit):
    _upload(owner, case, [("f.jpg", photo_bytes(tmp_path, face=True))], on_commit)
    asset = MediaAsset.objects.get()

    response = on_commit(
        owner.post,
        reverse("case_media_review", args=[case.pk, asset.pk]),
        {
            "keep": ["f1"],
            "drawn": json.dumps([[0, 0, 20, 20]]),
            "caption": "Malar rash",
            "action": "release",
        },
    )

    assert response.status_code == 302
    item = CaseAsset.objects.select_related("asset").get()
    assert item.asset.status == MediaAsset.Status.READY
    assert item.released_at is not None
    assert item.caption == "Malar rash"
    assert item.asset.report["blurred"] == ["2 regions blurred in the photo."]


def test_a_review_with_unreadable_regions_is_shown_again_with_the_reason(
    owner, case, tmp_path, on_commit
):
    _upload(owner, case, [("f.jpg", photo_bytes(tmp_path, face=True))], on_commit)
    asset = MediaAsset.objects.get()

    response = owner.post(
        reverse("case_media_review", args=[case.pk, asset.pk]),
        {"drawn": "[[1, 2", "action": "release"},
    )

    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.NEEDS_REVIEW


CAPTION = "Malar rash, seen by Dr House"  # "House" reads as a name


def _caption_key() -> str:
    (finding,) = scan_fields({"caption": CAPTION})
    return finding_key(finding)


def test_a_caption_with_an_identifier_is_listed_and_kept_once_dismissed(
    owner, case, tmp_path, on_commit
):
    _upload(owner, case, [("f.jpg", photo_bytes(tmp_path, face=True))], on_commit)
    asset = MediaAsset.objects.get()
    url = reverse("case_media_review", args=[case.pk, asset.pk])
    data = {"drawn": "[]", "caption": CAPTION, "action": "save"}

    refused = owner.post(url, data)

    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'data-phi-for="caption"' in html
    assert "<mark>House</mark>" in html
    assert f'name="dismiss" value="{_caption_key()}"' in html
    assert f'value="{CAPTION}"' in html
    assert CaseAsset.objects.get().caption == ""

    kept = on_commit(owner.post, url, {**data, "dismiss": _caption_key()})

    assert kept.status_code == 302
    assert CaseAsset.objects.get().caption == CAPTION
    event = AuditEvent.objects.get(case_id=case.pk, verb="phi.dismiss")
    assert event.data["surface"] == "media.caption"


def test_an_upload_with_an_identifying_caption_stores_nothing(
    owner, case, tmp_path, on_commit
):
    before = _walk("incoming")
    response = on_commit(
        owner.post,
        reverse("case_media_upload", args=[case.pk]),
        {
            "files": [SimpleUploadedFile("good.jpg", photo_bytes(tmp_path))],
            "caption": CAPTION,
        },
        **JSON,
    )

    assert response.status_code == 200
    (result,) = response.json()["files"]
    assert result["ok"] is False
    assert result["code"] == "phi_found"
    assert [f["key"] for f in result["findings"]] == [_caption_key()]
    assert not CaseAsset.objects.exists()
    assert not MediaAsset.objects.exists()
    assert _walk("incoming") == before


def test_the_report_lists_what_was_removed_for_the_uploader(
    owner, cast, case, client_for, tmp_path, on_commit
):
    _upload(owner, case, [("a.jpg", photo_bytes(tmp_path))], on_commit)
    asset = MediaAsset.objects.get()
    url = reverse("case_media_report", args=[case.pk, asset.pk])

    page = owner.get(url).content.decode()

    assert "GPS location (5 tags)" in page
    assert "XMP metadata" in page
    assert "The original file was deleted" in page
    assert client_for(cast.collaborator).get(url).status_code == 404


def test_release_and_remove_endpoints_answer_json_for_the_script(
    owner, case, tmp_path, on_commit
):
    _upload(owner, case, [("a.jpg", photo_bytes(tmp_path))], on_commit)
    asset = MediaAsset.objects.get()
    release = reverse("case_media_release", args=[case.pk, asset.pk])

    early = owner.post(release, **JSON)
    owner.post(
        reverse("case_media_review", args=[case.pk, asset.pk]), {"action": "save"}
    )
    released = owner.post(release, **JSON)
    removed = on_commit(
        owner.post, reverse("case_media_remove", args=[case.pk, asset.pk]), **JSON
    )

    assert early.status_code == 400
    assert "Review it for faces" in early.json()["error"]
    assert released.json() == {"ok": True}
    assert removed.json() == {"ok": True}
    assert not MediaAsset.objects.exists()


def test_release_all_redirects_back_to_the_case_with_a_count(
    owner, case, tmp_path, on_commit
):
    _upload(owner, case, [("a.jpg", photo_bytes(tmp_path))] * 3, on_commit)
    for item in CaseAsset.objects.filter(case=case).order_by("pk")[:2]:
        reviewed(item, item.added_by)

    response = owner.post(
        reverse("case_media_release_all", args=[case.pk]), follow=True
    )

    assert "Released 2 items." in response.content.decode()
    assert CaseAsset.objects.filter(released_at__isnull=False).count() == 2


def test_no_temporary_file_outlives_the_upload_or_its_processing(
    owner, case, tmp_path, on_commit
):
    spool = tmp_path / "spool"
    spool.mkdir()
    with override_settings(
        FILE_UPLOAD_TEMP_DIR=str(spool), MEDIA_MAX_IMAGE_BYTES=50_000
    ):
        response = _upload(
            owner,
            case,
            [
                ("a.jpg", photo_bytes(tmp_path)),
                ("big.jpg", photo_bytes(tmp_path) + b"\x00" * 60_000),
                ("v.mp4", mf.write_phone_mp4(tmp_path / "v.mp4").read_bytes()),
            ],
            on_commit,
            **JSON,
        )

    assert [r["ok"] for r in response.json()["files"]] == [True, False, True]
    assert [p for p in spool.rglob("*") if p.is_file()] == []
    for item in CaseAsset.objects.select_related("asset"):
        assert item.asset.source_name == ""
        assert sorted(stored_names(item.asset)) == sorted(
            item.asset.renditions.values()
        )


@override_settings(MEDIA_UPLOAD_MAX_OPEN_SESSIONS=1, MEDIA_DIRECT_UPLOADS=False)
def test_too_many_open_uploads_get_a_429_saying_why(owner, case):
    url = reverse("case_media_upload_start", args=[case.pk])
    body = json.dumps({"size": 5000})

    first = owner.post(url, body, content_type="application/json")
    second = owner.post(url, body, content_type="application/json")

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["ok"] is False
    assert "uploads in progress" in second.json()["error"]
    assert UploadSession.objects.count() == 1
