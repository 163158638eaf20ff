"""Staff read cases in the admin; state changes there go through services."""

import pytest
from django.urls import reverse

from cases.models import Case
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_clinician):
    return make_clinician("staffer", is_staff=True, is_superuser=True)


def test_admin_lists_and_shows_cases_read_only(cast, staff, client_for):
    case = cast.case(title="Rash after hiking")
    client = client_for(staff)

    listing = client.get(reverse("admin:cases_case_changelist"), {"q": "hiking"})
    detail = client.get(reverse("admin:cases_case_change", args=[case.pk]))

    assert listing.status_code == 200
    assert "Rash after hiking" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="title"' not in detail.content.decode()  # read-only
    assert client.get(reverse("admin:cases_case_add")).status_code == 403


def test_admin_archive_action_takes_cases_down_through_the_service(
    cast, staff, client_for
):
    case = cast.case()

    response = client_for(staff).post(
        reverse("admin:cases_case_changelist"),
        {"action": "archive", "_selected_action": [case.pk]},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.ARCHIVED
    event = AuditEvent.objects.get(verb="case.archive", case_id=case.pk)
    assert event.actor == staff
    assert event.data["moderation"] is True


def test_admin_tags_page_renders(staff, client_for):
    assert (
        client_for(staff).get(reverse("admin:cases_tag_changelist")).status_code == 200
    )
