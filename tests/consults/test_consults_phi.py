"""Consult questions, answers (with suggested diagnoses), decline and cancel
reasons pass the PHI gate: blocked while a finding is unresolved (nothing
stored, notified or broadcast), stored after a dismissal by key, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import CaseParticipant
from cases.phi_gate import PHIFound
from consults import services as svc
from consults.models import ConsultRequest
from diagnoses.models import Differential
from tests.fixtures.phi import dismissals, gated_case, key_of
from workspace.models import Notification, Specialty

Role = CaseParticipant.Role
Status = ConsultRequest.Status
NAMED = "Seen by Dr House: psoriasis or eczema?"  # "House" reads as a name


@pytest.fixture
def s(make_clinician, make_case):
    owner, collaborator, case = gated_case(make_clinician, make_case)
    derm = make_clinician("derm", specialties=["Dermatology"])
    return type(
        "S",
        (),
        {
            "owner": owner,
            "collaborator": collaborator,
            "derm": derm,
            "case": case,
            "dermatology": Specialty.objects.get(name="Dermatology"),
        },
    )


def ask(s, **kwargs) -> ConsultRequest:
    kwargs.setdefault("question", "Psoriasis or eczema?")
    return svc.consult_request(
        case=s.case, by=s.collaborator, specialty=s.dermatology, **kwargs
    )


def accepted(s) -> ConsultRequest:
    consult = ask(s)
    svc.consult_accept(consult=consult, by=s.derm)
    return consult


# --- services -------------------------------------------------------------------------


def test_question_with_an_identifier_is_not_stored_notified_or_broadcast(
    s, case_events
):
    def request():
        with pytest.raises(PHIFound):
            ask(s, question=NAMED)

    frames = case_events(s.case, request)

    assert frames == []
    assert not ConsultRequest.objects.exists()
    assert not Notification.objects.filter(user=s.derm).exists()


def test_question_is_stored_after_dismissal_and_the_dismissal_audited(s):
    key = key_of("question", NAMED)

    consult = ask(s, question=NAMED, dismissed=[key])

    assert consult.question == NAMED
    assert Notification.objects.filter(user=s.derm).exists()
    (event,) = dismissals(s.case)
    assert event.actor == s.collaborator
    assert event.data == {
        "surface": "consult.request",
        "keys": [key],
        "kinds": ["name"],
    }


def test_decline_reason_is_gated(s):
    consult = ask(s)
    reason = "Ask Dr House instead"
    with pytest.raises(PHIFound):
        svc.consult_decline(consult=consult, by=s.derm, reason=reason)
    consult.refresh_from_db()
    assert consult.status == Status.REQUESTED

    svc.consult_decline(
        consult=consult, by=s.derm, reason=reason, dismissed=[key_of("reason", reason)]
    )
    consult.refresh_from_db()
    assert consult.status == Status.DECLINED
    assert dismissals(s.case)[0].data["surface"] == "consult.decline"


def test_cancel_reason_is_gated(s):
    consult = accepted(s)
    reason = "Patient phoned 555-201-4477"
    with pytest.raises(PHIFound):
        svc.consult_cancel(consult=consult, by=s.owner, reason=reason)
    consult.refresh_from_db()
    assert consult.status == Status.ACCEPTED
    assert CaseParticipant.objects.filter(case=s.case, user=s.derm).exists()

    svc.consult_cancel(
        consult=consult, by=s.owner, reason=reason, dismissed=[key_of("reason", reason)]
    )
    consult.refresh_from_db()
    assert consult.status == Status.CANCELLED


def test_answer_and_its_suggestions_are_gated_together(s):
    consult = accepted(s)
    impression = "Eczema, MRN 44812093"
    suggestions = [
        {"label": "Contact dermatitis"},
        {"label": "Tinea", "rationale": "Dr House saw scaling"},
    ]

    with pytest.raises(PHIFound) as refused:
        svc.consult_answer(
            consult=consult, by=s.derm, impression=impression, suggestions=suggestions
        )

    assert sorted(f.field for f in refused.value.findings) == [
        "impression",
        "suggestions.1.rationale",
    ]
    consult.refresh_from_db()
    assert consult.status == Status.ACCEPTED
    assert not Differential.objects.filter(case=s.case).exists()

    keys = [
        key_of("impression", impression),
        key_of("suggestions.1.rationale", "Dr House saw scaling"),
    ]
    svc.consult_answer(
        consult=consult,
        by=s.derm,
        impression=impression,
        suggestions=suggestions,
        dismissed=keys,
    )
    consult.refresh_from_db()
    assert consult.status == Status.ANSWERED
    assert set(Differential.objects.values_list("label", flat=True)) == {
        "Contact dermatitis",
        "Tinea",
    }
    (event,) = dismissals(s.case)
    assert event.data["surface"] == "consult.answer"
    assert event.data["keys"] == sorted(keys)


# --- views ----------------------------------------------------------------------------


def test_request_form_refusal_lists_findings_and_resend_with_dismissal_works(
    s, client_for
):
    client = client_for(s.collaborator)
    url = reverse("consult_request", args=[s.case.pk])
    data = {
        "specialty": s.dermatology.pk,
        "question": NAMED,
        "urgency": "routine",
    }

    refused = client.post(url, data)

    assert refused.status_code == 400
    html = refused.content.decode()
    key = key_of("question", NAMED)
    assert f'name="dismiss" value="{key}"' in html
    assert "<mark>House</mark>" in html
    assert not ConsultRequest.objects.exists()

    sent = client.post(url, {**data, "dismiss": key})

    assert sent.status_code == 302
    assert ConsultRequest.objects.get().question == NAMED


def test_decline_and_cancel_forms_show_findings_on_the_consult_page(s, client_for):
    consult = ask(s)
    reason = "Ask Dr House instead"

    declined = client_for(s.derm).post(
        reverse("consult_decline", args=[consult.pk]), {"reason": reason}
    )
    assert declined.status_code == 400
    assert f'value="{key_of("reason", reason)}"' in declined.content.decode()

    cancel_url = reverse("consult_cancel", args=[consult.pk])
    owner = client_for(s.owner)
    cancelled = owner.post(cancel_url, {"reason": reason})
    html = cancelled.content.decode()
    assert cancelled.status_code == 400
    assert '<details class="consult-cancel" open>' in html
    assert f'value="{key_of("reason", reason)}"' in html
    consult.refresh_from_db()
    assert consult.status == Status.REQUESTED

    done = owner.post(
        cancel_url, {"reason": reason, "dismiss": key_of("reason", reason)}
    )
    assert done.status_code == 302
    consult.refresh_from_db()
    assert consult.status == Status.CANCELLED
    assert consult.events.last().note == reason


def test_answer_form_lists_findings_under_their_suggestion(s, client_for):
    consult = accepted(s)
    client = client_for(s.derm)
    url = reverse("consult_answer", args=[consult.pk])
    data = {
        "impression": "Eczema",
        "dx-TOTAL_FORMS": "3",
        "dx-INITIAL_FORMS": "0",
        "dx-MIN_NUM_FORMS": "0",
        "dx-MAX_NUM_FORMS": "10",
        # The first suggestion row is left empty: the second is suggestion 0.
        "dx-1-label": "Tinea per Dr House",
    }

    refused = client.post(url, data)

    assert refused.status_code == 400
    html = refused.content.decode()
    key = key_of("suggestions.0.label", "Tinea per Dr House")
    assert 'data-phi-for="dx-1-label"' in html
    assert f'value="{key}"' in html
    assert html.count("must be removed or marked as not identifying") == 1

    sent = client.post(url, {**data, "dismiss": key})

    assert sent.status_code == 302
    assert Differential.objects.get(case=s.case).label == "Tinea per Dr House"
