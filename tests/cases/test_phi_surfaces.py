"""Surfaces the PHI audit of issue 12 found gated incompletely, and the
properties of dismissal keys every surface relies on.

- "Ask to join" messages (``case.join_request``) were scanned but could never
  be dismissed: the service passed no keys and the page dropped the text.
- A dismissal key names one field, kind and normalised text: it lets through
  neither another text nor the same text in another field, and is never
  remembered for the next send.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, CaseParticipant, JoinRequest
from cases.phi import finding_key, scan_fields
from cases.phi_gate import PHIFound, phi_gate
from cases.services import cases as case_services
from diagnoses import services as dx
from diagnoses.models import Differential
from workspace.models import AuditEvent, Notification

Role = CaseParticipant.Role
JSON = {"HTTP_ACCEPT": "application/json"}
NAMED = "Seen a lot of these with Dr House"  # "House" reads as a name


def key_of(field: str, text: str) -> str:
    (finding,) = scan_fields({field: text})
    return finding_key(finding)


def dismissals(case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk, verb="phi.dismiss"))


@pytest.fixture
def open_case(make_clinician, make_case):
    owner = make_clinician("owner", first_name="Ana", last_name="Owner")
    outsider = make_clinician("oz", first_name="Oz", last_name="Side")
    case = make_case(
        owner, status=Case.Status.PUBLISHED, visibility=Case.Visibility.COMMUNITY
    )
    return type("Open", (), {"owner": owner, "outsider": outsider, "case": case})


def test_the_named_text_has_exactly_one_finding():
    assert len(scan_fields({"message": NAMED})) == 1


# --- "Ask to join" ------------------------------------------------------------------


def test_join_message_with_an_identifier_is_refused_and_nothing_is_stored(open_case):
    with pytest.raises(PHIFound) as refused:
        case_services.case_join_request(
            case=open_case.case, by=open_case.outsider, message=NAMED
        )

    assert [f.field for f in refused.value.findings] == ["message"]
    assert not JoinRequest.objects.exists()
    assert not Notification.objects.filter(user=open_case.owner).exists()
    assert not dismissals(open_case.case)


def test_join_message_is_sent_after_dismissal_and_the_dismissal_audited(open_case):
    key = key_of("message", NAMED)
    request = case_services.case_join_request(
        case=open_case.case, by=open_case.outsider, message=NAMED, dismissed=[key]
    )

    assert request.message == NAMED
    note = Notification.objects.get(user=open_case.owner)
    assert note.body == NAMED
    (event,) = dismissals(open_case.case)
    assert event.actor == open_case.outsider
    assert event.data["surface"] == "case.join_request"
    assert event.data["keys"] == [key]
    assert NAMED not in str(event.data)


def test_join_json_refusal_lists_findings_and_a_resend_with_the_key_sends(
    open_case, client_for
):
    client = client_for(open_case.outsider)
    url = reverse("case_join_request", args=[open_case.case.pk])

    refused = client.post(url, {"message": NAMED}, **JSON)
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "phi_found"
    (finding,) = body["findings"]
    assert finding["field"] == "message" and finding["text"] == "House"
    assert not JoinRequest.objects.exists()

    sent = client.post(url, {"message": NAMED, "dismiss": finding["key"]}, **JSON)
    assert sent.status_code == 200
    assert JoinRequest.objects.get(user=open_case.outsider).message == NAMED
    assert [e.data["surface"] for e in dismissals(open_case.case)] == [
        "case.join_request"
    ]


def test_join_form_without_javascript_keeps_the_message_and_offers_dismissal(
    open_case, client_for
):
    client = client_for(open_case.outsider)
    url = reverse("case_join_request", args=[open_case.case.pk])

    refused = client.post(url, {"message": NAMED})
    assert refused.status_code == 400
    html = refused.content.decode()
    key = key_of("message", NAMED)
    assert f'name="dismiss" value="{key}"' in html
    assert 'value="Seen a lot of these with Dr House"' in html
    assert not JoinRequest.objects.exists()

    sent = client.post(url, {"message": NAMED, "dismiss": key})
    assert sent.status_code == 302
    assert JoinRequest.objects.filter(user=open_case.outsider).exists()


# --- Dismissal keys -----------------------------------------------------------------


def test_a_key_lets_through_neither_another_text_nor_another_field(db, open_case):
    key = key_of("message", NAMED)
    other_name = "Seen a lot of these with Dr Wilson"
    with pytest.raises(PHIFound):
        phi_gate(
            fields={"message": other_name},
            dismissed=[key],
            by=open_case.outsider,
            surface="test",
        )
    with pytest.raises(PHIFound):
        phi_gate(
            fields={"reason": NAMED},
            dismissed=[key],
            by=open_case.outsider,
            surface="test",
        )
    # Spacing and case do not matter: the key is of the normalised text.
    assert phi_gate(
        fields={"message": "seen a lot of these with dr  HOUSE"},
        dismissed=[key],
        by=open_case.outsider,
        surface="test",
    ) == [key]


def test_a_dismissal_on_one_surface_is_not_remembered_for_the_next(open_case):
    key = key_of("message", NAMED)
    case_services.case_join_request(
        case=open_case.case, by=open_case.outsider, message=NAMED, dismissed=[key]
    )
    # The same author, the same words, another surface: asked again.
    label = key_of("label", NAMED)
    assert label != key
    with pytest.raises(PHIFound):
        dx.differential_add(case=open_case.case, by=open_case.owner, label=NAMED)
    assert not Differential.objects.filter(label=NAMED).exists()


def test_an_edit_is_scanned_again_even_after_the_first_text_was_dismissed(
    open_case,
):
    label = "Tinea, per Dr House"
    entry = dx.differential_add(
        case=open_case.case,
        by=open_case.owner,
        label=label,
        dismissed=[key_of("label", label)],
    )
    with pytest.raises(PHIFound):
        dx.differential_update(
            differential=entry,
            by=open_case.owner,
            label=label,
            rationale="Call 555-201-4477",
            dismissed=[key_of("label", label)],
        )
    entry.refresh_from_db()
    assert entry.rationale == ""


# --- Workspaces ---------------------------------------------------------------------

RISKY_DESCRIPTION = "For Mrs Jones's referral, call 0113 555 0192"


def test_workspace_description_with_identifiers_creates_nothing(make_clinician):
    from workspace.models import Workspace
    from workspace.services import workspace_create

    doc = make_clinician("doc")
    with pytest.raises(PHIFound) as refused:
        workspace_create(name="Skin club", by=doc, description=RISKY_DESCRIPTION)

    assert {f.kind for f in refused.value.findings} == {"name", "phone"}
    assert not Workspace.objects.exists()
    assert not AuditEvent.objects.filter(verb="phi.dismiss").exists()


def test_workspace_is_created_once_every_finding_is_dismissed_and_audited(
    make_clinician,
):
    from workspace.services import workspace_create

    doc = make_clinician("doc")
    keys = sorted(
        finding_key(f) for f in scan_fields({"description": RISKY_DESCRIPTION})
    )
    with pytest.raises(PHIFound):
        workspace_create(
            name="Skin club", by=doc, description=RISKY_DESCRIPTION, dismissed=keys[:1]
        )
    workspace = workspace_create(
        name="Skin club", by=doc, description=RISKY_DESCRIPTION, dismissed=keys
    )

    assert workspace.description == RISKY_DESCRIPTION
    (event,) = AuditEvent.objects.filter(verb="phi.dismiss")
    assert event.actor == doc
    assert event.data["surface"] == "workspace.create"
    assert event.data["keys"] == keys


def test_workspace_form_lists_findings_with_dismiss_boxes_then_creates(
    make_clinician, client_for
):
    from workspace.models import Workspace

    doc = make_clinician("doc")
    client = client_for(doc)
    url = reverse("workspace_list")
    data = {"name": "Skin club", "description": RISKY_DESCRIPTION}

    refused = client.post(url, data)
    assert refused.status_code == 400
    html = refused.content.decode()
    keys = [finding_key(f) for f in scan_fields({"description": RISKY_DESCRIPTION})]
    for key in keys:
        assert f'name="dismiss" value="{key}"' in html
    assert "0113 555 0192" in html  # the text is kept, not lost
    assert not Workspace.objects.exists()

    created = client.post(url, {**data, "dismiss": keys})
    assert created.status_code == 302
    assert Workspace.objects.get().name == "Skin club"


# --- A scanner that breaks fails closed ------------------------------------------


def test_a_scanner_error_refuses_the_text_with_a_clear_message(open_case, client_for):
    from unittest import mock

    client = client_for(open_case.outsider)
    url = reverse("case_join_request", args=[open_case.case.pk])
    with mock.patch("cases.phi_gate.scan_fields", side_effect=AttributeError("bug")):
        refused = client.post(url, {"message": "Happy to help"}, **JSON)

    assert refused.status_code == 422
    assert "could not be checked for patient identifiers" in refused.json()["error"]
    assert not JoinRequest.objects.exists()
    assert not Notification.objects.filter(user=open_case.owner).exists()
