"""Annotations: messages anchored to a region of a photo, a video time or a
DICOM slice; what ``message_post`` accepts, refuses and broadcasts."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from cases.models import Case
from cases.phi import finding_key, scan_fields
from media_handling.models import MediaAsset
from realtime.frames import message_frame
from realtime.models import Message
from realtime.selectors import message_history
from realtime.services import (
    BadAnchor,
    PHIFound,
    message_delete,
    message_edit,
    message_post,
    thread_default,
)

from .annotation_media import media_item
from .test_services import payloads

IMAGE, VIDEO, DICOM = (
    MediaAsset.Kind.IMAGE,
    MediaAsset.Kind.VIDEO,
    MediaAsset.Kind.DICOM_SERIES,
)


@pytest.fixture
def media(discussion):
    case, owner = discussion.case, discussion.owner

    class Media:
        image = media_item(case, owner, IMAGE)
        video = media_item(case, owner, VIDEO)
        series = media_item(case, owner, DICOM)

    return Media


def post(discussion, anchor, *, body="See here", client_id="a-1", by=None, **kw):
    return message_post(
        case=discussion.case,
        thread=thread_default(case=discussion.case),
        by=by or discussion.colleague,
        body=body,
        client_id=client_id,
        anchor=anchor,
        **kw,
    )


def box(media_id, **over):
    return {
        "media": media_id,
        "kind": "region",
        "shape": "box",
        "x1": 0.2,
        "y1": 0.25,
        "x2": 0.6,
        "y2": 0.75,
        **over,
    }


def test_each_kind_of_anchor_is_stored_and_broadcast_with_the_message(
    discussion, media, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks() as callbacks:
        region = post(discussion, box(media.image.asset_id, shape="arrow"))
        moment = post(
            discussion,
            {"media": media.video.asset_id, "kind": "time", "t": 12},
            client_id="a-2",
        )
        point = post(
            discussion,
            {
                "media": media.series.asset_id,
                "kind": "slice",
                "frame": 34,
                "x": 0.5,
                "y": 1,
            },
            client_id="a-3",
        )

    assert region.message.anchor_media == media.image
    assert region.message.anchor == {
        "kind": "region",
        "shape": "arrow",
        "x1": 0.2,
        "y1": 0.25,
        "x2": 0.6,
        "y2": 0.75,
    }
    sent = [p["message"]["anchor"] for _, p in payloads(callbacks)]
    assert sent == [
        {**region.message.anchor, "media": media.image.asset_id, "media_kind": IMAGE},
        {"kind": "time", "t": 12.0, "media": media.video.asset_id, "media_kind": VIDEO},
        {
            "kind": "slice",
            "frame": 34,
            "x": 0.5,
            "y": 1.0,
            "media": media.series.asset_id,
            "media_kind": DICOM,
            "modality": "CT",
        },
    ]
    # History carries the same anchors (one query for the page, whatever
    # the number of anchored messages).
    with django_assert_num_queries(1):
        page = message_history(case=discussion.case)
        frames = [message_frame(m)["anchor"] for m in page.messages]
    assert frames == sent
    assert (moment.message.seq, point.message.seq) == (2, 3)


@pytest.mark.parametrize(
    "change, why",
    [
        ({"kind": "blob"}, "anchor.kind"),
        ({"shape": "star"}, "anchor.shape"),
        ({"x1": -0.1}, "anchor.x1"),
        ({"y2": 1.5}, "anchor.y2"),
        ({"x1": "0.2"}, "anchor.x1"),
        ({"x1": True}, "anchor.x1"),
        ({"x1": float("nan")}, "anchor.x1"),
        ({"x2": 0.2, "y2": 0.25}, "larger"),
        ({"y2": 0.251}, "larger"),
        ({"t": 3}, "does not take"),
        ({"media": "7"}, "anchor.media"),
        ({"media": None}, "anchor.media"),
    ],
)
def test_malformed_region_anchors_are_refused_and_nothing_is_stored(
    discussion, media, change, why
):
    with pytest.raises(BadAnchor) as refused:
        post(discussion, box(media.image.asset_id, **change))

    assert why in str(refused.value)
    assert refused.value.code == "bad_anchor"
    assert not Message.objects.exists()
    assert Case.objects.get(pk=discussion.case.pk).last_message_seq == 0


def test_an_anchor_that_is_not_an_object_is_refused(discussion, media):
    with pytest.raises(BadAnchor, match="object"):
        post(discussion, [media.image.asset_id, "box"])
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "anchor, why",
    [
        ({"kind": "time", "t": 12.6}, "length"),
        ({"kind": "time", "t": -1}, "length"),
        ({"kind": "time", "t": "0:12"}, "seconds"),
        ({"kind": "time", "t": float("inf")}, "seconds"),
    ],
)
def test_video_times_must_fall_within_the_video(discussion, media, anchor, why):
    with pytest.raises(BadAnchor, match=why):
        post(discussion, {"media": media.video.asset_id, **anchor})
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "anchor, why",
    [
        ({"frame": 0, "x": 0.5, "y": 0.5}, "from 1 to 40"),
        ({"frame": 41, "x": 0.5, "y": 0.5}, "from 1 to 40"),
        ({"frame": 3.0, "x": 0.5, "y": 0.5}, "slice number"),
        ({"frame": 3, "x": 0.5}, "anchor.y"),
        ({"frame": 3, "x": 2, "y": 0.5}, "anchor.x"),
    ],
)
def test_slices_must_exist_in_the_series(discussion, media, anchor, why):
    with pytest.raises(BadAnchor, match=why):
        post(discussion, {"media": media.series.asset_id, "kind": "slice", **anchor})
    assert not Message.objects.exists()


def test_the_anchor_kind_must_match_the_media(discussion, media):
    with pytest.raises(BadAnchor, match="photo"):
        post(discussion, box(media.video.asset_id))
    with pytest.raises(BadAnchor, match="video"):
        post(discussion, {"media": media.image.asset_id, "kind": "time", "t": 1})
    with pytest.raises(BadAnchor, match="DICOM"):
        post(
            discussion,
            {
                "media": media.image.asset_id,
                "kind": "slice",
                "frame": 1,
                "x": 0,
                "y": 0,
            },
        )
    assert not Message.objects.exists()


def test_media_of_another_case_or_hidden_from_the_sender_is_refused_alike(
    discussion, media, make_case
):
    other_case = make_case(discussion.owner, status=Case.Status.PUBLISHED)
    elsewhere = media_item(other_case, discussion.owner, IMAGE)
    # The owner's unreleased photo: the colleague may not see it at all.
    hidden = media_item(discussion.case, discussion.owner, IMAGE, released=False)

    answers = []
    for item in (elsewhere, hidden):
        with pytest.raises(BadAnchor) as refused:
            post(discussion, box(item.asset_id))
        answers.append(str(refused.value))
    with pytest.raises(BadAnchor) as missing:
        post(discussion, box(999_999))

    assert answers == [str(missing.value)] * 2
    assert answers[0] == "That media is not part of this case."
    assert not Message.objects.exists()


def test_the_uploader_must_release_media_before_annotating_it(discussion, media):
    own = media_item(discussion.case, discussion.colleague, IMAGE, released=False)
    with pytest.raises(BadAnchor, match="Release this media"):
        post(discussion, box(own.asset_id))
    assert not Message.objects.exists()


def test_viewers_and_outsiders_cannot_annotate(discussion, media):
    from workspace.services import PermissionDenied

    for user in (discussion.viewer, discussion.outsider):
        with pytest.raises(PermissionDenied):
            post(discussion, box(media.image.asset_id), by=user)
    assert not Message.objects.exists()


PHI_NOTE = "Mr John Smith's lesion, DOB 12/03/1961"


def test_the_note_goes_through_the_phi_gate_and_keeps_its_anchor_when_dismissed(
    discussion, media
):
    with pytest.raises(PHIFound):
        post(discussion, box(media.image.asset_id), body=PHI_NOTE)
    assert not Message.objects.exists()

    keys = [finding_key(f) for f in scan_fields({"body": PHI_NOTE})]
    result = post(
        discussion, box(media.image.asset_id), body=PHI_NOTE, phi_dismissed=keys
    )

    assert result.message.anchor_media == media.image
    assert result.message.anchor["shape"] == "box"


def test_a_bad_anchor_is_refused_before_the_phi_gate_runs(discussion, media):
    # Both wrong: the anchor is reported, so the author fixes one thing at a
    # time and no dismissal is audited for a message that is not stored.
    with pytest.raises(BadAnchor):
        post(discussion, box(999_999), body=PHI_NOTE)


def test_edits_keep_the_anchor_and_a_deleted_annotation_loses_it(discussion, media):
    message = post(discussion, box(media.image.asset_id)).message

    edited = message_edit(message=message, by=discussion.colleague, body="Rather here")
    assert message_frame(edited)["anchor"]["media"] == media.image.asset_id

    deleted = message_delete(message=message, by=discussion.colleague)
    assert message_frame(deleted)["anchor"] is None


def test_an_annotation_outlives_its_removed_media_without_a_place(discussion, media):
    message = post(discussion, box(media.image.asset_id)).message
    media.image.delete()
    message.refresh_from_db()

    frame = message_frame(message)["anchor"]
    assert frame["media"] is None and frame["shape"] == "box"


def test_a_message_without_an_anchor_has_none(discussion):
    message = post(discussion, None).message
    assert message.anchor is None and message_frame(message)["anchor"] is None


# --- the page: chips and the annotations drawn over the media ------------------------


def _panel(discussion, user):
    from .test_views import render_tag

    html = render_tag(discussion.case, user)
    found = re.search(r'data-annotations="([^"]*)"', html)
    return html, json.loads(unescape(found.group(1)))


def test_the_panel_shows_chips_and_carries_the_annotations_to_draw(discussion, media):
    region = post(discussion, box(media.image.asset_id), body="Edge **here**").message
    point = post(
        discussion,
        {
            "media": media.series.asset_id,
            "kind": "slice",
            "frame": 34,
            "x": 0.5,
            "y": 0.5,
        },
        client_id="a-2",
    ).message
    moment = post(
        discussion,
        {"media": media.video.asset_id, "kind": "time", "t": 7.5},
        client_id="a-3",
    ).message
    gone = post(discussion, None, client_id="a-4").message
    message_delete(message=moment, by=discussion.colleague)

    html, drawn = _panel(discussion, discussion.viewer)

    case = discussion.case.pk
    assert f'href="/cases/{case}/#media-{media.image.asset_id}"' in html
    assert f'href="/cases/{case}/series/{media.series.asset_id}/?frame=34"' in html
    assert ">Image · box</span>" in html and ">CT slice 34</span>" in html
    assert html.count("data-anchor-chip=") == 2  # not the deleted one
    assert [(a["id"], a["anchor"]["media"]) for a in drawn] == [
        (region.pk, media.image.asset_id),
        (point.pk, media.series.asset_id),
    ]
    assert drawn[0]["text"] == "Edge here"
    assert drawn[0]["author"] == discussion.colleague.display_name
    assert gone.pk not in [a["id"] for a in drawn]


def test_the_panel_draws_nothing_for_removed_media(discussion, media):
    post(discussion, box(media.image.asset_id))
    media.image.delete()

    html, drawn = _panel(discussion, discussion.owner)

    assert drawn == []
    assert ">Removed media</span>" in html
