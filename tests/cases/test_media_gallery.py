"""The gallery partial on the case page: what each viewer sees, the upload
zone for editors, and a query count that does not grow with the items."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from cases.permissions import case_access
from cases.services import media as services
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import accepted_upload, photo_bytes, reviewed

pytestmark = pytest.mark.django_db

TAG = Template("{% load case_media %}{% case_media case access %}")


@pytest.fixture
def case(cast):
    return cast.case(visibility=Case.Visibility.COMMUNITY)


@pytest.fixture
def add(case, cast, tmp_path, django_capture_on_commit_callbacks):
    def upload(data=None, *, review=True, release=True):
        with django_capture_on_commit_callbacks(execute=True):
            item = services.case_media_upload(
                case=case,
                by=cast.owner,
                upload=accepted_upload(data or photo_bytes(tmp_path), "p"),
            )
        item.refresh_from_db()
        if review and item.asset.status == item.asset.Status.NEEDS_REVIEW:
            item = reviewed(item, cast.owner)
        if release and item.asset.is_ready:
            services.case_media_release(item=item, by=cast.owner)
        return item

    return upload


def _render(case, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return TAG.render(
        Context(
            {
                "request": request,
                "case": case,
                "access": case_access(user, case),
                "csp_nonce": "n0nce",
            }
        )
    )


def test_editors_get_the_upload_zone_and_readers_do_not(cast, case):
    owner = _render(case, cast.owner)
    viewer = _render(case, cast.viewer)

    assert 'type="file" name="files" multiple' in owner
    assert f'data-upload-url="{reverse("case_media_upload", args=[case.pk])}"' in owner
    assert 'nonce="n0nce"' in owner and "js/media_upload.js" in owner
    assert "No photos or videos yet." in owner
    assert 'type="file"' not in viewer
    assert "data-upload-url" not in viewer


def test_released_photos_and_videos_show_with_their_player(cast, case, add, tmp_path):
    photo = add()
    video = add(mf.write_phone_mp4(tmp_path / "v.mp4").read_bytes())

    html = _render(case, cast.viewer)

    base = reverse("case_media_gallery", args=[case.pk])
    assert f'src="{base}{photo.asset_id}/thumb"' in html
    assert f'href="{base}{photo.asset_id}/display"' in html
    assert f'src="{base}{video.asset_id}/video"' in html
    assert f'poster="{base}{video.asset_id}/poster"' in html
    assert "<video" in html and "controls" in html
    assert "Release" not in html  # no uploader actions for a colleague


def test_the_uploader_sees_state_and_actions_for_their_own_items(
    cast, case, add, tmp_path
):
    add(photo_bytes(tmp_path, face=True), review=False, release=False)
    add(release=False)

    html = _render(case, cast.owner)

    assert "Needs review" in html and "Review faces" in html
    assert "Not released" in html and "Release all ready" in html
    assert "Only you can see this." in html


def test_the_case_page_embeds_the_gallery(cast, case, add, client_for):
    item = add()

    page = client_for(cast.viewer).get(reverse("case_detail", args=[case.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="media"' in html
    assert f'data-asset="{item.asset_id}"' in html


def test_the_gallery_query_count_does_not_grow_with_its_items(cast, case, add):
    add()
    with CaptureQueriesContext(connection) as one:
        _render(case, cast.viewer)
    for _ in range(4):
        add()

    with CaptureQueriesContext(connection) as five:
        html = _render(case, cast.viewer)

    assert html.count("data-asset=") == 5
    assert len(five) == len(one) <= 2


def test_the_standalone_media_page_shows_the_gallery(cast, case, add, client_for):
    add()

    page = client_for(cast.viewer).get(reverse("case_media_gallery", args=[case.pk]))

    assert page.status_code == 200
    assert "Photos and videos" in page.content.decode()
