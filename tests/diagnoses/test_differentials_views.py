"""Differential URLs: who may call each one, what they return, the case-page partial."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, CaseParticipant
from cases.permissions import case_access
from diagnoses import services as dx
from diagnoses.models import Differential, DifferentialVote

Role = CaseParticipant.Role


@pytest.fixture
def world(make_clinician, make_patient, make_case):
    owner = make_clinician("owner")
    collaborator = make_clinician("collab")
    viewer = make_clinician("viewer")
    stranger = make_clinician("stranger")
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        participants={collaborator: Role.COLLABORATOR, viewer: Role.VIEWER},
    )
    entry = dx.differential_add(case=case, by=owner, label="Psoriasis", likelihood=60)
    return type(
        "World",
        (),
        {
            "owner": owner,
            "collaborator": collaborator,
            "viewer": viewer,
            "stranger": stranger,
            "patient": make_patient("pat"),
            "case": case,
            "entry": entry,
        },
    )


def urls(w) -> dict[str, tuple[str, str, dict]]:
    """name → (method, url, data) for every differential endpoint."""
    pk, d = w.case.pk, w.entry.pk
    return {
        "fragment": ("get", reverse("differentials_fragment", args=[pk]), {}),
        "history": ("get", reverse("differentials_history", args=[pk]), {}),
        "add_form": ("get", reverse("differential_add", args=[pk]), {}),
        "add": ("post", reverse("differential_add", args=[pk]), {"label": "Eczema"}),
        "edit_form": ("get", reverse("differential_edit", args=[pk, d]), {}),
        "edit": (
            "post",
            reverse("differential_edit", args=[pk, d]),
            {"label": "Plaque psoriasis"},
        ),
        "vote": (
            "post",
            reverse("differential_vote", args=[pk, d]),
            {"likelihood": "40"},
        ),
        "decide": (
            "post",
            reverse("differential_decide", args=[pk, d]),
            {"action": "rule_out"},
        ),
        "reorder": (
            "post",
            reverse("differentials_reorder", args=[pk]),
            {"order": str(d)},
        ),
        "delete": ("post", reverse("differential_delete", args=[pk, d]), {}),
    }


ALL = [
    "fragment",
    "history",
    "add_form",
    "add",
    "edit_form",
    "edit",
    "vote",
    "decide",
    "reorder",
    "delete",
]


def call(client, spec, *, json=False):
    method, url, data = spec
    headers = {"Accept": "application/json"} if json else {}
    return getattr(client, method)(url, data, headers=headers)


@pytest.mark.parametrize("name", ALL)
def test_anonymous_is_sent_to_log_in(client, world, name):
    response = call(client, urls(world)[name])
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("name", ALL)
def test_patient_is_forbidden(client_for, world, name):
    response = call(client_for(world.patient), urls(world)[name])
    assert response.status_code == 403


@pytest.mark.parametrize("name", ALL)
def test_clinician_who_cannot_see_the_case_gets_404(client_for, world, name):
    response = call(client_for(world.stranger), urls(world)[name])
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["fragment", "history"])
def test_viewer_reads(client_for, world, name):
    assert call(client_for(world.viewer), urls(world)[name]).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["add_form", "add", "edit_form", "edit", "vote", "decide", "reorder", "delete"],
)
def test_viewer_may_not_change_anything(client_for, world, name):
    response = call(client_for(world.viewer), urls(world)[name])
    assert response.status_code == 403
    entry = Differential.objects.get(pk=world.entry.pk)
    assert (entry.label, entry.status) == ("Psoriasis", "considered")
    assert Differential.objects.count() == 1
    assert DifferentialVote.objects.count() == 1


@pytest.mark.parametrize("name", ["vote", "decide", "reorder", "delete", "add"])
def test_viewer_gets_json_403_from_fetch(client_for, world, name):
    response = call(client_for(world.viewer), urls(world)[name], json=True)
    assert response.status_code == 403
    assert response.json()["ok"] is False


@pytest.mark.parametrize(
    "name, check",
    [
        ("add", lambda w: Differential.objects.filter(label="Eczema").exists()),
        (
            "edit",
            lambda w: (
                Differential.objects.get(pk=w.entry.pk).label == "Plaque psoriasis"
            ),
        ),
        (
            "vote",
            lambda w: (
                DifferentialVote.objects.get(
                    differential=w.entry, voter=w.collaborator
                ).likelihood
                == 40
            ),
        ),
        (
            "decide",
            lambda w: Differential.objects.get(pk=w.entry.pk).status == "ruled_out",
        ),
        ("reorder", lambda w: True),
        ("delete", lambda w: not Differential.objects.filter(pk=w.entry.pk).exists()),
    ],
)
def test_collaborator_actions_redirect_to_the_case_and_take_effect(
    client_for, world, name, check
):
    response = call(client_for(world.collaborator), urls(world)[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("case_detail", args=[world.case.pk]))
    assert check(world)


def test_fetch_vote_answers_json_with_the_new_version(client_for, world):
    response = call(client_for(world.collaborator), urls(world)["vote"], json=True)
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is True
    assert body["my_vote"] == 40
    assert isinstance(body["version"], int)


def test_vote_is_always_the_callers_own(client_for, world):
    _, url, _ = urls(world)["vote"]
    client_for(world.collaborator).post(
        url, {"likelihood": "90", "voter": world.owner.pk, "voter_id": world.owner.pk}
    )
    votes = dict(
        DifferentialVote.objects.filter(differential=world.entry).values_list(
            "voter__username", "likelihood"
        )
    )
    assert votes == {"owner": 60, "collab": 90}


def test_withdraw_removes_the_callers_vote(client_for, world):
    _, url, _ = urls(world)["vote"]
    client_for(world.owner).post(url, {"withdraw": "1", "likelihood": "50"})
    assert not DifferentialVote.objects.filter(voter=world.owner).exists()


@pytest.mark.parametrize("value", ["", "101", "-5", "lots"])
def test_bad_likelihood_is_a_400_with_a_field_error(client_for, world, value):
    _, url, _ = urls(world)["vote"]
    response = client_for(world.collaborator).post(
        url, {"likelihood": value}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "likelihood" in response.json()["errors"]


def test_add_with_errors_shows_the_form_again_with_field_errors(client_for, world):
    response = client_for(world.owner).post(
        reverse("differential_add", args=[world.case.pk]),
        {"label": "Eczema", "icd10_code": "nonsense"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter an ICD-10 code" in html
    assert 'value="Eczema"' in html


def test_duplicate_add_shows_a_label_error(client_for, world):
    response = client_for(world.owner).post(
        reverse("differential_add", args=[world.case.pk]), {"label": "psoriasis"}
    )
    assert response.status_code == 400
    assert "already on the list" in response.content.decode()


def test_confirming_a_second_diagnosis_is_refused_with_a_message(client_for, world):
    second = dx.differential_add(case=world.case, by=world.owner, label="Eczema")
    dx.differential_confirm(differential=world.entry, by=world.owner)
    response = client_for(world.owner).post(
        reverse("differential_decide", args=[world.case.pk, second.pk]),
        {"action": "confirm"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "already the confirmed diagnosis" in response.json()["error"]


def test_confirm_and_resolve_from_the_form(client_for, world):
    client_for(world.owner).post(
        reverse("differential_decide", args=[world.case.pk, world.entry.pk]),
        {"action": "confirm", "resolve_case": "1"},
    )
    case = Case.objects.get(pk=world.case.pk)
    assert (case.status, case.final_diagnosis) == ("resolved", "Psoriasis")


def test_move_down_swaps_with_the_next_entry(client_for, world):
    second = dx.differential_add(case=world.case, by=world.owner, label="Eczema")
    response = client_for(world.owner).post(
        reverse("differentials_reorder", args=[world.case.pk]),
        {"move": world.entry.pk, "direction": "down"},
    )
    assert "dx_order=working" in response["Location"]
    order = list(
        Differential.objects.filter(case=world.case)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    assert order == [second.pk, world.entry.pk]


def test_entry_of_another_case_is_404(client_for, world, make_case):
    other = make_case(world.owner, status=Case.Status.PUBLISHED)
    foreign = dx.differential_add(case=other, by=world.owner, label="Tinea")
    response = client_for(world.owner).post(
        reverse("differential_vote", args=[world.case.pk, foreign.pk]),
        {"likelihood": "10"},
    )
    assert response.status_code == 404


def test_fragment_shows_ranking_own_vote_and_actions(client_for, world):
    dx.differential_vote(differential=world.entry, by=world.collaborator, likelihood=80)
    html = (
        client_for(world.collaborator)
        .get(reverse("differentials_fragment", args=[world.case.pk]))
        .content.decode()
    )
    assert "Psoriasis" in html
    assert 'data-dx-stat="mean">70<' in html
    assert 'data-dx-stat="spread">±10<' in html
    assert 'data-dx-stat="voters">2<' in html
    assert 'data-dx-stat="proposer">60<' in html
    assert 'data-dx-stat="mine">80<' in html
    assert "Rule out" in html
    assert 'name="likelihood"' in html


def test_fragment_for_a_viewer_has_no_controls(client_for, world):
    html = (
        client_for(world.viewer)
        .get(reverse("differentials_fragment", args=[world.case.pk]))
        .content.decode()
    )
    assert "Psoriasis" in html
    assert 'name="likelihood"' not in html
    assert "Rule out" not in html
    assert 'data-dx-stat="mine">–<' in html


def test_history_page_lists_each_change(client_for, world):
    dx.differential_vote(differential=world.entry, by=world.collaborator, likelihood=80)
    html = (
        client_for(world.viewer)
        .get(reverse("differentials_history", args=[world.case.pk]))
        .content.decode()
    )
    assert "Collab Tester voted on Psoriasis" in html
    assert "Owner Tester proposed Psoriasis" in html


def test_icd10_search_answers_json_for_clinicians_only(client, client_for, world):
    url = reverse("icd10_search")
    body = client_for(world.viewer).get(url, {"q": "psoriasis vulg"}).json()
    assert body["results"] == [{"code": "L40.0", "title": "Psoriasis vulgaris"}]
    assert client_for(world.patient).get(url, {"q": "psor"}).status_code == 403
    assert client.get(url, {"q": "psor"}).status_code == 302


# --- The case-page partial ----------------------------------------------------------


def _render_partial(case, user) -> str:
    request = RequestFactory().get(f"/cases/{case.pk}/")
    request.user = user
    template = Template("{% load diagnoses %}{% case_differentials case access %}")
    return template.render(
        Context(
            {
                "request": request,
                "case": case,
                "access": case_access(user, case),
                "csrf_token": "t",
                "csp_nonce": "n",
            }
        )
    )


def _populate(case, people, n):
    for i in range(n):
        entry = dx.differential_add(case=case, by=people[0], label=f"Dx {i}")
        for j, voter in enumerate(people):
            dx.differential_vote(differential=entry, by=voter, likelihood=10 * j + i)


def test_partial_renders_with_add_form_for_voters(world):
    html = _render_partial(world.case, world.collaborator)
    assert 'id="differentials"' in html
    assert "Propose a diagnosis" in html
    assert "clinical.css" in html and "differentials.js" in html


def _finding(case, clinician, make_patient, *, relation):
    """A patient's link attached to each entry of ``case`` as a finding."""
    from django.utils import timezone

    from portal.models import FindingLink, SocialLink, Submission

    patient = make_patient(clinician=clinician)
    for entry in Differential.objects.filter(case=case):
        link = SocialLink.objects.create(
            platform="youtube",
            url="https://youtu.be/abcdefghijk",
            canonical_url="https://www.youtube.com/watch?v=abcdefghijk",
        )
        submission = Submission.objects.create(
            patient=patient,
            clinician=clinician,
            link=link,
            description="Flare last week",
            consent_text="I agree",
            consent_at=timezone.now(),
        )
        FindingLink.objects.create(
            submission=submission,
            differential=entry,
            case=case,
            relation=relation,
            note=f"{relation} note",
            created_by=clinician,
            platform="youtube",
            canonical_url=link.canonical_url,
        )


def test_partial_query_count_does_not_grow_with_entries_votes_and_findings(
    make_clinician, make_case, make_patient
):
    owner = make_clinician()
    people = [owner, make_clinician(), make_clinician()]
    small = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        participants=dict.fromkeys(people[1:], Role.COLLABORATOR),
    )
    large = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        participants=dict.fromkeys(people[1:], Role.COLLABORATOR),
    )
    _populate(small, people, 1)
    _populate(large, people, 8)
    _finding(small, owner, make_patient, relation="supports")
    for relation in ("supports", "refutes", "context"):
        _finding(large, owner, make_patient, relation=relation)
    dx.differential_rule_out(
        differential=Differential.objects.filter(case=large).first(), by=owner
    )

    with CaptureQueriesContext(connection) as few:
        html_small = _render_partial(small, people[1])
    with CaptureQueriesContext(connection) as many:
        html_large = _render_partial(large, people[1])

    assert html_large.count('class="dx-item ') == 8
    assert html_small.count('class="dx-item ') == 1
    assert html_large.count('class="finding"') == 24
    assert "refutes note" in html_large
    assert html_small.count('class="finding"') == 1
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(few.captured_queries) <= 6


def test_case_page_shows_the_differential_and_consult_panels(client_for, world):
    html = (
        client_for(world.collaborator)
        .get(reverse("case_detail", args=[world.case.pk]))
        .content.decode()
    )
    assert 'id="differentials"' in html
    assert 'id="consults"' in html
    assert "Request a consult" in html
    assert (
        html.count("js/differentials.js")
        == html.count("js/icd10.js")
        == html.count("js/consults.js")
        == 1
    )
