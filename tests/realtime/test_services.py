"""Discussion services: what each action writes and the event it sends."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from cases.models import Case
from cases.phi import finding_key, scan_fields
from realtime.frames import message_html
from realtime.models import Message, Thread
from realtime.services import (
    BadRequest,
    BodyTooLong,
    NotFound,
    PHIFound,
    RateLimited,
    message_delete,
    message_edit,
    message_post,
    thread_create,
    thread_default,
)
from workspace.models import AuditEvent, Notification
from workspace.services import PermissionDenied


def dismiss_all(body: str, field: str = "body") -> list[str]:
    return [finding_key(f) for f in scan_fields({field: body})]


@pytest.fixture
def general(discussion):
    return thread_default(case=discussion.case)


def payloads(callbacks) -> list[dict]:
    """Run captured on-commit callbacks with the layer send recorded."""
    sent = []
    from workspace import events

    original = events.send_now
    events.send_now = lambda group, payload: sent.append((group, payload))
    try:
        for callback in callbacks:
            callback()
    finally:
        events.send_now = original
    return sent


def test_post_stores_rendered_message_with_next_seq_and_broadcasts_on_commit(
    discussion, general, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        result = message_post(
            case=discussion.case,
            thread=general,
            by=discussion.colleague,
            body="Looks like *urticaria*",
            client_id="s-1",
        )

    message = result.message
    assert result.duplicate is False
    assert message.seq == 1 and message.thread == general
    assert message.body_html == "<p>Looks like <em>urticaria</em></p>"
    assert Case.objects.get(pk=discussion.case.pk).last_message_seq == 1
    [(group, payload)] = payloads(callbacks)
    assert group == f"case.{discussion.case.pk}"
    assert payload["type"] == "message.new"
    assert payload["message"]["id"] == message.pk
    assert payload["message"]["client_id"] == "s-1"


def test_duplicate_client_id_returns_stored_message_and_sends_nothing(
    discussion, general, django_capture_on_commit_callbacks
):
    first = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="a",
        client_id="d",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        again = message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body="a",
            client_id="d",
        )

    assert again.duplicate is True
    assert again.message.pk == first.message.pk
    assert callbacks == []
    assert Case.objects.get(pk=discussion.case.pk).last_message_seq == 1


def test_same_client_id_from_different_authors_are_different_messages(
    discussion, general
):
    a = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="a",
        client_id="x",
    )
    b = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.colleague,
        body="b",
        client_id="x",
    )
    assert a.message.pk != b.message.pk
    assert [a.message.seq, b.message.seq] == [1, 2]


def test_rolled_back_post_broadcasts_nothing_and_frees_the_seq(
    discussion, general, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body="never",
            client_id="rb",
        )
        raise RuntimeError("the surrounding action failed")

    assert callbacks == []
    assert not Message.objects.exists()
    retry = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="x",
        client_id="rb",
    )
    assert retry.message.seq == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_consecutive_seqs_and_one_copy_per_client_id(
    discussion,
):
    """Real threads, real connections: the case row lock serialises them."""
    thread = thread_default(case=discussion.case)
    results, errors = [], []

    def worker(user, n):
        try:
            for i in range(4):
                # Each message is sent twice, as a retrying client would.
                for _ in range(2):
                    results.append(
                        message_post(
                            case=discussion.case,
                            thread=thread,
                            by=user,
                            body=f"{n}-{i}",
                            client_id=f"cc-{i}",
                        )
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [
        threading.Thread(target=worker, args=(discussion.owner, 1)),
        threading.Thread(target=worker, args=(discussion.colleague, 2)),
        threading.Thread(target=worker, args=(discussion.owner, 1)),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)

    assert errors == []
    seqs = sorted(Message.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 9))
    assert Case.objects.get(pk=discussion.case.pk).last_message_seq == 8
    assert sum(not r.duplicate for r in results) == 8
    by_order = list(Message.objects.order_by("id").values_list("seq", flat=True))
    assert by_order == seqs  # ids and seqs agree within the case


def test_body_limits(discussion, general):
    def post(body, client_id):
        return message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=body,
            client_id=client_id,
        )

    with pytest.raises(BodyTooLong):
        post("x" * 10_001, "l1")
    with pytest.raises(BadRequest):
        post(" \n\t ", "l2")
    with pytest.raises(BadRequest):
        post("ok", "")
    with pytest.raises(BadRequest):
        post("ok", "c" * 65)
    assert post("x" * 10_000, "l3").duplicate is False


def test_viewers_and_outsiders_cannot_post(discussion, general):
    for user in (discussion.viewer, discussion.outsider):
        with pytest.raises(PermissionDenied):
            message_post(
                case=discussion.case, thread=general, by=user, body="hi", client_id="p"
            )
    assert not Message.objects.exists()


def test_post_to_a_topic_of_another_case_is_not_found(discussion, make_case):
    other = thread_default(case=make_case(discussion.owner))
    with pytest.raises(NotFound):
        message_post(
            case=discussion.case,
            thread=other,
            by=discussion.owner,
            body="x",
            client_id="n",
        )


def test_rate_limit_refuses_the_send_over_the_limit(discussion, general, settings):
    settings.MESSAGE_RATE_LIMIT = 3
    settings.MESSAGE_RATE_WINDOW_SECONDS = 60
    for n in range(3):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body="x",
            client_id=f"r{n}",
        )
    with pytest.raises(RateLimited):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body="x",
            client_id="r3",
        )
    # Another user's budget is separate.
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.colleague,
        body="x",
        client_id="r3",
    )
    assert Message.objects.count() == 4


# --- mentions ----------------------------------------------------------------------------


def test_mention_links_and_notifies_people_who_can_see_the_case(
    discussion, general, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body="@colin and @vera please look; @otto cannot see this, @nobody exists",
            client_id="m1",
        ).message

    assert set(message.mentions.all()) == {discussion.colleague, discussion.viewer}
    assert (
        f'<span class="mention" data-user-id="{discussion.colleague.pk}">@colin</span>'
        in message.body_html
    )
    assert (
        "@otto" in message.body_html
        and 'data-user-id="' + str(discussion.outsider.pk) not in message.body_html
    )
    notes = Notification.objects.filter(kind=Notification.Kind.MENTION)
    assert {n.user for n in notes} == {discussion.colleague, discussion.viewer}
    note = notes.get(user=discussion.colleague)
    assert note.title == "Olive Owner mentioned you in “Rash after new medication”"
    assert note.url.endswith(f"#m{message.pk}")
    assert note.data == {
        "case": discussion.case.pk,
        "thread": general.pk,
        "message": message.pk,
    }
    sent = payloads(callbacks)
    pushed = {group for group, payload in sent if payload["type"] == "notification"}
    assert pushed == {f"user.{discussion.colleague.pk}", f"user.{discussion.viewer.pk}"}


def test_mentions_in_code_or_of_oneself_do_not_notify(discussion, general):
    body = "`@colin` in code, @olive is me, mail colin@example.org"
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body=body,
        client_id="m2",
        # The address is flagged by the PHI gate; the author lets it by.
        phi_dismissed=dismiss_all(body),
    )
    assert not Notification.objects.exists()


def test_edit_notifies_only_people_newly_mentioned(discussion, general):
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="@colin",
        client_id="m3",
    ).message
    message_edit(message=message, by=discussion.owner, body="@colin and @vera")

    assert Notification.objects.filter(user=discussion.colleague).count() == 1
    assert Notification.objects.filter(user=discussion.viewer).count() == 1


# --- edit and delete --------------------------------------------------------------------------


def test_edit_rerenders_stamps_audits_and_broadcasts(
    discussion, general, django_capture_on_commit_callbacks
):
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="old",
        client_id="e",
    ).message
    with django_capture_on_commit_callbacks() as callbacks:
        edited = message_edit(
            message=message.pk, by=discussion.owner, body="**new**", ip="10.0.0.9"
        )

    assert (
        edited.body == "**new**" and edited.body_html == "<p><strong>new</strong></p>"
    )
    assert edited.edited is not None
    event = AuditEvent.objects.get(verb="message.edit")
    assert (event.actor, event.case_id, event.ip) == (
        discussion.owner,
        discussion.case.pk,
        "10.0.0.9",
    )
    assert event.data["previous_length"] == 3
    [(_group, payload)] = payloads(callbacks)
    assert payload["type"] == "message.updated"
    assert payload["message"]["body_html"] == "<p><strong>new</strong></p>"


def test_delete_tombstones_audits_and_broadcasts(
    discussion, general, django_capture_on_commit_callbacks
):
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="@colin oops",
        client_id="x",
    ).message
    with django_capture_on_commit_callbacks() as callbacks:
        message_delete(message=message, by=discussion.owner)

    message.refresh_from_db()
    assert message.is_deleted and message.body == "" and message.body_html == ""
    assert message.seq == 1  # history keeps no holes
    assert not message.mentions.exists()
    assert AuditEvent.objects.filter(
        verb="message.delete", case_id=discussion.case.pk
    ).exists()
    [(_group, payload)] = payloads(callbacks)
    assert payload == {
        "type": "message.deleted",
        "id": message.pk,
        "thread": general.pk,
        "html": message_html(message),
    }
    assert "Message deleted" in payload["html"] and "oops" not in payload["html"]
    with pytest.raises(NotFound):
        message_edit(message=message, by=discussion.owner, body="resurrect")


def test_only_the_author_edits_or_deletes(discussion, general):
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="mine",
        client_id="o",
    ).message
    with pytest.raises(PermissionDenied):
        message_edit(message=message, by=discussion.colleague, body="theirs")
    with pytest.raises(PermissionDenied):
        message_delete(message=message, by=discussion.colleague)
    assert not AuditEvent.objects.filter(verb__startswith="message.").exists()


# --- topics ----------------------------------------------------------------------------------


def test_default_topic_is_created_once(discussion):
    first = thread_default(case=discussion.case)
    second = thread_default(case=discussion.case)
    assert first == second and first.title == "General" and first.is_default
    assert Thread.objects.filter(case=discussion.case).count() == 1


def test_thread_create_needs_a_unique_title_and_comment_rights(
    discussion, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        thread = thread_create(
            case=discussion.case, by=discussion.colleague, title="Labs"
        )

    with pytest.raises(BadRequest):
        thread_create(case=discussion.case, by=discussion.owner, title="  LABS ")
    with pytest.raises(BadRequest):
        thread_create(case=discussion.case, by=discussion.owner, title="general")
    with pytest.raises(BodyTooLong):
        thread_create(case=discussion.case, by=discussion.owner, title="x" * 81)
    with pytest.raises(PermissionDenied):
        thread_create(case=discussion.case, by=discussion.viewer, title="Mine")
    titles = list(
        Thread.objects.filter(case=discussion.case).values_list("title", flat=True)
    )
    assert titles == ["General", "Labs"]
    [(_group, payload)] = payloads(callbacks)
    assert payload["type"] == "thread.new" and payload["thread"]["id"] == thread.pk
    assert AuditEvent.objects.filter(verb="thread.create").count() == 1


def test_message_history_selector_pages_in_both_directions(discussion, general):
    from realtime.selectors import message_history

    ids = [
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=str(n),
            client_id=f"p{n}",
        ).message.pk
        for n in range(7)
    ]

    latest = message_history(case=discussion.case, thread=general, limit=3)
    middle = message_history(
        case=discussion.case, thread=general, after=ids[1], before=ids[5], limit=2
    )
    everything = message_history(case=discussion.case, limit=100)

    assert [m.pk for m in latest.messages] == ids[4:] and latest.has_more
    assert [m.pk for m in middle.messages] == ids[3:5] and middle.has_more
    assert [m.pk for m in everything.messages] == ids and not everything.has_more


# --- the PHI gate ------------------------------------------------------------------------------

PHI_BODY = "Mr John Smith, DOB 12/03/1961, phone 020 7946 0958"


def test_post_with_phi_stores_nothing_takes_no_seq_and_leaves_the_client_id_free(
    discussion, general, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(PHIFound) as refused,
    ):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=PHI_BODY,
            client_id="p-1",
        )

    assert [f["kind"] for f in refused.value.payload()] == ["name", "date", "phone"]
    assert [f["key"] for f in refused.value.payload()] == dismiss_all(PHI_BODY)
    assert not Message.objects.exists() and payloads(callbacks) == []
    discussion.case.refresh_from_db()
    assert discussion.case.last_message_seq == 0
    assert not AuditEvent.objects.filter(verb="phi.dismiss").exists()

    with django_capture_on_commit_callbacks() as callbacks:
        result = message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=PHI_BODY,
            client_id="p-1",
            phi_dismissed=dismiss_all(PHI_BODY),
            ip="10.1.2.3",
        )

    assert result.duplicate is False and result.message.seq == 1
    assert [p["type"] for _g, p in payloads(callbacks)] == ["message.new"]
    event = AuditEvent.objects.get(verb="phi.dismiss")
    assert event.actor == discussion.owner and event.case_id == discussion.case.pk
    assert event.data["surface"] == "message.send"
    assert event.data["keys"] == sorted(dismiss_all(PHI_BODY))
    assert event.data["kinds"] == ["date", "name", "phone"]
    assert "John" not in str(event.data)  # the audit holds keys, never the text


def test_a_partial_dismissal_still_refuses_the_rest(discussion, general):
    keys = dismiss_all(PHI_BODY)
    with pytest.raises(PHIFound) as refused:
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=PHI_BODY,
            client_id="p-2",
            phi_dismissed=keys[:2],
        )
    assert [f["key"] for f in refused.value.payload()] == keys[2:]
    assert not Message.objects.exists()


def test_a_repeat_of_a_stored_client_id_is_not_scanned_again(discussion, general):
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body=PHI_BODY,
        client_id="p-3",
        phi_dismissed=dismiss_all(PHI_BODY),
    )
    # A reconnecting client resends without the dismissals: the stored copy.
    again = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body=PHI_BODY,
        client_id="p-3",
    )
    assert again.duplicate is True
    assert AuditEvent.objects.filter(verb="phi.dismiss").count() == 1


def test_phi_dismissed_must_be_a_list_of_strings(discussion, general):
    for bad in ("abc", [1, 2], {"k": 1}, ["x" * 200]):
        with pytest.raises(BadRequest):
            message_post(
                case=discussion.case,
                thread=general,
                by=discussion.owner,
                body="fine",
                client_id="p-4",
                phi_dismissed=bad,
            )
    assert not Message.objects.exists()


def test_edit_with_phi_changes_nothing_until_dismissed(
    discussion, general, django_capture_on_commit_callbacks
):
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="Rash resolved",
        client_id="p-5",
    ).message

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(PHIFound) as refused,
    ):
        message_edit(message=message, by=discussion.owner, body=PHI_BODY)
    message.refresh_from_db()
    assert message.body == "Rash resolved" and message.edited is None
    assert payloads(callbacks) == []
    assert not AuditEvent.objects.filter(verb="message.edit").exists()
    assert len(refused.value.findings) == 3

    message_edit(
        message=message,
        by=discussion.owner,
        body=PHI_BODY,
        phi_dismissed=dismiss_all(PHI_BODY),
    )
    message.refresh_from_db()
    assert message.body == PHI_BODY
    event = AuditEvent.objects.get(verb="phi.dismiss")
    assert event.data["surface"] == "message.edit"
    assert event.target_id == str(message.pk)


def test_topic_titles_pass_the_phi_gate(discussion):
    title = "Mr John Smith follow-up"
    with pytest.raises(PHIFound) as refused:
        thread_create(case=discussion.case, by=discussion.owner, title=title)
    assert [f["field"] for f in refused.value.payload()] == ["title"]
    assert not Thread.objects.filter(title=title).exists()

    thread = thread_create(
        case=discussion.case,
        by=discussion.owner,
        title=title,
        phi_dismissed=dismiss_all(title, "title"),
    )
    assert thread.title == title
    event = AuditEvent.objects.get(verb="phi.dismiss")
    assert event.data["surface"] == "thread.create"


# --- rate limits on the other writes -----------------------------------------------------------


def test_edits_deletes_and_topics_are_rate_limited_with_a_retry_hint(
    discussion, general, settings
):
    settings.MESSAGE_CHANGE_RATE_LIMIT = 2
    settings.MESSAGE_CHANGE_RATE_WINDOW_SECONDS = 60
    settings.TOPIC_RATE_LIMIT = 1
    settings.TOPIC_RATE_WINDOW_SECONDS = 60
    messages = [
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=f"m{n}",
            client_id=f"rl-{n}",
        ).message
        for n in range(3)
    ]
    message_edit(message=messages[0], by=discussion.owner, body="edited")
    message_delete(message=messages[1], by=discussion.owner)
    with pytest.raises(RateLimited) as edit_refused:
        message_edit(message=messages[2], by=discussion.owner, body="again")
    with pytest.raises(RateLimited):
        message_delete(message=messages[2], by=discussion.owner)
    thread_create(case=discussion.case, by=discussion.owner, title="Imaging")
    with pytest.raises(RateLimited) as topic_refused:
        thread_create(case=discussion.case, by=discussion.owner, title="Bloods")

    assert 1 <= edit_refused.value.retry_after <= 60
    assert 1 <= topic_refused.value.retry_after <= 60
    assert "try again in" in str(topic_refused.value)
    messages[2].refresh_from_db()
    assert messages[2].body == "m2" and messages[2].deleted is None
    assert not Thread.objects.filter(title="Bloods").exists()
    # Budgets are per user and per kind: the colleague and new messages go on.
    thread_create(case=discussion.case, by=discussion.colleague, title="Bloods")
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="still posting",
        client_id="rl-9",
    )
