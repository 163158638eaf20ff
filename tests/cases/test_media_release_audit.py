"""Nothing of an unreleased, or released but not ready (back under review),
copy reaches a colleague on the case by any route; all of it does once the
copy is released and ready.

Routes: the rendition views, the gallery data and case page, the case list,
search results, the annotations drawn over media, and ``media.updated`` frames (ids and
states only, never a URL or a caption). Finding media is in test_inbox.py,
DICOM series in test_dicom_views.py.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseAsset
from cases.services import media as services
from media_handling.models import MediaAsset
from realtime.panel import annotations_for_page
from realtime.services import message_post, thread_default
from tests.fixtures.media_uploads import accepted_upload, photo_bytes, reviewed

pytestmark = pytest.mark.django_db

CAPTION = "Annular plaque on the left shin"


@pytest.fixture
def item(cast, tmp_path, django_capture_on_commit_callbacks) -> CaseAsset:
    """A processed photo the collaborator uploaded and reviewed (no faces to
    blur) but has not released."""
    case = cast.case(visibility=Case.Visibility.PRIVATE)
    with django_capture_on_commit_callbacks(execute=True):
        made = services.case_media_upload(
            case=case,
            by=cast.collaborator,
            upload=accepted_upload(photo_bytes(tmp_path), "p.jpg"),
            caption=CAPTION,
        )
    made.refresh_from_db()
    assert made.asset.status == MediaAsset.Status.NEEDS_REVIEW
    made = reviewed(made, cast.collaborator)
    assert made.asset.status == MediaAsset.Status.READY
    return made


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _routes(item: CaseAsset) -> list[str]:
    return [
        reverse("case_media_file", args=[item.case_id, item.asset_id, role])
        for role in ("display", "thumb")
    ]


def _seen(client: Client, item: CaseAsset) -> dict[str, object]:
    """What a client gets of ``item`` through each route."""
    files = [client.get(url).status_code for url in _routes(item)]
    items = client.get(reverse("case_media_items", args=[item.case_id])).json()
    page = client.get(reverse("case_detail", args=[item.case_id])).content.decode()
    listing = client.get(reverse("case_list")).content.decode()
    # Search results: the case is found by its title, its media never.
    found = client.get(reverse("case_list"), {"q": "Annular"}).content.decode()
    assert "camping trip" in found
    listing += found
    base = reverse("case_media_gallery", args=[item.case_id]) + f"{item.asset_id}/"
    return {
        "files": all(code in (200, 302) for code in files),
        "files_404": all(code == 404 for code in files),
        "items": [i["id"] for i in items["items"]],
        "page_url": base in page,
        "page_caption": CAPTION in page,
        "list_url": base in listing or CAPTION in listing,
    }


def _hidden(seen: dict[str, object]) -> bool:
    return (
        seen["files_404"]
        and seen["items"] == []
        and not seen["page_url"]
        and not seen["page_caption"]
        and not seen["list_url"]
    )


@pytest.mark.parametrize("who", ["owner", "viewer", "consultant"])
def test_a_colleague_gets_nothing_until_release_then_everything(cast, item, who):
    colleague = _client(cast.users[who])
    assert _hidden(_seen(colleague, item))
    # The uploader sees their own copy all along.
    mine = _seen(_client(cast.collaborator), item)
    assert mine["files"] and mine["items"] == [item.asset_id] and mine["page_url"]

    services.case_media_release(item=item, by=cast.collaborator)

    seen = _seen(colleague, item)
    assert seen["files"] and seen["items"] == [item.asset_id]
    assert seen["page_url"] and seen["page_caption"]
    assert not seen["list_url"]  # the case list shows no media at all


@pytest.mark.parametrize(
    "status", [MediaAsset.Status.NEEDS_REVIEW, MediaAsset.Status.PROCESSING]
)
def test_a_released_copy_back_under_review_is_hidden_again(cast, item, status):
    services.case_media_release(item=item, by=cast.collaborator)
    colleague = _client(cast.viewer)
    assert _seen(colleague, item)["files"]

    # A second review: blurring more faces (processing), or a blur that failed
    # and left the copy to be reviewed again.
    MediaAsset.objects.filter(pk=item.asset_id).update(status=status)

    assert _hidden(_seen(colleague, item))
    MediaAsset.objects.filter(pk=item.asset_id).update(status=MediaAsset.Status.READY)
    assert _seen(colleague, item)["files"]


def test_annotations_show_only_over_media_everyone_may_see(cast, item):
    case = item.case
    services.case_media_release(item=item, by=cast.collaborator)
    anchor = {
        "media": item.asset_id,
        "kind": "region",
        "shape": "box",
        "x1": 0.2,
        "y1": 0.2,
        "x2": 0.6,
        "y2": 0.6,
    }
    message_post(
        case=case,
        thread=thread_default(case=case),
        by=cast.owner,
        body="Look at the border",
        client_id="a-1",
        anchor=anchor,
    )
    assert len(annotations_for_page(case=case, user=cast.viewer)) == 1

    MediaAsset.objects.filter(pk=item.asset_id).update(
        status=MediaAsset.Status.NEEDS_REVIEW
    )
    assert annotations_for_page(case=case, user=cast.viewer) == []
    page = _client(cast.viewer).get(reverse("case_detail", args=[case.pk]))
    assert 'data-annotations="[]"' in page.content.decode()
    assert annotations_for_page(case=case, user=cast.collaborator)  # the uploader


def test_media_frames_carry_ids_and_states_only(cast, item, case_events):
    case = item.case
    frames = case_events(
        case, lambda: services.case_media_release(item=item, by=cast.collaborator)
    )
    frames += case_events(
        case,
        lambda: services.case_media_caption(
            item=CaseAsset.objects.get(pk=item.pk),
            by=cast.collaborator,
            caption=CAPTION + " again",
        ),
    )
    frames += case_events(
        case, lambda: services.case_media_remove(item=item, by=cast.collaborator)
    )
    media = [f for f in frames if f.get("type") == "media.updated"]
    assert media, frames
    for frame in media:
        assert set(frame["asset"]) <= {"id", "kind", "status", "version"}
        text = json.dumps(frame)
        assert CAPTION not in text and "/media/" not in text
