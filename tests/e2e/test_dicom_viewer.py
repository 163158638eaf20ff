"""Upload a CT series in a real browser, wait for it, and scroll the viewer."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from media_handling import storage as media_storage
from media_handling.models import MediaAsset
from tests.fixtures import dicom_factory as factory

pytestmark = pytest.mark.e2e


def _wait_until_loaded(image) -> None:
    """The frame image finished loading (the frame URL served a PNG). A
    function, not an expression: the page's CSP forbids the eval Playwright
    uses for expressions."""
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_clinician_uploads_a_ct_series_and_scrolls_it(
    logged_in_page, make_clinician, make_case, tmp_path
):
    owner = make_clinician()
    case = make_case(owner)
    files = [
        str(factory.write(ds, tmp_path / f"IM{index:04d}"))
        for index, ds in enumerate(factory.make_ct_series(5, rows=32, cols=32))
    ]
    page = logged_in_page(owner)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )

    # Several files are packed into one zip in the browser and grouped into
    # one series on the server.
    page.goto(f"/cases/{case.pk}/studies/upload/")
    page.get_by_label("DICOM files or a zip archive").set_input_files(files)
    expect(page.get_by_text("5 files")).to_be_visible()
    page.get_by_role("button", name="Upload and de-identify").click()
    results = page.locator("[data-dicom-series] li")
    expect(page.locator("[data-dicom-error]")).to_be_hidden()
    # De-identifying and rendering runs in the request (the immediate task
    # backend); on S3 that is a few dozen object writes.
    expect(results).to_have_count(1, timeout=60_000)
    expect(results.first).to_have_attribute("data-status", "ready")
    expect(results.first).to_contain_text("CT series, 5 images")
    results.first.get_by_role("link", name="Open viewer").click()

    expect(page.get_by_role("heading", name="CT series, 5 images")).to_be_visible()
    stage = page.locator("[data-dicom-stage]")
    image = page.locator("[data-dicom-img]")
    counter = page.locator("[data-dicom-current]")
    expect(counter).to_have_text("1")
    expect(image).to_have_attribute("src", re.compile(r"/frames/1\.png"))
    _wait_until_loaded(image)
    patient_row = page.get_by_role("row", name=re.compile("^Patient's Name"))
    expect(patient_row).to_contain_text("ANONYMOUS")

    # The mouse wheel moves one slice per notch.
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 40)
    expect(counter).to_have_text("2")
    expect(image).to_have_attribute("src", re.compile(r"/frames/2\.png"))
    page.mouse.wheel(0, 80)
    expect(counter).to_have_text("4")

    # Arrow keys, on the focused stage.
    stage.focus()
    page.keyboard.press("ArrowDown")
    expect(counter).to_have_text("5")
    expect(image).to_have_attribute("src", re.compile(r"/frames/5\.png"))
    page.keyboard.press("ArrowDown")  # already the last slice
    expect(counter).to_have_text("5")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(counter).to_have_text("3")
    expect(page.get_by_text("Frame 3 of 5").first).to_be_visible()
    _wait_until_loaded(image)

    # The link to this slice, and the address bar, follow the frame.
    share = page.locator("[data-dicom-share]")
    expect(share).to_have_value(re.compile(rf"/cases/{case.pk}/series/\d+/\?frame=3$"))
    assert page.url.endswith("?frame=3")

    # Window presets re-render the same slice.
    page.get_by_label("Window").select_option(label="Lung")
    expect(image).to_have_attribute("src", re.compile(r"/frames/3\.png\?v=.*&preset="))
    _wait_until_loaded(image)

    # A pasted link opens the series at its slice.
    page.goto(share.input_value())
    expect(page.locator("[data-dicom-current]")).to_have_text("3")
    assert csp_errors == []


def test_uploader_masks_burned_in_text_on_an_ultrasound_clip_and_releases_it(
    logged_in_page, make_clinician, make_case, tmp_path
):
    owner = make_clinician()
    case = make_case(owner)
    clip = factory.write(
        factory.make_ultrasound(frames=3, rows=48, cols=64), tmp_path / "US1"
    )
    page = logged_in_page(owner)

    page.goto(f"/cases/{case.pk}/studies/upload/")
    page.get_by_label("DICOM files or a zip archive").set_input_files(str(clip))
    page.get_by_role("button", name="Upload and de-identify").click()
    result = page.locator("[data-dicom-series] li")
    expect(result).to_have_attribute("data-status", "needs_review", timeout=60_000)
    result.get_by_role("link", name="Review burned-in text").click()

    # Draw a box across the top of the frame with the mouse.
    stage = page.locator("[data-dicom-review-stage]")
    _wait_until_loaded(page.locator("[data-dicom-review-img]"))
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5)
    page.mouse.up()
    expect(page.locator("[data-dicom-rects] li")).to_have_count(1)
    expect(page.locator(".dicom-rect")).to_have_count(1)

    page.get_by_role("button", name="Black out on every frame").click()
    expect(page.locator("[data-dicom-review-status]")).to_contain_text("every frame")
    expect(page.locator("[data-dicom-masks]")).to_contain_text("Every frame: 1 box")
    expect(page.locator("[data-dicom-rects] li")).to_have_count(0)
    # The preview reloads from the rewritten pixels: the box is black there
    # and in every stored frame.
    image = page.locator("[data-dicom-review-img]")
    _wait_until_loaded(image)
    asset = MediaAsset.objects.get(case_links__case=case)
    x, y, w, h = asset.metadata["masks"][0]["rects"][0]
    assert w > 10 and h > 5
    for index in range(3):
        png = media_storage.read_bytes(asset.rendition_name(f"frame.{index}"))
        pixels = np.asarray(Image.open(io.BytesIO(png)))
        assert (pixels[y : y + h, x : x + w] == 0).all()
        assert pixels[y + h :].any()

    page.get_by_label("I have looked at every frame").check()
    page.get_by_role("button", name="Release to the case").click()
    expect(page.locator("[data-dicom-current]")).to_have_text("1")
    expect(page.get_by_text("Released: everyone on the case")).to_be_visible()
