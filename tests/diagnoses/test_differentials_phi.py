"""Differential labels, rationales and decision notes pass the PHI gate:
blocked while a finding is unresolved (nothing stored or broadcast), stored
after the author dismisses it by key, the dismissal audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, CaseParticipant
from cases.phi_gate import PHIFound
from diagnoses import services as dx
from diagnoses.models import Differential
from tests.fixtures.phi import dismissals, gated_case, key_of

Role = CaseParticipant.Role
JSON = {"HTTP_ACCEPT": "application/json"}
NAMED = "Lyme, as Dr House said"  # "House" reads as a name


@pytest.fixture
def world(make_clinician, make_case):
    owner, collaborator, case = gated_case(make_clinician, make_case)
    entry = dx.differential_add(case=case, by=owner, label="Psoriasis")
    return type(
        "World",
        (),
        {"owner": owner, "collaborator": collaborator, "case": case, "entry": entry},
    )


# --- services -------------------------------------------------------------------------


def test_label_with_an_identifier_is_not_stored_nor_broadcast(world, case_events):
    def add():
        with pytest.raises(PHIFound) as refused:
            dx.differential_add(
                case=world.case,
                by=world.collaborator,
                label="Tinea",
                rationale="Call 555-201-4477 for the culture",
            )
        return refused

    frames = case_events(world.case, add)

    assert frames == []
    assert not Differential.objects.filter(label="Tinea").exists()
    assert not dismissals(world.case)


def test_label_is_stored_after_its_finding_is_dismissed_and_the_dismissal_audited(
    world, case_events
):
    key = key_of("label", NAMED)
    frames = case_events(
        world.case,
        lambda: dx.differential_add(
            case=world.case, by=world.collaborator, label=NAMED, dismissed=[key]
        ),
    )

    assert Differential.objects.filter(case=world.case, label=NAMED).exists()
    assert [f["type"] for f in frames] == ["differential.updated"]
    (event,) = dismissals(world.case)
    assert event.actor == world.collaborator
    assert event.data == {
        "surface": "differential.add",
        "keys": [key],
        "kinds": ["name"],
    }


def test_a_dismissal_for_another_field_does_not_let_the_rationale_through(world):
    with pytest.raises(PHIFound) as refused:
        dx.differential_add(
            case=world.case,
            by=world.owner,
            label="Lyme",
            rationale=NAMED,
            dismissed=[key_of("label", NAMED)],
        )
    assert [(f.field, f.kind) for f in refused.value.findings] == [
        ("rationale", "name")
    ]


def test_edit_is_gated_and_keeps_the_old_text_when_refused(world):
    with pytest.raises(PHIFound):
        dx.differential_update(
            differential=world.entry, by=world.owner, label="Psoriasis, MRN 44812093"
        )
    world.entry.refresh_from_db()
    assert world.entry.label == "Psoriasis"

    key = key_of("label", "Psoriasis, MRN 44812093")
    dx.differential_update(
        differential=world.entry,
        by=world.owner,
        label="Psoriasis, MRN 44812093",
        dismissed=[key],
    )
    world.entry.refresh_from_db()
    assert world.entry.label == "Psoriasis, MRN 44812093"
    assert dismissals(world.case)[0].data["surface"] == "differential.update"


def test_rule_out_reason_is_gated(world):
    with pytest.raises(PHIFound):
        dx.differential_rule_out(differential=world.entry, by=world.owner, reason=NAMED)
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.CONSIDERED

    dx.differential_rule_out(
        differential=world.entry,
        by=world.owner,
        reason=NAMED,
        dismissed=[key_of("note", NAMED)],
    )
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.RULED_OUT
    assert world.entry.decision_note == NAMED
    assert dismissals(world.case)[0].data["surface"] == "differential.rule_out"


def test_confirm_note_is_gated(world):
    with pytest.raises(PHIFound):
        dx.differential_confirm(differential=world.entry, by=world.owner, note=NAMED)
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.CONSIDERED
    assert Case.objects.get(pk=world.case.pk).final_diagnosis == ""


def test_confirm_and_resolve_lists_note_and_final_diagnosis_findings_at_once(
    world, make_case
):
    """The label becomes the final diagnosis, another surface: reviewed again."""
    label = "Lyme per Dr House"
    key = key_of("label", label)
    entry = dx.differential_add(
        case=world.case, by=world.owner, label=label, dismissed=[key]
    )
    note = "Serology, call 555-201-4477"

    with pytest.raises(PHIFound) as refused:
        dx.differential_confirm(
            differential=entry, by=world.owner, note=note, resolve_case=True
        )
    assert sorted(f.field for f in refused.value.findings) == [
        "final_diagnosis",
        "note",
    ]

    keys = [key_of("note", note), key_of("final_diagnosis", label)]
    dx.differential_confirm(
        differential=entry, by=world.owner, note=note, resolve_case=True, dismissed=keys
    )
    case = Case.objects.get(pk=world.case.pk)
    assert case.status == Case.Status.RESOLVED
    assert case.final_diagnosis == label
    surfaces = sorted(e.data["surface"] for e in dismissals(world.case))
    assert surfaces == ["case.resolve", "differential.add", "differential.confirm"]


# --- views ----------------------------------------------------------------------------


def test_add_json_refusal_lists_the_findings_and_a_resend_with_dismissals_stores(
    world, client_for
):
    client = client_for(world.collaborator)
    url = reverse("differential_add", args=[world.case.pk])

    refused = client.post(url, {"label": NAMED}, **JSON)

    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "phi_found"
    assert body["error"]
    (finding,) = body["findings"]
    assert finding["field"] == "label"
    assert finding["kind"] == "name"
    assert finding["text"] == "House"
    assert finding["key"] == key_of("label", NAMED)
    assert not Differential.objects.filter(label=NAMED).exists()

    stored = client.post(url, {"label": NAMED, "dismiss": finding["key"]}, **JSON)

    assert stored.status_code == 200
    assert stored.json()["ok"] is True
    assert Differential.objects.filter(case=world.case, label=NAMED).exists()
    assert len(dismissals(world.case)) == 1


def test_add_form_refusal_renders_the_findings_with_dismiss_boxes(world, client_for):
    client = client_for(world.collaborator)
    url = reverse("differential_add", args=[world.case.pk])

    refused = client.post(url, {"label": "Tinea", "rationale": NAMED})

    assert refused.status_code == 400
    html = refused.content.decode()
    key = key_of("rationale", NAMED)
    assert f'name="dismiss" value="{key}"' in html
    assert "<mark>House</mark>" in html
    assert 'data-phi-for="rationale"' in html

    stored = client.post(
        url, {"label": "Tinea", "rationale": NAMED, "dismiss": key}, follow=False
    )
    assert stored.status_code == 302
    assert Differential.objects.get(case=world.case, label="Tinea").rationale == NAMED


def test_edit_form_refusal_keeps_earlier_dismissals_ticked(world, client_for):
    """Two findings, one already dismissed: the page shows both, that one ticked."""
    client = client_for(world.owner)
    url = reverse("differential_edit", args=[world.case.pk, world.entry.pk])
    label = "Psoriasis per Dr House"
    rationale = "Call 555-201-4477"
    label_key = key_of("label", label)

    refused = client.post(
        url, {"label": label, "rationale": rationale, "dismiss": label_key}
    )

    assert refused.status_code == 400
    html = refused.content.decode()
    assert f'name="dismiss" value="{label_key}" checked' in html
    assert f'name="dismiss" value="{key_of("rationale", rationale)}">' in html
    world.entry.refresh_from_db()
    assert world.entry.label == "Psoriasis"


def test_decide_json_refusal_then_rule_out_with_dismissal(world, client_for):
    client = client_for(world.owner)
    url = reverse("differential_decide", args=[world.case.pk, world.entry.pk])
    data = {"action": "rule_out", "note": NAMED}

    refused = client.post(url, data, **JSON)

    assert refused.status_code == 400
    assert refused.json()["code"] == "phi_found"
    assert [f["field"] for f in refused.json()["findings"]] == ["note"]
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.CONSIDERED

    done = client.post(url, {**data, "dismiss": key_of("note", NAMED)}, **JSON)

    assert done.status_code == 200
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.RULED_OUT


def test_decide_without_javascript_renders_a_page_to_resend_from(world, client_for):
    client = client_for(world.owner)
    url = reverse("differential_decide", args=[world.case.pk, world.entry.pk])

    refused = client.post(url, {"action": "confirm", "note": NAMED})

    assert refused.status_code == 400
    html = refused.content.decode()
    assert f'action="{url}"' in html
    assert 'name="action" value="confirm"' in html
    assert f'name="dismiss" value="{key_of("note", NAMED)}"' in html
    assert 'name="resolve_case"' in html

    done = client.post(
        url, {"action": "confirm", "note": NAMED, "dismiss": key_of("note", NAMED)}
    )
    assert done.status_code == 302
    world.entry.refresh_from_db()
    assert world.entry.status == Differential.Status.CONFIRMED
