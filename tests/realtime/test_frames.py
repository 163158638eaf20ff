"""A message's markup has one source, realtime/_message.html: the page
includes it and every message frame carries its output as ``html``, rendered
once per broadcast whoever and however many are listening."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

from realtime.frames import MESSAGE_TEMPLATE, message_frame, message_html
from realtime.selectors import message_history
from realtime.services import message_post, thread_default
from tests.fixtures.ws import frame_of, frames_of, join, send
from workspace import events


def post_and_capture(discussion, body: str, django_capture_on_commit_callbacks):
    """Post as the owner; return the message and the payload broadcast."""
    sent = []
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_post(
            case=discussion.case,
            thread=thread_default(case=discussion.case),
            by=discussion.owner,
            body=body,
            client_id="one-source",
        ).message
    original = events.send_now
    events.send_now = lambda group, payload: sent.append(payload)
    try:
        for callback in callbacks:
            callback()
    finally:
        events.send_now = original
    [payload] = [p for p in sent if p["type"] == "message.new"]
    return message, payload


@pytest.mark.django_db
def test_frame_html_is_the_item_every_readers_page_renders(
    discussion, client_for, django_capture_on_commit_callbacks
):
    message, payload = post_and_capture(
        discussion, "Patch test **negative**", django_capture_on_commit_callbacks
    )
    html = payload["message"]["html"]
    url = reverse("discussion_thread", args=[discussion.case.pk, message.thread_id])

    for reader in (discussion.owner, discussion.colleague, discussion.viewer):
        page = client_for(reader).get(url).content.decode()
        assert html in page, reader.username

    assert html.startswith(f'<li class="msg" id="m{message.pk}"')
    assert "<strong>negative</strong>" in html


@pytest.mark.django_db
def test_frame_html_is_sanitised_links_mentions_and_holds_no_secret(
    discussion, django_capture_on_commit_callbacks
):
    _message, payload = post_and_capture(
        discussion,
        '<script>alert("x")</script> @colin <img src=x onerror=alert(1)> look',
        django_capture_on_commit_callbacks,
    )
    html = payload["message"]["html"]

    assert "<script" not in html and "<img" not in html
    assert "<p>&lt;script&gt;alert" in html  # shown as typed, inert
    assert (
        f'<span class="mention" data-user-id="{discussion.colleague.pk}">@colin</span>'
        in html
    )
    # Viewer-neutral: the author's controls are there, hidden, for everyone;
    # no CSRF token (Delete submits the panel's own form).
    assert '<div class="msg__actions" data-own hidden>' in html
    assert "csrfmiddlewaretoken" not in html
    assert f'form="discussion-delete-{discussion.case.pk}"' in html


@pytest.mark.django_db
def test_message_html_ignores_the_zone_active_where_it_is_rendered(
    discussion, django_capture_on_commit_callbacks
):
    message, _ = post_and_capture(
        discussion, "Seen at noon", django_capture_on_commit_callbacks
    )

    with timezone.override("Asia/Tokyo"):
        in_tokyo = message_html(message)

    assert in_tokyo == message_html(message)
    assert f'datetime="{message.created.isoformat()}"' in in_tokyo


live_sockets = [
    pytest.mark.django_db(
        transaction=True, available_apps=list(django_settings.INSTALLED_APPS)
    ),
    pytest.mark.usefixtures("close_db_threads"),
]


def on_live_sockets(test):
    for mark in reversed(live_sockets):
        test = mark(test)
    return test


@pytest.fixture
def message_renders():
    """How many times the message template is rendered (Django's test
    instrumentation sends ``template_rendered`` for every render)."""
    names: list[str] = []

    def record(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    yield lambda: names.count(MESSAGE_TEMPLATE)
    template_rendered.disconnect(record)


@on_live_sockets
async def test_a_broadcast_to_many_sockets_renders_the_template_once(
    discussion, message_renders
):
    owner, hello = await join(discussion.owner, discussion.case)
    readers = [owner] + [
        (await join(user, discussion.case))[0]
        for user in (discussion.colleague, discussion.viewer) * 3
    ]
    thread = hello["threads"][0]["id"]
    before = message_renders()

    await send(
        owner,
        {"type": "message.send", "thread": thread, "client_id": "fan", "body": "Hi"},
    )
    await frames_of(owner, "message.ack", "message.new")
    received = [(await frame_of(comm, "message.new")) for comm in readers[1:]]

    assert len(received) == 6
    assert {frame["message"]["html"] for frame in received} == {
        received[0]["message"]["html"]
    }
    assert message_renders() - before == 1
    for comm in readers:
        await comm.disconnect()


@on_live_sockets
async def test_history_replays_the_html_the_broadcasts_carried(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    await send(
        owner,
        {"type": "message.send", "thread": thread, "client_id": "h", "body": "First"},
    )
    new = (await frames_of(owner, "message.ack", "message.new"))["message.new"]
    await frame_of(colleague, "message.new")

    await send(colleague, {"type": "history", "after": 0})
    [replayed] = (await frame_of(colleague, "history"))["messages"]
    assert replayed["html"] == new["message"]["html"]

    await send(owner, {"type": "message.edit", "id": replayed["id"], "body": "Second"})
    updated = await frame_of(colleague, "message.updated")
    await send(colleague, {"type": "history", "after": 0})
    [replayed] = (await frame_of(colleague, "history"))["messages"]
    assert replayed["html"] == updated["message"]["html"]
    assert "(edited)" in replayed["html"] and "Second" in replayed["html"]
    await owner.disconnect()
    await colleague.disconnect()


@pytest.mark.django_db
def test_history_frames_render_html_without_a_query_per_message(
    discussion, django_assert_num_queries
):
    thread = thread_default(case=discussion.case)
    for n in range(5):
        message_post(
            case=discussion.case,
            thread=thread,
            by=discussion.colleague if n % 2 else discussion.owner,
            body=f"Note {n}",
            client_id=f"q-{n}",
        )
    page = message_history(case=discussion.case, thread=thread, limit=50)
    messages = list(page.messages)

    with django_assert_num_queries(0):
        frames = [message_frame(m) for m in messages]

    assert [f["html"].count("Note ") for f in frames] == [2] * 5  # body, data-body
