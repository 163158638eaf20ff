"""The dashboard in a real browser, wide and phone-sized: the work waiting
comes first with its counts, cards sit side by side when there is room and
stack on a phone, and each item leads straight to the work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case
from consults.models import ConsultRequest
from workspace.models import Notification, Specialty

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 375])
def test_dashboard_puts_waiting_work_first_at_desktop_and_phone_width(
    width, logged_in_page, make_clinician, make_case
):
    derm = Specialty.objects.get(name="Dermatology")
    owner = make_clinician("owner")
    specialist = make_clinician("derm", specialties=["Dermatology"])
    case = make_case(
        owner,
        title="Annular rash after a camping trip",
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        published_at=timezone.now(),
    )
    late = ConsultRequest.objects.create(
        case=case,
        requested_by=owner,
        specialty=derm,
        question="Tinea or granuloma annulare?",
        urgency=ConsultRequest.Urgency.URGENT,
        due_at=timezone.now() - timedelta(hours=1),
    )
    Notification.objects.create(
        user=specialist,
        kind=Notification.Kind.MENTION,
        title="Owner mentioned you in “Annular rash after a camping trip”",
        url=late.get_absolute_url(),
    )
    make_case(specialist, title="Itchy plaques on the shins", status="draft")

    page = logged_in_page(specialist, viewport={"width": width, "height": 900})
    page.goto("/")

    expect(page.locator("[data-dash-summary]")).to_have_text(
        "2 things waiting for you, 1 overdue."
    )
    waiting = page.locator('[data-dash-section="consults-waiting"]')
    expect(waiting.get_by_role("heading", level=3)).to_have_text(
        "Consults waiting for you 1"
    )
    expect(waiting).to_contain_text("1 waiting, 1 overdue")
    expect(waiting.locator(".is-overdue")).to_contain_text("Overdue")
    mentions = page.locator('[data-dash-section="mentions"]')
    expect(mentions.locator("[data-count]")).to_have_text("1")
    drafts = page.locator('[data-dash-section="drafts"]')
    expect(drafts).to_contain_text("Itchy plaques on the shins")

    # Task headings come before the activity heading, in reading order.
    headings = page.locator("main h2").all_inner_texts()
    assert headings.index("Needs you now") < headings.index("Recent case activity")

    first = waiting.bounding_box()
    second = page.locator('[data-dash-section="consults-answered"]').bounding_box()
    if width >= 760:
        assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]
    else:
        assert abs(first["x"] - second["x"]) < 2
        assert second["y"] >= first["y"] + first["height"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width

    # The item leads straight to the consult; the mention, once opened, is read.
    waiting.get_by_role("link", name="Annular rash after a camping trip").click()
    expect(page).to_have_url(re.compile(rf"/consults/{late.pk}/$"))
    page.goto("/")
    page.locator('[data-dash-section="mentions"] .dash-item__title').click()
    expect(page).to_have_url(re.compile(rf"/consults/{late.pk}/$"))
    page.goto("/")
    expect(page.locator('[data-dash-section="mentions"] [data-count]')).to_have_text(
        "0"
    )
