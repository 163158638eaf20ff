"""Annotations in a real browser: a box drawn on a photo (and an arrow placed
with the keyboard), a comment pinned to a video time, and one pinned to a
point on a DICOM slice; each drawn for everyone live and opened again from
its chip in the discussion."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from cases.services import dicom as dicom_services
from cases.services import media as media_services
from realtime.models import Message
from tests.fixtures import dicom_factory as dicom_factory
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import accepted_upload

pytestmark = pytest.mark.e2e


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


def _released_upload(case, owner, path):
    item = media_services.case_media_upload(
        case=case, by=owner, upload=accepted_upload(path.read_bytes(), path.name)
    )
    item.refresh_from_db()
    assert item.asset.status == "needs_review", item.asset.status_reason
    # The uploader's face review: nothing to blur, released as it is.
    return media_services.case_media_faces_confirm(item=item, by=owner)


def _send_note(page, text: str) -> None:
    composer = page.get_by_label("Message to # General")
    composer.fill(text)
    composer.press("Enter")


@pytest.fixture
def two_on_a_case(make_clinician, make_case):
    owner = make_clinician("olivia", first_name="Olivia", last_name="Owner")
    colleague = make_clinician("colin", first_name="Colin", last_name="Lab")
    case = make_case(
        owner,
        participants={colleague: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
    )
    return owner, colleague, case


def test_a_box_drawn_on_a_photo_reaches_a_colleague_and_opens_from_its_chip(
    logged_in_page, two_on_a_case, tmp_path
):
    owner, colleague, case = two_on_a_case
    photo = mf.write_jpeg(
        tmp_path / "IMG_0500.jpg", displayed=mf.quadrants(320, 240), orientation=1
    )
    item = _released_upload(case, owner, photo)
    page = logged_in_page(owner)
    other = logged_in_page(colleague)
    csp = _collect_csp_errors(page) + _collect_csp_errors(other)
    other.goto(f"/cases/{case.pk}/")
    expect(other.locator("[data-discussion] [data-status]")).to_have_text("Live")
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    tile = page.locator(f'[data-asset="{item.asset_id}"]')
    _loaded(tile.locator("img"))

    # Draw a box with the pointer, then write the note in the composer.
    tile.get_by_role("button", name="Annotate").click()
    overlay = tile.locator("svg.annot-overlay")
    box = overlay.bounding_box()
    start = (box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3)
    end = (box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    drawn = overlay.locator("[data-annotation-draft] rect.annot__line").bounding_box()
    assert abs(drawn["x"] - start[0]) < 3 and abs(drawn["y"] - start[1]) < 3
    assert abs(drawn["x"] + drawn["width"] - end[0]) < 3
    assert abs(drawn["y"] + drawn["height"] - end[1]) < 3
    tile.get_by_role("button", name="Add a note").click()
    expect(page.locator("[data-composer-anchor]")).to_contain_text(
        "Annotating Image 1 · box"
    )
    _send_note(page, "Irregular border in this quadrant")

    chip = page.locator("[data-messages] [data-anchor-chip]")
    expect(chip).to_have_text("Image 1 · box")
    message = Message.objects.get(body="Irregular border in this quadrant")
    assert message.anchor_media_id == item.pk
    anchor = message.anchor
    assert anchor["shape"] == "box"
    assert anchor["x1"] < anchor["x2"] and anchor["y1"] < anchor["y2"]
    assert page.locator("[data-composer-anchor]").is_hidden()

    # The colleague sees the box over the photo and the chip, live.
    shape = other.locator(
        f'[data-asset="{item.asset_id}"] svg [data-annotation="{message.pk}"]'
    )
    expect(shape).to_have_count(1)
    their_chip = other.locator(f'[data-anchor-chip="{message.pk}"]')
    expect(their_chip).to_have_text("Image 1 · box")
    # Their page was drawn from the same numbers: the box covers the same
    # share of the photo.
    their_overlay = other.locator(f'[data-asset="{item.asset_id}"] svg.annot-overlay')
    their_box = their_overlay.bounding_box()
    their_rect = shape.locator("rect.annot__line").bounding_box()
    assert (
        abs((their_rect["x"] - their_box["x"]) / their_box["width"] - anchor["x1"])
        < 0.15
    )

    # Clicking the chip scrolls to the photo and highlights the region.
    other.mouse.wheel(0, 2000)
    their_chip.click()
    expect(shape).to_have_class(re.compile(r"\bannot--focus\b"))
    expect(their_chip).to_have_class(re.compile(r"\bmsg__anchor--current\b"))
    expect(shape).to_be_in_viewport()

    # Without a pointer: the preset box moves with the arrow keys; an arrow.
    tile.get_by_role("button", name="Annotate").click()
    tile.get_by_label("Arrow").check()
    overlay.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("[data-composer-anchor]")).to_contain_text("Image 1 · arrow")
    _send_note(page, "Points at the centre")
    expect(page.locator("[data-messages] [data-anchor-chip]")).to_have_count(2)
    arrow = Message.objects.get(body="Points at the centre").anchor
    assert arrow == {
        "kind": "region",
        "shape": "arrow",
        "x1": 0.39,
        "y1": 0.35,
        "x2": 0.69,
        "y2": 0.67,
    }
    expect(
        other.locator(f'[data-asset="{item.asset_id}"] svg [data-annotation]')
    ).to_have_count(2)
    assert csp == []


def test_a_comment_pinned_to_a_video_time_seeks_the_video_from_its_chip(
    logged_in_page, two_on_a_case, tmp_path
):
    owner, _colleague, case = two_on_a_case
    clip = mf.write_phone_mp4(tmp_path / "VID_0501.mp4", size=(160, 120), seconds=3.0)
    item = _released_upload(case, owner, clip)
    page = logged_in_page(owner)
    csp = _collect_csp_errors(page)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    tile = page.locator(f'[data-asset="{item.asset_id}"]')
    video = tile.locator("video")
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle())

    video.evaluate("v => { v.currentTime = 1.5; }")
    pin = tile.get_by_role("button", name="Comment at 0:01")
    expect(pin).to_be_visible()
    pin.click()
    expect(page.locator("[data-composer-anchor]")).to_contain_text("Video 1 · 0:01")
    _send_note(page, "The tremor starts here")

    chip = page.locator("[data-messages] [data-anchor-chip]")
    expect(chip).to_have_text("Video 1 · 0:01")
    message = Message.objects.get(body="The tremor starts here")
    assert message.anchor["kind"] == "time"
    assert abs(message.anchor["t"] - 1.5) < 0.05
    # A marker under the video, for everyone (drawn live and after a reload).
    expect(tile.locator(f'.annot-track [data-annotation="{message.pk}"]')).to_have_text(
        "0:01"
    )

    page.reload()
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    video = page.locator(f'[data-asset="{item.asset_id}"] video')
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle())
    video.evaluate("v => { v.currentTime = 0; }")
    page.locator(f'[data-anchor-chip="{message.pk}"]').click()
    page.wait_for_function(
        "v => Math.abs(v.currentTime - 1.5) < 0.1", arg=video.element_handle()
    )
    expect(
        page.locator(f'[data-asset="{item.asset_id}"] .annot-track [data-annotation]')
    ).to_have_class(re.compile(r"\bannot--focus\b"))
    assert csp == []


def test_a_comment_pinned_to_a_dicom_slice_opens_the_viewer_at_that_slice(
    logged_in_page, two_on_a_case, tmp_path
):
    owner, colleague, case = two_on_a_case
    files = [
        (f"IM{index:04d}", str(dicom_factory.write(ds, tmp_path / f"IM{index:04d}")))
        for index, ds in enumerate(dicom_factory.make_ct_series(5, rows=32, cols=32))
    ]
    outcome = dicom_services.case_dicom_upload(case=case, by=owner, files=files)
    (item,) = outcome.items
    item.refresh_from_db()
    assert item.asset.status == "ready", item.asset.status_reason
    media_services.case_media_release(item=item, by=owner)
    page = logged_in_page(owner)
    csp = _collect_csp_errors(page)

    page.goto(f"/cases/{case.pk}/series/{item.asset_id}/?frame=3")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text("Live")
    image = page.locator("[data-dicom-img]")
    _loaded(image)
    page.get_by_role("button", name="Comment on this slice").click()
    expect(
        page.get_by_role("status").filter(has_text="Click the point")
    ).to_be_visible()
    box = image.bounding_box()
    side = min(box["width"], box["height"])
    page.mouse.click(
        box["x"] + box["width"] / 2 + side * 0.25, box["y"] + box["height"] / 2
    )
    expect(page.locator("[data-composer-anchor]")).to_contain_text("CT slice 3")
    # The note passes the PHI gate: held in the composer with its anchor.
    note = "Nodule at the right edge, as Mr John Smith noted"
    _send_note(page, note)
    panel = page.locator("[data-composer-phi]")
    expect(panel.locator(".phi-findings__preview mark")).to_have_text(["John Smith"])
    assert not Message.objects.exists()
    expect(page.locator("[data-composer-anchor]")).to_contain_text("CT slice 3")
    panel.get_by_label(re.compile("Not identifying: keep “John Smith”")).check()
    panel.get_by_role("button", name="Send anyway").click()

    chip = page.locator("[data-messages] [data-anchor-chip]")
    expect(chip).to_have_text("CT slice 3")
    message = Message.objects.get(body=note)
    anchor = message.anchor
    assert anchor["kind"] == "slice" and anchor["frame"] == 3
    assert abs(anchor["x"] - 0.75) < 0.03 and abs(anchor["y"] - 0.5) < 0.03
    pin = page.locator(f'[data-dicom-stage] svg [data-annotation="{message.pk}"]')
    expect(pin).to_have_count(1)

    # Pins belong to their slice; the chip brings the viewer back to it.
    page.locator("[data-dicom-stage]").focus()
    page.keyboard.press("Home")
    expect(page.locator("[data-dicom-current]")).to_have_text("1")
    expect(pin).to_have_count(0)
    chip.click()
    expect(page.locator("[data-dicom-current]")).to_have_text("3")
    expect(pin).to_have_class(re.compile(r"\bannot--focus\b"))

    # A colleague opens it from the discussion on the case page.
    other = logged_in_page(colleague)
    other_csp = _collect_csp_errors(other)
    other.goto(f"/cases/{case.pk}/")
    their_chip = other.locator(f'[data-anchor-chip="{message.pk}"]')
    expect(their_chip).to_have_text("CT slice 3")
    their_chip.click()
    expect(other).to_have_url(re.compile(rf"/series/{item.asset_id}/\?frame=3"))
    expect(other.locator("[data-dicom-current]")).to_have_text("3")
    _loaded(other.locator("[data-dicom-img]"))
    their_pin = other.locator(
        f'[data-dicom-stage] svg [data-annotation="{message.pk}"]'
    )
    expect(their_pin).to_have_class(re.compile(r"\bannot--focus\b"))
    assert csp == [] and other_csp == []
