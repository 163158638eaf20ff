"""Every media URL, for everyone: the uploader, a participant, another
clinician, a patient, an anonymous visitor, and the uploader after logout.

A refusal never serves a byte: 404 for a signed-in user who may not see the
item (so ids do not leak), a redirect to the login page without a session.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseAsset
from cases.services import media as services
from media_handling.models import MediaAsset
from tests.fixtures.media_uploads import accepted_upload, photo_bytes, reviewed
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(cast, tmp_path, django_capture_on_commit_callbacks):
    """In a private case: a released photo and an unreleased one, both by
    the collaborator."""
    case = cast.case(visibility=Case.Visibility.PRIVATE)
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("released", "unreleased"):
            made[name] = services.case_media_upload(
                case=case,
                by=cast.collaborator,
                upload=accepted_upload(photo_bytes(tmp_path), "p.jpg"),
            )
    reviewed(made["released"], cast.collaborator)
    services.case_media_release(item=made["released"], by=cast.collaborator)
    return case, made


def _client(cast, who: str) -> Client:
    client = Client()
    if who == "after-logout":
        client.force_login(cast.collaborator)
        client.post(reverse("logout"))
    elif cast.users[who] is not None:
        client.force_login(cast.users[who])
    return client


def _file_url(item: CaseAsset, role: str) -> str:
    return reverse("case_media_file", args=[item.case_id, item.asset_id, role])


def _served(response) -> bool:
    if response.status_code == 302 and settings.S3_BUCKET:
        return "X-Amz-Signature" in response["Location"]
    if response.status_code in (200, 206) and response.streaming:
        return bool(b"".join(response.streaming_content))
    return False


def _refused(response) -> bool:
    if response.status_code == 404:
        return True
    if response.status_code in (302, 401):
        location = response.get("Location", "")
        return location.startswith(reverse("login")) or response.status_code == 401
    return response.status_code == 403


VIEWERS = {
    # who: (sees the released photo, sees the unreleased one)
    "collaborator": (True, True),  # the uploader
    "owner": (True, False),
    "viewer": (True, False),
    "outsider": (False, False),
    "member": (False, False),  # a workspace member, but the case is private
    "unverified": (False, False),
    "patient": (False, False),
    "anonymous": (False, False),
    "after-logout": (False, False),
}


@pytest.mark.parametrize("who", VIEWERS)
@pytest.mark.parametrize("role", ["thumb", "display"])
def test_rendition_urls_serve_only_those_who_may_see_the_item(cast, items, who, role):
    _, made = items
    client = _client(cast, who)
    sees_released, sees_unreleased = VIEWERS[who]

    released = client.get(_file_url(made["released"], role))
    unreleased = client.get(_file_url(made["unreleased"], role))

    assert _served(released) is sees_released
    assert _refused(released) is not sees_released
    assert _served(unreleased) is sees_unreleased
    assert _refused(unreleased) is not sees_unreleased


@pytest.mark.parametrize(
    "who", ["owner", "outsider", "patient", "anonymous", "after-logout"]
)
def test_the_uploaders_own_pages_and_actions_are_refused_to_everyone_else(
    cast, items, who
):
    case, made = items
    client = _client(cast, who)
    asset_id = made["unreleased"].asset_id
    pages = [
        reverse("case_media_review", args=[case.pk, asset_id]),
        reverse("case_media_report", args=[case.pk, asset_id]),
    ]
    actions = [
        reverse("case_media_release", args=[case.pk, asset_id]),
        reverse("case_media_remove", args=[case.pk, asset_id]),
    ]

    for url in pages:
        assert _refused(client.get(url)), url
    for url in actions:
        assert _refused(client.post(url)), url
    assert not CaseAsset.objects.get(pk=made["unreleased"].pk).released_at


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("collaborator", True),
        ("owner", True),
        ("viewer", False),
        ("outsider", False),
        ("patient", False),
        ("anonymous", False),
        ("after-logout", False),
    ],
)
def test_only_editors_of_the_case_may_upload(cast, items, tmp_path, who, allowed):
    case, _ = items
    client = _client(cast, who)
    before = MediaAsset.objects.count()

    upload = client.post(
        reverse("case_media_upload", args=[case.pk]),
        {"files": [open_photo(tmp_path)]},
        HTTP_ACCEPT="application/json",
    )
    start = client.post(
        reverse("case_media_upload_start", args=[case.pk]),
        '{"size": 100}',
        content_type="application/json",
    )

    assert (upload.status_code == 200) is allowed
    assert (start.status_code == 200) is allowed
    if not allowed:
        assert upload.status_code in (302, 401, 403, 404)
        assert _refused(start) or start.status_code == 403
        assert MediaAsset.objects.count() == before


def open_photo(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.jpg", photo_bytes(tmp_path))


@pytest.mark.parametrize(
    "who", ["viewer", "outsider", "patient", "anonymous", "after-logout"]
)
def test_the_gallery_data_shows_nothing_unreleased_to_others(cast, items, who):
    case, made = items
    client = _client(cast, who)

    response = client.get(reverse("case_media_items", args=[case.pk]))

    if VIEWERS[who][0]:
        ids = [i["id"] for i in response.json()["items"]]
        assert ids == [made["released"].asset_id]
    else:
        assert _refused(response)


def test_a_published_community_case_shows_released_media_to_any_clinician(
    cast, tmp_path, django_capture_on_commit_callbacks
):
    case = cast.case(visibility=Case.Visibility.COMMUNITY)
    with django_capture_on_commit_callbacks(execute=True):
        item = services.case_media_upload(
            case=case,
            by=cast.owner,
            upload=accepted_upload(photo_bytes(tmp_path), "p.jpg"),
        )
    url = _file_url(item, "thumb")
    outsider = _client(cast, "outsider")

    assert _refused(outsider.get(url))
    reviewed(item, cast.owner)
    services.case_media_release(item=item, by=cast.owner)
    assert _served(outsider.get(url))
    assert _refused(_client(cast, "patient").get(url))


# Forms of Range that once skipped the audit (read as "a later range of one
# playback"), and the ones that get a 416: every answer is audited once.
AUDITED_RANGES = [
    (None, 200),
    ("bytes=0-99", 206),
    ("bytes=100-", 206),
    ("Bytes=0-", 206),
    ("bytes=00-", 206),
    ("bytes=1-2,0-", 200),
    ("bytes=-100000000", 206),
    ("bytes=99999999-", 416),
    ("bytes=-0", 416),
]


@pytest.mark.parametrize(("header", "status"), AUDITED_RANGES)
def test_every_response_is_audited_once_whatever_its_range(
    cast, items, client_for, header, status
):
    _, made = items
    client = client_for(cast.viewer)
    url = _file_url(made["released"], "display")
    extra = {"HTTP_RANGE": header} if header else {}

    response = client.get(url, **extra)

    expected = 302 if settings.S3_BUCKET else status
    assert response.status_code == expected
    events = AuditEvent.objects.filter(verb="media.view")
    assert events.count() == 1
    event = events.get()
    assert (event.actor, event.case_id) == (cast.viewer, made["released"].case_id)
    assert event.data["role"] == "display"
    assert event.data["status"] == expected
    assert event.target_id == str(made["released"].asset_id)


def test_each_range_of_one_playback_is_audited(cast, items, client_for):
    _, made = items
    client = client_for(cast.viewer)
    url = _file_url(made["released"], "display")

    client.get(url)
    client.get(url, HTTP_RANGE="bytes=0-99")
    client.get(url, HTTP_RANGE="bytes=100-")

    assert AuditEvent.objects.filter(verb="media.view").count() == 3


def test_a_refused_viewer_gets_nothing_audited_as_a_view(cast, items, client_for):
    _, made = items

    response = client_for(cast.outsider).get(
        _file_url(made["unreleased"], "display"), HTTP_RANGE="Bytes=0-"
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="media.view").exists()


def test_a_missing_role_is_not_found_even_for_the_uploader(cast, items):
    _, made = items
    client = _client(cast, "collaborator")

    assert client.get(_file_url(made["released"], "video")).status_code == 404
    assert not AuditEvent.objects.filter(verb="media.view").exists()
