"""Every case URL × every kind of user × visibility × status.

Expected outcomes are written out here from the issue's rules, not derived
from ``cases.permissions``:

- anonymous → redirected to log in; patient → 403 (clinician pages);
- a clinician who may not see the case → 404, exactly like a missing case;
- may see it but not do the action → 403;
- may do it → the action's success status, and the state really changes.

Each test covers all nine users for one (URL, visibility, status); a fresh
case is made per user so one user's action cannot mask another's.
"""

from __future__ import annotations

import itertools
import re

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseParticipant
from tests.fixtures.cases import ROLES, can_view
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db

VISIBILITIES = [v.value for v in Case.Visibility]
STATUSES = [Case.Status.DRAFT.value, Case.Status.PUBLISHED.value]
GRID = list(itertools.product(VISIBILITIES, STATUSES))
EDITORS = {"owner", "collaborator"}


def _without_nonce(response) -> str:
    """The page without its per-request tokens (CSP nonce, CSRF token)."""
    html = re.sub(r'nonce="[^"]*"', "", response.content.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _client(cast, role: str, client_for) -> Client:
    user = cast.users[role]
    return Client() if user is None else client_for(user)


def _expected(role: str, visible: bool, allowed: bool, ok: int) -> int:
    if role == "anonymous":
        return 302
    if role == "patient":
        return 403
    if not visible:
        return 404
    return ok if allowed else 403


def _check(response, role: str, expected: int) -> None:
    assert response.status_code == expected, (role, response.status_code)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_case_page(cast, client_for, visibility, status):
    case = cast.case(visibility=visibility, status=status)
    for role in ROLES:
        visible = can_view(role, visibility, status)
        views_before = AuditEvent.objects.filter(verb="case.view").count()

        response = _client(cast, role, client_for).get(case.get_absolute_url())

        _check(response, role, _expected(role, visible, True, 200))
        if response.status_code == 200:
            assert case.title in response.content.decode()
        else:
            assert case.title not in response.content.decode()
        views_after = AuditEvent.objects.filter(verb="case.view").count()
        assert views_after == views_before + (1 if visible and role != "patient" else 0)


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_edit_page(cast, client_for, visibility, status):
    case = cast.case(visibility=visibility, status=status)
    for role in ROLES:
        visible = can_view(role, visibility, status)
        response = _client(cast, role, client_for).get(
            reverse("case_edit", args=[case.pk])
        )
        _check(response, role, _expected(role, visible, role in EDITORS, 200))


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_autosave(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        visible = can_view(role, visibility, status)
        ok = 200 if status == Case.Status.DRAFT else 409
        response = _client(cast, role, client_for).post(
            reverse("case_autosave", args=[case.pk]),
            {
                "title": "Autosaved title",
                "sex": "unknown",
                "visibility": visibility,
                "workspace": cast.workspace.pk,
            },
        )
        _check(response, role, _expected(role, visible, role in EDITORS, ok))
        case.refresh_from_db()
        assert (case.title == "Autosaved title") == (response.status_code == 200), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_publish(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(
            visibility=visibility, status=status, presenting_complaint="Fever."
        )
        visible = can_view(role, visibility, status)
        allowed = role == "owner" and status == Case.Status.DRAFT
        response = _client(cast, role, client_for).post(
            reverse("case_edit", args=[case.pk]),
            {
                "title": case.title,
                "specialty": case.specialty_id,
                "age_band": case.age_band,
                "sex": "unknown",
                "presenting_complaint": "Fever.",
                "visibility": visibility,
                "workspace": cast.workspace.pk,
                "attest": "on",
                "attestation": "I attest.",
                "action": "publish",
            },
        )
        _check(response, role, _expected(role, visible, allowed, 302))
        case.refresh_from_db()
        assert (case.deid_attestation == "I attest.") == (
            response.status_code == 302 and role != "anonymous"
        ), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_resolve(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        visible = can_view(role, visibility, status)
        response = _client(cast, role, client_for).post(
            reverse("case_resolve", args=[case.pk]),
            {"final_diagnosis": "Erythema migrans"},
        )
        _check(response, role, _expected(role, visible, role in EDITORS, 302))
        case.refresh_from_db()
        resolved = case.status == Case.Status.RESOLVED
        assert resolved == (role in EDITORS and status == Case.Status.PUBLISHED), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_archive(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        visible = can_view(role, visibility, status)
        response = _client(cast, role, client_for).post(
            reverse("case_archive", args=[case.pk])
        )
        _check(response, role, _expected(role, visible, role == "owner", 302))
        case.refresh_from_db()
        assert (case.status == Case.Status.ARCHIVED) == (role == "owner"), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_invite(cast, client_for, make_clinician, visibility, status):
    newcomer = make_clinician("newcomer")
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        visible = can_view(role, visibility, status)
        response = _client(cast, role, client_for).post(
            reverse("case_participant_add", args=[case.pk]),
            {"who": "newcomer", "role": "viewer"},
        )
        _check(response, role, _expected(role, visible, role == "owner", 302))
        invited = CaseParticipant.objects.filter(case=case, user=newcomer).exists()
        assert invited == (role == "owner"), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_change_role(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        viewer = case.participants.get(user=cast.viewer)
        visible = can_view(role, visibility, status)
        response = _client(cast, role, client_for).post(
            reverse("case_participant_role", args=[case.pk, viewer.pk]),
            {"role": "collaborator"},
        )
        _check(response, role, _expected(role, visible, role == "owner", 302))
        viewer.refresh_from_db()
        assert (viewer.role == "collaborator") == (role == "owner"), role


@pytest.mark.parametrize(("visibility", "status"), GRID)
def test_remove_participant(cast, client_for, visibility, status):
    for role in ROLES:
        case = cast.case(visibility=visibility, status=status)
        viewer = case.participants.get(user=cast.viewer)
        visible = can_view(role, visibility, status)
        allowed = role in {"owner", "viewer"}  # the owner, or the viewer leaving
        response = _client(cast, role, client_for).post(
            reverse("case_participant_remove", args=[case.pk, viewer.pk])
        )
        _check(response, role, _expected(role, visible, allowed, 302))
        gone = not CaseParticipant.objects.filter(pk=viewer.pk).exists()
        assert gone == allowed, role


def test_unverified_clinician_sees_and_edits_only_their_own_cases(
    cast, client_for, make_case
):
    own = make_case(cast.unverified, status=Case.Status.PUBLISHED)
    community = cast.case(visibility=Case.Visibility.COMMUNITY)
    client = client_for(cast.unverified)

    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(reverse("case_edit", args=[own.pk])).status_code == 200
    assert client.get(community.get_absolute_url()).status_code == 404


def test_unverified_participant_loses_access(cast, client_for):
    case = cast.case(visibility=Case.Visibility.PRIVATE)
    CaseParticipant.objects.create(
        case=case, user=cast.unverified, role=CaseParticipant.Role.COLLABORATOR
    )

    response = client_for(cast.unverified).get(case.get_absolute_url())

    assert response.status_code == 404


def test_archived_case_is_seen_by_participants_only(cast, client_for):
    case = cast.case(visibility=Case.Visibility.COMMUNITY, status=Case.Status.ARCHIVED)

    assert client_for(cast.viewer).get(case.get_absolute_url()).status_code == 200
    assert client_for(cast.outsider).get(case.get_absolute_url()).status_code == 404
    edit = client_for(cast.owner).get(reverse("case_edit", args=[case.pk]))
    assert edit.status_code == 403


def test_hidden_case_answers_exactly_like_a_missing_one(cast, client_for):
    case = cast.case(visibility=Case.Visibility.PRIVATE)
    client = client_for(cast.outsider)
    missing = Case.objects.order_by("-pk").first().pk + 1000

    for name in ("case_detail", "case_edit"):
        hidden = client.get(reverse(name, args=[case.pk]))
        absent = client.get(reverse(name, args=[missing]))
        assert hidden.status_code == absent.status_code == 404
        assert _without_nonce(hidden) == _without_nonce(absent)
