"""The case page's consult panel (issue 14): answers inline with their author,
specialty and sanitised body; the route and status of each consult; the
fragment the page re-fetches on ``consult.updated``; constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseParticipant
from consults import services as svc
from consults.models import ConsultRequest
from diagnoses.services import case_resolve
from workspace.models import Specialty

Role = CaseParticipant.Role


@pytest.fixture
def ward(make_clinician, make_case):
    owner = make_clinician("owner", first_name="Olive", last_name="Owner")
    viewer = make_clinician("viewer")
    outsider = make_clinician("outsider")
    derm = make_clinician(
        "derm", first_name="Dora", last_name="Derm", specialties=["Dermatology"]
    )
    rheum = make_clinician(
        "rheum", first_name="Rhea", last_name="Rheum", specialties=["Rheumatology"]
    )
    case = make_case(
        owner,
        title="Scaly plaques",
        status=Case.Status.PUBLISHED,
        participants={viewer: Role.VIEWER},
    )
    return type(
        "Ward",
        (),
        {
            "owner": owner,
            "viewer": viewer,
            "outsider": outsider,
            "derm": derm,
            "rheum": rheum,
            "case": case,
        },
    )


def _answered(ward, *, by=None, to_person=False, impression="Plaque **psoriasis**"):
    by = by or ward.derm
    consult = svc.consult_request(
        case=ward.case,
        by=ward.owner,
        question="Psoriasis or eczema?",
        **(
            {"assignee": by}
            if to_person
            else {"specialty": Specialty.objects.get(name="Dermatology")}
        ),
    )
    svc.consult_accept(consult=consult, by=by)
    svc.consult_answer(
        consult=consult,
        by=by,
        impression=impression,
        recommendations="Start a potent topical steroid.",
    )
    return consult


def _fragment(client_for, user, case):
    return client_for(user).get(reverse("consults_fragment", args=[case.pk]))


def test_fragment_shows_the_answer_inline_with_author_specialty_and_body(
    client_for, ward
):
    _answered(ward, impression="Plaque **psoriasis** <script>alert(1)</script>")

    response = _fragment(client_for, ward.viewer, ward.case)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-consult-answer aria-label="Answer from Dora Derm"' in html
    assert "<strong data-consult-answer-author>Dora Derm</strong>" in html
    assert "<span data-consult-answer-specialty>Dermatology</span>" in html
    assert "Plaque <strong>psoriasis</strong>" in html
    assert "<script>" not in html
    assert "Start a potent topical steroid." in html
    assert "data-consult-status>Answered</span>" in html
    assert 'data-consult-route="specialty"' in html
    assert "To the Dermatology specialty: taken by Dora Derm" in html


def test_a_consult_to_a_person_shows_that_route_and_their_own_specialty(
    client_for, ward
):
    _answered(ward, by=ward.rheum, to_person=True)

    html = _fragment(client_for, ward.owner, ward.case).content.decode()

    assert 'data-consult-route="person"' in html
    assert "To Rhea Rheum in person" in html
    assert "<span data-consult-answer-specialty>Rheumatology</span>" in html


def test_an_unanswered_consult_shows_its_route_and_status_but_no_answer(
    client_for, ward
):
    svc.consult_request(
        case=ward.case,
        by=ward.owner,
        question="Anything systemic?",
        specialty=Specialty.objects.get(name="Rheumatology"),
    )

    html = _fragment(client_for, ward.viewer, ward.case).content.decode()

    assert "To the Rheumatology specialty (any of its specialists)" in html
    assert "data-consult-status>Requested</span>" in html
    assert "data-consult-answer" not in html


def test_case_page_holds_the_same_inline_answer(client_for, ward):
    _answered(ward)

    html = client_for(ward.viewer).get(ward.case.get_absolute_url()).content.decode()

    assert "<strong data-consult-answer-author>Dora Derm</strong>" in html
    assert "Plaque <strong>psoriasis</strong>" in html


def test_fragment_is_404_for_a_clinician_who_cannot_see_the_case(client_for, ward):
    _answered(ward)

    response = _fragment(client_for, ward.outsider, ward.case)

    assert response.status_code == 404
    assert b"psoriasis" not in response.content


def test_fragment_asks_the_anonymous_to_log_in(client, ward):
    response = client.get(reverse("consults_fragment", args=[ward.case.pk]))

    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("url", ["fragment", "page"])
def test_consult_panel_queries_do_not_grow_with_consults_and_answers(
    client_for, ward, make_clinician, django_assert_max_num_queries, url
):
    client = client_for(ward.viewer)
    target = (
        reverse("consults_fragment", args=[ward.case.pk])
        if url == "fragment"
        else ward.case.get_absolute_url()
    )
    _answered(ward)
    client.get(target)  # warm caches (sessions, site settings)
    with CaptureQueriesContext(connection) as one:
        assert client.get(target).status_code == 200

    for n in range(4):
        specialist = make_clinician(f"spec{n}", specialties=["Dermatology"])
        _answered(ward, by=specialist, to_person=n % 2 == 0)
    assert ConsultRequest.objects.filter(case=ward.case, status="answered").count() == 5

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(target)
    assert response.content.decode().count("data-consult-answer-author") == 5


def test_answering_broadcasts_consult_updated_to_the_case(case_events, ward):
    consult = svc.consult_request(
        case=ward.case,
        by=ward.owner,
        question="Psoriasis or eczema?",
        specialty=Specialty.objects.get(name="Dermatology"),
    )
    svc.consult_accept(consult=consult, by=ward.derm)

    frames = case_events(
        ward.case,
        lambda: svc.consult_answer(
            consult=consult, by=ward.derm, impression="Plaque psoriasis"
        ),
    )

    updates = [f for f in frames if f["type"] == "consult.updated"]
    assert updates == [
        {
            "type": "consult.updated",
            "case": ward.case.pk,
            "consult": {
                "id": consult.pk,
                "status": "answered",
                "urgency": "routine",
                "due_at": consult.due_at.isoformat(),
                "target": "Dora Derm (Dermatology)",
            },
        }
    ]


def test_resolving_broadcasts_the_status_diagnosis_and_date(case_events, ward):
    frames = case_events(
        ward.case,
        lambda: case_resolve(
            case=ward.case, by=ward.owner, final_diagnosis="Plaque psoriasis"
        ),
    )

    ward.case.refresh_from_db()
    (update,) = [f for f in frames if f["type"] == "case.updated"]
    assert update["status"] == "resolved"
    assert update["final_diagnosis"] == "Plaque psoriasis"
    assert update["resolved_at"] == ward.case.resolved_at.isoformat()
    local = timezone.localtime(ward.case.resolved_at)
    assert update["resolved_on"] == local.strftime("%-d %b %Y")
