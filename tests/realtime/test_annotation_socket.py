"""Annotations over the case WebSocket: ``message.send`` with an ``anchor``,
``bad_anchor`` refusals, the PHI gate on the note, and the anchor in
``message.new`` and ``history``."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from cases.phi import finding_key, scan_fields
from media_handling.models import MediaAsset
from realtime.models import Message
from realtime.services import thread_default
from tests.fixtures.ws import frame_of, frames_of, join, nothing_more, send

from .annotation_media import media_item

pytestmark = [
    pytest.mark.django_db(
        transaction=True, available_apps=list(django_settings.INSTALLED_APPS)
    ),
    pytest.mark.usefixtures("close_db_threads"),
]


@pytest.fixture
def photo(discussion):
    return media_item(discussion.case, discussion.owner, MediaAsset.Kind.IMAGE)


def _frame(thread, client_id, anchor, body="The border here", **extra):
    return {
        "type": "message.send",
        "thread": thread,
        "client_id": client_id,
        "body": body,
        "anchor": anchor,
        **extra,
    }


async def test_an_anchored_message_reaches_everyone_with_its_anchor(discussion, photo):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    anchor = {
        "media": photo.asset_id,
        "kind": "region",
        "shape": "circle",
        "x1": 0.1,
        "y1": 0.1,
        "x2": 0.3,
        "y2": 0.4,
    }

    await send(colleague, _frame(thread, "an-1", anchor))
    found = await frames_of(colleague, "message.ack", "message.new")
    on_owner = await frame_of(owner, "message.new")

    expected = {**anchor, "media_kind": "image"}
    assert found["message.new"]["message"]["anchor"] == expected
    assert on_owner["message"]["anchor"] == expected
    await send(owner, {"type": "history", "thread": thread})
    history = await frame_of(owner, "history")
    assert [m["anchor"] for m in history["messages"]] == [expected]
    await owner.disconnect()
    await colleague.disconnect()


async def test_a_bad_anchor_is_an_error_frame_and_nothing_is_sent(discussion, photo):
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]

    await send(
        colleague,
        _frame(thread, "an-bad", {"media": photo.asset_id, "kind": "time", "t": 1}),
    )
    error = await frame_of(colleague, "error")

    assert (error["code"], error["ref"]) == ("bad_anchor", "an-bad")
    assert "video" in error["detail"]
    assert await Message.objects.acount() == 0
    assert await nothing_more(owner)
    # The connection stays open and the client_id free.
    await send(colleague, _frame(thread, "an-bad", None, body="Plain"))
    ok = await frame_of(colleague, "message.ack")
    assert ok["seq"] == 1
    await owner.disconnect()
    await colleague.disconnect()


async def test_media_hidden_from_the_sender_is_refused(discussion):
    hidden = await sync_to_async(media_item)(
        discussion.case, discussion.owner, MediaAsset.Kind.IMAGE, released=False
    )
    colleague, hello = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    anchor = {
        "media": hidden.asset_id,
        "kind": "region",
        "shape": "box",
        "x1": 0.1,
        "y1": 0.1,
        "x2": 0.5,
        "y2": 0.5,
    }

    await send(colleague, _frame(thread, "an-h", anchor))
    error = await frame_of(colleague, "error")

    assert error["code"] == "bad_anchor"
    assert error["detail"] == "That media is not part of this case."
    assert await Message.objects.acount() == 0
    await colleague.disconnect()


PHI_NOTE = "Mr John Smith, DOB 12/03/1961: see the mark"


async def test_the_note_is_held_by_the_phi_gate_with_its_anchor(discussion):
    series = await sync_to_async(media_item)(
        discussion.case, discussion.owner, MediaAsset.Kind.DICOM_SERIES
    )
    owner, hello = await join(discussion.owner, discussion.case)
    colleague, _ = await join(discussion.colleague, discussion.case)
    thread = hello["threads"][0]["id"]
    anchor = {"media": series.asset_id, "kind": "slice", "frame": 7, "x": 0.4, "y": 0.6}

    await send(owner, _frame(thread, "an-phi", anchor, body=PHI_NOTE))
    error = await frame_of(owner, "error")

    assert (error["code"], error["ref"]) == ("phi_found", "an-phi")
    assert {f["kind"] for f in error["findings"]} >= {"name", "date"}
    assert await Message.objects.acount() == 0
    assert await nothing_more(colleague)

    keys = [finding_key(f) for f in scan_fields({"body": PHI_NOTE})]
    await send(
        owner, _frame(thread, "an-phi", anchor, body=PHI_NOTE, phi_dismissed=keys)
    )
    new = await frame_of(colleague, "message.new")
    assert new["message"]["anchor"] == {
        **anchor,
        "media_kind": "dicom_series",
        "modality": "CT",
    }
    await owner.disconnect()
    await colleague.disconnect()


async def test_anchor_is_null_for_plain_messages(discussion):
    owner, _ = await join(discussion.owner, discussion.case)
    thread = await sync_to_async(lambda: thread_default(case=discussion.case).pk)()
    await send(owner, _frame(thread, "p-1", None, body="Plain"))
    new = (await frames_of(owner, "message.ack", "message.new"))["message.new"]
    assert new["message"]["anchor"] is None
    await owner.disconnect()
