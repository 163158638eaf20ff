"""A browser in Tokyo sees every time in Tokyo time: the ones the server
rendered (from the zone its JavaScript reported) and the ones that arrive live."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from realtime.models import Message
from realtime.services import message_post, thread_default
from tests.e2e.test_discussion import off_the_browser_loop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def test_server_rendered_and_live_times_show_in_the_browsers_zone(
    logged_in_page, make_clinician, make_case
):
    # Olive chose New York on her profile; her browser stays in UTC.
    olive = make_clinician(
        "olive", first_name="Olive", last_name="Owner", time_zone="America/New_York"
    )
    colin = make_clinician("colin", first_name="Colin", last_name="Lab")
    case = make_case(
        olive,
        participants={colin: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
        title="Fever and a target rash",
    )
    seeded = off_the_browser_loop(
        lambda: (
            message_post(
                case=case,
                thread=thread_default(case=case),
                by=olive,
                body="Rash started on the hands",
                client_id="seed-1",
            ).message
        )
    )
    # 00:05 UTC is 09:05 in Tokyo.
    Message.objects.filter(pk=seeded.pk).update(
        created=datetime(2026, 1, 15, 0, 5, tzinfo=UTC)
    )
    page = logged_in_page(colin, timezone_id="Asia/Tokyo")

    # The first page tells the server the browser's zone; the next uses it.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-time-zone", "UTC")
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("html")).to_have_attribute("data-time-zone", "Asia/Tokyo")
    expect(page.locator(f"#m{seeded.pk} .msg__time")).to_have_text("15 Jan, 09:05")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")

    # A colleague's message arrives over the socket and is rendered by
    # discussion.js in the same zone.
    sender = logged_in_page(olive, timezone_id="UTC")
    sender.goto(f"/cases/{case.pk}/")
    expect(sender.locator("[data-discussion] [data-status]")).to_have_text("Live")
    sender.get_by_label("Message to # General").fill("Now on the palms too")
    sender.get_by_role("button", name="Send").click()
    arrived = page.locator("li.msg", has_text="Now on the palms too")
    expect(arrived).to_be_visible()
    live_time = arrived.locator(".msg__time")
    created = datetime.fromisoformat(live_time.get_attribute("datetime"))
    expect(live_time).to_have_text(date_format(created.astimezone(TOKYO), "j M, H:i"))

    # The profile's zone wins over the browser's, live times included.
    mine = sender.locator("li.msg:not(.msg--pending)", has_text="Now on the palms")
    expect(mine.locator(".msg__time")).to_have_text(
        date_format(created.astimezone(NEW_YORK), "j M, H:i")
    )
    expect(sender.locator(f"#m{seeded.pk} .msg__time")).to_have_text("14 Jan, 19:05")
