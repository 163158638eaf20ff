"""Consult services: every transition, the illegal ones, access, notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseParticipant
from cases.permissions import case_access
from consults import services as svc
from consults.models import ConsultEvent, ConsultRequest
from consults.selectors import consult_access, consults_for_queue
from diagnoses import services as dx
from diagnoses.models import Differential, DifferentialVote
from tests.fixtures.layer import GroupListener
from workspace.errors import InvalidInput
from workspace.events import case_group, user_group
from workspace.models import AuditEvent, Notification, Specialty
from workspace.services import PermissionDenied, ServiceError

Role = CaseParticipant.Role
Status = ConsultRequest.Status


@pytest.fixture
def setup(make_clinician, make_case):
    owner = make_clinician("owner")
    collaborator = make_clinician("collab")
    derm = make_clinician("derm", specialties=["Dermatology"])
    derm2 = make_clinician("derm2", specialties=["Dermatology"])
    rheum = make_clinician("rheum", specialties=["Rheumatology"])
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        participants={collaborator: Role.COLLABORATOR},
    )
    return type(
        "Setup",
        (),
        {
            "owner": owner,
            "collaborator": collaborator,
            "derm": derm,
            "derm2": derm2,
            "rheum": rheum,
            "case": case,
            "dermatology": Specialty.objects.get(name="Dermatology"),
        },
    )


def request_derm(s, **kwargs):
    kwargs.setdefault("question", "Psoriasis or eczema?")
    kwargs.setdefault("specialty", s.dermatology)
    return svc.consult_request(case=s.case, by=s.collaborator, **kwargs)


def kinds(consult):
    return list(consult.events.values_list("kind", flat=True))


def role_of(case, user):
    return (
        CaseParticipant.objects.filter(case=case, user=user)
        .values_list("role", flat=True)
        .first()
    )


# --- Request ------------------------------------------------------------------------


def test_a_draft_takes_no_consult_so_specialists_never_read_unchecked_text(setup):
    """A specialist reads the case's title and complaint before accepting; a
    draft's text has not been through the PHI gate yet."""
    setup.case.status = Case.Status.DRAFT
    setup.case.save(update_fields=["status"])

    with pytest.raises(ServiceError, match="Publish the case before asking"):
        request_derm(setup)

    assert not ConsultRequest.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.CONSULT).exists()


def test_request_to_a_specialty_notifies_its_verified_specialists(
    setup, make_clinician
):
    unverified = make_clinician(
        "derm_unverified", verified=False, specialties=["Dermatology"]
    )
    now = timezone.now()
    consult = request_derm(setup, urgency="urgent")

    assert consult.status == Status.REQUESTED
    assert consult.requested_by == setup.collaborator
    assert consult.assignee is None
    assert (
        timedelta(hours=23, minutes=59)
        < consult.due_at - now
        < timedelta(hours=24, minutes=1)
    )
    notified = set(
        Notification.objects.filter(kind=Notification.Kind.CONSULT).values_list(
            "user__username", flat=True
        )
    )
    assert notified == {"derm", "derm2"}
    assert unverified.username not in notified
    assert kinds(consult) == ["requested"]
    assert AuditEvent.objects.filter(
        verb="consult.request", case_id=setup.case.pk
    ).exists()


@pytest.mark.parametrize(
    "urgency, hours", [("routine", 72), ("urgent", 24), ("emergent", 1)]
)
def test_due_time_defaults_from_urgency(setup, urgency, hours):
    before = timezone.now()
    consult = request_derm(setup, urgency=urgency)
    assert (
        before + timedelta(hours=hours)
        <= consult.due_at
        <= timezone.now() + timedelta(hours=hours)
    )


def test_explicit_due_time_is_kept_but_must_be_in_the_future(setup):
    due = timezone.now() + timedelta(hours=5)
    assert request_derm(setup, due_at=due).due_at == due
    with pytest.raises(InvalidInput) as exc:
        request_derm(setup, due_at=timezone.now() - timedelta(minutes=1))
    assert "due_at" in exc.value.errors


def test_request_to_a_named_specialist_notifies_only_them(setup):
    consult = svc.consult_request(
        case=setup.case, by=setup.owner, question="Opinion?", assignee=setup.rheum
    )
    assert consult.assignee == setup.rheum
    assert list(Notification.objects.values_list("user__username", flat=True)) == [
        "rheum"
    ]


def test_request_needs_a_target_and_a_question(setup):
    with pytest.raises(InvalidInput) as exc:
        svc.consult_request(case=setup.case, by=setup.owner, question=" ")
    assert set(exc.value.errors) == {"question", "specialty"}


def test_named_specialist_must_be_verified(setup, make_clinician):
    unverified = make_clinician("newbie", verified=False)
    with pytest.raises(InvalidInput) as exc:
        svc.consult_request(
            case=setup.case, by=setup.owner, question="?", assignee=unverified
        )
    assert "not a verified clinician" in exc.value.errors["assignee"]


def test_only_participants_who_can_comment_request(setup, make_clinician):
    viewer = make_clinician("viewer")
    CaseParticipant.objects.create(case=setup.case, user=viewer, role=Role.VIEWER)
    Case.objects.filter(pk=setup.case.pk).update(visibility=Case.Visibility.COMMUNITY)
    outsider = make_clinician("outsider")  # can comment on a community case
    for who in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            svc.consult_request(
                case=setup.case, by=who, question="?", specialty=setup.dermatology
            )
    assert not ConsultRequest.objects.exists()


# --- Accept -------------------------------------------------------------------------


def test_accept_makes_the_specialist_a_consultant_of_that_case_only(setup, make_case):
    other_case = make_case(setup.owner, status=Case.Status.PUBLISHED)
    consult = request_derm(setup)
    Notification.objects.all().delete()

    svc.consult_accept(consult=consult, by=setup.derm)

    consult.refresh_from_db()
    assert consult.status == Status.ACCEPTED
    assert consult.assignee == setup.derm
    assert consult.accepted_at is not None
    assert consult.granted_access
    assert role_of(setup.case, setup.derm) == Role.CONSULTANT
    assert role_of(other_case, setup.derm) is None
    assert case_access(setup.derm, setup.case).can_vote
    assert not case_access(setup.derm, other_case).can_view
    assert kinds(consult) == ["requested", "accepted"]
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {"collab", "owner"}


def test_accepting_twice_is_refused(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    with pytest.raises(ServiceError, match="already accepted by Derm Tester"):
        svc.consult_accept(consult=consult, by=setup.derm2)
    with pytest.raises(ServiceError, match="already accepted"):
        svc.consult_accept(consult=consult, by=setup.derm)
    assert role_of(setup.case, setup.derm2) is None


def test_wrong_specialty_cannot_accept(setup):
    consult = request_derm(setup)
    with pytest.raises(PermissionDenied, match="another specialist or specialty"):
        svc.consult_accept(consult=consult, by=setup.rheum)


def test_only_the_named_specialist_accepts_a_named_request(setup):
    consult = svc.consult_request(
        case=setup.case,
        by=setup.owner,
        question="?",
        specialty=setup.dermatology,
        assignee=setup.derm,
    )
    with pytest.raises(PermissionDenied):
        svc.consult_accept(consult=consult, by=setup.derm2)
    svc.consult_accept(consult=consult, by=setup.derm)
    assert ConsultRequest.objects.get(pk=consult.pk).status == Status.ACCEPTED


def test_unverified_clinician_cannot_take_consults(setup, make_clinician):
    unverified = make_clinician(
        "derm_unverified", verified=False, specialties=["Dermatology"]
    )
    consult = request_derm(setup)
    with pytest.raises(PermissionDenied, match="verified"):
        svc.consult_accept(consult=consult, by=unverified)
    assert consults_for_queue(unverified) == []


def test_requester_cannot_accept_their_own_request(setup, make_clinician):
    consult = svc.consult_request(
        case=setup.case,
        by=setup.owner,
        question="?",
        specialty=Specialty.objects.get(name="Dermatology"),
    )
    setup.owner.clinician_profile.specialties.add(setup.dermatology)
    with pytest.raises(PermissionDenied, match="another specialist"):
        svc.consult_accept(consult=consult, by=setup.owner)


def test_viewer_who_accepts_becomes_consultant_and_returns_to_viewer(setup):
    CaseParticipant.objects.create(case=setup.case, user=setup.derm, role=Role.VIEWER)
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    assert role_of(setup.case, setup.derm) == Role.CONSULTANT

    svc.consult_cancel(consult=consult, by=setup.collaborator)
    assert role_of(setup.case, setup.derm) == Role.VIEWER


def test_collaborator_who_accepts_keeps_their_role(setup):
    setup.collaborator.clinician_profile.specialties.add(setup.dermatology)
    consult = svc.consult_request(
        case=setup.case, by=setup.owner, question="?", specialty=setup.dermatology
    )
    svc.consult_accept(consult=consult, by=setup.collaborator)
    consult.refresh_from_db()
    assert not consult.granted_access
    svc.consult_cancel(consult=consult, by=setup.owner)
    assert role_of(setup.case, setup.collaborator) == Role.COLLABORATOR


# --- Decline ------------------------------------------------------------------------


def test_decline_needs_a_reason_and_tells_the_requester(setup):
    consult = request_derm(setup)
    with pytest.raises(InvalidInput):
        svc.consult_decline(consult=consult, by=setup.derm, reason="  ")
    Notification.objects.all().delete()

    svc.consult_decline(consult=consult, by=setup.derm, reason="Ask rheumatology")

    consult.refresh_from_db()
    assert consult.status == Status.DECLINED
    assert consult.decline_reason == "Ask rheumatology"
    assert consult.assignee == setup.derm
    note = Notification.objects.get(user=setup.collaborator)
    assert "declined" in note.title
    assert note.body == "Ask rheumatology"
    assert kinds(consult) == ["requested", "declined"]


def test_decline_after_accepting_ends_the_access(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    svc.consult_decline(consult=consult, by=setup.derm, reason="Out of my depth")
    assert role_of(setup.case, setup.derm) is None
    assert kinds(consult) == ["requested", "accepted", "declined", "access_ended"]


def test_another_specialist_cannot_decline_an_accepted_consult(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    with pytest.raises(PermissionDenied, match="who accepted it"):
        svc.consult_decline(consult=consult, by=setup.derm2, reason="No")


def test_answering_a_declined_consult_is_refused(setup):
    consult = request_derm(setup)
    svc.consult_decline(consult=consult, by=setup.derm, reason="No capacity")
    with pytest.raises(ServiceError, match="already declined by Derm Tester"):
        svc.consult_answer(consult=consult, by=setup.derm, impression="Eczema")
    consult.refresh_from_db()
    assert consult.impression == ""


def test_accepting_a_declined_consult_is_refused(setup):
    consult = request_derm(setup)
    svc.consult_decline(consult=consult, by=setup.derm, reason="No")
    with pytest.raises(ServiceError, match="already declined"):
        svc.consult_accept(consult=consult, by=setup.derm2)


# --- Answer -------------------------------------------------------------------------


def test_answering_before_accepting_is_refused(setup):
    consult = request_derm(setup)
    with pytest.raises(ServiceError, match="Accept this consult before"):
        svc.consult_answer(consult=consult, by=setup.derm, impression="Eczema")


def test_only_the_accepting_specialist_answers(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    with pytest.raises(PermissionDenied):
        svc.consult_answer(consult=consult, by=setup.derm2, impression="Eczema")
    with pytest.raises(PermissionDenied):
        svc.consult_answer(consult=consult, by=setup.owner, impression="Eczema")


def test_answer_stores_the_structured_reply_and_adds_suggestions_attributed_to_the_specialist(
    setup,
):
    existing = dx.differential_add(case=setup.case, by=setup.owner, label="Eczema")
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    Notification.objects.all().delete()

    svc.consult_answer(
        consult=consult,
        by=setup.derm,
        impression="Plaque psoriasis is most likely.",
        recommendations="Punch biopsy.",
        follow_up="Review in 4 weeks.",
        suggestions=[
            {
                "label": "Plaque psoriasis",
                "icd10_code": "L40.0",
                "rationale": "Silvery scale",
                "likelihood": 80,
            },
            {"label": "eczema", "likelihood": 15},  # already listed
            {"label": "  "},  # blank rows are ignored
        ],
    )

    consult.refresh_from_db()
    assert consult.status == Status.ANSWERED
    assert (consult.impression, consult.recommendations, consult.follow_up) == (
        "Plaque psoriasis is most likely.",
        "Punch biopsy.",
        "Review in 4 weeks.",
    )
    added = Differential.objects.get(label="Plaque psoriasis")
    assert added.proposed_by == setup.derm
    assert added.consult == consult
    assert added.icd10_code == "L40.0"
    assert DifferentialVote.objects.get(differential=added).likelihood == 80
    assert Differential.objects.filter(case=setup.case).count() == 2
    assert (
        DifferentialVote.objects.get(differential=existing, voter=setup.derm).likelihood
        == 15
    )
    assert {n.user.username for n in Notification.objects.all()} == {"collab", "owner"}
    assert kinds(consult)[-1] == "answered"


def test_answer_needs_an_impression(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    with pytest.raises(InvalidInput) as exc:
        svc.consult_answer(consult=consult, by=setup.derm, impression="")
    assert "impression" in exc.value.errors


def test_answering_twice_is_refused(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    svc.consult_answer(consult=consult, by=setup.derm, impression="Eczema")
    with pytest.raises(ServiceError, match="already answered"):
        svc.consult_answer(consult=consult, by=setup.derm, impression="Again")


def test_bad_suggestion_rolls_back_the_whole_answer(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    with pytest.raises(InvalidInput):
        svc.consult_answer(
            consult=consult,
            by=setup.derm,
            impression="Eczema",
            suggestions=[{"label": "Eczema", "icd10_code": "nonsense"}],
        )
    consult.refresh_from_db()
    assert consult.status == Status.ACCEPTED
    assert not Differential.objects.exists()


# --- Close and cancel ---------------------------------------------------------------


def answered(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    svc.consult_answer(consult=consult, by=setup.derm, impression="Eczema")
    return consult


def test_close_ends_the_specialists_access(setup):
    consult = answered(setup)
    Notification.objects.all().delete()

    svc.consult_close(consult=consult, by=setup.collaborator)

    consult.refresh_from_db()
    assert consult.status == Status.CLOSED
    assert consult.finished_at is not None
    assert role_of(setup.case, setup.derm) is None
    assert not case_access(setup.derm, setup.case).can_view
    assert kinds(consult)[-2:] == ["closed", "access_ended"]
    note = Notification.objects.get(user=setup.derm)
    assert "access to the case has ended" in note.body
    # The specialist still sees the consult they answered.
    assert consult_access(setup.derm, consult).can_view


def test_owner_keeps_the_specialist_as_consultant(setup):
    consult = answered(setup)
    svc.consult_close(consult=consult, by=setup.owner, keep_consultant=True)
    consult.refresh_from_db()
    assert consult.kept_as_consultant
    assert role_of(setup.case, setup.derm) == Role.CONSULTANT
    assert kinds(consult)[-2:] == ["closed", "kept"]


def test_only_the_owner_may_keep_the_specialist(setup):
    consult = answered(setup)
    with pytest.raises(PermissionDenied, match="case owner"):
        svc.consult_close(consult=consult, by=setup.collaborator, keep_consultant=True)
    assert ConsultRequest.objects.get(pk=consult.pk).status == Status.ANSWERED


def test_specialist_cannot_close(setup):
    consult = answered(setup)
    with pytest.raises(PermissionDenied):
        svc.consult_close(consult=consult, by=setup.derm)


def test_closing_an_unanswered_consult_is_refused(setup):
    consult = request_derm(setup)
    with pytest.raises(ServiceError, match="cancel it instead"):
        svc.consult_close(consult=consult, by=setup.owner)


def test_access_stays_while_another_consult_still_needs_it(setup):
    first = answered(setup)
    second = request_derm(setup, question="And the nails?")
    svc.consult_accept(consult=second, by=setup.derm)
    svc.consult_close(consult=first, by=setup.owner)
    assert role_of(setup.case, setup.derm) == Role.CONSULTANT
    svc.consult_cancel(consult=second, by=setup.owner)
    assert role_of(setup.case, setup.derm) is None


def test_cancel_open_consult_notifies_the_specialist_and_ends_access(setup):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    Notification.objects.all().delete()
    svc.consult_cancel(consult=consult, by=setup.owner, reason="Resolved clinically")
    consult.refresh_from_db()
    assert consult.status == Status.CANCELLED
    assert role_of(setup.case, setup.derm) is None
    assert Notification.objects.get(user=setup.derm).body == "Resolved clinically"


def test_cancelling_twice_or_after_an_answer_is_refused(setup):
    consult = request_derm(setup)
    svc.consult_cancel(consult=consult, by=setup.collaborator)
    with pytest.raises(ServiceError, match="already cancelled"):
        svc.consult_cancel(consult=consult, by=setup.collaborator)
    done = answered(setup)
    with pytest.raises(ServiceError, match="already answered"):
        svc.consult_cancel(consult=done, by=setup.owner)


def test_only_requester_or_owner_cancels(setup):
    consult = svc.consult_request(
        case=setup.case, by=setup.owner, question="?", specialty=setup.dermatology
    )
    with pytest.raises(PermissionDenied):
        svc.consult_cancel(consult=consult, by=setup.collaborator)
    with pytest.raises(PermissionDenied):
        svc.consult_cancel(consult=consult, by=setup.derm)


def test_every_step_is_audited(setup):
    consult = answered(setup)
    svc.consult_close(consult=consult, by=setup.owner)
    verbs = list(
        AuditEvent.objects.filter(
            target_id=str(consult.pk), verb__startswith="consult."
        )
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "consult.request",
        "consult.accept",
        "consult.answer",
        "consult.close",
    ]


# --- Queue --------------------------------------------------------------------------


def test_queue_lists_my_specialty_and_mine_by_urgency_then_due_with_overdue_flag(
    setup,
):
    routine = request_derm(setup, urgency="routine")
    urgent_late = request_derm(
        setup, urgency="urgent", due_at=timezone.now() + timedelta(hours=30)
    )
    urgent_soon = request_derm(setup, urgency="urgent")
    emergent = request_derm(setup, urgency="emergent")
    named_to_other = request_derm(setup, assignee=setup.derm2)
    rheum_only = svc.consult_request(
        case=setup.case,
        by=setup.owner,
        question="?",
        specialty=Specialty.objects.get(name="Rheumatology"),
    )
    mine = request_derm(setup, assignee=setup.derm, specialty=None)
    svc.consult_accept(consult=mine, by=setup.derm)
    taken_by_other = request_derm(setup)
    svc.consult_accept(consult=taken_by_other, by=setup.derm2)
    ConsultRequest.objects.filter(pk=routine.pk).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )

    queue = consults_for_queue(setup.derm)

    assert [c.pk for c in queue] == [
        emergent.pk,
        urgent_soon.pk,
        urgent_late.pk,
        routine.pk,
        mine.pk,
    ]
    assert [c.overdue for c in queue] == [False, False, False, True, False]
    assert named_to_other.pk not in {c.pk for c in queue}
    assert rheum_only.pk not in {c.pk for c in queue}


def test_queue_leaves_out_answered_and_finished_consults(setup):
    done = answered(setup)
    declined = request_derm(setup)
    svc.consult_decline(consult=declined, by=setup.derm2, reason="No")
    assert consults_for_queue(setup.derm) == []
    assert done.pk


# --- Events -------------------------------------------------------------------------


def test_answer_sends_frames_to_the_case_and_a_notification_to_the_requester(
    setup, django_capture_on_commit_callbacks
):
    consult = request_derm(setup)
    svc.consult_accept(consult=consult, by=setup.derm)
    case_listener = GroupListener(case_group(setup.case))
    user_listener = GroupListener(user_group(setup.collaborator))

    with django_capture_on_commit_callbacks(execute=True):
        svc.consult_answer(
            consult=consult,
            by=setup.derm,
            impression="Psoriasis",
            suggestions=[{"label": "Plaque psoriasis", "likelihood": 70}],
        )

    case_frames = {f["type"]: f for f in case_listener.drain()}
    assert case_frames["consult.updated"]["consult"]["status"] == "answered"
    dx_frame = case_frames["differential.updated"]
    assert dx_frame["ranking"][0]["label"] == "Plaque psoriasis"
    assert dx_frame["ranking"][0]["consult"] == consult.pk
    assert dx_frame["ranking"][0]["proposer"]["id"] == setup.derm.pk
    (note,) = user_listener.drain()
    assert note["type"] == "notification"
    assert note["notification"]["kind"] == "consult"
    assert "answered" in note["notification"]["title"]


def test_timeline_records_each_step_with_its_actor(setup):
    consult = answered(setup)
    svc.consult_close(consult=consult, by=setup.owner, keep_consultant=True)
    events = list(ConsultEvent.objects.filter(consult=consult))
    assert [(e.kind, e.actor.username) for e in events] == [
        ("requested", "collab"),
        ("accepted", "derm"),
        ("answered", "derm"),
        ("closed", "owner"),
        ("kept", "owner"),
    ]
