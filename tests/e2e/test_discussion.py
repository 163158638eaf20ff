"""Two clinicians discuss a case live in two browsers: messages, typing,
presence, mentions, topics, edit and delete."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from realtime.models import Message
from realtime.services import message_post, thread_default
from workspace.models import AuditEvent, User


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


pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_clinicians_on_a_case(logged_in_page, make_clinician, make_case):
    olive = make_clinician("olive", first_name="Olive", last_name="Owner")
    colin = make_clinician("colin", first_name="Colin", last_name="Lab")
    case = make_case(
        olive,
        participants={colin: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
        title="Fever and a target rash",
    )
    off_the_browser_loop(
        lambda: message_post(
            case=case,
            thread=thread_default(case=case),
            by=olive,
            body="Rash started on the hands",
            client_id="seed-1",
        )
    )
    owner_page = logged_in_page(olive)
    colleague_page = logged_in_page(colin, viewport={"width": 390, "height": 844})
    for page in (owner_page, colleague_page):
        page.goto(f"/cases/{case.pk}/")
        expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    # On a phone the case page opens on its Overview tab.
    colleague_page.get_by_role("tab", name="Discussion").click()
    return case, owner_page, colleague_page


def test_two_clinicians_see_messages_typing_and_presence_live(
    two_clinicians_on_a_case,
):
    case, owner, colleague = two_clinicians_on_a_case
    owner_log = owner.locator("[data-messages]")
    colleague_log = colleague.locator("[data-messages]")

    # Presence: each sees both people on the case.
    expect(owner.locator("[data-presence]")).to_contain_text("Colin Lab")
    expect(owner.locator("[data-presence]")).to_contain_text("Olive Owner (you)")
    expect(colleague.locator("[data-presence]")).to_contain_text("Olive Owner")

    # Typing shows on the other side.
    box = colleague.get_by_label("Message to # General")
    box.press_sequentially("Target lesions on the palms")
    expect(owner.locator("[data-typing]")).to_have_text("Colin Lab is typing…")

    # Shift+Enter adds a line, Enter sends; both see it, the typist's stops.
    box.press("Shift+Enter")
    box.press_sequentially("and **mucosal** sparing")
    box.press("Enter")
    expect(box).to_have_value("")
    sent = owner_log.locator("li.msg").last
    expect(sent).to_contain_text("Target lesions on the palms")
    expect(sent.locator("strong", has_text="mucosal")).to_be_visible()
    expect(sent.locator(".msg__body br")).to_have_count(1)
    expect(colleague_log.locator("li.msg:not(.msg--pending)").last).to_contain_text(
        "Target lesions"
    )
    expect(owner.locator("[data-typing]")).to_have_text("")
    expect(owner.locator("[data-announcer]")).to_contain_text("Colin Lab: Target")

    # A mention is linked and notifies the colleague on their page.
    owner.get_by_label("Message to # General").fill("@colin erythema multiforme?")
    owner.get_by_role("button", name="Send").click()
    mention = colleague_log.locator(".mention", has_text="@colin")
    expect(mention).to_be_visible()
    expect(mention).to_have_class(re.compile(r"mention--me"))
    expect(colleague.locator("[data-toasts]")).to_contain_text(
        "Olive Owner mentioned you"
    )

    # The message rendered with the page can be edited in place too.
    seeded = Message.objects.get(client_id="seed-1")
    owner.locator(f"#m{seeded.pk}").get_by_role("link", name="Edit").click()
    editor = owner.locator(f"#m{seeded.pk}").get_by_label("Edit your message")
    expect(editor).to_have_value("Rash started on the hands")
    editor.fill("Rash started on the palms")
    editor.press("Enter")
    expect(colleague.locator(f"#m{seeded.pk}")).to_contain_text("on the palms")

    assert list(
        Message.objects.filter(case=case).order_by("seq").values_list("seq", flat=True)
    ) == [1, 2, 3]


def test_topics_edit_and_delete_reach_the_other_browser(two_clinicians_on_a_case):
    _case, owner, colleague = two_clinicians_on_a_case

    # A new topic appears for both; its creator switches to it.
    owner.get_by_text("+ New topic").click()
    owner.get_by_label("Topic title").fill("Imaging")
    owner.get_by_role("button", name="Add topic").click()
    expect(owner.locator("[data-thread-title]")).to_have_text("# Imaging")
    imaging_link = colleague.locator("[data-topic-list] a", has_text="Imaging")
    expect(imaging_link).to_be_visible()

    owner.get_by_label("Message to # Imaging").fill("CXR ordered")
    owner.get_by_label("Message to # Imaging").press("Enter")
    # The colleague is still in General: an unread badge, not the message.
    expect(imaging_link.locator("[data-unread]")).to_have_text("1")
    expect(colleague.locator("[data-messages]")).not_to_contain_text("CXR ordered")
    imaging_link.click()
    expect(colleague.locator("[data-thread-title]")).to_have_text("# Imaging")
    expect(
        colleague.locator("[data-messages] li.msg", has_text="CXR ordered")
    ).to_be_visible()
    message_id = Message.objects.get(body="CXR ordered").pk
    message = colleague.locator(f"#m{message_id}")

    # The author edits, then deletes; the colleague sees both live.
    own = owner.locator(f"#m{message_id}")
    own.get_by_role("link", name="Edit").click()
    editor = own.get_by_label("Edit your message")
    editor.fill("CXR and CT ordered")
    editor.press("Enter")
    expect(message).to_contain_text("CXR and CT ordered")
    expect(message).to_contain_text("(edited)")

    owner.once("dialog", lambda dialog: dialog.accept())
    own.get_by_role("button", name="Delete").click()
    expect(colleague.locator("[data-messages] li.msg--deleted")).to_have_text(
        re.compile("Message deleted")
    )
    stored = Message.objects.get(pk=message_id)
    assert stored.is_deleted and stored.body == ""


def item_html(page, message_id: int) -> str:
    """The item's markup, minus what a page adds around it for the moment
    (the unread divider is a sibling, so only the chip highlight remains)."""
    return page.locator(f"#m{message_id}").evaluate(
        """li => {
          const copy = li.cloneNode(true);
          copy.querySelectorAll(".msg__anchor--current").forEach(function (a) {
            a.classList.remove("msg__anchor--current");
          });
          return copy.outerHTML;
        }"""
    )


def test_a_live_message_has_the_markup_it_has_after_a_reload_and_own_controls(
    two_clinicians_on_a_case,
):
    case, owner, colleague = two_clinicians_on_a_case
    box = owner.get_by_label("Message to # General")
    box.fill("@colin is this **erythema** multiforme?")
    box.press("Enter")
    mention = colleague.locator("[data-messages] .mention", has_text="@colin")
    expect(mention).to_have_class(re.compile(r"mention--me"))
    message_id = Message.objects.get(case=case, body__startswith="@colin").pk
    own = owner.locator(f"#m{message_id}")
    theirs = colleague.locator(f"#m{message_id}")
    expect(own).to_contain_text("erythema")

    # Edit and Delete are in every copy, shown only on the author's.
    expect(own.get_by_role("link", name="Edit")).to_be_visible()
    expect(own.get_by_role("button", name="Delete")).to_be_visible()
    expect(theirs.locator(".msg__actions")).to_be_hidden()
    expect(theirs.get_by_role("link", name="Edit")).to_have_count(0)
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)

    live = {
        "owner": item_html(owner, message_id),
        "colleague": item_html(colleague, message_id),
    }
    for name, page in (("owner", owner), ("colleague", colleague)):
        page.reload()
        expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
        expect(page.locator(f"#m{message_id} .msg__time")).not_to_be_empty()
        assert item_html(page, message_id) == live[name], name
    assert "msg--mine" in live["owner"] and "msg--mine" not in live["colleague"]
    assert "mention--me" in live["colleague"] and "mention--me" not in live["owner"]


def test_without_javascript_only_ones_own_messages_offer_edit_and_delete(
    two_clinicians_on_a_case, logged_in_page
):
    case, _owner, _colleague = two_clinicians_on_a_case
    seeded = Message.objects.select_related("author").get(client_id="seed-1")
    colin = User.objects.get(username="colin")
    # The reader first: the author's pass deletes the message.
    for user, shown in ((colin, False), (seeded.author, True)):
        page = logged_in_page(user, java_script_enabled=False)
        page.goto(f"/cases/{case.pk}/")
        item = page.locator(f"#m{seeded.pk}")
        expect(item).to_contain_text("Rash started on the hands")
        if shown:
            expect(item.get_by_role("link", name="Edit")).to_be_visible()
            page.once("dialog", lambda dialog: dialog.accept())
            item.get_by_role("button", name="Delete").click()
            expect(page.locator(f"#m{seeded.pk}")).to_contain_text("Message deleted")
        else:
            expect(item.get_by_role("link", name="Edit")).to_have_count(0)
            expect(item.get_by_role("button", name="Delete")).to_have_count(0)


# Lets the test cut a page's sockets and keep it offline for a while: new
# sockets go to a path with no route (the server refuses them) until
# ``__offline`` is cleared, so the page's own reconnect logic runs for real.
CONTROLLABLE_SOCKETS = """
(() => {
  const Real = window.WebSocket;
  window.__offline = false;
  window.__sockets = [];
  function Controlled(url, protocols) {
    const target = window.__offline ? url.replace("/ws/", "/ws-offline/") : url;
    const socket = protocols === undefined ? new Real(target) : new Real(target, protocols);
    window.__sockets.push(socket);
    return socket;
  }
  Controlled.prototype = Real.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { Controlled[k] = Real[k]; });
  window.WebSocket = Controlled;
})();
"""


def test_a_dropped_page_catches_up_and_sends_its_queue_exactly_once(
    logged_in_page, make_clinician, make_case
):
    olive = make_clinician("olive", first_name="Olive", last_name="Owner")
    colin = make_clinician("colin", first_name="Colin", last_name="Lab")
    case = make_case(
        olive,
        participants={colin: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
    )
    owner = logged_in_page(olive)
    colleague = logged_in_page(colin)
    colleague.add_init_script(CONTROLLABLE_SOCKETS)
    for page in (owner, colleague):
        page.goto(f"/cases/{case.pk}/")
        expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    owner_box = owner.get_by_label("Message to # General")
    owner_box.fill("Before the drop")
    owner_box.press("Enter")
    expect(colleague.locator("[data-messages]")).to_contain_text("Before the drop")

    # The colleague's network drops; the conversation goes on without them.
    colleague.evaluate(
        """() => { window.__offline = true;
        window.__sockets.filter((s) => s.url.includes('/ws/cases/')).forEach((s) => s.close()); }"""
    )
    expect(colleague.locator("[data-discussion] [data-status]")).to_contain_text(
        "Reconnecting"
    )
    for text in ("Missed one", "Missed two"):
        owner_box.fill(text)
        owner_box.press("Enter")
    box = colleague.get_by_label("Message to # General")
    box.fill("Typed while offline")
    box.press("Enter")
    expect(colleague.locator("li.msg--pending")).to_contain_text("Typed while offline")

    # Back online: the page resyncs through history and sends its queue.
    colleague.evaluate("() => { window.__offline = false; }")
    expect(colleague.locator("[data-discussion] [data-status]")).to_have_text(
        "Live", timeout=20000
    )
    log = colleague.locator("[data-messages]")
    expect(log.locator("li.msg", has_text="Typed while offline")).not_to_have_class(
        re.compile("msg--pending")
    )
    expect(owner.locator("[data-messages]")).to_contain_text("Typed while offline")
    texts = [t.strip() for t in log.locator("li.msg .msg__body").all_inner_texts()]
    assert texts == [
        "Before the drop",
        "Missed one",
        "Missed two",
        "Typed while offline",
    ]
    assert list(
        Message.objects.filter(case=case).order_by("seq").values_list("body", flat=True)
    ) == ["Before the drop", "Missed one", "Missed two", "Typed while offline"]

    # Coming back later: an unread divider marks where the news starts.
    colleague.goto("/")
    owner_box.fill("While you were away")
    owner_box.press("Enter")
    expect(owner.locator("[data-messages]")).to_contain_text("While you were away")
    colleague.goto(f"/cases/{case.pk}/")
    divider = colleague.locator("[data-messages] .discussion__divider")
    expect(divider).to_have_count(1)
    expect(divider.locator("xpath=following-sibling::li[1]")).to_contain_text(
        "While you were away"
    )


PHI_BODY = "Mr John Smith, DOB 12/03/1961, phone 020 7946 0958"


def test_identifiers_are_held_in_the_composer_until_dismissed_or_edited(
    two_clinicians_on_a_case,
):
    case, owner, colleague = two_clinicians_on_a_case
    box = owner.get_by_label("Message to # General")
    colleague_log = colleague.locator("[data-messages]")

    # Sent with identifiers: held, shown inline, nothing reaches anyone.
    box.fill(PHI_BODY)
    box.press("Enter")
    panel = owner.locator("[data-composer-phi]")
    expect(panel.get_by_role("alert").first).to_contain_text(
        "3 possible identifiers found"
    )
    marks = panel.locator(".phi-findings__preview mark")
    expect(marks).to_have_text(["John Smith", "12/03/1961", "020 7946 0958"])
    expect(panel.locator(".phi-item")).to_have_count(3)
    expect(panel.locator(".phi-item").first).to_contain_text("person's name")
    expect(box).to_have_value(PHI_BODY)
    expect(owner.locator("[data-messages] li.msg--pending")).to_have_count(0)

    # "Send anyway" first asks for every item to be marked.
    panel.get_by_role("button", name="Send anyway").click()
    expect(panel.get_by_text("Mark each item as not identifying first")).to_be_visible()
    first_box = panel.get_by_label(re.compile("Not identifying: keep “John Smith”"))
    expect(first_box).to_be_focused()
    # Keyboard: Space ticks the focused box, the rest by label.
    first_box.press("Space")
    for text in ("12/03/1961", "020 7946 0958"):
        panel.get_by_label(re.compile(f"Not identifying: keep “{text}”")).check()
    expect(marks.nth(0)).to_have_class(re.compile("phi-mark--dismissed"))
    panel.get_by_role("button", name="Send anyway").click()

    expect(colleague_log.locator("li.msg").last).to_contain_text("DOB 12/03/1961")
    expect(panel).to_be_hidden()
    expect(box).to_have_value("")
    assert Message.objects.filter(case=case, body=PHI_BODY).count() == 1
    assert AuditEvent.objects.filter(verb="phi.dismiss").count() == 1

    # The other way out: "Edit" selects the finding; fixing it sends normally.
    box.fill("Seen by Mr John Smith today")
    box.press("Enter")
    expect(panel.locator(".phi-item")).to_have_count(1)
    panel.get_by_role("button", name="Edit “John Smith”").click()
    expect(box).to_be_focused()
    assert (
        owner.evaluate(
            "() => { const t = document.activeElement;"
            " return t.value.slice(t.selectionStart, t.selectionEnd); }"
        )
        == "John Smith"
    )
    box.press("Backspace")
    box.press_sequentially("the registrar")
    box.press("Enter")
    expect(colleague_log.locator("li.msg").last).to_contain_text(
        "Seen by Mr the registrar today"
    )
    expect(panel).to_be_hidden()

    # A topic title is held the same way, then added once marked.
    owner.get_by_text("+ New topic").click()
    owner.get_by_label("Topic title").fill("Mr John Smith follow-up")
    owner.get_by_role("button", name="Add topic").click()
    topic_panel = owner.locator("[data-topic-phi]")
    expect(topic_panel.locator(".phi-findings__preview mark")).to_have_text(
        ["John Smith"]
    )
    topic_panel.get_by_label(re.compile("Not identifying")).check()
    topic_panel.get_by_role("button", name="Add anyway").click()
    expect(
        colleague.locator("[data-topic-list] a", has_text="Mr John Smith follow-up")
    ).to_be_visible()
    expect(owner.locator("[data-thread-title]")).to_have_text(
        "# Mr John Smith follow-up"
    )

    # An edit is held in its editor until marked.
    seeded = Message.objects.get(client_id="seed-1")
    owner.locator("[data-topic-list] a", has_text="General").click()
    own = owner.locator(f"#m{seeded.pk}")
    own.get_by_role("link", name="Edit").click()
    editor = own.get_by_label("Edit your message")
    editor.fill("Rash started after seeing Mr John Smith")
    editor.press("Enter")
    held = own.locator(".phi-findings")
    expect(held.locator(".phi-findings__preview mark")).to_have_text(["John Smith"])
    expect(own.get_by_label("Edit your message")).to_have_value(
        "Rash started after seeing Mr John Smith"
    )
    held.get_by_label(re.compile("Not identifying")).check()
    held.get_by_role("button", name="Save anyway").click()
    expect(colleague.locator(f"#m{seeded.pk}")).to_contain_text("seeing Mr John Smith")
    assert AuditEvent.objects.filter(verb="phi.dismiss").count() == 3


COUNT_ERRORS = """
(() => {
  window.__errors = [];
  document.addEventListener("consilium:case-frame", (e) => {
    if (e.detail.type === "error") window.__errors.push(e.detail.code);
  });
})();
"""


def test_a_held_message_is_not_resent_by_a_reconnect(
    logged_in_page, make_clinician, make_case
):
    olive = make_clinician("olive", first_name="Olive", last_name="Owner")
    case = make_case(olive, status=Case.Status.PUBLISHED)
    page = logged_in_page(olive)
    page.add_init_script(CONTROLLABLE_SOCKETS)
    page.add_init_script(COUNT_ERRORS)
    page.goto(f"/cases/{case.pk}/")
    status = page.locator("[data-discussion] [data-status]")
    expect(status).to_have_text("Live")
    box = page.get_by_label("Message to # General")
    box.fill(PHI_BODY)
    box.press("Enter")
    expect(page.locator("[data-composer-phi] .phi-item")).to_have_count(3)

    # The socket drops and comes back: the held message is not in the queue.
    page.evaluate(
        """() => window.__sockets.filter((s) => s.url.includes('/ws/cases/'))
        .forEach((s) => s.close())"""
    )
    expect(status).to_contain_text("Reconnecting")
    expect(status).to_have_text("Live", timeout=20000)
    # Frames are answered in order: had the queue resent the held message,
    # its refusal would come before this message's acknowledgement.
    box.fill("Plain note after the reconnect")
    box.press("Enter")
    log = page.locator("[data-messages]")
    expect(
        log.locator("li.msg:not(.msg--pending)", has_text="Plain note")
    ).to_be_visible()
    assert page.evaluate("() => window.__errors") == ["phi_found"]
    assert list(Message.objects.filter(case=case).values_list("body", flat=True)) == [
        "Plain note after the reconnect"
    ]
