"""Consent withdrawal: a patient withdraws an attached submission and every
case copy goes at once: the files in storage (local or S3, whichever the run
uses), the gallery items, the finding's note and link, replaced on the case
by a tombstone; open case pages hear of it; the trails and the clinician
are told."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from cases.models import Case, CaseAsset
from media_handling import storage as media_storage
from media_handling.models import MediaAsset
from portal import services
from portal.models import FindingLink, Submission
from portal.tasks import finding_copy_media
from tests.fixtures import media_factory as mf
from tests.fixtures.submissions import (
    TIKTOK,
    attach,
    case_with_entry,
    named_patient,
    processed_asset,
    review_copy,
    run_on_commit,
    submit,
)
from tests.fixtures.ws import frame_of, join
from workspace.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(make_patient, doc):
    return named_patient(make_patient, doc)


@pytest.fixture
def colleague(make_clinician):
    return make_clinician("colleague")


@pytest.fixture
def shared_photo(tmp_path, pat, doc, colleague, make_case):
    """A photo and link attached to two entries of one case and to a second case."""
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "IMG_0043.jpg"))
    submission = submit(pat, doc, asset=photo, link=TIKTOK)
    first, entry = case_with_entry(
        make_case, doc, participants={colleague: "viewer"}, status="published"
    )
    from diagnoses.models import Differential

    other_entry = Differential.objects.create(
        case=first, label="Psoriasis", proposed_by=doc
    )
    second, far_entry = case_with_entry(make_case, doc, label="Tinea corporis")
    findings = [
        attach(submission, doc, entry, note="Same annular edge"),
        attach(submission, doc, other_entry, relation="refutes"),
        attach(submission, doc, far_entry, relation="context", blur_faces=True),
    ]
    for finding in findings[::2]:  # one copy per case, each reviewed and released
        review_copy(finding, doc)
    for finding in findings:
        finding.refresh_from_db()
    return submission, photo, findings, (first, second)


def _names(asset: MediaAsset) -> list[str]:
    return media_storage.asset_names(asset)


def test_withdrawal_deletes_the_patients_file_and_every_case_copy_from_storage(
    pat, shared_photo
):
    submission, photo, findings, cases = shared_photo
    copies = {f.asset for f in findings}
    assert len(copies) == 2 and None not in copies  # one copy per case
    names = _names(photo) + [n for copy in copies for n in _names(copy)]
    store = media_storage.storage()
    assert names and all(store.exists(name) for name in names)

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    assert [name for name in names if store.exists(name)] == []
    gone = [photo.pk, *(copy.pk for copy in copies)]
    assert not MediaAsset.objects.filter(pk__in=gone).exists()
    assert not CaseAsset.objects.filter(case__in=cases).exists()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.WITHDRAWN
    assert submission.asset is None


def test_every_finding_becomes_an_empty_tombstone(pat, shared_photo):
    submission, _, findings, _ = shared_photo

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    rows = FindingLink.objects.filter(pk__in=[f.pk for f in findings])
    assert rows.count() == 3
    for row in rows:
        assert row.withdrawn_at is not None
        assert (row.note, row.platform, row.canonical_url, row.embed_url) == (("",) * 4)
        assert row.asset_id is None and not row.blur_faces


def test_case_page_shows_withdrawn_by_the_patient_in_its_place(
    client_for, pat, colleague, shared_photo
):
    submission, _, findings, (case, _) = shared_photo
    viewer = client_for(colleague)
    before = viewer.get(reverse("case_detail", args=[case.pk])).content.decode()
    media_url = reverse("finding_media", args=[case.pk, findings[0].pk, "display"])
    assert "Same annular edge" in before and media_url in before

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    page = viewer.get(reverse("case_detail", args=[case.pk])).content.decode()
    fragment = viewer.get(
        reverse("differentials_fragment", args=[case.pk])
    ).content.decode()
    for html in (page, fragment):
        assert html.count("Withdrawn by the patient") == 2
        assert "Same annular edge" not in html
        assert media_url not in html
        assert "tiktok.com" not in html
    assert viewer.get(media_url).status_code == 404


def test_open_case_pages_hear_of_the_withdrawal_and_the_removed_copies(
    case_events, pat, shared_photo
):
    submission, _, findings, (first, _) = shared_photo
    copy_of_first = findings[0].asset_id

    frames = case_events(
        first, lambda: services.submission_withdraw(submission=submission, by=pat)
    )

    about_findings = sorted(
        (f["finding"], f["differential"])
        for f in frames
        if f["type"] == "finding.updated" and f.get("withdrawn") is True
    )
    assert about_findings == sorted((f.pk, f.differential_id) for f in findings[:2])
    assert all(f["case"] == first.pk for f in frames if "case" in f)
    removed = [f["asset"] for f in frames if f["type"] == "media.updated"]
    assert {"id": copy_of_first, "status": "removed"} in removed


def test_trails_record_the_withdrawal_without_naming_the_patient_on_a_case(
    pat, shared_photo
):
    submission, _, findings, cases = shared_photo

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    own = AuditEvent.objects.get(verb="submission.withdraw")
    assert own.actor == pat and own.case_id is None
    assert sorted(own.data["findings"]) == sorted(f.pk for f in findings)
    on_cases = AuditEvent.objects.filter(verb="finding.withdraw").order_by("id")
    assert [(e.target_id, e.case_id) for e in on_cases] == [
        (str(f.pk), f.case_id) for f in findings
    ]
    case_trail = AuditEvent.objects.filter(case_id__in=[c.pk for c in cases])
    assert not case_trail.filter(actor=pat).exists()
    dumped = json.dumps(
        list(case_trail.values("actor_label", "target_label", "data")), default=str
    )
    for secret in ("Perpetua", "Quillfeather", "perpetua-q"):
        assert secret not in dumped


def test_the_clinician_is_told_every_case_copy_was_removed(pat, doc, shared_photo):
    submission, *_ = shared_photo

    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    note = Notification.objects.filter(user=doc, title__contains="withdrew").get()
    assert "2 cases" in note.body
    assert note.url == reverse("inbox_review", args=[submission.pk])


def test_a_copy_task_that_runs_after_withdrawal_makes_no_copy(
    tmp_path, pat, doc, make_case
):
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    submission = submit(pat, doc, asset=photo)
    _, entry = case_with_entry(make_case, doc)
    # Attached without running on-commit work: the copy task is still queued.
    finding = services.submission_attach(
        submission=submission, by=doc, differential=entry, relation="supports"
    )
    services.submission_withdraw(submission=submission, by=pat)
    assets_before = MediaAsset.objects.count()

    result = finding_copy_media.call(finding_id=finding.pk)

    assert result == "missing"
    assert MediaAsset.objects.count() == assets_before
    assert FindingLink.objects.get(pk=finding.pk).asset_id is None


def test_review_page_lists_the_tombstones_for_the_clinician(
    client_for, pat, doc, shared_photo
):
    submission, *_ = shared_photo
    with run_on_commit():
        services.submission_withdraw(submission=submission, by=pat)

    body = client_for(doc).get(reverse("inbox_review", args=[submission.pk]))

    html = body.content.decode()
    assert html.count("Withdrawn by the patient") == 3
    assert "Same annular edge" not in html


# --- Live, through the real ASGI stack ------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_an_open_case_socket_receives_the_withdrawal(
    make_clinician, make_patient, make_case
):
    def given():
        doc = make_clinician("dana")
        watcher = make_clinician("walt")
        pat = make_patient("pat", clinician=doc)
        case, entry = case_with_entry(
            make_case,
            doc,
            participants={watcher: "viewer"},
            status=Case.Status.PUBLISHED,
        )
        submission = submit(pat, doc, link=TIKTOK)
        finding = attach(submission, doc, entry, note="Same edge")
        return pat, watcher, case, submission, finding

    pat, watcher, case, submission, finding = await database_sync_to_async(given)()
    comm, _ = await join(watcher, case)

    await database_sync_to_async(services.submission_withdraw)(
        submission=submission, by=pat
    )

    frame = await frame_of(comm, "finding.updated", skip=("hello", "presence"))
    assert frame == {
        "type": "finding.updated",
        "case": case.pk,
        "differential": finding.differential_id,
        "finding": finding.pk,
        "withdrawn": True,
    }
    await comm.disconnect()
