"""The patient portal pages: who may use them, submitting with and without
JavaScript, part-by-part uploads, live link checks, withdrawing, and the
permission-checked, audited media view."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from media_handling.models import MediaAsset, UploadSession
from portal.models import CONSENT_TEXT, Submission
from tests.fixtures import media_factory as mf
from tests.fixtures.submissions import (
    TIKTOK,
    TIKTOK_CANONICAL,
    attach,
    case_with_entry,
    processed_asset,
    run_on_commit,
    submit,
)
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat_client(client_for, pat):
    return client_for(pat)


def form_data(doc, **extra):
    data = {
        "clinician": doc.pk,
        "description": "It spread overnight",
        "consent": "on",
        "link": "",
    }
    data.update(extra)
    return data


# --- Who sees what --------------------------------------------------------------------


def test_patient_home_leads_to_the_portal(pat_client):
    response = pat_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal")


def test_portal_shows_only_the_patients_own_submissions(
    pat, doc, make_patient, client_for
):
    other = make_patient("other", clinician=doc)
    mine = submit(pat, doc, link=TIKTOK, description="Mine: blotches on the arm")
    submit(other, doc, link=TIKTOK, description="Theirs: a secret symptom")

    response = client_for(pat).get(reverse("portal"))

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="submission-{mine.pk}"' in body
    assert "Mine: blotches" in body
    assert "Theirs" not in body
    assert "You agreed to share it on" in body


def test_clinicians_and_visitors_cannot_use_the_portal(client, client_for, doc):
    assert client_for(doc).get(reverse("portal")).status_code == 403
    response = client.get(reverse("portal"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_patient_cannot_open_a_case_or_the_inbox(pat_client, doc, make_case):
    case, _ = case_with_entry(
        make_case, doc, status="published", visibility="community"
    )
    assert pat_client.get(reverse("case_detail", args=[case.pk])).status_code in (
        403,
        404,
    )
    assert pat_client.get(reverse("inbox")).status_code == 403


def test_patient_without_a_clinician_is_told_how_to_link(make_patient, client_for):
    loner = make_patient("loner")
    response = client_for(loner).get(reverse("portal"))
    assert b"not linked to a clinician" in response.content
    assert b"data-portal-form" not in response.content


def test_portal_offers_two_large_file_buttons_feeding_one_upload(pat_client):
    response = pat_client.get(reverse("portal"))

    body = response.content.decode()
    camera = re.search(r'<input[^>]*id="id_file_capture"[^>]*>', body).group(0)
    library = re.search(r'<input[^>]*id="id_file_library"[^>]*>', body).group(0)
    for tag in (camera, library):
        assert 'type="file"' in tag
        assert 'name="file"' in tag
        assert 'accept="image/*,video/*"' in tag
        assert "data-portal-file" in tag
    assert 'capture="environment"' in camera
    assert "capture" not in library
    assert '<label class="pick-btn" for="id_file_capture">' in body
    assert "Take photo or video" in body and "Choose from library" in body
    # One upload box and one hidden asset field serve both buttons.
    assert body.count("data-upload-progress") == 1
    assert body.count('name="asset"') == 1


def test_portal_consent_is_short_with_the_rest_behind_a_disclosure(pat_client):
    response = pat_client.get(reverse("portal"))

    body = response.content.decode()
    consent = re.search(
        r'<label for="id_consent">(.*?)</label>', body, flags=re.S
    ).group(1)
    words = html.unescape(consent)
    assert words == CONSENT_TEXT
    assert len(words.split()) < 70
    for promise in (
        "my clinician",
        "other clinicians working on a case",
        "without my name",
        "faces are blurred",
        "withdraw it at any time",
        "deletes my file and every copy",
    ):
        assert promise in words
    checkbox = re.search(r'<input type="checkbox" name="consent"[^>]*>', body)
    assert " required" in checkbox.group(0)
    start = body.index('<details class="privacy-more"')
    details = body[start : body.index("</details>", start)]
    assert "<summary>More about privacy</summary>" in details
    assert "hidden details stored in the file" in details
    assert "Withdraw" in details


def test_sending_records_the_consent_words_and_time(pat_client, pat, doc):
    before = timezone.now()
    with run_on_commit():
        pat_client.post(reverse("portal"), form_data(doc, link=TIKTOK))

    submission = Submission.objects.get(patient=pat)
    assert submission.consent_text == CONSENT_TEXT
    assert submission.consent_at >= before


def test_sending_without_ticking_consent_is_refused_with_a_message(
    pat_client, pat, doc
):
    response = pat_client.post(
        reverse("portal"), form_data(doc, link=TIKTOK, consent="")
    )

    assert response.status_code == 400
    assert b"Please confirm that you agree to share this." in response.content
    assert not Submission.objects.filter(patient=pat).exists()


# --- Submitting -----------------------------------------------------------------------


def test_submitting_a_link_without_javascript(pat_client, pat, doc):
    with run_on_commit():
        response = pat_client.post(reverse("portal"), form_data(doc, link=TIKTOK))

    assert response.status_code == 302
    submission = Submission.objects.get(patient=pat)
    assert submission.link.canonical_url == TIKTOK_CANONICAL
    assert submission.clinician == doc


def test_portal_post_without_a_csrf_token_is_refused(pat, doc):
    # The view turns Django's CSRF check off to install the upload handler
    # first, then runs it itself: a forged post must still fail.
    from django.test import Client

    forged = Client(enforce_csrf_checks=True)
    forged.force_login(pat)
    response = forged.post(reverse("portal"), form_data(doc, link=TIKTOK))

    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_submitting_a_photo_in_the_form_streams_it_through_the_pipeline(
    pat_client, pat, doc, tmp_path
):
    photo = mf.write_jpeg(tmp_path / "IMG_1.jpg")
    with run_on_commit(), photo.open("rb") as fh:
        response = pat_client.post(reverse("portal"), form_data(doc, file=fh))

    assert response.status_code == 302
    submission = Submission.objects.get(patient=pat)
    assert submission.asset.kind == "image"
    assert submission.asset.status == MediaAsset.Status.READY


def test_a_file_that_is_not_a_photo_or_video_is_refused_with_a_message(
    pat_client, pat, doc, tmp_path
):
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(b"Patient notes, not a picture\n" * 300)
    with fake.open("rb") as fh:
        response = pat_client.post(reverse("portal"), form_data(doc, file=fh))

    assert response.status_code == 400
    assert b"Unrecognised file type." in response.content
    assert not Submission.objects.exists()
    assert not MediaAsset.objects.exists()


def test_json_submission_reports_field_errors(pat_client, doc):
    response = pat_client.post(
        reverse("portal"),
        form_data(doc, consent="", link="javascript:alert(1)"),
        headers={"accept": "application/json"},
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"consent", "link"}


def test_cannot_send_to_a_clinician_one_is_not_linked_to(pat_client, make_clinician):
    stranger = make_clinician("stranger")
    response = pat_client.post(reverse("portal"), form_data(stranger, link=TIKTOK))
    assert response.status_code == 400
    assert not Submission.objects.exists()


# --- Upload sessions ------------------------------------------------------------------


def test_a_patient_with_too_many_open_uploads_gets_a_429(pat_client, settings):
    settings.MEDIA_UPLOAD_MAX_OPEN_BYTES = 6000
    settings.MEDIA_DIRECT_UPLOADS = False
    url = reverse("portal_upload_start")

    first = pat_client.post(
        url, json.dumps({"size": 5000}), content_type="application/json"
    )
    second = pat_client.post(
        url, json.dumps({"size": 5000}), content_type="application/json"
    )

    assert first.status_code == 201
    assert second.status_code == 429
    assert "would pass" in second.json()["error"]


def test_part_by_part_upload_then_submit_with_the_asset(
    pat_client, pat, doc, tmp_path, settings
):
    settings.MEDIA_UPLOAD_PART_BYTES = 2048
    settings.MEDIA_DIRECT_UPLOADS = False
    data = mf.write_jpeg(tmp_path / "big.jpg").read_bytes()

    started = pat_client.post(
        reverse("portal_upload_start"),
        json.dumps({"size": len(data)}),
        content_type="application/json",
    ).json()
    assert started["mode"] == "local"
    assert started["part_count"] == -(-len(data) // 2048)
    for n in range(1, started["part_count"] + 1):
        chunk = data[(n - 1) * 2048 : n * 2048]
        reply = pat_client.put(
            started["part_url"].replace("{n}", str(n)),
            chunk,
            content_type="application/octet-stream",
        )
        assert reply.status_code == 200, reply.content
        if n == 1:
            # A client that lost its place asks where the server got to.
            status = pat_client.get(started["status_url"]).json()
            assert status["received"] == len(chunk)
    with run_on_commit():
        done = pat_client.post(started["complete_url"]).json()
    asset_id = done["asset"]["id"]
    assert AuditEvent.objects.filter(
        verb="portal.upload", actor=pat, target_id=str(asset_id)
    ).exists()

    with run_on_commit():
        response = pat_client.post(
            reverse("portal"),
            form_data(doc, asset=asset_id),
            headers={"accept": "application/json"},
        )

    assert response.status_code == 200, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.asset_id == asset_id
    assert submission.asset.status == MediaAsset.Status.READY


def test_upload_session_of_another_user_is_not_found(
    pat_client, doc, make_patient, client_for
):
    other = make_patient("other", clinician=doc)
    started = (
        client_for(other)
        .post(
            reverse("portal_upload_start"),
            json.dumps({"size": 1000}),
            content_type="application/json",
        )
        .json()
    )
    assert pat_client.get(started["status_url"]).status_code == 404
    assert pat_client.post(started["complete_url"]).status_code == 404


def test_upload_start_refuses_files_over_every_cap(pat_client, settings):
    settings.MEDIA_MAX_VIDEO_BYTES = 10_000
    settings.MEDIA_MAX_IMAGE_BYTES = 10_000
    settings.MEDIA_MAX_DICOM_BYTES = 10_000
    response = pat_client.post(
        reverse("portal_upload_start"),
        json.dumps({"size": 10_001}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "too large" in response.json()["error"]
    assert not UploadSession.objects.exists()


def test_someone_elses_asset_id_cannot_be_submitted(
    pat_client, doc, make_patient, tmp_path
):
    other = make_patient("other", clinician=doc)
    theirs = processed_asset(other, mf.write_jpeg(tmp_path / "x.jpg"))
    response = pat_client.post(
        reverse("portal"),
        form_data(doc, asset=theirs.pk),
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


# --- Link check -----------------------------------------------------------------------


def test_link_check_describes_a_tiktok_link(pat_client):
    response = pat_client.get(
        reverse("portal_link_check"), {"url": TIKTOK, "description": "#rash today"}
    )
    data = response.json()
    assert data["ok"] is True
    assert data["platform"] == "tiktok"
    assert data["platform_label"] == "TikTok"
    assert data["canonical_url"] == TIKTOK_CANONICAL
    assert data["embed_url"] == "https://www.tiktok.com/embed/v2/7301234567890123456"
    assert data["hashtags"] == ["rash"]


def test_link_check_explains_a_refused_link(pat_client):
    data = pat_client.get(
        reverse("portal_link_check"), {"url": "ftp://example.com/x"}
    ).json()
    assert data["ok"] is False
    assert "http" in data["error"]


# --- Withdrawing ----------------------------------------------------------------------


def test_patient_withdraws_from_the_portal(pat_client, pat, doc):
    submission = submit(pat, doc, link=TIKTOK)
    response = pat_client.post(reverse("portal_withdraw", args=[submission.pk]))
    assert response.status_code == 302
    assert Submission.objects.get(pk=submission.pk).status == "withdrawn"


def test_patient_cannot_withdraw_someone_elses_submission(
    pat_client, doc, make_patient
):
    other = make_patient("other", clinician=doc)
    theirs = submit(other, doc, link=TIKTOK)
    response = pat_client.post(reverse("portal_withdraw", args=[theirs.pk]))
    assert response.status_code == 404
    assert Submission.objects.get(pk=theirs.pk).status == "submitted"


def test_attached_submission_offers_withdrawal_and_says_case_copies_go(
    pat_client, pat, doc, make_case
):
    submission = submit(pat, doc, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)
    attach(submission, doc, entry)
    body = pat_client.get(reverse("portal_list")).content.decode()
    assert "Added to a case" in body
    assert reverse("portal_withdraw", args=[submission.pk]) in body
    assert "every copy there is removed at once" in body

    response = pat_client.post(
        reverse("portal_withdraw", args=[submission.pk]), follow=True
    )

    assert "any copy shared on a case discussion" in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).status == "withdrawn"
    after = pat_client.get(reverse("portal_list")).content.decode()
    assert reverse("portal_withdraw", args=[submission.pk]) not in after


# --- The patient's copy ---------------------------------------------------------------


@pytest.fixture
def photo_submission(pat, doc, tmp_path):
    asset = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    return submit(pat, doc, asset=asset)


def test_patient_and_their_clinician_may_open_the_file_and_it_is_audited(
    client_for, pat, doc, photo_submission
):
    url = reverse("submission_media", args=[photo_submission.pk, "thumb"])
    for user in (pat, doc):
        response = client_for(user).get(url)
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert response["Cache-Control"] == "private, no-store"
            assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    viewers = set(
        AuditEvent.objects.filter(verb="submission.media_view").values_list(
            "actor__username", flat=True
        )
    )
    assert viewers == {"pat", "doc"}


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Bytes=0-", 206),
        ("bytes=00-", 206),
        ("bytes=1-2,0-", 200),
        ("bytes=-100000000", 206),
        ("bytes=5-", 206),
        ("bytes=99999999-", 416),
    ],
)
def test_the_patients_file_is_audited_once_per_response_whatever_its_range(
    client_for, pat, photo_submission, header, status
):
    url = reverse("submission_media", args=[photo_submission.pk, "thumb"])

    response = client_for(pat).get(url, HTTP_RANGE=header)

    assert response.status_code in (status, 302)
    events = AuditEvent.objects.filter(verb="submission.media_view", actor=pat)
    assert events.count() == 1
    assert events.get().data["status"] == response.status_code
    assert events.get().data["asset"] == photo_submission.asset_id


def test_nobody_else_may_open_the_patients_file(
    client_for, client, doc, photo_submission, make_clinician, make_patient, make_case
):
    url = reverse("submission_media", args=[photo_submission.pk, "display"])
    colleague = make_clinician("colleague")
    other_patient = make_patient("other", clinician=doc)
    # Even a collaborator on the case the submission is attached to.
    _, entry = case_with_entry(make_case, doc, participants={colleague: "collaborator"})
    attach(photo_submission, doc, entry)
    for user in (colleague, other_patient):
        assert client_for(user).get(url).status_code == 404
    assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(
        verb="submission.media_view", actor__in=[colleague, other_patient]
    ).exists()


def test_unknown_rendition_role_is_not_found(client_for, pat, photo_submission):
    url = reverse("submission_media", args=[photo_submission.pk, "original"])
    assert client_for(pat).get(url).status_code == 404


def test_large_upload_goes_straight_to_s3_and_resumes_from_the_parts_s3_holds(
    requires_s3, pat_client, pat, doc, tmp_path, settings
):
    import requests

    settings.MEDIA_UPLOAD_PART_BYTES = 5 * 1024 * 1024  # S3's minimum part
    settings.MEDIA_DIRECT_UPLOADS = True
    photo = mf.write_jpeg(tmp_path / "p.jpg").read_bytes()
    # A JPEG padded past one part, so the upload has two.
    data = photo + b"\0" * (5 * 1024 * 1024 + 10 - len(photo))

    started = pat_client.post(
        reverse("portal_upload_start"),
        json.dumps({"size": len(data)}),
        content_type="application/json",
    ).json()
    assert (started["mode"], started["part_count"]) == ("s3", 2)

    def put(number: int) -> None:
        urls = pat_client.post(
            started["sign_url"],
            json.dumps({"parts": [number]}),
            content_type="application/json",
        ).json()["urls"]
        size = started["part_size"]
        body = data[(number - 1) * size : number * size]
        response = requests.put(urls[str(number)], data=body, timeout=30)
        assert response.status_code == 200, response.text

    put(1)
    # A client that reconnects learns which parts S3 already holds.
    assert pat_client.get(started["status_url"]).json()["parts_done"] == [1]
    put(2)
    with run_on_commit():
        done = pat_client.post(started["complete_url"]).json()

    asset = MediaAsset.objects.get(pk=done["asset"]["id"])
    assert asset.uploaded_by == pat
    assert asset.kind == "image"
