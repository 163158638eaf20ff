"""The clinician's inbox and review page, the attach form, and what case
participants see of an attached finding (its content, never the patient)."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from diagnoses.models import Differential
from portal import services
from portal.models import FindingLink, Submission
from portal.selectors import findings_for_case, findings_for_differentials, inbox_counts
from tests.fixtures import media_factory as mf
from tests.fixtures.submissions import (
    TIKTOK,
    TIKTOK_CANONICAL,
    attach,
    case_with_entry,
    named_patient,
    processed_asset,
    review_copy,
    run_on_commit,
    submit,
)
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(make_patient, doc):
    return named_patient(make_patient, doc)


# --- Inbox ----------------------------------------------------------------------------


def test_inbox_lists_own_patients_submissions_newest_first(
    doc_client, pat, doc, make_clinician, make_patient
):
    other_doc = make_clinician("otherdoc")
    stranger = make_patient("stranger", clinician=other_doc)
    older = submit(pat, doc, link=TIKTOK, description="Older one")
    newer = submit(pat, doc, link=TIKTOK, description="Newer one")
    submit(stranger, other_doc, link=TIKTOK, description="Not for doc")

    body = doc_client.get(reverse("inbox"), {"show": "all"}).content.decode()

    assert body.index(f"/inbox/{newer.pk}/") < body.index(f"/inbox/{older.pk}/")
    assert "Not for doc" not in body
    assert "Perpetua Quillfeather" in body


def test_unread_counts_drop_when_a_submission_is_opened(doc_client, pat, doc):
    first = submit(pat, doc, link=TIKTOK)
    submit(pat, doc, link=TIKTOK)
    assert inbox_counts(doc).unread == 2

    response = doc_client.get(reverse("inbox_review", args=[first.pk]))

    assert response.status_code == 200
    assert inbox_counts(doc).unread == 1
    listing = doc_client.get(reverse("inbox"), {"partial": "1"}).content.decode()
    assert 'data-unread="1"' in listing
    assert AuditEvent.objects.filter(verb="submission.view", actor=doc).count() == 1


def test_a_clinician_cannot_open_another_clinicians_submission(
    client_for, pat, doc, make_clinician
):
    submission = submit(pat, doc, link=TIKTOK)
    other = client_for(make_clinician("other"))
    assert other.get(reverse("inbox_review", args=[submission.pk])).status_code == 404
    for name in ("inbox_rate", "inbox_reply", "inbox_dismiss", "inbox_attach"):
        response = other.post(reverse(name, args=[submission.pk]), {})
        assert response.status_code == 404, name
    assert Submission.objects.get(pk=submission.pk).read_at is None


def test_patients_cannot_open_the_inbox(client_for, pat):
    assert client_for(pat).get(reverse("inbox")).status_code == 403


def test_review_page_shows_consent_time_link_card_and_embed_button(
    doc_client, pat, doc
):
    submission = submit(pat, doc, link=TIKTOK, description="Looks like mine #eczema")

    body = doc_client.get(
        reverse("inbox_review", args=[submission.pk])
    ).content.decode()

    assert "Consent given" in body
    assert submission.consent_at.strftime("%Y-%m-%dT%H:%M:%S") in body
    assert TIKTOK_CANONICAL in body
    assert 'data-embed="https://www.tiktok.com/embed/v2/7301234567890123456"' in body
    assert "#eczema" in body
    # No inline script or style: the page works under the strict CSP.
    assert "<script>" not in body and " style=" not in body and "onclick" not in body


# --- Actions --------------------------------------------------------------------------


def test_rate_reply_and_dismiss_through_the_review_page(doc_client, pat, doc):
    submission = submit(pat, doc, link=TIKTOK)
    url = lambda name: reverse(name, args=[submission.pk])  # noqa: E731

    doc_client.post(
        url("inbox_rate"), {"credibility": "uncertain", "credibility_note": "Hmm"}
    )
    with run_on_commit():
        doc_client.post(url("inbox_reply"), {"reply": "Let's talk on Tuesday"})
    doc_client.post(url("inbox_dismiss"), {"reply": ""})

    submission.refresh_from_db()
    assert submission.credibility == "uncertain"
    assert submission.clinician_note == "Let's talk on Tuesday"
    assert submission.status == "dismissed"
    assert list(
        AuditEvent.objects.filter(actor=doc)
        .exclude(verb="submission.view")
        .values_list("verb", flat=True)
        .order_by("id")
    ) == ["submission.rate", "submission.reply", "submission.dismiss"]


def test_attach_form_offers_only_entries_of_cases_the_clinician_can_edit(
    doc_client, pat, doc, make_clinician, make_case
):
    colleague = make_clinician("colleague")
    _, mine = case_with_entry(make_case, doc, title="My rash case")
    _, theirs = case_with_entry(
        make_case, colleague, label="Only viewed dx", participants={doc: "viewer"}
    )
    submission = submit(pat, doc, link=TIKTOK)

    body = doc_client.get(
        reverse("inbox_review", args=[submission.pk])
    ).content.decode()
    assert f'value="{mine.pk}"' in body
    assert "Only viewed dx" not in body

    # Posting the viewed case's entry anyway is refused by the form.
    response = doc_client.post(
        reverse("inbox_attach", args=[submission.pk]),
        {"differential": theirs.pk, "relation": "supports"},
    )
    assert response.status_code == 400
    assert not FindingLink.objects.exists()

    with run_on_commit():
        response = doc_client.post(
            reverse("inbox_attach", args=[submission.pk]),
            {"differential": mine.pk, "relation": "context", "note": "Patient's view"},
        )
    assert response.status_code == 302
    finding = FindingLink.objects.get()
    assert (finding.differential, finding.relation) == (mine, "context")


def test_the_attach_form_blurs_faces_by_default_and_links_the_review(
    tmp_path, doc_client, pat, doc, make_case
):
    case, entry = case_with_entry(make_case, doc)
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    submission = submit(pat, doc, asset=photo)
    page = doc_client.get(reverse("inbox_review", args=[submission.pk]))
    box = re.search(r"<input[^>]*name=\"blur_faces\"[^>]*>", page.content.decode())
    assert box is not None and "checked" in box.group(0)

    with run_on_commit():
        response = doc_client.post(
            reverse("inbox_attach", args=[submission.pk]),
            {"differential": entry.pk, "relation": "supports", "blur_faces": "on"},
        )

    assert response.status_code == 302
    finding = FindingLink.objects.get()
    assert finding.blur_faces is True
    assert finding.asset.status == "needs_review"
    page = doc_client.get(reverse("inbox_review", args=[submission.pk])).content
    review = reverse("case_media_review", args=[case.pk, finding.asset_id])
    assert review.encode() in page


# --- Findings on the case -------------------------------------------------------------


def test_case_participants_see_the_findings_content_but_not_the_patient(
    tmp_path, client_for, pat, doc, make_clinician, make_case
):
    viewer = make_clinician("viewer")
    case, entry = case_with_entry(make_case, doc, participants={viewer: "viewer"})
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    media = submit(pat, doc, asset=photo, description="Secret words from Perpetua")
    link = submit(pat, doc, link=TIKTOK)
    finding = attach(media, doc, entry, note="Matches the distribution")
    attach(link, doc, entry, relation="refutes")
    # Until the clinician has reviewed the copy, the case sees none of it.
    unreviewed = findings_for_differentials([entry.pk], viewer)[entry.pk][0]
    assert not unreviewed.asset_ready and not unreviewed.media_url
    review_copy(finding, doc)

    found = findings_for_differentials([entry.pk], viewer)[entry.pk]
    html = render_to_string("portal/_findings.html", {"findings": found, "label": "x"})

    assert [f.relation for f in found] == ["supports", "refutes"]
    assert "Matches the distribution" in html
    assert TIKTOK_CANONICAL in html
    for secret in (
        "Perpetua",
        "Quillfeather",
        "perpetua-q",
        "Secret words",
        "is_from_webapp",
    ):
        assert secret not in html
    # The finding's copy is served to the viewer through the case.
    image = found[0]
    assert image.asset_ready and image.media_url
    response = client_for(viewer).get(image.poster_url)
    assert response.status_code in (200, 302)
    assert AuditEvent.objects.filter(
        verb="finding.media_view", actor=viewer, case_id=case.pk
    ).exists()
    # ...and never the patient's own copy.
    patient_copy = reverse("submission_media", args=[media.pk, "thumb"])
    assert client_for(viewer).get(patient_copy).status_code == 404


def test_finding_media_is_hidden_from_those_who_cannot_see_the_case(
    tmp_path, client_for, pat, doc, make_clinician, make_case
):
    outsider = make_clinician("outsider")
    _, entry = case_with_entry(make_case, doc)  # a draft: participants only
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    review_copy(attach(submit(pat, doc, asset=photo), doc, entry), doc)
    (finding,) = findings_for_differentials([entry.pk])[entry.pk]

    assert client_for(outsider).get(finding.media_url).status_code == 404
    assert client_for(pat).get(finding.media_url).status_code == 404


def test_finding_media_needs_a_released_gallery_item_of_the_case(
    tmp_path, client_for, pat, doc, make_clinician, make_case
):
    from cases.models import CaseAsset
    from cases.services import media as case_media

    viewer = make_clinician("viewer")
    case, entry = case_with_entry(make_case, doc, participants={viewer: "viewer"})
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    finding = attach(submit(pat, doc, asset=photo), doc, entry)
    urls = [
        reverse("finding_media", args=[case.pk, finding.pk, role])
        for role in ("display", "thumb")
    ]
    # Still to be reviewed: not even a guessed URL reaches a colleague.
    for url in urls:
        assert client_for(viewer).get(url).status_code == 404
    review_copy(finding, doc)
    for url in urls:
        assert client_for(viewer).get(url).status_code in (200, 302)

    # Once the gallery item is gone, the finding's copy is no longer served,
    # though the asset itself lives on with the patient's submission.
    finding.refresh_from_db()
    item = CaseAsset.objects.get(case=case, asset_id=finding.asset_id)
    with run_on_commit():
        case_media.case_media_remove(item=item, by=doc)
    finding.asset.refresh_from_db()
    assert finding.asset.is_ready
    for url in urls:
        assert client_for(viewer).get(url).status_code == 404
        assert client_for(doc).get(url).status_code == 404
    (view,) = findings_for_differentials([entry.pk], viewer)[entry.pk]
    assert not view.media_url and not view.poster_url


@pytest.mark.parametrize(
    ("header", "status"),
    [("Bytes=0-", 206), ("bytes=00-", 206), ("bytes=1-2,0-", 200), ("bytes=-0", 416)],
)
def test_finding_media_is_audited_once_per_response_whatever_its_range(
    tmp_path, client_for, pat, doc, make_clinician, make_case, header, status
):
    viewer = make_clinician("viewer")
    case, entry = case_with_entry(make_case, doc, participants={viewer: "viewer"})
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    review_copy(attach(submit(pat, doc, asset=photo), doc, entry), doc)
    (finding,) = findings_for_differentials([entry.pk], viewer)[entry.pk]

    response = client_for(viewer).get(finding.media_url, HTTP_RANGE=header)

    assert response.status_code in (status, 302)
    events = AuditEvent.objects.filter(verb="finding.media_view", actor=viewer)
    assert events.count() == 1
    assert events.get().case_id == case.pk
    assert events.get().data["status"] == response.status_code


def test_findings_of_a_case_load_in_one_query(
    pat, doc, make_case, django_assert_num_queries
):
    case, entry = case_with_entry(make_case, doc)
    second = Differential.objects.create(case=case, label="Psoriasis")
    for target in (entry, second, entry):
        attach(submit(pat, doc, link=TIKTOK), doc, target)

    with django_assert_num_queries(1):
        by_entry = findings_for_case(case)
        html = "".join(
            render_to_string("portal/_findings.html", {"findings": found})
            for found in by_entry.values()
        )

    assert {k: len(v) for k, v in by_entry.items()} == {entry.pk: 2, second.pk: 1}
    assert html.count('class="finding"') == 3


def test_inbox_and_portal_pages_use_the_same_number_of_queries_for_more_rows(
    client_for, pat, doc
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(client, url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    doc_client, pat_client = client_for(doc), client_for(pat)
    submit(pat, doc, link=TIKTOK)
    few = (count(doc_client, "/inbox/?show=all"), count(pat_client, "/portal/"))
    for _ in range(4):
        submit(pat, doc, link=TIKTOK)
    many = (count(doc_client, "/inbox/?show=all"), count(pat_client, "/portal/"))

    assert few == many


# --- Unverified clinicians ------------------------------------------------------------


@pytest.fixture
def lapsed(doc):
    """``doc`` after their registration changed: verification is needed again."""
    from workspace.models import ClinicianProfile

    ClinicianProfile.objects.filter(user=doc).update(
        verification=ClinicianProfile.Verification.UNVERIFIED
    )
    doc.refresh_from_db()
    return doc


def test_unverified_clinician_cannot_open_or_act_on_a_submission(
    tmp_path, client_for, pat, doc, make_case
):
    photo = processed_asset(pat, mf.write_jpeg(tmp_path / "p.jpg"))
    submission = submit(pat, doc, asset=photo, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)
    from workspace.models import ClinicianProfile

    ClinicianProfile.objects.filter(user=doc).update(
        verification=ClinicianProfile.Verification.PENDING
    )
    client = client_for(doc)
    posts = {
        "inbox_rate": {"credibility": "credible"},
        "inbox_reply": {"reply": "Thanks"},
        "inbox_dismiss": {"reply": ""},
        "inbox_attach": {"differential": entry.pk, "relation": "supports"},
    }

    responses = [client.get(reverse("inbox_review", args=[submission.pk]))]
    responses += [
        client.post(reverse(name, args=[submission.pk]), data)
        for name, data in posts.items()
    ]
    responses.append(
        client.get(reverse("submission_media", args=[submission.pk, "display"]))
    )

    for response in responses:
        assert response.status_code == 403
        assert "Until staff verify it" in response.content.decode()
    submission.refresh_from_db()
    assert submission.read_at is None
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.clinician_note == "" and not FindingLink.objects.exists()
    assert not AuditEvent.objects.filter(
        verb__in=["submission.view", "submission.media_view"]
    ).exists()


def test_unverified_clinician_gets_a_json_403_with_a_code(client_for, pat, doc, lapsed):
    submission = submit(pat, doc, link=TIKTOK)

    response = client_for(lapsed).post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": "Thanks"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "unverified"
    assert "verif" in response.json()["error"]


def test_unverified_inbox_shows_counts_and_why_but_no_submission(
    client_for, pat, doc, lapsed
):
    submission = submit(pat, doc, link=TIKTOK, description="Secret words")
    client = client_for(lapsed)

    for url in (reverse("inbox"), reverse("inbox") + "?partial=1"):
        body = client.get(url).content.decode()
        assert "data-verification-needed" in body
        assert reverse("inbox_review", args=[submission.pk]) not in body
        assert "Secret words" not in body
        assert "tiktok.com" not in body
    assert (
        "1 submission from your patients"
        in client.get(reverse("inbox")).content.decode()
    )


def test_services_refuse_an_unverified_clinician_too(pat, doc, lapsed, make_case):
    from workspace.services import PermissionDenied

    submission = submit(pat, doc, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)

    for action in (
        lambda: services.submission_open(submission=submission, by=lapsed),
        lambda: services.submission_reply(submission=submission, by=lapsed, note="x"),
        lambda: services.submission_rate(
            submission=submission, by=lapsed, credibility="credible"
        ),
        lambda: services.submission_dismiss(submission=submission, by=lapsed),
        lambda: services.submission_attach(
            submission=submission, by=lapsed, differential=entry, relation="supports"
        ),
    ):
        with pytest.raises(PermissionDenied, match="verified"):
            action()
