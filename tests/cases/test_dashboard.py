"""The clinician dashboard: what needs the user now, with counts, then recent
activity; and who may open the case pages."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases.models import Case, CaseParticipant
from consults.models import ConsultRequest
from portal.models import SocialLink, Submission
from workspace.models import ClinicianProfile, Notification, Specialty
from workspace.services import VERIFICATION_NEEDED

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["case_list", "case_create", "case_phi_scan", "case_create_autosave"]
)
def test_case_pages_are_for_clinicians_only(cast, client_for, name):
    url = reverse(name)
    method = "get" if name in {"case_list", "case_create"} else "post"

    anonymous = getattr(Client(), method)(url)
    patient = getattr(client_for(cast.patient), method)(url)
    unverified = getattr(client_for(cast.unverified), method)(
        url, {"title": "T", "sex": "unknown", "visibility": "private"}
    )

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert patient.status_code == 403
    assert unverified.status_code in {200, 201}


def test_unverified_clinician_lists_only_their_own_cases(cast, make_case, client_for):
    own = make_case(cast.unverified, title="My own draft")
    cast.case(title="Community case")

    response = client_for(cast.unverified).get(reverse("case_list"))

    assert [c.title for c in response.context["page"].object_list] == [own.title]


# --- The dashboard ----------------------------------------------------------------------

URGENCY = ConsultRequest.Urgency
STATUS = ConsultRequest.Status


def _derm() -> Specialty:
    return Specialty.objects.get(name="Dermatology")


def _consult(case, requester, *, hours: float, **fields) -> ConsultRequest:
    fields.setdefault("specialty", _derm())
    return ConsultRequest.objects.create(
        case=case,
        requested_by=requester,
        question=fields.pop("question", "Is this tinea?"),
        due_at=timezone.now() + timedelta(hours=hours),
        **fields,
    )


def _submission(patient, clinician, description: str, **fields) -> Submission:
    link = SocialLink.objects.create(
        platform=SocialLink.Platform.OTHER, url="https://example.org/post"
    )
    return Submission.objects.create(
        link=link,
        patient=patient,
        clinician=clinician,
        description=description,
        consent_text="I agree",
        consent_at=timezone.now(),
        **fields,
    )


def _mention(user, title: str, **fields) -> Notification:
    fields.setdefault("kind", Notification.Kind.MENTION)
    return Notification.objects.create(user=user, title=title, url="/", **fields)


def _section(response, name: str) -> str:
    """The HTML of one dashboard section, found by its data attribute."""
    body = response.content.decode()
    start = body.index(f'data-dash-section="{name}"')
    end = body.find("data-dash-section=", start + 1)
    return body[start : end if end != -1 else len(body)]


@pytest.fixture
def specialist(make_clinician):
    return make_clinician("derm", specialties=["Dermatology"])


def test_consults_waiting_come_most_urgent_first_then_by_due_time_overdue_marked(
    cast, specialist, make_clinician, client_for
):
    case = cast.case()
    other = make_clinician("other", specialties=["Dermatology"])
    routine = _consult(case, cast.owner, hours=48, question="Routine question")
    overdue = _consult(
        case, cast.owner, hours=-2, urgency=URGENCY.URGENT, question="Late one"
    )
    urgent = _consult(case, cast.owner, hours=5, urgency=URGENCY.URGENT)
    named = _consult(case, cast.owner, hours=1, specialty=None, assignee=specialist)
    accepted = _consult(
        case,
        cast.owner,
        hours=30,
        urgency=URGENCY.EMERGENT,
        assignee=specialist,
        status=STATUS.ACCEPTED,
    )
    _consult(case, cast.owner, hours=1, specialty=None, assignee=other)
    _consult(case, specialist, hours=1)  # their own request
    _consult(case, cast.owner, hours=1, status=STATUS.CLOSED)

    response = client_for(specialist).get("/")

    dash = response.context["dash"]
    assert [c.pk for c in dash.consults_waiting.items] == [
        accepted.pk,
        overdue.pk,
        urgent.pk,
        named.pk,
        routine.pk,
    ]
    assert dash.consults_waiting.count == 5
    assert dash.consults_overdue == 1
    html = _section(response, "consults-waiting")
    assert '<span class="dash-count" data-count>5</span>' in html
    assert "5 waiting" in html and "1 overdue" in html
    assert html.count("Overdue</span>") == 1
    assert reverse("consult_detail", args=[overdue.pk]) in html
    assert "5 things waiting for you, 1 overdue." in response.content.decode()


def test_consults_waiting_lists_a_few_and_counts_all(cast, specialist, client_for):
    case = cast.case()
    for i in range(8):
        _consult(case, cast.owner, hours=i + 1)

    response = client_for(specialist).get("/")

    section = response.context["dash"].consults_waiting
    assert section.count == 8
    assert len(section.items) == 5
    assert "3 more in your queue" in _section(response, "consults-waiting")


def test_requester_sees_answered_consults_to_read_and_close(
    cast, specialist, client_for
):
    case = cast.case()
    answered = _consult(
        case,
        cast.owner,
        hours=5,
        assignee=specialist,
        status=STATUS.ANSWERED,
        answered_at=timezone.now(),
    )
    _consult(case, cast.owner, hours=5, assignee=specialist, status=STATUS.CLOSED)
    _consult(case, cast.collaborator, hours=5, status=STATUS.ANSWERED)

    response = client_for(cast.owner).get("/")

    section = response.context["dash"].consults_answered
    assert [c.pk for c in section.items] == [answered.pk]
    assert section.count == 1
    html = _section(response, "consults-answered")
    assert f"Answered by {specialist.display_name}" in html
    assert reverse("consult_detail", args=[answered.pk]) in html


def test_verified_clinician_sees_unread_patient_submissions(
    make_clinician, make_patient, client_for
):
    doc = make_clinician("doc")
    colleague = make_clinician("colleague")
    pat = make_patient("pat", clinician=doc)
    first = _submission(pat, doc, "The rash came back")
    second = _submission(pat, doc, "Now it itches")
    _submission(pat, doc, "Already opened", read_at=timezone.now())
    _submission(pat, doc, "Taken back", status=Submission.Status.WITHDRAWN)
    _submission(pat, colleague, "Sent to someone else")

    response = client_for(doc).get("/")

    section = response.context["dash"].inbox_unread
    assert section.count == 2
    assert {s.pk for s in section.items} == {first.pk, second.pk}
    html = _section(response, "inbox")
    assert reverse("inbox_review", args=[first.pk]) in html
    assert "2 unread submissions." in html
    assert "Already opened" not in html and "someone else" not in html


def test_unverified_clinician_sees_the_count_and_why_not_the_submissions(
    make_clinician, make_patient, client_for
):
    doc = make_clinician("newdoc", verified=False)
    pat = make_patient("pat", clinician=doc)
    _submission(pat, doc, "My private symptom")

    response = client_for(doc).get("/")

    html = _section(response, "inbox")
    assert response.context["dash"].inbox_unread.items == []
    assert '<span class="dash-count" data-count>1</span>' in html
    assert escape(VERIFICATION_NEEDED) in html
    assert "My private symptom" not in response.content.decode()
    assert "Only verified clinicians take consults" in _section(
        response, "consults-waiting"
    )


def test_unread_mentions_come_from_the_users_own_notifications(
    cast, make_clinician, client_for
):
    me = cast.member
    newer = _mention(me, "Ann mentioned you in the rash case", body="@member look")
    older = _mention(me, "Bob mentioned you")
    Notification.objects.filter(pk=older.pk).update(
        created=timezone.now() - timedelta(hours=3)
    )
    _mention(me, "Read already", read_at=timezone.now())
    _mention(me, "A consult note", kind=Notification.Kind.CONSULT)
    _mention(cast.owner, "Someone else's mention")

    response = client_for(me).get("/")

    section = response.context["dash"].mentions
    assert [n.pk for n in section.items] == [newer.pk, older.pk]
    assert section.count == 2
    html = _section(response, "mentions")
    assert reverse("notification_open", args=[newer.pk]) in html
    assert "@member look" in html
    assert "Read already" not in html and "Someone else" not in html


def test_drafts_are_those_the_user_may_edit(cast, make_case, client_for):
    own = make_case(cast.collaborator, title="Own draft", status=Case.Status.DRAFT)
    shared = cast.case(title="Owner's draft", status=Case.Status.DRAFT)
    make_case(
        cast.owner,
        title="Draft I only view",
        status=Case.Status.DRAFT,
        participants={cast.collaborator: CaseParticipant.Role.VIEWER},
    )
    cast.case(title="Published one")

    response = client_for(cast.collaborator).get("/")

    section = response.context["dash"].drafts
    assert {c.pk for c in section.items} == {own.pk, shared.pk}
    assert section.count == 2
    assert "Draft I only view" not in _section(response, "drafts")


def test_recent_activity_then_colleagues_cases(cast, make_case, client_for):
    taking_part = cast.case(title="Shared with the viewer")
    archived = cast.case(title="Old archived", status=Case.Status.ARCHIVED)
    colleagues = make_case(
        cast.outsider,
        title="A colleague's community case",
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        published_at=timezone.now(),
    )
    private = make_case(
        cast.outsider,
        title="A colleague's private case",
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.PRIVATE,
        published_at=timezone.now(),
    )

    response = client_for(cast.viewer).get("/")

    dash = response.context["dash"]
    assert [c.pk for c in dash.recent_activity] == [taking_part.pk]
    assert [c.pk for c in dash.colleagues_cases] == [colleagues.pk]
    body = response.content.decode()
    assert archived.title not in body
    assert private.title not in body


def test_a_new_clinician_is_told_what_to_do_next(make_clinician, client_for):
    response = client_for(make_clinician("fresh")).get("/")

    body = response.content.decode()
    assert "Nothing is waiting for you right now." in body
    assert reverse("case_create") in _section(response, "drafts")
    assert reverse("patient_list") in _section(response, "inbox")
    assert "@fresh" in _section(response, "mentions")
    assert "Request a consult" in _section(response, "consults-answered")
    assert 'data-dash-section="verification"' not in body
    for heading in ("Needs you now", "Recent case activity"):
        assert f">{heading}</h2>" in body


def test_staff_see_the_verification_queue_count(make_clinician, client_for):
    staff = make_clinician("staffer", is_staff=True)
    for name in ("p1", "p2"):
        ClinicianProfile.objects.filter(user=make_clinician(name)).update(
            verification=ClinicianProfile.Verification.PENDING
        )
    make_clinician("waiting", verified=False)

    response = client_for(staff).get("/")

    assert response.context["dash"].verification_pending == 2
    html = _section(response, "verification")
    assert "2 clinicians waiting" in html
    assert "?verification__exact=pending" in html


def test_patients_are_sent_to_their_portal(cast, client_for):
    response = client_for(cast.patient).get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal")


def _fill(cast, specialist, make_case, make_patient, n: int) -> None:
    """``n`` rows in every dashboard section of ``specialist``."""
    case = cast.case()
    pat = make_patient(clinician=specialist)
    for i in range(n):
        _consult(case, cast.owner, hours=i - 2)
        _consult(
            case,
            specialist,
            hours=1,
            assignee=cast.outsider,
            status=STATUS.ANSWERED,
            answered_at=timezone.now(),
        )
        _submission(pat, specialist, f"Photo {i}")
        _mention(specialist, f"Mention {i}")
        make_case(specialist, title=f"Draft {i}", status=Case.Status.DRAFT)
        make_case(
            specialist,
            title=f"Published {i}",
            status=Case.Status.PUBLISHED,
            published_at=timezone.now(),
        )
        make_case(
            cast.owner,
            title=f"Community {i}",
            status=Case.Status.PUBLISHED,
            visibility=Case.Visibility.COMMUNITY,
            published_at=timezone.now(),
        )


def test_dashboard_queries_do_not_grow_with_the_rows(
    cast,
    specialist,
    make_case,
    make_patient,
    make_workspace,
    client_for,
    django_assert_max_num_queries,
):
    specialist.is_staff = True
    specialist.save(update_fields=["is_staff"])
    make_workspace(members={specialist: "member"})
    client = client_for(specialist)
    _fill(cast, specialist, make_case, make_patient, 6)
    client.get("/")  # warm the session
    with django_assert_max_num_queries(22) as few:
        client.get("/")
    _fill(cast, specialist, make_case, make_patient, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/")

    dash = response.context["dash"]
    assert dash.consults_waiting.count == 46
    assert dash.consults_answered.count == 46
    assert dash.inbox_unread.count == 46
    assert dash.mentions.count == 46
    assert dash.drafts.count == 46
    assert len(dash.drafts.items) == 5
    assert len(dash.recent_activity) == 6
