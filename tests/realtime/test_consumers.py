"""The case WebSocket against the protocol in DESIGN.md: every frame type,
every error, every refusal code, through the real ASGI stack."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings as django_settings

from cases.models import Case, CaseParticipant
from cases.phi import finding_key, scan_fields
from realtime.frames import message_html
from realtime.models import Message, Thread
from realtime.services import message_post, thread_default
from tests.fixtures.ws import (
    close_code,
    frame_of,
    frames_of,
    join,
    nothing_more,
    open_socket,
    send,
    settle,
)
from workspace.events import EVENT_TYPE, case_group
from workspace.models import AuditEvent

pytestmark = [
    pytest.mark.django_db(
        transaction=True, available_apps=list(django_settings.INSTALLED_APPS)
    ),
    pytest.mark.usefixtures("close_db_threads"),
]


def general(case) -> int:
    return thread_default(case=case).pk


async def post(comm, thread: int, body: str, client_id: str) -> dict[str, dict]:
    await send(
        comm,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": client_id,
            "body": body,
        },
    )
    return await frames_of(comm, "message.ack", "message.new")


async def owner_posted(discussion, body: str, client_id: str):
    """The owner's and a colleague's sockets on the case, its default thread,
    and the id of a message the owner posted there that the colleague saw."""
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    message_id = (await post(owner, thread, body, client_id))["message.ack"]["id"]
    await frame_of(colleague, "message.new")
    return owner, colleague, thread, message_id


# --- connecting ------------------------------------------------------------------------


async def test_anonymous_connection_is_closed_with_4401(discussion):
    comm = await open_socket(None, f"/ws/cases/{discussion.case.pk}/")
    assert await close_code(comm) == 4401


async def test_clinician_who_cannot_see_the_case_is_closed_with_4403(discussion):
    comm = await open_socket(discussion.outsider, f"/ws/cases/{discussion.case.pk}/")
    assert await close_code(comm) == 4403


async def test_patient_is_closed_with_4403(discussion, make_patient):
    patient = await sync_to_async(make_patient)("pia", clinician=discussion.owner)
    comm = await open_socket(patient, f"/ws/cases/{discussion.case.pk}/")
    assert await close_code(comm) == 4403


async def test_unknown_case_is_closed_with_4404(discussion):
    comm = await open_socket(discussion.owner, "/ws/cases/987654/")
    assert await close_code(comm) == 4404


async def test_connection_from_a_foreign_origin_is_refused(discussion):
    from channels.testing import WebsocketCommunicator

    from tests.fixtures.ws import application

    comm = WebsocketCommunicator(
        application(),
        f"/ws/cases/{discussion.case.pk}/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")],
    )
    connected, _ = await comm.connect(timeout=5)
    assert not connected


async def test_hello_describes_case_user_topics_presence_and_last_message(discussion):
    thread = await sync_to_async(general)(discussion.case)
    stored = await sync_to_async(message_post)(
        case=discussion.case,
        thread=thread,
        by=discussion.colleague,
        body="Earlier note",
        client_id="c-early",
    )

    comm, hello = await join(discussion.owner, discussion.case)

    assert hello["case"] == {
        "id": discussion.case.pk,
        "title": "Rash after new medication",
    }
    assert hello["user"] == {
        "id": discussion.owner.pk,
        "name": "Olive Owner",
        "can_comment": True,
    }
    assert hello["threads"] == [
        {
            "id": thread,
            "title": "General",
            "default": True,
            "created_by": None,
            "last_id": stored.message.pk,
            # A colleague's message the owner has not read yet.
            "unread": 1,
            "last_read": 0,
        }
    ]
    assert hello["presence"] == [{"id": discussion.owner.pk, "name": "Olive Owner"}]
    assert hello["last_id"] == stored.message.pk
    assert hello["last_seq"] == 1
    await comm.disconnect()


async def test_viewer_hello_says_they_cannot_comment(discussion):
    comm, hello = await join(discussion.viewer, discussion.case)
    assert hello["user"]["can_comment"] is False
    await comm.disconnect()


# --- messages ---------------------------------------------------------------------------


async def test_send_acks_the_sender_and_broadcasts_message_new_to_everyone(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]

    frames = await post(owner, thread, "Rash is **blanching**", "c-1")

    ack, new = frames["message.ack"], frames["message.new"]
    message = await Message.objects.aget(client_id="c-1")
    assert ack == {
        "type": "message.ack",
        "client_id": "c-1",
        "id": message.pk,
        "seq": 1,
        "duplicate": False,
    }
    assert new["message"] == {
        "id": message.pk,
        "seq": 1,
        "thread": thread,
        "author": {"id": discussion.owner.pk, "name": "Olive Owner"},
        "body_html": "<p>Rash is <strong>blanching</strong></p>",
        "body": "Rash is **blanching**",
        "created": message.created.isoformat(),
        "edited": None,
        "deleted": False,
        "client_id": "c-1",
        "anchor": None,
        "html": await sync_to_async(message_html)(message),
    }
    assert (await frame_of(colleague, "message.new")) == new
    await owner.disconnect()
    await colleague.disconnect()


async def test_duplicate_client_id_returns_stored_message_without_broadcast(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    first = await post(owner, thread, "Once", "c-dup")
    await frame_of(colleague, "message.new")

    await send(
        owner,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": "c-dup",
            "body": "Once",
        },
    )
    ack = await frame_of(owner, "message.ack")

    assert ack["duplicate"] is True
    assert ack["id"] == first["message.ack"]["id"]
    assert await nothing_more(owner)
    assert await nothing_more(colleague)
    assert await Message.objects.filter(author=discussion.owner).acount() == 1
    await owner.disconnect()
    await colleague.disconnect()


async def test_concurrent_duplicate_sends_store_one_message(discussion):
    tab1, hello = await join(discussion.owner, discussion.case)
    tab2, _ = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]
    frame = {
        "type": "message.send",
        "thread": thread,
        "client_id": "c-race",
        "body": "x",
    }

    await asyncio.gather(send(tab1, frame), send(tab2, frame))
    acks = [await frame_of(tab1, "message.ack"), await frame_of(tab2, "message.ack")]

    assert sorted(a["duplicate"] for a in acks) == [False, True]
    assert acks[0]["id"] == acks[1]["id"]
    assert await Message.objects.filter(client_id="c-race").acount() == 1
    await tab1.disconnect()
    await tab2.disconnect()


async def test_seq_is_consecutive_within_a_case_across_topics(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    general_id = hello["threads"][0]["id"]
    await send(owner, {"type": "thread.create", "title": "Imaging"})
    imaging = (await frame_of(owner, "thread.new"))["thread"]["id"]

    seqs = []
    for n, thread in enumerate([general_id, imaging, general_id, imaging]):
        frames = await post(owner, thread, f"note {n}", f"c-seq-{n}")
        seqs.append(frames["message.new"]["message"]["seq"])

    assert seqs == [1, 2, 3, 4]
    case = await Case.objects.aget(pk=discussion.case.pk)
    assert case.last_message_seq == 4
    await owner.disconnect()


async def test_edit_broadcasts_message_updated_and_writes_an_audit_event(discussion):
    owner, colleague, _thread, message_id = await owner_posted(
        discussion, "Temp 38.1", "c-e"
    )

    await send(owner, {"type": "message.edit", "id": message_id, "body": "Temp *38.9*"})

    updated = await frame_of(colleague, "message.updated")
    assert updated["message"]["id"] == message_id
    assert updated["message"]["body_html"] == "<p>Temp <em>38.9</em></p>"
    assert updated["message"]["edited"] is not None
    assert (await frame_of(owner, "message.updated")) == updated
    event = await AuditEvent.objects.aget(verb="message.edit")
    assert event.actor_id == discussion.owner.pk
    assert event.case_id == discussion.case.pk
    assert event.target_id == str(message_id)
    assert "Temp" not in str(event.data)  # a hash of the old text, not the text
    await owner.disconnect()
    await colleague.disconnect()


async def test_delete_leaves_a_tombstone_broadcasts_and_writes_an_audit_event(
    discussion,
):
    owner, colleague, thread, message_id = await owner_posted(
        discussion, "Wrong patient!", "c-d"
    )

    await send(owner, {"type": "message.delete", "id": message_id})

    deleted = await frame_of(colleague, "message.deleted")
    assert deleted["id"] == message_id
    await send(colleague, {"type": "history", "thread": thread})
    history = await frame_of(colleague, "history")
    [tombstone] = history["messages"]
    assert tombstone["id"] == message_id
    assert tombstone["deleted"] is True
    assert tombstone["body_html"] == "" and tombstone["body"] == ""
    assert await AuditEvent.objects.filter(verb="message.delete").acount() == 1
    await owner.disconnect()
    await colleague.disconnect()


async def test_only_the_author_may_edit_or_delete(discussion):
    owner, colleague, _thread, message_id = await owner_posted(
        discussion, "Mine", "c-mine"
    )

    await send(colleague, {"type": "message.edit", "id": message_id, "body": "Hacked"})
    edit_error = await frame_of(colleague, "error")
    await send(colleague, {"type": "message.delete", "id": message_id})
    delete_error = await frame_of(colleague, "error")

    # An edit's errors name the message it was about.
    assert edit_error["code"] == "forbidden" and edit_error["ref"] == message_id
    assert (
        delete_error["code"] == "forbidden" and delete_error["ref"] == "message.delete"
    )
    message = await Message.objects.aget(pk=message_id)
    assert message.body == "Mine" and message.deleted is None
    assert await nothing_more(owner)
    await owner.disconnect()
    await colleague.disconnect()


# --- history ---------------------------------------------------------------------------


@pytest.fixture
def five_messages(discussion):
    thread = general(discussion.case)
    ids = [
        message_post(
            case=discussion.case,
            thread=thread,
            by=discussion.colleague,
            body=f"m{n}",
            client_id=f"h-{n}",
        ).message.pk
        for n in range(5)
    ]
    return thread, ids


async def test_history_after_returns_newer_messages_oldest_first(
    discussion, five_messages
):
    thread, ids = five_messages
    comm, _ = await join(discussion.owner, discussion.case)

    await send(comm, {"type": "history", "thread": thread, "after": ids[1], "limit": 2})
    page = await frame_of(comm, "history")

    assert page["thread"] == thread
    assert [m["id"] for m in page["messages"]] == ids[2:4]
    assert page["has_more"] is True
    await send(comm, {"type": "history", "thread": thread, "after": ids[3], "limit": 2})
    rest = await frame_of(comm, "history")
    assert [m["id"] for m in rest["messages"]] == ids[4:]
    assert rest["has_more"] is False
    await comm.disconnect()


async def test_history_before_pages_back_with_has_more(discussion, five_messages):
    thread, ids = five_messages
    comm, _ = await join(discussion.owner, discussion.case)

    await send(comm, {"type": "history", "thread": thread, "limit": 2})
    latest = await frame_of(comm, "history")
    await send(
        comm, {"type": "history", "thread": thread, "before": ids[3], "limit": 3}
    )
    older = await frame_of(comm, "history")
    await send(comm, {"type": "history", "thread": thread, "before": ids[1]})
    oldest = await frame_of(comm, "history")

    assert [m["id"] for m in latest["messages"]] == ids[3:]
    assert latest["has_more"] is True
    assert [m["id"] for m in older["messages"]] == ids[0:3]
    assert older["has_more"] is False
    assert [m["id"] for m in oldest["messages"]] == ids[0:1]
    assert oldest["has_more"] is False
    await comm.disconnect()


async def test_history_without_a_thread_spans_every_topic(discussion, five_messages):
    _thread, ids = five_messages
    imaging = await sync_to_async(Thread.objects.create)(
        case=discussion.case, title="Imaging"
    )
    other = await sync_to_async(message_post)(
        case=discussion.case,
        thread=imaging,
        by=discussion.owner,
        body="CT tomorrow",
        client_id="h-img",
    )
    comm, _ = await join(discussion.colleague, discussion.case)

    await send(comm, {"type": "history", "after": ids[2]})
    page = await frame_of(comm, "history")

    assert page["thread"] is None
    assert [m["id"] for m in page["messages"]] == [*ids[3:], other.message.pk]
    assert [m["seq"] for m in page["messages"]] == [4, 5, 6]
    await comm.disconnect()


# --- typing, presence, ping, topics ---------------------------------------------------------


async def test_typing_reaches_others_not_the_typist_and_is_throttled(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]

    await send(colleague, {"type": "typing", "thread": thread})
    typing = await frame_of(owner, "typing")
    await send(colleague, {"type": "typing", "thread": thread})  # within 3 s

    assert typing == {
        "type": "typing",
        "user": {"id": discussion.colleague.pk, "name": "Colin Lab"},
        "thread": thread,
    }
    assert await nothing_more(owner)
    assert await nothing_more(colleague)
    await owner.disconnect()
    await colleague.disconnect()


async def test_presence_is_broadcast_on_join_and_leave(discussion):
    owner, _ = await join(discussion.owner, discussion.case)
    await frame_of(owner, "presence")  # its own join

    colleague, hello = await join(discussion.colleague, discussion.case)
    joined = await frame_of(owner, "presence")
    await colleague.disconnect()
    left = await frame_of(owner, "presence")

    both = [
        {"id": discussion.colleague.pk, "name": "Colin Lab"},
        {"id": discussion.owner.pk, "name": "Olive Owner"},
    ]
    assert hello["presence"] == both
    assert joined["users"] == both
    assert left["users"] == [{"id": discussion.owner.pk, "name": "Olive Owner"}]
    await owner.disconnect()


async def test_ping_gets_pong(discussion):
    comm, _ = await join(discussion.owner, discussion.case)
    await send(comm, {"type": "ping"})
    assert await frame_of(comm, "pong") == {"type": "pong"}
    await comm.disconnect()


async def test_thread_create_broadcasts_thread_new(discussion):
    owner, _ = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)

    await send(colleague, {"type": "thread.create", "title": "  Imaging   plan "})
    new = await frame_of(owner, "thread.new")

    thread = await Thread.objects.aget(case=discussion.case, title="Imaging plan")
    assert new["thread"] == {
        "id": thread.pk,
        "title": "Imaging plan",
        "default": False,
        "created_by": discussion.colleague.pk,
        "last_id": 0,
    }
    await send(owner, {"type": "thread.create", "title": "imaging PLAN"})
    error = await frame_of(owner, "error")
    assert error["code"] == "bad_request" and error["ref"] == "thread.create"
    await owner.disconnect()
    await colleague.disconnect()


# --- errors (the connection stays open after each) ---------------------------------------


async def assert_still_open(comm) -> None:
    await send(comm, {"type": "ping"})
    assert (await frame_of(comm, "pong")) == {"type": "pong"}


async def test_non_json_frame_gets_bad_json_error(discussion):
    comm, _ = await join(discussion.owner, discussion.case)
    await comm.send_to(text_data="{not json")
    error = await frame_of(comm, "error")
    assert error["code"] == "bad_json" and error["ref"] is None
    await comm.send_to(text_data="[1, 2]")
    assert (await frame_of(comm, "error"))["code"] == "bad_json"
    await comm.send_to(bytes_data=b"\x00\x01")
    assert (await frame_of(comm, "error"))["code"] == "bad_json"
    await assert_still_open(comm)
    await comm.disconnect()


async def test_unknown_type_gets_unknown_type_error(discussion):
    comm, _ = await join(discussion.owner, discussion.case)
    await send(comm, {"type": "message.explode"})
    error = await frame_of(comm, "error")
    assert error == {
        "type": "error",
        "code": "unknown_type",
        "detail": "Unknown frame type 'message.explode'.",
        "ref": "message.explode",
    }
    await send(comm, {"no": "type"})
    assert (await frame_of(comm, "error"))["code"] == "unknown_type"
    await assert_still_open(comm)
    await comm.disconnect()


BAD_FRAMES = [
    ({"type": "message.send", "client_id": "c-b1", "body": "no thread"}, "c-b1"),
    (
        {"type": "message.send", "thread": "1", "client_id": "c-b2", "body": "x"},
        "c-b2",
    ),
    ({"type": "message.send", "thread": 1, "body": "no client id"}, "message.send"),
    (
        {"type": "message.send", "thread": 1, "client_id": "x" * 65, "body": "x"},
        "message.send",
    ),
    ({"type": "message.send", "thread": 1, "client_id": "c-b3", "body": 5}, "c-b3"),
    (
        {"type": "message.send", "thread": 1, "client_id": "c-b4", "body": "   "},
        "c-b4",
    ),
    ({"type": "message.edit", "body": "no id"}, "message.edit"),
    ({"type": "message.edit", "id": True, "body": "x"}, "message.edit"),
    ({"type": "message.delete", "id": -3}, "message.delete"),
    ({"type": "history", "limit": 101}, "history"),
    ({"type": "history", "limit": 0}, "history"),
    ({"type": "history", "after": "yesterday"}, "history"),
    ({"type": "typing"}, "typing"),
    ({"type": "thread.create", "title": ""}, "thread.create"),
]


async def test_bad_fields_get_bad_request_errors_and_the_connection_stays_open(
    discussion,
):
    thread = await sync_to_async(general)(discussion.case)
    comm, _ = await join(discussion.owner, discussion.case)

    for frame, ref in BAD_FRAMES:
        if frame.get("thread") == 1:
            frame = {**frame, "thread": thread}
        await send(comm, frame)
        error = await frame_of(comm, "error")
        assert (error["code"], error["ref"]) == ("bad_request", ref), frame
        assert error["detail"]

    await assert_still_open(comm)
    assert await Message.objects.acount() == 0
    await comm.disconnect()


async def test_body_over_10000_characters_gets_too_long_error(discussion):
    comm, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]

    await send(
        comm,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": "c-long",
            "body": "a" * 10_001,
        },
    )
    error = await frame_of(comm, "error")
    await send(
        comm,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": "c-max",
            "body": "a" * 10_000,
        },
    )
    ack = await frame_of(comm, "message.ack")

    assert error["code"] == "too_long" and error["ref"] == "c-long"
    assert ack["duplicate"] is False
    await comm.disconnect()


async def test_sending_too_fast_gets_rate_limited(discussion, settings):
    settings.MESSAGE_RATE_LIMIT = 2
    settings.MESSAGE_RATE_WINDOW_SECONDS = 60
    comm, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]

    await post(comm, thread, "one", "c-r1")
    await post(comm, thread, "two", "c-r2")
    await send(
        comm,
        {"type": "message.send", "thread": thread, "client_id": "c-r3", "body": "3"},
    )
    error = await frame_of(comm, "error")
    # A retry of an already stored message is not a new send.
    await send(
        comm,
        {"type": "message.send", "thread": thread, "client_id": "c-r1", "body": "x"},
    )
    ack = await frame_of(comm, "message.ack")

    assert error["code"] == "rate_limited" and error["ref"] == "c-r3"
    assert 1 <= error["retry_after"] <= 60
    assert ack["duplicate"] is True
    assert await Message.objects.acount() == 2
    await assert_still_open(comm)
    await comm.disconnect()


async def test_viewer_cannot_send_or_type(discussion):
    comm, hello = await join(discussion.viewer, discussion.case)
    thread = hello["threads"][0]["id"]

    await send(
        comm,
        {"type": "message.send", "thread": thread, "client_id": "c-v", "body": "hi"},
    )
    send_error = await frame_of(comm, "error")
    await send(comm, {"type": "typing", "thread": thread})
    typing_error = await frame_of(comm, "error")

    assert send_error["code"] == "forbidden" and send_error["ref"] == "c-v"
    assert typing_error["code"] == "forbidden"
    assert await Message.objects.acount() == 0
    await assert_still_open(comm)
    await comm.disconnect()


async def test_things_outside_the_case_get_not_found(discussion, make_case):
    other_case = await sync_to_async(make_case)(discussion.owner, title="Other")
    other_thread = await sync_to_async(general)(other_case)
    foreign = await sync_to_async(message_post)(
        case=other_case,
        thread=other_thread,
        by=discussion.owner,
        body="x",
        client_id="o",
    )
    comm, _ = await join(discussion.owner, discussion.case)

    frames = [
        {
            "type": "message.send",
            "thread": other_thread,
            "client_id": "c-nf",
            "body": "x",
        },
        {"type": "message.edit", "id": foreign.message.pk, "body": "y"},
        {"type": "message.delete", "id": 999999},
        {"type": "history", "thread": other_thread},
        {"type": "typing", "thread": other_thread},
    ]
    codes = []
    for frame in frames:
        await send(comm, frame)
        codes.append((await frame_of(comm, "error"))["code"])

    assert codes == ["not_found"] * 5
    foreign_message = await Message.objects.aget(pk=foreign.message.pk)
    assert foreign_message.body == "x"
    await comm.disconnect()


# --- losing access --------------------------------------------------------------------------


def remove_participant(case, user) -> None:
    CaseParticipant.objects.filter(case=case, user=user).delete()


async def announce_access_change(case) -> None:
    """What the cases service sends when it changes participants or visibility."""
    await get_channel_layer().group_send(
        case_group(case),
        {"type": EVENT_TYPE, "payload": {"type": "case.access_changed"}},
    )


async def test_removed_participant_is_disconnected_at_once_and_receives_nothing(
    discussion,
):
    """``participant_remove`` announces ``case.updated``; access is re-checked."""
    from cases.services.cases import participant_remove

    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    await settle(owner)
    participant = await CaseParticipant.objects.select_related("case", "user").aget(
        case=discussion.case, user=discussion.colleague
    )

    await sync_to_async(participant_remove)(
        participant=participant, by=discussion.owner
    )
    assert await close_code(colleague) == 4403
    seen = await frames_of(owner, "case.updated", "presence")
    await post(owner, thread, "After removal", "c-after")

    assert seen["presence"]["users"] == [
        {"id": discussion.owner.pk, "name": "Olive Owner"}
    ]
    assert await colleague.receive_nothing(timeout=0.3)
    await owner.disconnect()


async def test_access_changed_event_forces_a_fresh_check(discussion):
    colleague, _ = await join(discussion.colleague, discussion.case)

    await sync_to_async(remove_participant)(discussion.case, discussion.colleague)
    await announce_access_change(discussion.case)

    assert await close_code(colleague) == 4403


def _consult_accepted(discussion, make_clinician, *, answer: bool = False):
    """A dermatologist accepts a consult on the private case (and answers it)."""
    from consults import services as consults

    derm = make_clinician("dora", specialties=["Dermatology"])
    consult = consults.consult_request(
        case=discussion.case,
        by=discussion.colleague,
        question="Drug eruption or viral exanthem?",
        assignee=derm,
    )
    consults.consult_accept(consult=consult, by=derm)
    if answer:
        consults.consult_answer(consult=consult, by=derm, impression="Drug eruption")
    return derm, consult


@pytest.mark.parametrize("step", ["close", "decline", "cancel"])
async def test_ending_a_consult_closes_the_consultants_socket_at_once(
    discussion, make_clinician, monkeypatch, step
):
    """Closing, declining or cancelling announces the access change on commit:
    the specialist's socket is closed with 4403 without waiting for the
    heartbeat (made too long to matter here)."""
    from consults import services as consults
    from realtime import presence

    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 3600)
    derm, consult = await sync_to_async(_consult_accepted)(
        discussion, make_clinician, answer=step == "close"
    )
    specialist, hello = await join(derm, discussion.case)
    owner, _ = await join(discussion.owner, discussion.case)
    await settle(specialist)
    await settle(owner)

    if step == "close":
        await sync_to_async(consults.consult_close)(
            consult=consult, by=discussion.owner
        )
    elif step == "decline":
        await sync_to_async(consults.consult_decline)(
            consult=consult, by=derm, reason="Outside my practice"
        )
    else:
        await sync_to_async(consults.consult_cancel)(
            consult=consult, by=discussion.colleague
        )

    assert await close_code(specialist) == 4403
    await frames_of(owner, "case.updated", "consult.updated")
    await post(owner, hello["threads"][0]["id"], "After the consult", "c-consult")
    assert await specialist.receive_nothing(timeout=0.3)
    await owner.disconnect()


async def test_ending_a_consult_keeps_a_specialist_who_takes_part_another_way(
    discussion, make_clinician, monkeypatch
):
    """A viewer who accepted a named consult returns to viewer: still connected."""
    from consults import services as consults
    from realtime import presence

    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 3600)

    def setup():
        consult = consults.consult_request(
            case=discussion.case,
            by=discussion.colleague,
            question="Drug eruption or viral exanthem?",
            assignee=discussion.viewer,
        )
        consults.consult_accept(consult=consult, by=discussion.viewer)
        return consult

    consult = await sync_to_async(setup)()
    viewer, _ = await join(discussion.viewer, discussion.case)
    await settle(viewer)

    await sync_to_async(consults.consult_cancel)(
        consult=consult, by=discussion.colleague
    )
    await frame_of(viewer, "case.updated")
    await frame_of(viewer, "consult.updated")
    await send(viewer, {"type": "ping"})

    assert (await frame_of(viewer, "pong"))["type"] == "pong"
    assert (
        await CaseParticipant.objects.aget(case=discussion.case, user=discussion.viewer)
    ).role == CaseParticipant.Role.VIEWER
    await viewer.disconnect()


async def test_access_lost_without_a_case_event_ends_within_a_heartbeat(
    discussion, make_clinician, make_workspace, monkeypatch
):
    """A workspace membership ends: no case event, the heartbeat notices."""
    from realtime import presence
    from workspace.models import Membership
    from workspace.services import membership_remove

    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 0.2)
    member = await sync_to_async(make_clinician)("wendy")
    workspace = await sync_to_async(make_workspace)(
        members={discussion.owner: "owner", member: "member"}
    )
    await sync_to_async(Case.objects.filter(pk=discussion.case.pk).update)(
        workspace=workspace, visibility=Case.Visibility.WORKSPACE
    )
    comm, _ = await join(member, discussion.case)

    membership = await Membership.objects.select_related("workspace", "user").aget(
        workspace=workspace, user=member
    )
    await sync_to_async(membership_remove)(membership=membership, by=discussion.owner)

    assert await close_code(comm) == 4403


async def test_removed_participant_cannot_send(discussion):
    colleague, hello = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]

    await sync_to_async(remove_participant)(discussion.case, discussion.colleague)
    await send(
        colleague,
        {"type": "message.send", "thread": thread, "client_id": "c-gone", "body": "x"},
    )

    error = await frame_of(colleague, "error")
    assert error["code"] == "forbidden" and error["ref"] == "c-gone"
    assert await close_code(colleague) == 4403
    assert await Message.objects.acount() == 0


async def test_case_made_private_disconnects_non_participants(
    discussion, make_clinician, make_workspace
):
    member = await sync_to_async(make_clinician)("wendy")
    workspace = await sync_to_async(make_workspace)(
        members={discussion.owner: "owner", member: "member"}
    )

    def share():
        Case.objects.filter(pk=discussion.case.pk).update(
            workspace=workspace, visibility=Case.Visibility.WORKSPACE
        )

    await sync_to_async(share)()
    comm, _ = await join(member, discussion.case)

    await sync_to_async(Case.objects.filter(pk=discussion.case.pk).update)(
        visibility=Case.Visibility.PRIVATE
    )
    await get_channel_layer().group_send(
        case_group(discussion.case),
        {
            "type": EVENT_TYPE,
            "payload": {"type": "case.updated", "id": discussion.case.pk},
        },
    )

    assert await close_code(comm) == 4403


# --- reconnect --------------------------------------------------------------------------------


async def test_reconnecting_client_gets_exactly_the_missed_messages_once(discussion):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    seen = []
    for n in range(3):
        await post(owner, thread, f"before {n}", f"c-b{n}")
        seen.append((await frame_of(colleague, "message.new"))["message"])
    last_seen = seen[-1]

    await colleague.disconnect()  # the network drops mid-conversation
    missed = [
        (await post(owner, thread, f"while away {n}", f"c-away{n}"))["message.new"][
            "message"
        ]
        for n in range(4)
    ]
    colleague, hello_again = await join(discussion.colleague, discussion.case)
    await send(
        colleague,
        {"type": "history", "thread": thread, "after": last_seen["id"], "limit": 100},
    )
    caught_up = await frame_of(colleague, "history")
    live_after = (await post(owner, thread, "back again", "c-back"))["message.new"][
        "message"
    ]
    received_live = await frame_of(colleague, "message.new")

    assert hello_again["last_id"] == missed[-1]["id"]
    assert caught_up["messages"] == missed
    assert caught_up["has_more"] is False
    assert [m["seq"] for m in caught_up["messages"]] == [
        last_seen["seq"] + n for n in range(1, 5)
    ]
    assert received_live["message"] == live_after
    assert received_live["message"]["seq"] == missed[-1]["seq"] + 1
    assert await nothing_more(colleague)
    await owner.disconnect()
    await colleague.disconnect()


async def test_client_that_spots_a_seq_gap_recovers_the_lost_message(discussion):
    """A dropped live frame (layer over capacity) costs one history round trip."""
    owner, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]
    first = (await post(owner, thread, "one", "c-g1"))["message.new"]["message"]
    # Simulate channels-redis skipping this client for one message.
    await sync_to_async(message_post)(
        case=discussion.case,
        thread=thread,
        by=discussion.colleague,
        body="two",
        client_id="c-g2",
    )
    lost = await frame_of(owner, "message.new")  # arrives in this test; pretend not
    third = (await post(owner, thread, "three", "c-g3"))["message.new"]["message"]

    assert third["seq"] == first["seq"] + 2  # the gap the client notices
    await send(owner, {"type": "history", "after": first["id"]})
    recovered = await frame_of(owner, "history")
    assert [m["id"] for m in recovered["messages"]] == [
        lost["message"]["id"],
        third["id"],
    ]
    await owner.disconnect()


# --- notifications socket ----------------------------------------------------------------------


async def test_notifications_socket_refuses_anonymous_with_4401():
    comm = await open_socket(None, "/ws/notifications/")
    assert await close_code(comm) == 4401


async def test_mention_arrives_on_the_mentioned_users_notifications_socket(discussion):
    inbox = await open_socket(discussion.colleague, "/ws/notifications/")
    owner, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]

    await post(owner, thread, "@colin can you see the rash?", "c-men")
    frame = await inbox.receive_json_from(timeout=5)

    assert frame["type"] == "notification"
    assert frame["unread"] == 1
    assert frame["notification"]["kind"] == "mention"
    assert frame["notification"]["title"] == (
        "Olive Owner mentioned you in “Rash after new medication”"
    )
    assert frame["notification"]["body"] == "@colin can you see the rash?"
    assert await inbox.receive_nothing(timeout=0.3)
    await inbox.disconnect()
    await owner.disconnect()


async def test_notifications_socket_marks_the_user_online_until_it_closes(
    discussion,
):
    from workspace.online import user_is_online

    is_online = sync_to_async(user_is_online, thread_sensitive=False)
    assert not await is_online(discussion.colleague.pk)
    first = await open_socket(discussion.colleague, "/ws/notifications/")
    second = await open_socket(discussion.colleague, "/ws/notifications/")

    assert await is_online(discussion.colleague.pk)
    assert not await is_online(discussion.owner.pk)
    await first.disconnect()
    assert await is_online(discussion.colleague.pk)  # one tab is still open
    await second.disconnect()
    assert not await is_online(discussion.colleague.pk)


async def test_notifications_socket_answers_ping_and_reports_bad_frames(discussion):
    inbox = await open_socket(discussion.owner, "/ws/notifications/")

    await inbox.send_to(text_data="nope")
    bad = await inbox.receive_json_from(timeout=5)
    await send(inbox, {"type": "subscribe"})
    unknown = await inbox.receive_json_from(timeout=5)
    await send(inbox, {"type": "ping"})
    pong = await inbox.receive_json_from(timeout=5)

    assert bad["type"] == "error" and bad["code"] == "bad_json"
    assert unknown["code"] == "unknown_type" and unknown["ref"] == "subscribe"
    assert pong == {"type": "pong"}
    await inbox.disconnect()


# --- the PHI gate ------------------------------------------------------------------------------

PHI_BODY = "Mr John Smith, DOB 12/03/1961, phone 020 7946 0958"


def keys_of(text: str, field: str = "body") -> list[str]:
    return [finding_key(f) for f in scan_fields({field: text})]


async def test_message_with_phi_is_refused_with_its_findings_and_nothing_is_stored(
    discussion,
):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    frame = {
        "type": "message.send",
        "thread": thread,
        "client_id": "c-phi",
        "body": PHI_BODY,
    }

    await send(owner, frame)
    error = await frame_of(owner, "error")

    assert error["code"] == "phi_found" and error["ref"] == "c-phi"
    assert error["detail"]
    assert [
        {k: f[k] for k in ("key", "kind", "start", "end", "text")}
        for f in error["findings"]
    ] == [
        {"key": keys_of(PHI_BODY)[0], "kind": "name", "start": 3, "end": 13,
         "text": "John Smith"},
        {"key": keys_of(PHI_BODY)[1], "kind": "date", "start": 19, "end": 29,
         "text": "12/03/1961"},
        {"key": keys_of(PHI_BODY)[2], "kind": "phone", "start": 37, "end": 50,
         "text": "020 7946 0958"},
    ]  # fmt: skip
    assert all(f["reason"] and f["match"] == f["text"] for f in error["findings"])
    assert await Message.objects.acount() == 0
    case = await Case.objects.aget(pk=discussion.case.pk)
    assert case.last_message_seq == 0
    assert await nothing_more(colleague)
    assert await nothing_more(owner)

    # The same frame with the findings marked "not identifying" is stored,
    # with the client_id and the first seq the refusal left free.
    await send(owner, {**frame, "phi_dismissed": keys_of(PHI_BODY)})
    found = await frames_of(owner, "message.ack", "message.new")
    new_on_colleague = await frame_of(colleague, "message.new")

    ack = found["message.ack"]
    assert ack["client_id"] == "c-phi" and ack["duplicate"] is False
    assert ack["seq"] == 1
    assert new_on_colleague["message"]["body"] == PHI_BODY
    assert await nothing_more(colleague)
    event = await AuditEvent.objects.aget(verb="phi.dismiss")
    assert event.actor_id == discussion.owner.pk
    assert event.data["surface"] == "message.send"
    assert event.data["keys"] == sorted(keys_of(PHI_BODY))

    # A retry after a reconnect is the stored copy, broadcast no more.
    await send(owner, {**frame, "phi_dismissed": keys_of(PHI_BODY)})
    assert (await frame_of(owner, "message.ack"))["duplicate"] is True
    assert await nothing_more(colleague)
    assert await Message.objects.acount() == 1
    assert await AuditEvent.objects.filter(verb="phi.dismiss").acount() == 1
    await owner.disconnect()
    await colleague.disconnect()


async def test_a_send_dismissing_only_some_findings_is_refused_for_the_rest(
    discussion,
):
    owner, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]
    keys = keys_of(PHI_BODY)

    await send(
        owner,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": "c-part",
            "body": PHI_BODY,
            "phi_dismissed": keys[:2],
        },
    )
    error = await frame_of(owner, "error")

    assert error["code"] == "phi_found"
    assert [f["key"] for f in error["findings"]] == keys[2:]
    assert await Message.objects.acount() == 0
    await send(
        owner,
        {
            "type": "message.send",
            "thread": thread,
            "client_id": "c-part",
            "body": PHI_BODY,
            "phi_dismissed": "all of them",
        },
    )
    bad = await frame_of(owner, "error")
    assert (bad["code"], bad["ref"]) == ("bad_request", "c-part")
    await assert_still_open(owner)
    await owner.disconnect()


async def test_an_edit_with_phi_is_refused_naming_the_message_until_dismissed(
    discussion,
):
    owner, colleague, _thread, message_id = await owner_posted(
        discussion, "Rash resolved", "c-e1"
    )
    edit = {"type": "message.edit", "id": message_id, "body": PHI_BODY}

    await send(owner, edit)
    error = await frame_of(owner, "error")

    assert error["code"] == "phi_found" and error["ref"] == message_id
    assert [f["key"] for f in error["findings"]] == keys_of(PHI_BODY)
    message = await Message.objects.aget(pk=message_id)
    assert message.body == "Rash resolved" and message.edited is None
    assert await nothing_more(colleague)

    await send(owner, {**edit, "phi_dismissed": keys_of(PHI_BODY)})
    updated = await frame_of(colleague, "message.updated")
    assert updated["message"]["body"] == PHI_BODY
    event = await AuditEvent.objects.aget(verb="phi.dismiss")
    assert event.data["surface"] == "message.edit"
    await owner.disconnect()
    await colleague.disconnect()


async def test_a_topic_title_with_phi_is_refused_until_dismissed(discussion):
    owner, _ = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    title = "Mr John Smith follow-up"

    await send(owner, {"type": "thread.create", "title": title, "client_id": "t-1"})
    with_ref = await frame_of(owner, "error")
    await send(owner, {"type": "thread.create", "title": title})
    without_ref = await frame_of(owner, "error")

    assert with_ref["code"] == "phi_found" and with_ref["ref"] == "t-1"
    assert without_ref["code"] == "phi_found"
    assert without_ref["ref"] == "thread.create"
    assert [f["key"] for f in with_ref["findings"]] == keys_of(title, "title")
    assert [f["text"] for f in with_ref["findings"]] == ["John Smith"]
    assert not await Thread.objects.filter(title=title).aexists()
    assert await nothing_more(colleague)

    await send(
        owner,
        {
            "type": "thread.create",
            "title": title,
            "client_id": "t-1",
            "phi_dismissed": keys_of(title, "title"),
        },
    )
    new = await frame_of(colleague, "thread.new")
    assert new["thread"]["title"] == title
    event = await AuditEvent.objects.aget(verb="phi.dismiss")
    assert event.data["surface"] == "thread.create"
    await owner.disconnect()
    await colleague.disconnect()


# --- hardening: nesting, rate limits, size ------------------------------------------------------

DEEP_FRAMES = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 30_000 + "1" + "}" * 30_000,
    '{"type":"message.send","body":' + "[" * 5_000 + "]" * 5_000 + "}",
]


async def test_deeply_nested_frames_get_bad_json_and_the_connection_stays_open(
    discussion,
):
    comm, _ = await join(discussion.owner, discussion.case)
    for text in DEEP_FRAMES:
        await comm.send_to(text_data=text)
        error = await frame_of(comm, "error")
        assert error["code"] == "bad_json", text[:20]
    await assert_still_open(comm)
    await comm.disconnect()


async def test_notifications_socket_survives_deep_and_oversized_frames(discussion):
    inbox = await open_socket(discussion.owner, "/ws/notifications/")
    for text in DEEP_FRAMES:
        await inbox.send_to(text_data=text)
        assert (await inbox.receive_json_from(timeout=5))["code"] == "bad_json"
    await inbox.send_to(text_data='"' + "x" * (300 * 1024) + '"')
    too_long = await inbox.receive_json_from(timeout=5)
    await send(inbox, {"type": "ping"})
    assert too_long["type"] == "error" and too_long["code"] == "too_long"
    assert await inbox.receive_json_from(timeout=5) == {"type": "pong"}
    await inbox.disconnect()


async def test_a_frame_over_the_byte_limit_gets_too_long_and_the_connection_stays_open(
    discussion,
):
    limit = django_settings.WS_MAX_FRAME_BYTES
    comm, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]

    # Fewer characters than the limit but more bytes: it is bytes that count
    # (Daphne's own limit is in bytes too).
    body = "€" * (limit // 3 + 1)
    assert len(body) < limit < len(body.encode())
    frame = {"type": "message.send", "thread": thread, "client_id": "c-big"}
    await comm.send_to(
        text_data=json.dumps({**frame, "body": body}, ensure_ascii=False)
    )
    error = await frame_of(comm, "error")
    await comm.send_to(text_data="x" * (limit + 1))
    plain = await frame_of(comm, "error")

    assert error["code"] == "too_long" and plain["code"] == "too_long"
    assert f"{limit:,}" in error["detail"]
    assert await Message.objects.acount() == 0
    await assert_still_open(comm)
    await comm.disconnect()


async def test_every_writing_frame_is_rate_limited_with_a_retry_hint(
    discussion, settings
):
    settings.MESSAGE_CHANGE_RATE_LIMIT = 2
    settings.MESSAGE_CHANGE_RATE_WINDOW_SECONDS = 60
    settings.TOPIC_RATE_LIMIT = 1
    settings.TOPIC_RATE_WINDOW_SECONDS = 60
    comm, hello = await join(discussion.owner, discussion.case)
    thread = hello["threads"][0]["id"]
    ids = [
        (await post(comm, thread, f"m{n}", f"c-w{n}"))["message.ack"]["id"]
        for n in range(3)
    ]

    await send(comm, {"type": "message.edit", "id": ids[0], "body": "edited"})
    await frame_of(comm, "message.updated")
    await send(comm, {"type": "message.delete", "id": ids[1]})
    await frame_of(comm, "message.deleted")
    await send(comm, {"type": "message.edit", "id": ids[2], "body": "again"})
    edit_error = await frame_of(comm, "error")
    await send(comm, {"type": "message.delete", "id": ids[2]})
    delete_error = await frame_of(comm, "error")
    await send(comm, {"type": "thread.create", "title": "Imaging"})
    await frame_of(comm, "thread.new")
    await send(comm, {"type": "thread.create", "title": "Bloods", "client_id": "t-b"})
    topic_error = await frame_of(comm, "error")

    assert (edit_error["code"], edit_error["ref"]) == ("rate_limited", ids[2])
    assert (delete_error["code"], delete_error["ref"]) == (
        "rate_limited",
        "message.delete",
    )
    assert (topic_error["code"], topic_error["ref"]) == ("rate_limited", "t-b")
    for error in (edit_error, delete_error, topic_error):
        assert 1 <= error["retry_after"] <= 60
    message = await Message.objects.aget(pk=ids[2])
    assert message.body == "m2" and message.deleted is None
    assert not await Thread.objects.filter(title="Bloods").aexists()
    await assert_still_open(comm)
    await comm.disconnect()
