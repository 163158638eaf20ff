"""The PHI gate on what the inbox sends to other people: the note on a
finding (every case participant reads it) and the clinician's reply or
dismissal note (the patient reads it). Unresolved findings send the form back
with each finding inline and a dismiss box; JSON clients get ``phi_found``;
resending with the dismissals stores the text and audits the decision."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.phi import finding_key, scan_fields
from cases.phi_gate import PHIFound
from portal import services
from portal.models import FindingLink, Submission
from tests.fixtures.submissions import TIKTOK, case_with_entry, run_on_commit, submit
from workspace.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db

RISKY = "Same as the one seen by Dr Smith on 12/03/2024, call 07700 900123"
KINDS = {"name", "date", "phone"}


@pytest.fixture
def submission(pat, doc):
    return submit(pat, doc, link=TIKTOK)


@pytest.fixture
def entry(doc, make_case):
    return case_with_entry(make_case, doc)[1]


def keys(text: str, field: str) -> list[str]:
    return [finding_key(f) for f in scan_fields({field: text})]


def test_the_risky_text_has_the_findings_these_tests_rely_on():
    assert {f.kind for f in scan_fields({"note": RISKY})} == KINDS


# --- Services -------------------------------------------------------------------------


def test_finding_note_with_identifiers_is_refused_and_nothing_is_stored(
    submission, doc, entry
):
    with pytest.raises(PHIFound) as refused:
        services.submission_attach(
            submission=submission,
            by=doc,
            differential=entry,
            relation="supports",
            note=RISKY,
        )

    assert {f.kind for f in refused.value.findings} == KINDS
    assert not FindingLink.objects.exists()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_reply_and_dismissal_note_with_identifiers_are_refused(submission, doc):
    with pytest.raises(PHIFound):
        services.submission_reply(submission=submission, by=doc, note=RISKY)
    with pytest.raises(PHIFound):
        services.submission_dismiss(submission=submission, by=doc, note=RISKY)

    submission.refresh_from_db()
    assert submission.clinician_note == ""
    assert submission.status == Submission.Status.SUBMITTED
    assert not Notification.objects.filter(user=submission.patient).exists()


def test_dismissing_only_some_findings_is_still_refused(submission, doc):
    with pytest.raises(PHIFound) as refused:
        services.submission_reply(
            submission=submission,
            by=doc,
            note=RISKY,
            dismissed=keys(RISKY, "reply")[:1],
        )

    assert len(refused.value.findings) == len(KINDS) - 1


# --- Pages ----------------------------------------------------------------------------


def test_reply_form_comes_back_with_each_finding_and_a_dismiss_box(
    doc_client, submission
):
    response = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]), {"reply": RISKY}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "data-phi-found" in html
    for key in keys(RISKY, "reply"):
        assert f'name="dismiss" value="{key}"' in html
    assert "<mark>07700 900123</mark>" in html
    assert RISKY in html  # the text typed is kept in the form
    submission.refresh_from_db()
    assert submission.clinician_note == ""


def test_resending_the_reply_with_every_finding_dismissed_stores_and_audits(
    doc_client, submission, doc
):
    response = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": RISKY, "dismiss": keys(RISKY, "reply")},
    )

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.clinician_note == RISKY
    event = AuditEvent.objects.get(verb="phi.dismiss")
    assert event.actor == doc and event.case_id is None
    assert event.target_id == str(submission.pk)
    assert event.data["surface"] == "submission.reply"
    assert set(event.data["kinds"]) == KINDS
    assert sorted(event.data["keys"]) == sorted(keys(RISKY, "reply"))
    assert "07700" not in str(event.data)


def test_earlier_dismissals_stay_ticked_when_the_form_comes_back(
    doc_client, submission
):
    first, *rest = keys(RISKY, "reply")

    html = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": RISKY, "dismiss": [first]},
    ).content.decode()

    assert f'value="{first}" checked' in html
    for key in rest:
        assert f'value="{key}">' in html


def test_finding_note_form_comes_back_then_attaches_with_dismissals(
    doc_client, submission, entry
):
    data = {"differential": entry.pk, "relation": "supports", "note": RISKY}
    url = reverse("inbox_attach", args=[submission.pk])

    refused = doc_client.post(url, data)

    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.count('name="dismiss"') == len(KINDS)
    assert not FindingLink.objects.exists()

    with run_on_commit():
        accepted = doc_client.post(url, {**data, "dismiss": keys(RISKY, "note")})

    assert accepted.status_code == 302
    finding = FindingLink.objects.get()
    assert finding.note == RISKY
    event = AuditEvent.objects.get(verb="phi.dismiss")
    assert event.case_id == entry.case_id
    assert event.data["surface"] == "finding.note"


def test_dismissal_note_goes_through_the_gate_on_the_page_too(doc_client, submission):
    url = reverse("inbox_dismiss", args=[submission.pk])

    refused = doc_client.post(url, {"reply": RISKY})
    accepted = doc_client.post(url, {"reply": RISKY, "dismiss": keys(RISKY, "reply")})

    assert refused.status_code == 400 and "data-phi-found" in refused.content.decode()
    assert accepted.status_code == 302
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DISMISSED
    assert submission.clinician_note == RISKY


def test_clean_text_passes_without_an_audit_of_dismissals(doc_client, submission):
    response = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": "Thanks, this helps. Keep a photo diary."},
    )

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(verb="phi.dismiss").exists()


# --- JSON -----------------------------------------------------------------------------


def test_json_reply_with_identifiers_gets_phi_found_with_the_findings(
    doc_client, submission
):
    response = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": RISKY},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "phi_found"
    assert {f["kind"] for f in body["findings"]} == KINDS
    assert {f["key"] for f in body["findings"]} == set(keys(RISKY, "reply"))
    phone = next(f for f in body["findings"] if f["kind"] == "phone")
    assert phone["field"] == "reply" and phone["text"] == "07700 900123"
    assert RISKY[phone["start"] : phone["end"]] == "07700 900123"


def test_json_attach_with_dismissals_succeeds(doc_client, submission, entry):
    with run_on_commit():
        response = doc_client.post(
            reverse("inbox_attach", args=[submission.pk]),
            {
                "differential": entry.pk,
                "relation": "context",
                "note": RISKY,
                "dismiss": keys(RISKY, "note"),
            },
            HTTP_ACCEPT="application/json",
        )

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert FindingLink.objects.get().note == RISKY


def test_json_form_errors_are_a_400_with_field_messages(doc_client, submission):
    response = doc_client.post(
        reverse("inbox_reply", args=[submission.pk]),
        {"reply": ""},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert "reply" in response.json()["errors"]
