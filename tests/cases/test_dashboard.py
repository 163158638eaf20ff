"""The clinician dashboard: recent cases, shared with me, drafts."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case

pytestmark = pytest.mark.django_db


def test_dashboard_sorts_cases_into_recent_shared_and_drafts(
    cast, make_case, client_for
):
    shared_draft = cast.case(title="Shared draft", status=Case.Status.DRAFT)
    community = cast.case(title="Community case")
    my_draft = make_case(cast.viewer, title="Viewer's own draft")
    hidden = cast.case(title="Hidden", visibility=Case.Visibility.PRIVATE)
    archived = cast.case(title="Archived", status=Case.Status.ARCHIVED)

    response = client_for(cast.viewer).get("/")

    context = response.context
    assert [c.title for c in context["draft_cases"]] == [my_draft.title]
    assert {c.title for c in context["shared_cases"]} == {
        shared_draft.title,
        community.title,
        hidden.title,
    }
    assert {c.title for c in context["recent_cases"]} == {community.title, hidden.title}
    assert archived.title not in response.content.decode()
    assert "New case" in response.content.decode()


def test_dashboard_of_an_outsider_shows_only_community_cases(cast, client_for):
    cast.case(title="Community case")
    cast.case(title="Ward case", visibility=Case.Visibility.WORKSPACE)

    response = client_for(cast.outsider).get("/")

    assert [c.title for c in response.context["recent_cases"]] == ["Community case"]
    assert [c.title for c in response.context["shared_cases"]] == []


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
