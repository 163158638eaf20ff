"""In a real browser: a clinician uploads a phone photo and a video to a case,
blurs a face and releases both; a colleague sees the clean photo and plays
the video. A large file goes up part by part (straight to S3 in scale mode).
"""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from cases.models import CaseParticipant
from media_handling.faces import detect_faces
from tests.fixtures import media_factory as mf

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def _collect_csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return errors


def _loaded(image) -> None:
    # Functions, not expressions: the page's CSP forbids eval.
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_photo_and_video_are_cleaned_blurred_released_and_played_by_a_colleague(
    logged_in_page, make_clinician, make_case, tmp_path
):
    owner = make_clinician("olivia", first_name="Olivia")
    colleague = make_clinician("colin", first_name="Colin")
    case = make_case(owner, participants={colleague: CaseParticipant.Role.VIEWER})
    photo = mf.write_jpeg(
        tmp_path / "IMG_0420.jpg",
        displayed=mf.face_picture(size=(480, 360), face=(150, 80, 180, 180)),
        orientation=6,
    )
    video = mf.write_phone_mp4(tmp_path / "VID_0421.mp4", size=(160, 120), seconds=2.0)
    page = logged_in_page(owner)
    csp_errors = _collect_csp_errors(page)

    # The uploader drops both files on the case page.
    page.goto(f"/cases/{case.pk}/")
    gallery = page.locator("[data-media-list]")
    page.locator("[data-media-drop] input[type=file]").set_input_files(
        [str(photo), str(video)]
    )

    # Each file gets a progress row, then appears in the gallery and follows
    # processing live: both wait for the uploader's face review, the photo
    # with a face found in it.
    expect(gallery.locator("[data-asset]")).to_have_count(2, timeout=30_000)
    needs_review = gallery.locator('[data-status="needs_review"]')
    expect(needs_review).to_have_count(2, timeout=30_000)
    photo_item = gallery.locator("[data-asset]").filter(has=page.locator("img"))
    video_item = gallery.locator("[data-asset]").filter(has=page.locator("video"))
    expect(photo_item).to_contain_text("Found a possible face")
    expect(video_item).to_contain_text("Check this for faces")

    # A colleague with the case open sees nothing of it yet.
    other = logged_in_page(colleague)
    other_csp = _collect_csp_errors(other)
    other.goto(f"/cases/{case.pk}/")
    items = other.locator("[data-media-list] [data-asset]")
    expect(other.get_by_text("No photos or videos yet.")).to_be_visible()
    expect(items).to_have_count(0)

    # The face review shows the proposal; the uploader also draws a region.
    photo_item.get_by_role("link", name="Review faces").click()
    expect(
        page.get_by_role("heading", name="Review photo before release")
    ).to_be_visible()
    expect(page.get_by_label("Blur face 1")).to_be_checked()
    expect(page.locator(".face-box--proposed")).to_have_count(1)
    stage = page.locator("[data-face-stage]")
    _loaded(stage.locator("img"))
    box = stage.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + 40, steps=4)
    page.mouse.up()
    expect(page.locator("[data-face-drawn] li")).to_have_text(["Region 1Remove"])
    page.get_by_label("Caption").fill("Malar rash, day 3")
    page.get_by_role("button", name="Blur and release to the case").click()

    # Back on the case page the photo is blurred and released; the video,
    # with no face found, is looked at and released as it is.
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/#media$"))
    expect(photo_item).to_contain_text("Released", timeout=30_000)
    expect(photo_item).to_contain_text("Malar rash, day 3")
    video_item.get_by_role("link", name="Review faces").click()
    expect(page.get_by_text("No faces were found", exact=False)).to_be_visible()
    page.get_by_role("button", name="Blur and release to the case").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/#media$"))
    expect(video_item.locator(".pill")).to_have_text("Released", timeout=30_000)
    photo_item.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="De-identification report")).to_be_visible()
    expect(page.get_by_text("GPS location", exact=False)).to_be_visible()

    # The colleague's open page shows both as they are released, without a
    # reload (the case socket's media.updated frames), and the video plays.
    expect(items).to_have_count(2)
    expect(other.get_by_text("No photos or videos yet.")).to_be_hidden()
    image = other.locator("[data-media-list] img")
    _loaded(image)
    player = other.locator("[data-media-list] video")
    player.evaluate("v => { v.muted = true; return v.play(); }")
    other.wait_for_function(
        "v => v.currentTime > 0.3 && !v.paused && v.videoWidth === 160",
        arg=player.element_handle(),
        timeout=20_000,
    )

    # What the colleague's browser gets holds none of the planted
    # identifiers, and the face is no longer detectable.
    display_url = image.locator("xpath=..").get_attribute("href")
    display = other.request.get(display_url)
    assert display.ok
    assert mf.planted_found(display.body()) == []
    assert detect_faces(Image.open(io.BytesIO(display.body())).convert("RGB")) == []
    clip = other.request.get(player.get_attribute("src"))
    assert clip.ok
    assert mf.planted_found(clip.body(), mf.VIDEO_PLANTED) == []

    # After logging out, the same URL no longer serves anything.
    other.get_by_text("Colin Tester").first.click()
    other.get_by_role("button", name="Log out").click()
    gone = other.request.get(display_url, max_redirects=0)
    assert gone.status == 302
    assert "/accounts/login/" in gone.headers["location"]
    assert csp_errors == [] and other_csp == []


@pytest.fixture
def small_parts(settings):
    """Set before the live server forks, so it uses these too: files over
    5 MiB (S3's smallest part) go up part by part."""
    settings.MEDIA_UPLOAD_PART_BYTES = 5 * MiB


def test_a_large_file_goes_up_in_parts_and_comes_out_clean(
    small_parts, logged_in_page, make_clinician, make_case, tmp_path
):
    owner = make_clinician("petra", first_name="Petra")
    case = make_case(owner)
    # A photo followed by 6 MiB of trailing data naming the patient, which
    # the decoder ignores and the pipeline must drop.
    photo = mf.write_jpeg(tmp_path / "scan.jpg", displayed=mf.quadrants(640, 480))
    trailer = b"Patient John Planted MRN 99887766 " * (6 * MiB // 34)
    photo.write_bytes(photo.read_bytes() + trailer)
    page = logged_in_page(owner)
    csp_errors = _collect_csp_errors(page)
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)

    page.goto(f"/cases/{case.pk}/")
    page.locator("[data-media-drop] input[type=file]").set_input_files(str(photo))

    item = page.locator("[data-media-list] [data-asset]")
    expect(
        page.locator('[data-media-list] [data-status="needs_review"]')
    ).to_have_count(1, timeout=60_000)
    expect(page.locator(".media-upload.is-ok")).to_contain_text("Uploaded")
    # Two parts, sent to S3 directly in scale mode, to the app otherwise.
    assert len(puts) == 2
    if settings.S3_BUCKET:
        assert all(settings.S3_ENDPOINT_URL in url for url in puts)
    else:
        assert all("/media/uploads/" in url for url in puts)
    item.get_by_role("link", name="Review faces").click()
    page.get_by_role("button", name="Blur and release to the case").click()
    expect(item.locator(".pill")).to_have_text("Released", timeout=30_000)
    image = item.locator("img")
    _loaded(image)
    display = page.request.get(image.locator("xpath=..").get_attribute("href"))
    assert display.ok
    assert b"Planted" not in display.body()
    assert csp_errors == []
