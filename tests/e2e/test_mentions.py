"""@mention autocomplete in the discussion composer: typing "@be" offers Ben,
the keyboard picks him without sending, and the sent message mentions him."""

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from realtime.models import Message
from tests.e2e.test_accessibility import AXE_JS, AXE_SOURCE, AXE_TAGS
from workspace.models import Notification, User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case_with_ben(make_clinician, make_case):
    olive = make_clinician("olive", first_name="Olive", last_name="Owner")
    ben = make_clinician(
        "ben", first_name="Ben", last_name="Carter", specialties=["Dermatology"]
    )
    bert = make_clinician("bert", first_name="Bert", last_name="Gone")
    make_clinician("bella", first_name="Bella", last_name="Outside")
    case = make_case(
        olive,
        participants={
            ben: CaseParticipant.Role.COLLABORATOR,
            bert: CaseParticipant.Role.COLLABORATOR,
        },
        status=Case.Status.PUBLISHED,
        title="Blistering rash",
    )
    User.objects.filter(pk=bert.pk).update(is_active=False)
    return case, olive, ben


def open_live(page, case):
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    return page.get_by_label("Message to # General")


def test_keyboard_picks_a_mention_without_sending_then_the_message_mentions_him(
    case_with_ben, logged_in_page
):
    case, olive, ben = case_with_ben
    ben_page = logged_in_page(ben)
    open_live(ben_page, case)
    page = logged_in_page(olive)
    box = open_live(page, case)

    box.press_sequentially("Could you look, @be")
    listbox = page.get_by_role("listbox", name="People to mention")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    # Only Ben: Bert is deactivated, Bella cannot see this private case.
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Ben Carter")
    expect(options.first).to_contain_text("@ben · Dermatology")

    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    option_id = options.first.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", option_id)
    box.press("Enter")

    expect(box).to_have_value("Could you look, @ben ")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(page.locator("[data-messages] li.msg")).to_have_count(0)

    box.press_sequentially("at the blisters?")
    box.press("Enter")
    sent = page.locator("[data-messages] li.msg:not(.msg--pending)").last
    expect(sent.locator(".mention", has_text="@ben")).to_be_visible()
    expect(box).to_have_value("")
    expect(ben_page.locator("[data-toasts]")).to_contain_text(
        "Olive Owner mentioned you"
    )
    message = Message.objects.get(case=case)
    assert message.body == "Could you look, @ben at the blisters?"
    assert list(message.mentions.values_list("username", flat=True)) == ["ben"]
    assert Notification.objects.filter(
        user=ben, kind=Notification.Kind.MENTION
    ).exists()


def test_escape_closes_the_list_and_a_click_picks_a_person_on_a_phone(
    case_with_ben, logged_in_page
):
    case, olive, _ben = case_with_ben
    page = logged_in_page(olive, viewport={"width": 390, "height": 844})
    box = open_live(page, case)
    # Phones open the case on its Overview tab; the discussion is one tap away.
    page.get_by_role("tab", name="Discussion").click()
    listbox = page.get_by_role("listbox", name="People to mention")

    box.press_sequentially("@CAR")
    ben_option = listbox.get_by_role("option", name="Ben Carter")
    expect(ben_option).to_be_visible()
    # The open list passes axe, fits the phone and is easy to tap.
    page.evaluate(AXE_SOURCE)
    assert page.evaluate(AXE_JS, AXE_TAGS) == []
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]
    assert ben_option.bounding_box()["height"] >= 32
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("@CAR")

    box.fill("")
    box.press_sequentially("cc @b")
    listbox.get_by_role("option", name="Ben Carter").click()
    expect(box).to_have_value("cc @ben ")
    expect(box).to_be_focused()
    expect(listbox).to_be_hidden()
    assert not Message.objects.filter(case=case).exists()


def test_a_slow_answer_to_an_older_prefix_never_replaces_the_newer_list(
    case_with_ben, logged_in_page
):
    case, olive, _ben = case_with_ben
    page = logged_in_page(olive)
    box = open_live(page, case)
    held = []

    def hold_the_first_lookup(route):
        if route.request.url.endswith("?q=b"):
            held.append(route)
        else:
            route.continue_()

    page.route("**/discussion/mentionable/*", hold_the_first_lookup)
    with page.expect_request(lambda r: r.url.endswith("?q=b")):
        box.press_sequentially("@b")
    box.press_sequentially("en")
    options = page.get_by_role("listbox", name="People to mention").get_by_role(
        "option"
    )
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Ben Carter")

    stale = '[{"username": "bogus", "name": "Stale Answer", "specialty": "",'
    stale += ' "avatar_initials": "SA"}]'
    # The page may have given up on it already (aborted): that is fine too.
    with contextlib.suppress(PlaywrightError):
        held[0].fulfill(status=200, content_type="application/json", body=stale)
    # A round trip through the page lets a delivered answer be handled first.
    page.evaluate("() => new Promise((done) => setTimeout(done, 50))")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Ben Carter")
