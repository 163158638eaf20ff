"""Files in submissions: the patient's copy goes through the media pipeline;
attaching makes a new, case-grade de-identified copy in the case (read back
from storage here); withdrawing deletes the patient's file."""

from __future__ import annotations

import io
import json

import pytest

from cases.models import CaseAsset
from cases.services import media as case_media
from diagnoses.models import Differential
from media_handling import storage as media_storage
from media_handling.models import MediaAsset
from portal import services
from portal.models import FindingLink, Submission
from tests.fixtures import media_factory as mf
from tests.fixtures.layer import GroupListener
from tests.fixtures.media_uploads import accepted_upload, stored_bytes, stored_names
from tests.fixtures.submissions import (
    TIKTOK,
    attach,
    case_with_entry,
    named_patient,
    processed_asset,
    run_on_commit,
    submit,
)
from workspace.errors import InvalidInput
from workspace.events import case_group, user_group
from workspace.services import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(make_patient, doc):
    return named_patient(make_patient, doc)


@pytest.fixture
def phone_video(tmp_path, pat):
    return processed_asset(pat, mf.write_phone_mp4(tmp_path / "IMG_0042.mp4"))


@pytest.fixture
def phone_photo(tmp_path, pat):
    return processed_asset(pat, mf.write_jpeg(tmp_path / "IMG_0043.jpg"))


def identifying(data: bytes, patient) -> list[str]:
    found = mf.planted_found(data)
    for value in (patient.first_name, patient.last_name, patient.username):
        if value.encode() in data:
            found.append(value)
    return found


def test_patient_copy_is_processed_and_stripped_but_not_blurred(pat, doc, phone_video):
    submission = submit(pat, doc, asset=phone_video)

    asset = MediaAsset.objects.get(pk=submission.asset_id)
    assert asset.status == MediaAsset.Status.READY
    assert asset.owner_group == user_group(pat)
    files = stored_bytes(asset)
    assert set(files) == set(asset.renditions.values())
    for name, data in files.items():
        assert mf.planted_found(data) == [], name


def test_attaching_a_video_makes_a_new_deidentified_case_copy(
    pat, doc, phone_video, make_case
):
    case, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, asset=phone_video)

    finding = attach(submission, doc, entry, note="Same distribution")

    finding.refresh_from_db()
    copy = finding.asset
    assert copy is not None and copy.pk != phone_video.pk
    # Always held for the clinician's review, faces found or not.
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert copy.kind == "video"
    # Uploaded in the clinician's name, announced to the case, never the patient.
    assert copy.uploaded_by == doc
    assert copy.owner_group == case_group(case)
    item = CaseAsset.objects.get(case=case, asset=copy)
    assert item.added_by == doc
    assert item.released_at is None
    assert item.visible_to(doc)
    # Read back from storage: nothing planted, nothing naming the patient.
    files = stored_bytes(copy)
    assert "video" in copy.renditions and set(files) == set(copy.renditions.values())
    for name, data in files.items():
        assert identifying(data, pat) == [], name
    described = json.dumps([copy.metadata, copy.report, item.caption]).encode()
    assert identifying(described, pat) == []
    # The patient's own copy is untouched and still theirs.
    phone_video.refresh_from_db()
    assert phone_video.uploaded_by == pat
    assert stored_names(phone_video)


def test_a_face_in_a_video_is_blurred_in_the_one_transcode_that_makes_the_copy(
    tmp_path, pat, doc, make_case, monkeypatch
):
    from media_handling import pipeline
    from tests.fixtures.media_uploads import write_face_video

    selfie = processed_asset(pat, write_face_video(tmp_path / "selfie.mp4"))
    assert selfie.proposed_faces
    case, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, asset=selfie)
    transcodes = []
    real = pipeline.clean_video

    def counted(src, dst, **kwargs):
        transcodes.append(kwargs.get("faces"))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(pipeline, "clean_video", counted)

    finding = attach(submission, doc, entry)  # blur_faces by default

    copy = FindingLink.objects.get(pk=finding.pk).asset
    # Found in the patient's clean master and blurred while encoding: one
    # transcode, where detect-then-blur took two.
    assert len(transcodes) == 1 and transcodes[0] is not None
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert copy.faces["blurred"] and copy.proposed_faces == []
    assert "blurred in" in copy.report["blurred"][0]
    assert not CaseAsset.objects.get(case=case, asset=copy).released_at


def test_attaching_a_photo_strips_planted_exif_from_the_case_copy(
    pat, doc, phone_photo, make_case
):
    _, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, asset=phone_photo)

    finding = attach(submission, doc, entry)

    copy = FindingLink.objects.get(pk=finding.pk).asset
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    for name in copy.renditions.values():
        assert identifying(media_storage.read_bytes(name), pat) == [], name


def _selfie(tmp_path, pat):
    picture = mf.face_picture(size=(480, 360), face=(150, 60, 220, 220))
    path = mf.write_jpeg(tmp_path / "selfie.jpg", orientation=1, displayed=picture)
    return processed_asset(pat, path)


def _collaborator(make_clinician, case):
    from cases.models import CaseParticipant

    other = make_clinician("colleague")
    CaseParticipant.objects.create(
        case=case, user=other, role=CaseParticipant.Role.COLLABORATOR
    )
    return other


def _face_left(asset: MediaAsset) -> list:
    from PIL import Image

    from media_handling.faces import detect_faces

    data = media_storage.read_bytes(asset.renditions["display"])
    return detect_faces(Image.open(io.BytesIO(data)).convert("RGB"))


def test_blurring_faces_is_the_default_and_the_copy_waits_for_review(
    tmp_path, pat, doc, make_case, make_clinician
):
    photo = _selfie(tmp_path, pat)
    # The patient's copy keeps the face: it stays between patient and clinician.
    assert photo.proposed_faces
    case, entry = case_with_entry(make_case, doc)
    colleague = _collaborator(make_clinician, case)
    submission = submit(pat, doc, asset=photo)

    finding = attach(submission, doc, entry)  # blur_faces not given

    finding = FindingLink.objects.get(pk=finding.pk)
    copy = finding.asset
    assert finding.blur_faces is True
    assert copy.faces["blurred"], copy.faces
    assert any("blurred in the photo" in line for line in copy.report["blurred"])
    assert _face_left(copy) == []
    # Blurred by rule, not by looking: the clinician still reviews it first.
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    item = CaseAsset.objects.get(case=case, asset=copy)
    assert item.released_at is None
    assert not item.visible_to(colleague)
    assert not CaseAsset.objects.visible_to(colleague).filter(pk=item.pk).exists()

    with run_on_commit():
        item = case_media.case_media_faces_confirm(item=item, by=doc, release=True)

    item.refresh_from_db()
    assert item.asset.status == MediaAsset.Status.READY
    assert item.visible_to(colleague)


def test_faces_stay_sharp_only_after_the_clinician_confirms_it(
    tmp_path, pat, doc, make_case, make_clinician
):
    photo = _selfie(tmp_path, pat)
    case, entry = case_with_entry(make_case, doc)
    colleague = _collaborator(make_clinician, case)
    submission = submit(pat, doc, asset=photo)

    finding = attach(submission, doc, entry, blur_faces=False)

    copy = FindingLink.objects.get(pk=finding.pk).asset
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert copy.proposed_faces and not copy.faces.get("blurred")
    item = CaseAsset.objects.get(case=case, asset=copy)
    assert not item.visible_to(colleague)
    # Releasing without the review is refused.
    with pytest.raises(ServiceError, match="Review it for faces"):
        case_media.case_media_release(item=item, by=doc)
    assert case_media.case_media_release_all(case=case, by=doc) == 0

    with run_on_commit():
        case_media.case_media_faces_confirm(item=item, by=doc, keep=[], release=True)

    copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.READY
    assert "Reviewed: nothing blurred." in copy.report["blurred"]
    assert CaseAsset.objects.get(pk=item.pk).visible_to(colleague)


def test_a_copy_without_faces_found_still_waits_for_review(
    pat, doc, phone_photo, make_case, make_clinician
):
    case, entry = case_with_entry(make_case, doc)
    colleague = _collaborator(make_clinician, case)
    submission = submit(pat, doc, asset=phone_photo)

    finding = attach(submission, doc, entry)

    copy = FindingLink.objects.get(pk=finding.pk).asset
    assert copy.proposed_faces == []
    assert copy.status == MediaAsset.Status.NEEDS_REVIEW
    assert "Check this for faces" in copy.status_reason
    item = CaseAsset.objects.get(case=case, asset=copy)
    assert not item.visible_to(colleague)


def test_one_copy_per_case_however_many_entries(pat, doc, phone_photo, make_case):
    case, entry = case_with_entry(make_case, doc)
    second = Differential.objects.create(case=case, label="Psoriasis")
    _, elsewhere = case_with_entry(make_case, doc, label="Tinea")
    submission = submit(pat, doc, asset=phone_photo)

    a = attach(submission, doc, entry)
    b = attach(submission, doc, second, relation="refutes")
    c = attach(submission, doc, elsewhere, relation="context")

    a, b, c = (FindingLink.objects.get(pk=f.pk) for f in (a, b, c))
    assert a.asset_id == b.asset_id
    assert c.asset_id not in (None, a.asset_id)
    assert CaseAsset.objects.filter(asset_id=a.asset_id).count() == 1


def test_attach_waits_until_the_patients_file_is_processed(
    pat, doc, make_case, tmp_path
):
    from media_handling import services as media_services

    upload = accepted_upload(mf.write_jpeg(tmp_path / "x.jpg").read_bytes())
    # Created without running on-commit work: still "uploaded".
    asset = media_services.asset_create_from_upload(upload=upload, uploaded_by=pat)
    submission = submit(pat, doc, asset=asset)
    _, entry = case_with_entry(make_case, doc)

    with pytest.raises(ServiceError, match="still being processed"):
        services.submission_attach(
            submission=submission, by=doc, differential=entry, relation="supports"
        )


def test_withdrawing_deletes_the_patients_file(pat, doc, phone_photo):
    submission = submit(pat, doc, asset=phone_photo)
    names = list(phone_photo.renditions.values())
    assert all(media_storage.storage().exists(n) for n in names)

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    assert not MediaAsset.objects.filter(pk=phone_photo.pk).exists()
    assert not any(media_storage.storage().exists(n) for n in names)
    assert Submission.objects.get(pk=submission.pk).asset is None


def test_someone_elses_upload_cannot_be_submitted(pat, doc, make_patient, tmp_path):
    other = make_patient("other", clinician=doc)
    theirs = processed_asset(other, mf.write_jpeg(tmp_path / "theirs.jpg"))
    with pytest.raises(InvalidInput) as refused:
        submit(pat, doc, asset=theirs, link=TIKTOK)
    assert set(refused.value.errors) == {"file"}


def test_case_page_hears_of_the_finding_and_again_when_its_copy_is_ready(
    pat, doc, phone_photo, make_case
):
    case, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, asset=phone_photo)
    listener = GroupListener(case_group(case))

    finding = attach(submission, doc, entry)

    about_finding = [
        f["type"] for f in listener.drain() if f.get("finding") == finding.pk
    ]
    assert about_finding == ["finding.added", "finding.updated"]


def test_uploads_never_sent_are_deleted_by_the_cleanup_command(
    pat, doc, phone_photo, tmp_path
):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command

    sent = submit(pat, doc, asset=phone_photo)
    unsent = processed_asset(pat, mf.write_jpeg(tmp_path / "left.jpg"))
    fresh = processed_asset(pat, mf.write_jpeg(tmp_path / "just_now.jpg"))
    day_ago = unsent.created - timedelta(hours=25)
    MediaAsset.objects.filter(pk__in=[unsent.pk, phone_photo.pk]).update(
        created=day_ago
    )
    names = list(unsent.renditions.values())

    out = StringIO()
    with run_on_commit():
        call_command("portal_cleanup", stdout=out)

    assert "1 unsent upload(s) deleted." in out.getvalue()
    assert not MediaAsset.objects.filter(pk=unsent.pk).exists()
    assert not any(media_storage.storage().exists(n) for n in names)
    # Sent files and uploads still within the day stay.
    assert MediaAsset.objects.filter(pk__in=[sent.asset_id, fresh.pk]).count() == 2
