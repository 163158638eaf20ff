"""Consult URLs: permissions for every one, forms with errors, the queue page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseParticipant
from consults import services as svc
from consults.models import ConsultRequest
from diagnoses.models import Differential
from workspace.models import Specialty

Role = CaseParticipant.Role
Status = ConsultRequest.Status


@pytest.fixture
def world(make_clinician, make_patient, make_case):
    owner = make_clinician("owner")
    viewer = make_clinician("viewer")
    derm = make_clinician("derm", specialties=["Dermatology"])
    rheum = make_clinician("rheum", specialties=["Rheumatology"])
    case = make_case(
        owner,
        title="Scaly plaques",
        status=Case.Status.PUBLISHED,
        participants={viewer: Role.VIEWER},
    )
    consult = svc.consult_request(
        case=case,
        by=owner,
        question="Psoriasis or eczema?",
        specialty=Specialty.objects.get(name="Dermatology"),
    )
    return type(
        "World",
        (),
        {
            "owner": owner,
            "viewer": viewer,
            "derm": derm,
            "rheum": rheum,
            "patient": make_patient("pat"),
            "case": case,
            "consult": consult,
        },
    )


def consult_urls(c) -> dict[str, tuple[str, str, dict]]:
    return {
        "detail": ("get", reverse("consult_detail", args=[c.pk]), {}),
        "accept": ("post", reverse("consult_accept", args=[c.pk]), {}),
        "decline": (
            "post",
            reverse("consult_decline", args=[c.pk]),
            {"reason": "Not mine"},
        ),
        "answer_form": ("get", reverse("consult_answer", args=[c.pk]), {}),
        "close": ("post", reverse("consult_close", args=[c.pk]), {}),
        "cancel": ("post", reverse("consult_cancel", args=[c.pk]), {}),
    }


def case_urls(case) -> dict[str, tuple[str, str, dict]]:
    return {
        "request_form": ("get", reverse("consult_request", args=[case.pk]), {}),
        "request": (
            "post",
            reverse("consult_request", args=[case.pk]),
            {"question": "Thoughts?", "urgency": "routine", "assignee": "derm"},
        ),
        "fragment": ("get", reverse("consults_fragment", args=[case.pk]), {}),
    }


def call(client, spec):
    method, url, data = spec
    return getattr(client, method)(url, data)


CONSULT_URLS = ["detail", "accept", "decline", "answer_form", "close", "cancel"]
CASE_URLS = ["request_form", "request", "fragment"]


@pytest.mark.parametrize("name", CONSULT_URLS)
def test_anonymous_is_sent_to_log_in_from_consult_urls(client, world, name):
    response = call(client, consult_urls(world.consult)[name])
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("name", CASE_URLS)
def test_anonymous_is_sent_to_log_in_from_case_urls(client, world, name):
    response = call(client, case_urls(world.case)[name])
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_anonymous_and_patient_cannot_open_the_queue(client, client_for, world):
    assert client.get(reverse("consult_queue")).status_code == 302
    assert client_for(world.patient).get(reverse("consult_queue")).status_code == 403


@pytest.mark.parametrize("name", CONSULT_URLS)
def test_patient_is_forbidden_everywhere(client_for, world, name):
    assert (
        call(client_for(world.patient), consult_urls(world.consult)[name]).status_code
        == 403
    )


@pytest.mark.parametrize("name", CONSULT_URLS)
def test_specialist_of_another_specialty_gets_404(client_for, world, name):
    response = call(client_for(world.rheum), consult_urls(world.consult)[name])
    assert response.status_code == 404
    assert ConsultRequest.objects.get(pk=world.consult.pk).status == Status.REQUESTED


@pytest.mark.parametrize("name", CASE_URLS)
def test_clinician_without_the_case_gets_404_on_case_urls(client_for, world, name):
    response = call(client_for(world.rheum), case_urls(world.case)[name])
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["request_form", "request"])
def test_viewer_cannot_request_consults(client_for, world, name):
    response = call(client_for(world.viewer), case_urls(world.case)[name])
    assert response.status_code == 403
    assert ConsultRequest.objects.count() == 1


@pytest.mark.parametrize(
    "name", ["accept", "decline", "answer_form", "close", "cancel"]
)
def test_viewer_sees_the_consult_but_cannot_act(client_for, world, name):
    assert (
        call(
            client_for(world.viewer), consult_urls(world.consult)["detail"]
        ).status_code
        == 200
    )
    response = call(client_for(world.viewer), consult_urls(world.consult)[name])
    assert response.status_code == 403
    assert ConsultRequest.objects.get(pk=world.consult.pk).status == Status.REQUESTED


def test_unverified_specialist_cannot_see_or_take_the_consult(
    client_for, world, make_clinician
):
    newbie = make_clinician("newbie", verified=False, specialties=["Dermatology"])
    client = client_for(newbie)
    assert call(client, consult_urls(world.consult)["detail"]).status_code == 404
    assert call(client, consult_urls(world.consult)["accept"]).status_code == 404
    page = client.get(reverse("consult_queue")).content.decode()
    assert "Only verified clinicians take consults" in page


# --- Request ------------------------------------------------------------------------


def test_request_form_shows_field_errors(client_for, world):
    response = client_for(world.owner).post(
        reverse("consult_request", args=[world.case.pk]),
        {"question": "", "urgency": "soon", "assignee": "nobody"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "No clinician with that username or email." in html
    assert "Select a valid choice." in html


def test_request_without_a_target_asks_for_one(client_for, world):
    response = client_for(world.owner).post(
        reverse("consult_request", args=[world.case.pk]),
        {"question": "Thoughts?", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert "Choose a specialty or name a specialist." in response.content.decode()


def test_due_time_in_the_past_is_a_field_error(client_for, world):
    past = (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(world.owner).post(
        reverse("consult_request", args=[world.case.pk]),
        {"question": "?", "urgency": "routine", "assignee": "derm", "due_at": past},
    )
    assert response.status_code == 400
    assert "Choose a due time in the future." in response.content.decode()


def test_request_creates_the_consult_and_redirects_to_it(client_for, world):
    response = call(client_for(world.owner), case_urls(world.case)["request"])
    consult = ConsultRequest.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("consult_detail", args=[consult.pk])
    assert (consult.assignee, consult.urgency) == (world.derm, "routine")


def test_a_draft_has_no_consult_button_and_its_request_url_says_publish_first(
    client_for, world
):
    world.case.status = Case.Status.DRAFT
    world.case.save(update_fields=["status"])
    client = client_for(world.owner)

    page = client.get(world.case.get_absolute_url()).content.decode()
    response = call(client, case_urls(world.case)["request"])

    assert "Request a consult</a>" not in page
    assert "Publish the case to request a consult" in page
    assert response.status_code == 302
    assert response["Location"] == world.case.get_absolute_url()
    followed = client.get(response["Location"]).content.decode()
    assert "Publish the case before asking for a consult" in followed
    assert ConsultRequest.objects.filter(case=world.case).count() == 1  # world's own


# --- The specialist's path ----------------------------------------------------------


def test_eligible_specialist_sees_the_case_summary_before_accepting(client_for, world):
    html = (
        client_for(world.derm)
        .get(reverse("consult_detail", args=[world.consult.pk]))
        .content.decode()
    )
    assert "Psoriasis or eczema?" in html
    assert "About the case" in html
    assert "Scaly plaques" in html
    assert "Accept consult" in html


def test_accept_answer_close_through_the_pages(client_for, world):
    derm = client_for(world.derm)
    derm.post(reverse("consult_accept", args=[world.consult.pk]))
    assert derm.get(reverse("case_detail", args=[world.case.pk])).status_code == 200

    form = derm.get(reverse("consult_answer", args=[world.consult.pk]))
    assert form.status_code == 200
    response = derm.post(
        reverse("consult_answer", args=[world.consult.pk]),
        {
            "impression": "Psoriasis.",
            "recommendations": "Biopsy.",
            "follow_up": "4 weeks.",
            "dx-TOTAL_FORMS": "3",
            "dx-INITIAL_FORMS": "0",
            "dx-MIN_NUM_FORMS": "0",
            "dx-MAX_NUM_FORMS": "10",
            "dx-0-label": "Plaque psoriasis",
            "dx-0-icd10_code": "l400",
            "dx-0-likelihood": "75",
            "dx-0-rationale": "Silvery scale",
        },
    )
    assert response.status_code == 302
    entry = Differential.objects.get(case=world.case)
    assert (entry.label, entry.icd10_code, entry.proposed_by) == (
        "Plaque psoriasis",
        "L40.0",
        world.derm,
    )

    owner = client_for(world.owner)
    detail = owner.get(reverse("consult_detail", args=[world.consult.pk])).content
    assert b"Plaque psoriasis" in detail
    assert b"Keep the specialist on the case" in detail
    owner.post(reverse("consult_close", args=[world.consult.pk]))
    assert derm.get(reverse("case_detail", args=[world.case.pk])).status_code == 404
    assert (
        derm.get(reverse("consult_detail", args=[world.consult.pk])).status_code == 200
    )


def test_answer_form_with_errors_is_shown_again(client_for, world):
    svc.consult_accept(consult=world.consult, by=world.derm)
    response = client_for(world.derm).post(
        reverse("consult_answer", args=[world.consult.pk]),
        {
            "impression": "",
            "dx-TOTAL_FORMS": "1",
            "dx-INITIAL_FORMS": "0",
            "dx-0-icd10_code": "L40",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Name the diagnosis." in html
    assert ConsultRequest.objects.get(pk=world.consult.pk).status == Status.ACCEPTED


def test_answer_page_before_accepting_redirects_with_a_message(client_for, world):
    response = client_for(world.derm).get(
        reverse("consult_answer", args=[world.consult.pk]), follow=True
    )
    assert "Accept this consult before answering it." in response.content.decode()


def test_decline_without_reason_shows_the_field_error(client_for, world):
    response = client_for(world.derm).post(
        reverse("consult_decline", args=[world.consult.pk]), {"reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert ConsultRequest.objects.get(pk=world.consult.pk).status == Status.REQUESTED


def test_accepting_an_already_accepted_consult_shows_why(
    client_for, world, make_clinician
):
    other = make_clinician("derm2", specialties=["Dermatology"])
    svc.consult_accept(consult=world.consult, by=world.derm)
    response = client_for(other).post(
        reverse("consult_accept", args=[world.consult.pk])
    )
    # No longer waiting, so no longer visible to other specialists.
    assert response.status_code == 404


def test_accept_twice_by_the_same_specialist_is_a_message(client_for, world):
    derm = client_for(world.derm)
    derm.post(reverse("consult_accept", args=[world.consult.pk]))
    response = derm.post(
        reverse("consult_accept", args=[world.consult.pk]), follow=True
    )
    assert "already accepted" in response.content.decode()


def test_owner_cancels_with_a_reason(client_for, world):
    client_for(world.owner).post(
        reverse("consult_cancel", args=[world.consult.pk]), {"reason": "Sorted"}
    )
    consult = ConsultRequest.objects.get(pk=world.consult.pk)
    assert consult.status == Status.CANCELLED
    assert consult.events.last().note == "Sorted"


def test_case_fragment_lists_the_consults(client_for, world):
    html = (
        client_for(world.viewer)
        .get(reverse("consults_fragment", args=[world.case.pk]))
        .content.decode()
    )
    assert "Dermatology" in html
    assert "Requested" in html


# --- Queue --------------------------------------------------------------------------


def test_queue_page_shows_waiting_consults_and_own_requests(client_for, world):
    ConsultRequest.objects.filter(pk=world.consult.pk).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    html = client_for(world.derm).get(reverse("consult_queue")).content.decode()
    assert "Scaly plaques" in html
    assert "Overdue" in html
    mine = client_for(world.owner).get(reverse("consult_queue")).content.decode()
    assert "Consults you asked for" in mine
    assert reverse("consult_detail", args=[world.consult.pk]) in mine


def test_queue_query_count_does_not_grow_with_the_queue(
    client_for, make_clinician, make_case
):
    derm = make_clinician("qderm", specialties=["Dermatology"])
    dermatology = Specialty.objects.get(name="Dermatology")
    client = client_for(derm)

    def add(n):
        for _ in range(n):
            owner = make_clinician()
            case = make_case(owner, status=Case.Status.PUBLISHED)
            svc.consult_request(
                case=case, by=owner, question="?", specialty=dermatology
            )

    add(1)
    client.get(reverse("consult_queue"))  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("consult_queue")).status_code == 200
    add(6)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("consult_queue"))
    assert response.content.decode().count("consult_detail") == 0
    assert response.content.decode().count("<tr class=") == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_opening_a_consult_is_audited(client_for, world):
    from workspace.models import AuditEvent

    client_for(world.viewer).get(reverse("consult_detail", args=[world.consult.pk]))
    event = AuditEvent.objects.get(verb="consult.view")
    assert (event.actor, event.case_id) == (world.viewer, world.case.pk)


def test_request_form_suggests_verified_colleagues_from_the_workspace(
    client_for, make_clinician, make_workspace, make_case
):
    owner = make_clinician("wsowner")
    colleague = make_clinician("wscolleague")
    unverified = make_clinician("wsnewbie", verified=False)
    workspace = make_workspace(
        members={owner: "owner", colleague: "member", unverified: "member"}
    )
    case = make_case(owner, workspace=workspace, status=Case.Status.PUBLISHED)
    html = (
        client_for(owner)
        .get(reverse("consult_request", args=[case.pk]))
        .content.decode()
    )
    assert 'list="consult-colleagues"' in html
    assert '<option value="wscolleague">' in html
    assert "wsnewbie" not in html
    assert '<option value="wsowner">' not in html


def test_named_specialist_by_address_resolves_only_a_confirmed_address(
    client_for, world, make_clinician
):
    make_clinician(
        "squatter",
        email="head.of.derm@hospital.example",
        email_confirmed=False,
        specialties=["Dermatology"],
    )
    url = reverse("consult_request", args=[world.case.pk])
    refused = client_for(world.owner).post(
        url,
        {
            "question": "Thoughts?",
            "urgency": "routine",
            "assignee": "head.of.derm@hospital.example",
        },
    )
    assert refused.status_code == 400
    assert "No clinician with that username or email." in refused.content.decode()
    accepted = client_for(world.owner).post(
        url,
        {"question": "Thoughts?", "urgency": "routine", "assignee": "DERM@example.org"},
    )
    assert accepted.status_code == 302
    assert ConsultRequest.objects.filter(assignee=world.derm).exists()
