"""In a real browser: a clinician picks a folder's worth of CT slices and one
corrupt file; the page packs them into one zip and sends it in upload-session
parts (straight to S3 in scale mode), never as one large request. The series
comes out de-identified and the corrupt file is reported on its own.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from media_handling.models import MediaAsset, UploadSession
from tests.fixtures import dicom_factory as factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024


@pytest.fixture
def small_parts(settings):
    """Set before the live server forks, so it uses it too: S3's smallest part."""
    settings.MEDIA_UPLOAD_PART_BYTES = 5 * MiB


def test_a_study_is_packed_and_sent_in_parts_and_a_corrupt_file_fails_alone(
    small_parts, logged_in_page, make_clinician, make_case, tmp_path
):
    owner = make_clinician("petra", first_name="Petra")
    case = make_case(owner)
    slices = [
        factory.write(ds, tmp_path / f"IM{index:03d}.dcm")
        for index, ds in enumerate(factory.make_ct_series(12, rows=512, cols=512))
    ]
    corrupt = tmp_path / "broken.dcm"
    corrupt.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00garbage" * 10)
    total = sum(path.stat().st_size for path in slices)
    assert total > 5 * MiB  # so the zip takes two parts

    page = logged_in_page(owner)
    requests: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.goto(f"/cases/{case.pk}/studies/upload/")
    page.get_by_label("DICOM files or a zip archive").set_input_files(
        [str(path) for path in slices] + [str(corrupt)]
    )
    expect(page.get_by_text("13 files")).to_be_visible()
    page.get_by_role("button", name="Upload and de-identify").click()

    results = page.locator("[data-dicom-results]")
    expect(results.locator("[data-series]")).to_have_count(1, timeout=60_000)
    expect(results.locator("[data-dicom-failed]")).to_contain_text("broken.dcm")
    expect(results.locator('[data-series][data-status="ready"]')).to_have_count(
        1, timeout=60_000
    )
    expect(results.get_by_role("link", name="Open viewer")).to_be_visible()

    puts = [url for method, url in requests if method == "PUT"]
    assert len(puts) == 2
    if settings.S3_BUCKET:
        assert all(settings.S3_ENDPOINT_URL in url for url in puts)
    else:
        assert all("/media/uploads/" in url for url in puts)
    # No request carried the study whole: the one multipart endpoint was
    # never posted to, and the session held the zip (stored, so larger than
    # the slices) in its two parts.
    assert not any(
        method == "POST" and url.endswith("/studies/upload/")
        for method, url in requests
    )
    session = UploadSession.objects.get(uploaded_by=owner)
    assert (session.purpose, session.status) == (
        UploadSession.Purpose.DICOM,
        UploadSession.Status.COMPLETE,
    )
    assert session.size > total and session.part_count == 2
    series = MediaAsset.objects.get(kind=MediaAsset.Kind.DICOM_SERIES)
    assert series.status == MediaAsset.Status.READY
    assert series.metadata["frame_count"] == 12
