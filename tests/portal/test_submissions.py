"""Submission services: creation rules, every transition (and the illegal
ones), notifications, audit events and the case frame on attach."""

from __future__ import annotations

import pytest

from cases.phi import finding_key
from cases.phi_gate import PHIFound
from portal import services
from portal.models import CONSENT_TEXT, FindingLink, Submission
from tests.fixtures.layer import GroupListener
from tests.fixtures.submissions import (
    COLLABORATOR,
    TIKTOK,
    TIKTOK_CANONICAL,
    VIEWER,
    attach,
    case_with_entry,
    run_on_commit,
    submit,
)
from workspace.errors import InvalidInput
from workspace.events import case_group, user_group
from workspace.models import AuditEvent, CareLink, Notification
from workspace.services import PermissionDenied, ServiceError


def verbs(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=str(target.pk)
        )
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- Creating -------------------------------------------------------------------------


def test_link_submission_stores_canonical_link_hashtags_and_consent(pat, doc):
    submission = submit(pat, doc, link=TIKTOK, description="Same as mine #psoriasis")

    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.link.platform == "tiktok"
    assert submission.link.url == TIKTOK
    assert submission.link.canonical_url == TIKTOK_CANONICAL
    assert submission.link.content_id == "7301234567890123456"
    assert submission.link.hashtags == ["psoriasis"]
    assert submission.consent_text == CONSENT_TEXT
    assert submission.consent_at is not None
    event = AuditEvent.objects.get(verb="submission.create")
    assert event.actor == pat
    assert event.data["consent_at"] == submission.consent_at.isoformat()


def test_new_submission_notifies_the_clinician_live(pat, doc):
    listener = GroupListener(user_group(doc))

    submission = submit(pat, doc, link=TIKTOK)

    (frame,) = listener.drain()
    assert frame["type"] == "notification"
    assert frame["notification"]["kind"] == "submission"
    assert frame["notification"]["url"] == f"/inbox/{submission.pk}/"
    assert frame["unread"] == 1
    assert Notification.objects.get(user=doc).title == "New from Pat Pat: TikTok"


def test_submission_without_consent_is_refused_with_a_field_error(pat, doc):
    with pytest.raises(InvalidInput) as refused:
        services.submission_create(
            patient=pat,
            clinician=doc,
            description="A video",
            consent=False,
            link_url=TIKTOK,
        )
    assert set(refused.value.errors) == {"consent"}
    assert not Submission.objects.exists()


def test_submission_needs_a_description_and_some_content(pat, doc):
    with pytest.raises(InvalidInput) as refused:
        services.submission_create(
            patient=pat, clinician=doc, description="  ", consent=True
        )
    assert set(refused.value.errors) == {"description", "file"}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://user:pw@tiktok.com/@a/video/1",
        "http://10.0.0.1/x",
    ],
)
def test_hostile_links_are_refused_with_the_parsers_message(pat, doc, url):
    with pytest.raises(InvalidInput) as refused:
        services.submission_create(
            patient=pat, clinician=doc, description="x", consent=True, link_url=url
        )
    assert set(refused.value.errors) == {"link"}
    assert refused.value.errors["link"]


def test_patient_cannot_submit_to_a_clinician_they_are_not_linked_to(
    pat, make_clinician
):
    stranger = make_clinician("stranger")
    with pytest.raises(PermissionDenied):
        submit(pat, stranger, link=TIKTOK)


def test_patient_cannot_submit_after_the_care_link_is_ended(pat, doc):
    CareLink.objects.filter(patient=pat, clinician=doc).update(active=False)
    with pytest.raises(PermissionDenied):
        submit(pat, doc, link=TIKTOK)


def test_clinician_cannot_create_a_submission(doc, make_clinician):
    with pytest.raises(PermissionDenied):
        submit(doc, make_clinician(), link=TIKTOK)


def test_a_flood_of_submissions_is_refused(pat, doc, settings):
    settings.PORTAL_SUBMISSIONS_PER_HOUR = 2
    submit(pat, doc, link=TIKTOK)
    submit(pat, doc, link=TIKTOK)

    with pytest.raises(ServiceError, match="a lot in the last hour"):
        submit(pat, doc, link=TIKTOK)
    assert Submission.objects.count() == 2
    assert Notification.objects.filter(user=doc).count() == 2


# --- Clinician transitions ------------------------------------------------------------


def test_rating_marks_reviewed_and_read_and_keeps_the_note_private(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)

    services.submission_rate(
        submission=submission, by=doc, credibility="misinformation", note="Staged"
    )

    submission.refresh_from_db()
    assert submission.status == Submission.Status.REVIEWED
    assert submission.credibility == "misinformation"
    assert submission.credibility_note == "Staged"
    assert submission.read_at is not None
    assert not Notification.objects.filter(user=pat).exists()
    assert verbs(submission) == ["submission.create", "submission.rate"]


def test_reply_is_shown_to_the_patient_and_notifies_them(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)

    with run_on_commit():
        services.submission_reply(
            submission=submission, by=doc, note="Thanks, let's discuss Tuesday."
        )

    submission.refresh_from_db()
    assert submission.clinician_note == "Thanks, let's discuss Tuesday."
    assert submission.status == Submission.Status.REVIEWED
    note = Notification.objects.get(user=pat)
    assert note.kind == "submission"
    assert note.url == f"/portal/#submission-{submission.pk}"


def test_opening_marks_read_once_and_audits_every_view(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)

    services.submission_open(submission=submission, by=doc)
    first = Submission.objects.get(pk=submission.pk).read_at
    services.submission_open(submission=submission, by=doc)

    assert Submission.objects.get(pk=submission.pk).read_at == first
    assert verbs(submission).count("submission.view") == 2


def test_another_clinician_cannot_rate_reply_dismiss_or_open(pat, doc, make_clinician):
    other = make_clinician("other")
    submission = submit(pat, doc, link=TIKTOK)
    for action in (
        lambda: services.submission_rate(
            submission=submission, by=other, credibility="credible"
        ),
        lambda: services.submission_reply(submission=submission, by=other, note="x"),
        lambda: services.submission_dismiss(submission=submission, by=other),
        lambda: services.submission_open(submission=submission, by=other),
    ):
        with pytest.raises(PermissionDenied):
            action()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.read_at is None


def test_unknown_rating_is_refused(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)
    with pytest.raises(InvalidInput):
        services.submission_rate(submission=submission, by=doc, credibility="great")


def test_dismissed_submission_cannot_be_attached(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)
    services.submission_dismiss(submission=submission, by=doc, note="Not relevant")

    with pytest.raises(ServiceError):
        attach(submission, doc, entry)
    assert not FindingLink.objects.exists()


# --- Withdrawing ----------------------------------------------------------------------


def test_patient_withdraws_before_attach_and_the_clinician_is_told(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)

    services.submission_withdraw(submission=submission, by=pat)

    submission.refresh_from_db()
    assert submission.status == Submission.Status.WITHDRAWN
    assert submission.withdrawn_at is not None
    assert Notification.objects.filter(user=doc, title__contains="withdrew").exists()
    assert "submission.withdraw" in verbs(submission)


def test_withdraw_after_attach_tombstones_the_finding(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)
    finding = attach(submission, doc, entry, note="Same scale")

    services.submission_withdraw(submission=submission, by=pat)

    submission.refresh_from_db()
    finding.refresh_from_db()
    assert submission.status == Submission.Status.WITHDRAWN
    assert finding.is_withdrawn
    assert (finding.note, finding.canonical_url, finding.platform) == ("", "", "")


def test_withdrawing_twice_changes_nothing_the_second_time(pat, doc):
    submission = submit(pat, doc, link=TIKTOK)
    services.submission_withdraw(submission=submission, by=pat)
    first = Submission.objects.get(pk=submission.pk).withdrawn_at

    services.submission_withdraw(submission=submission, by=pat)

    assert Submission.objects.get(pk=submission.pk).withdrawn_at == first
    assert verbs(submission).count("submission.withdraw") == 1


def test_only_the_patient_who_sent_it_can_withdraw(pat, doc, make_patient):
    other = make_patient("other", clinician=doc)
    submission = submit(pat, doc, link=TIKTOK)
    for someone in (other, doc):
        with pytest.raises(PermissionDenied):
            services.submission_withdraw(submission=submission, by=someone)


def test_withdrawn_submission_cannot_be_rated_or_attached(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    _, entry = case_with_entry(make_case, doc)
    services.submission_withdraw(submission=submission, by=pat)

    with pytest.raises(ServiceError, match="withdrew"):
        services.submission_rate(submission=submission, by=doc, credibility="credible")
    with pytest.raises(ServiceError, match="withdrew"):
        attach(submission, doc, entry)


# --- Attaching ------------------------------------------------------------------------


def test_attach_shares_the_canonical_link_and_never_the_patient(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    case, entry = case_with_entry(make_case, doc)

    finding = attach(submission, doc, entry, relation="refutes", note="Looks different")

    submission.refresh_from_db()
    assert submission.status == Submission.Status.ATTACHED
    assert submission.decided_at is not None
    assert (finding.case, finding.differential) == (case, entry)
    assert finding.canonical_url == TIKTOK_CANONICAL
    assert finding.platform == "tiktok"
    assert finding.relation == "refutes"
    case_events = AuditEvent.objects.filter(case_id=case.pk)
    assert list(case_events.values_list("verb", flat=True)) == ["finding.add"]
    for event in case_events:
        text = f"{event.target_label} {event.data}"
        assert "Pat" not in text and "pat" not in text
        assert str(pat.pk) != event.target_id or event.target_type != "workspace.user"
    note = Notification.objects.filter(user=pat).latest("id")
    assert "added what you sent" in note.title
    assert case.title not in note.title + note.body


def test_a_link_to_another_site_passes_the_phi_gate_before_it_reaches_the_case(
    pat, doc, make_case
):
    """Known platforms' links are rebuilt from the post's id; any other site's
    keeps its path, which can name someone, so the clinician checks it."""
    submission = submit(pat, doc, link="https://www.linkedin.com/in/jane-doe-1234/")
    case, entry = case_with_entry(make_case, doc)

    with pytest.raises(PHIFound) as refused:
        attach(submission, doc, entry, note="Same rash")

    assert [f.field for f in refused.value.findings] == ["link"]
    assert not FindingLink.objects.exists()
    keys = [finding_key(f) for f in refused.value.findings]
    finding = attach(submission, doc, entry, note="Same rash", dismissed=keys)
    assert finding.canonical_url == "https://www.linkedin.com/in/jane-doe-1234/"
    assert AuditEvent.objects.filter(verb="phi.dismiss", case_id=case.pk).exists()


def test_a_known_platforms_link_needs_no_dismissal(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    _case, entry = case_with_entry(make_case, doc)

    finding = attach(submission, doc, entry, note="Same rash")

    assert finding.canonical_url == TIKTOK_CANONICAL


def test_attach_broadcasts_a_finding_frame_to_the_case(pat, doc, make_case):
    submission = submit(pat, doc, link=TIKTOK)
    case, entry = case_with_entry(make_case, doc)
    listener = GroupListener(case_group(case))

    finding = attach(submission, doc, entry)

    (frame,) = listener.drain()
    assert frame == {
        "type": "finding.added",
        "case": case.pk,
        "differential": entry.pk,
        "finding": finding.pk,
    }


def test_attach_to_a_case_the_clinician_cannot_edit_is_refused(
    pat, doc, make_clinician, make_case
):
    colleague = make_clinician("colleague")
    # doc only views the colleague's case
    _, entry = case_with_entry(make_case, colleague, participants={doc: VIEWER})
    submission = submit(pat, doc, link=TIKTOK)

    with pytest.raises(PermissionDenied):
        attach(submission, doc, entry)
    assert not FindingLink.objects.exists()
    assert Submission.objects.get(pk=submission.pk).status == "submitted"


def test_collaborator_may_attach_to_a_colleagues_case(
    pat, doc, make_clinician, make_case
):
    colleague = make_clinician("colleague")
    _, entry = case_with_entry(make_case, colleague, participants={doc: COLLABORATOR})
    submission = submit(pat, doc, link=TIKTOK)

    finding = attach(submission, doc, entry)

    assert finding.created_by == doc


def test_clinician_cannot_attach_another_clinicians_patients_submission(
    pat, doc, make_clinician, make_case
):
    other = make_clinician("other")
    _, entry = case_with_entry(make_case, other)
    submission = submit(pat, doc, link=TIKTOK)

    with pytest.raises(PermissionDenied):
        attach(submission, other, entry)
    assert not FindingLink.objects.exists()


def test_attach_to_an_archived_case_is_refused(pat, doc, make_case):
    _, entry = case_with_entry(make_case, doc, status="archived")
    submission = submit(pat, doc, link=TIKTOK)
    with pytest.raises(ServiceError, match="archived"):
        attach(submission, doc, entry)


def test_same_submission_on_two_entries_and_never_twice_on_one(pat, doc, make_case):
    case, entry = case_with_entry(make_case, doc)
    other_entry = entry.__class__.objects.create(case=case, label="Psoriasis")
    submission = submit(pat, doc, link=TIKTOK)

    attach(submission, doc, entry, relation="supports")
    attach(submission, doc, other_entry, relation="refutes")
    with pytest.raises(ServiceError, match="already attached"):
        attach(submission, doc, entry, relation="context")

    assert FindingLink.objects.filter(submission=submission).count() == 2
    # The patient hears about it once.
    assert Notification.objects.filter(user=pat).count() == 1


def test_unknown_relation_is_refused(pat, doc, make_case):
    _, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, link=TIKTOK)
    with pytest.raises(InvalidInput):
        attach(submission, doc, entry, relation="proves")


def test_attached_submission_cannot_be_dismissed(pat, doc, make_case):
    _, entry = case_with_entry(make_case, doc)
    submission = submit(pat, doc, link=TIKTOK)
    attach(submission, doc, entry)
    with pytest.raises(ServiceError):
        services.submission_dismiss(submission=submission, by=doc)
