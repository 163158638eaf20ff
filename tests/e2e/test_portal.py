"""The whole patient → clinician → differential path in real browsers.

A patient on a phone-sized screen sends a video and a TikTok link; the
clinician's inbox shows them arriving live; the clinician rates the video
and attaches it to a differential; the patient's page shows the new status
without a reload; the patient then withdraws it and the colleague's open
case page shows the tombstone in its place.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from diagnoses.models import Differential
from media_handling.models import MediaAsset
from portal.models import FindingLink, Submission
from tests.fixtures import media_factory as mf
from tests.fixtures.submissions import TIKTOK

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# Live updates cross a WebSocket and, for files, the media pipeline: allow
# for a loaded machine.
LIVE = 15_000


@pytest.fixture
def uploads_through_the_app(settings):
    # The live server is forked after this runs, so it inherits the setting.
    # In S3 mode the browser would otherwise PUT parts to the moto server,
    # which the page's CSP (connect-src 'self' https:) rightly refuses over
    # plain http; direct-to-S3 sessions are covered in tests/portal/test_portal.py.
    settings.MEDIA_DIRECT_UPLOADS = False


def send(page, description: str) -> None:
    page.get_by_label("What did you notice, and when?").fill(description)
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Send to my clinician").click()


def test_patient_sends_video_and_tiktok_clinician_attaches_patient_sees_it(
    uploads_through_the_app,
    logged_in_page,
    make_clinician,
    make_patient,
    make_case,
    tmp_path,
):
    doc = make_clinician("doc", first_name="Dana", last_name="Ortiz")
    pat = make_patient("pat", clinician=doc)
    colleague = make_clinician("colleague")
    case = make_case(
        doc, title="Itchy rash on both forearms", participants={colleague: "viewer"}
    )
    Differential.objects.create(case=case, label="Contact dermatitis", proposed_by=doc)
    clip = mf.write_phone_mp4(tmp_path / "IMG_0042.mp4")

    # A colleague has the case page open throughout.
    watcher = logged_in_page(colleague)
    watcher.goto(f"/cases/{case.pk}/")
    expect(watcher.get_by_text("Contact dermatitis").first).to_be_visible()

    clinician = logged_in_page(doc)
    clinician.goto("/inbox/")
    expect(clinician.get_by_role("heading", name="Inbox")).to_be_visible()

    patient = logged_in_page(pat, viewport=PHONE)
    # A flaky connection: the first two attempts at the first part fail.
    patient.add_init_script("window.ConsiliumUploads = {retryDelays: [200]};")
    attempts = []

    def flaky(route):
        attempts.append(route.request.url)
        if len(attempts) <= 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    patient.route("**/media/uploads/*/parts/*/", flaky)
    patient.goto("/")
    expect(
        patient.get_by_role("heading", name="Send something to your clinician")
    ).to_be_visible()

    # Two large buttons, both at least 48 px tall and within the screen.
    take = patient.locator("label.pick-btn", has_text="Take photo or video")
    choose = patient.locator("label.pick-btn", has_text="Choose from library")
    for button in (take, choose):
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    camera = patient.get_by_label("Take photo or video")
    expect(camera).to_have_attribute("capture", "environment")
    expect(camera).to_have_attribute("accept", "image/*,video/*")
    # The consent is a few sentences; the rest waits behind a disclosure.
    expect(patient.locator("label[for=id_consent]")).to_contain_text(
        "withdraw it at any time"
    )
    more = patient.locator("details.privacy-more")
    expect(more).not_to_have_attribute("open", "")
    expect(more.locator("li").first).to_be_hidden()
    more.locator("summary").click()
    expect(more.locator("li").first).to_be_visible()

    # The video: picked from the library and uploaded in parts; one automatic
    # retry fails too, so the upload pauses with a clear way to resume, then
    # completes.
    patient.get_by_label("Choose from library").set_input_files(str(clip))
    expect(patient.locator("[data-upload-status]")).to_contain_text(
        "The upload paused", timeout=LIVE
    )
    patient.get_by_role("button", name="Retry upload").click()
    expect(patient.locator("[data-upload-status]")).to_contain_text(
        "Uploaded", timeout=LIVE
    )
    assert len(attempts) == 3
    send(patient, "The rash on my arm after gardening, filmed on Sunday")
    item = patient.locator(".sub", has_text="after gardening")
    expect(item).to_be_visible()
    expect(item.locator("[data-status-label]")).to_have_text("Submitted")

    # The clinician's inbox shows it without a reload.
    expect(clinician.locator("[data-inbox-list]")).to_contain_text(
        "after gardening", timeout=LIVE
    )

    # The camera button feeds the same upload; "Remove file" empties both.
    camera.set_input_files(str(mf.write_jpeg(tmp_path / "IMG_0043.jpg")))
    expect(patient.locator("[data-upload-status]")).to_contain_text(
        "Uploaded IMG_0043.jpg", timeout=LIVE
    )
    assert patient.locator("input[name=asset]").input_value()
    patient.get_by_role("button", name="Remove file").click()
    expect(patient.locator("[data-upload]")).to_be_hidden()
    assert patient.locator("input[name=asset]").input_value() == ""

    # The TikTok: checked live and shown as a card before sending.
    patient.get_by_label("Link to a post or video").fill(TIKTOK)
    expect(patient.locator("[data-link-status]")).to_contain_text(
        "TikTok link recognised"
    )
    expect(patient.locator("[data-link-card] .link-card")).to_contain_text(
        "tiktok.com/embed/v2/7301234567890123456"
    )
    expect(patient.locator("[data-link-card] .link-card")).not_to_contain_text(
        "derm.clips"
    )
    send(patient, "This TikTok looks exactly like me #eczema")
    expect(patient.locator(".sub", has_text="looks exactly like me")).to_be_visible()
    expect(clinician.locator("[data-inbox-list]")).to_contain_text(
        "looks exactly like me", timeout=LIVE
    )
    expect(clinician.locator("[data-toasts]")).to_contain_text("New from Pat Pat")

    # The clinician rates the video and attaches it to the differential.
    video = Submission.objects.get(description__contains="after gardening")
    clinician.locator(f'a[href="/inbox/{video.pk}/"]').click()
    expect(clinician.locator("video")).to_be_visible()
    expect(clinician.get_by_text("Consent given")).to_be_visible()
    clinician.get_by_label("Credible", exact=True).check()
    clinician.get_by_label("Why (for you only)").fill("Clear video, typical pattern")
    clinician.get_by_role("button", name="Save rating").click()
    expect(clinician.get_by_text("Rating saved.")).to_be_visible()
    clinician.get_by_label("Differential", exact=True).select_option(
        label="Contact dermatitis"
    )
    clinician.get_by_label("Supports", exact=True).check()
    clinician.get_by_label("Note for the case").fill("Linear vesicles after gardening")
    clinician.get_by_role("button", name="Attach").click()
    expect(clinician.get_by_role("heading", name="Attached to")).to_be_visible(
        timeout=LIVE
    )
    expect(clinician.locator("[data-review-status]")).to_have_text("Added to a case")

    # The patient sees the new status arrive, without reloading.
    expect(item.locator("[data-status-label]")).to_have_text(
        "Added to a case", timeout=LIVE
    )
    expect(patient.locator(".sub", has_text="looks exactly like me")).to_contain_text(
        "Submitted"
    )

    finding = FindingLink.objects.get(submission=video)
    assert finding.relation == "supports"
    assert finding.asset is not None and finding.asset_id != video.asset_id

    # The colleague's open case page shows the finding under the entry, live,
    # but not its video until the clinician has reviewed the faces in it.
    finding_row = watcher.locator(
        ".finding", has_text="Linear vesicles after gardening"
    )
    expect(finding_row).to_be_visible(timeout=LIVE)
    expect(finding_row.locator("img")).to_have_count(0)
    clinician.reload()
    clinician.get_by_role("link", name="review it before the case sees it").click()
    clinician.get_by_role("button", name="Blur and release to the case").click()

    # Released: the de-identified video reaches the open page live; nothing
    # names the patient.
    expect(finding_row.locator("img")).to_be_visible(timeout=LIVE)
    expect(watcher.locator("main")).not_to_contain_text(pat.display_name)
    expect(watcher.locator("main")).not_to_contain_text("after gardening, filmed")

    # The patient withdraws the attached video: the colleague's open page
    # shows the tombstone in its place, live, and the case copy is gone.
    copy_id = finding.asset_id
    item.locator("summary", has_text="Withdraw").click()
    expect(item).to_contain_text("every copy there is removed at once")
    item.get_by_role("button", name="Withdraw this submission").click()
    expect(patient.locator(".flash--success")).to_contain_text(
        "any copy shared on a case discussion"
    )
    tombstone = watcher.locator(".finding--withdrawn")
    expect(tombstone).to_contain_text("Withdrawn by the patient", timeout=LIVE)
    expect(finding_row).to_have_count(0)
    expect(watcher.locator("main")).not_to_contain_text("Linear vesicles")
    assert not MediaAsset.objects.filter(pk=copy_id).exists()
