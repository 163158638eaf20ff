"""The case page is built around the live discussion: a sticky column beside
the case on wide screens, a Discussion tab on phones (issue 14)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from realtime.services import message_post, thread_default

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
LONG = "\n\n".join(
    f"Paragraph {n}: erythematous plaques on the forearms, no mucosal change."
    for n in range(1, 16)
)


def off_the_browser_loop(fn):
    """Run a service in another thread: Playwright's loop owns this one, and
    the service's on-commit broadcast needs a thread without a running loop."""

    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def post(case, by, body, client_id):
    return off_the_browser_loop(
        lambda: message_post(
            case=case,
            thread=thread_default(case=case),
            by=by,
            body=body,
            client_id=client_id,
        )
    )


@pytest.fixture
def long_case(make_clinician, make_case):
    """A published case long enough to scroll, with a busy discussion."""
    olive = make_clinician("olive", first_name="Olive", last_name="Owner")
    colin = make_clinician("colin", first_name="Colin", last_name="Lab")
    case = make_case(
        olive,
        participants={colin: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
        title="Annular plaques after a hike",
        history=LONG,
        examination=LONG,
        investigations=LONG,
    )
    for n in range(1, 31):
        post(case, olive, f"Thought number {n} on the plaques", f"seed-{n}")
    return case, olive, colin


def open_case(page, case, hash=""):
    page.goto(f"/cases/{case.pk}/{hash}")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")


def test_wide_screen_discussion_is_a_sticky_column_right_of_the_case(
    long_case, logged_in_page
):
    case, olive, _colin = long_case
    page = logged_in_page(olive, viewport=WIDE)
    open_case(page, case)
    discussion = page.locator("#discussion")
    log = discussion.locator("[data-log]")
    composer = discussion.get_by_label("Message to # General")

    # Beside the case, not under it; no tabs on a wide screen.
    content = page.locator(".case-main").bounding_box()
    head = page.locator(".case-head").bounding_box()
    column = discussion.bounding_box()
    assert column["x"] >= content["x"] + content["width"]
    assert column["x"] >= head["x"] + head["width"]
    assert column["y"] < content["y"]  # it starts level with the case header
    expect(page.get_by_role("tablist")).to_be_hidden()
    expect(page.locator("#differentials")).to_be_visible()

    # Its messages scroll on their own, opened at the latest.
    sizes = log.evaluate("l => [l.scrollHeight, l.clientHeight, l.scrollTop]")
    assert sizes[0] > sizes[1]
    assert sizes[2] > 0
    expect(log.locator("li.msg").last).to_be_in_viewport()

    # The page scrolls to its end; the column stays in view, composer and all,
    # and its own scroll position is untouched.
    tall = page.evaluate("document.documentElement.scrollHeight - innerHeight")
    assert tall > 1500
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("scrollY > 0")
    assert page.evaluate("scrollY") >= tall - 1
    expect(composer).to_be_in_viewport(ratio=1)
    expect(log).to_be_in_viewport(ratio=0.9)
    expect(page.locator(".case-main")).not_to_be_in_viewport(ratio=0.5)
    assert log.evaluate("l => l.scrollTop") == sizes[2]

    # Scrolling the log leaves the page where it is.
    page_y = page.evaluate("scrollY")
    log.evaluate("l => { l.scrollTop = 0; }")
    expect(log.locator("li.msg").first).to_be_in_viewport()
    assert page.evaluate("scrollY") == page_y

    # Typing goes to the composer that was in view all along.
    composer.fill("Seen from the bottom of the page")
    composer.press("Enter")
    expect(log.locator("li.msg:not(.msg--pending)").last).to_contain_text(
        "Seen from the bottom of the page"
    )
    expect(log.locator("li.msg").last).to_be_in_viewport()


def test_phone_shows_tabs_with_overview_first_and_keeps_the_tab_in_the_address(
    long_case, logged_in_page
):
    case, olive, _colin = long_case
    page = logged_in_page(olive, viewport=PHONE)
    open_case(page, case)
    tablist = page.get_by_role("tablist", name="Case sections")
    tab = {
        name: tablist.get_by_role("tab", name=name, exact=True)
        for name in ("Overview", "Differential", "Discussion", "Media")
    }
    discussion = page.locator("#discussion")
    differential = page.locator("#differentials")

    expect(tablist).to_be_visible()
    expect(tablist.get_by_role("tab")).to_have_count(4)
    expect(tab["Overview"]).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    expect(page.get_by_role("tabpanel")).to_have_accessible_name("Overview")
    expect(page.locator("#section-history")).to_be_visible()
    expect(discussion).to_be_hidden()
    expect(differential).to_be_hidden()

    # One tap to the discussion; the address remembers it.
    tab["Discussion"].click()
    expect(tab["Discussion"]).to_have_attribute("aria-selected", "true")
    expect(tab["Overview"]).to_have_attribute("aria-selected", "false")
    expect(discussion).to_be_visible()
    expect(differential).to_be_hidden()
    expect(page.locator("#section-history")).to_be_hidden()
    expect(discussion.locator("li.msg").last).to_be_in_viewport()
    expect(page).to_have_url(re.compile(r"#tab-discussion$"))

    page.reload()
    expect(tab["Discussion"]).to_have_attribute("aria-selected", "true")
    expect(discussion).to_be_visible()
    expect(differential).to_be_hidden()

    # Arrow keys move along the tabs (wrapping), Home and End to the ends.
    tab["Discussion"].focus()
    page.keyboard.press("ArrowRight")
    expect(tab["Media"]).to_be_focused()
    expect(tab["Media"]).to_have_attribute("aria-selected", "true")
    expect(page.locator("#media")).to_be_visible()
    expect(discussion).to_be_hidden()
    page.keyboard.press("ArrowRight")
    expect(tab["Overview"]).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(tab["Differential"]).to_be_focused()
    expect(differential).to_be_visible()
    expect(page).to_have_url(re.compile(r"#tab-differential$"))
    page.keyboard.press("End")
    expect(tab["Media"]).to_be_focused()
    page.keyboard.press("Home")
    expect(tab["Overview"]).to_be_focused()
    # Only the selected tab is in the Tab order.
    expect(tablist.locator("[role=tab][tabindex='0']")).to_have_count(1)


def test_phone_message_posted_in_the_discussion_tab_appears_live(
    long_case, logged_in_page
):
    case, olive, colin = long_case
    phone = logged_in_page(colin, viewport=PHONE)
    desk = logged_in_page(olive, viewport=WIDE)
    open_case(phone, case, "#tab-discussion")
    open_case(desk, case)

    box = phone.get_by_label("Message to # General")
    box.fill("Posted from a phone")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(
        phone.locator("[data-messages] li.msg:not(.msg--pending)").last
    ).to_contain_text("Posted from a phone")
    expect(desk.locator("[data-messages] li.msg").last).to_contain_text(
        "Posted from a phone"
    )

    # On another tab, new messages are counted on the Discussion tab.
    discussion_tab = phone.get_by_role("tab", name=re.compile("^Discussion"))
    phone.get_by_role("tab", name="Overview").click()
    desk_box = desk.get_by_label("Message to # General")
    desk_box.fill("Answer from the desk")
    desk_box.press("Enter")
    expect(discussion_tab).to_have_accessible_name("Discussion 1 new")
    discussion_tab.click()
    expect(phone.locator("[data-messages] li.msg").last).to_contain_text(
        "Answer from the desk"
    )
    expect(phone.locator("[data-messages] li.msg").last).to_be_in_viewport()
    expect(discussion_tab).to_have_accessible_name("Discussion")


def test_jump_to_discussion_selects_the_discussion_tab_on_a_phone(
    long_case, logged_in_page
):
    case, olive, _colin = long_case
    page = logged_in_page(olive, viewport=PHONE)
    open_case(page, case)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Jump to discussion")
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="Discussion")).to_have_attribute(
        "aria-selected", "true"
    )
    heading = page.get_by_role("heading", name="Discussion", exact=True)
    expect(heading).to_be_in_viewport()
    tabs_bottom = page.evaluate(
        "document.querySelector('[role=tablist]').getBoundingClientRect().bottom"
    )
    assert heading.evaluate("h => h.getBoundingClientRect().top") >= tabs_bottom


def test_phone_without_javascript_shows_every_section_stacked(
    long_case, browser, asgi_live_server
):
    case, olive, _colin = long_case
    client = Client()
    client.force_login(olive)
    context = browser.new_context(
        base_url=asgi_live_server, viewport=PHONE, java_script_enabled=False
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": asgi_live_server,
            }
        ]
    )
    try:
        page = context.new_page()
        page.goto(f"/cases/{case.pk}/#tab-discussion")
        expect(page.get_by_role("tablist")).to_have_count(0)
        for selector in ("#section-history", "#media", "#differentials", "#consults"):
            expect(page.locator(selector)).to_be_visible()
        expect(page.locator("#discussion")).to_be_visible()
        boxes = [
            page.locator(s).bounding_box()
            for s in ("#section-history", "#differentials", "#discussion")
        ]
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    finally:
        context.close()


def test_phone_link_to_a_message_opens_its_tab_and_widening_shows_every_pane(
    long_case, logged_in_page
):
    case, olive, _colin = long_case
    first = case.messages.order_by("seq").first()
    page = logged_in_page(olive, viewport=PHONE)
    open_case(page, case, f"#m{first.pk}")
    expect(page.get_by_role("tab", name="Discussion")).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.locator(f"#m{first.pk}")).to_be_visible()
    expect(page.locator("#section-history")).to_be_hidden()

    # Rotating to a wide screen drops the tabs and shows the case beside it.
    page.set_viewport_size(WIDE)
    expect(page.get_by_role("tablist")).to_have_count(0)
    expect(page.get_by_role("tabpanel")).to_have_count(0)
    expect(page.locator("#section-history")).to_be_visible()
    expect(page.locator("#differentials")).to_be_visible()
    expect(page.locator("#discussion")).to_be_visible()
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("tab", name="Discussion")).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.locator("#differentials")).to_be_hidden()
