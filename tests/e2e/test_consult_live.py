"""The case page follows consults and the outcome live (issue 14): a viewer
with the page open sees a specialist's answer appear inline in the consult
panel, then the case resolved (status pill, final diagnosis, "Resolved
<date>"), without reloading."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from consults import services as consults
from consults.models import ConsultRequest
from tests.e2e.test_accessibility import AXE_JS, AXE_SOURCE, AXE_TAGS
from workspace.models import Specialty

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_viewer_sees_a_consult_answer_and_the_resolution_without_reload(
    logged_in_page, make_clinician, make_case
):
    # Transactional tests flush the specialties the migrations seeded.
    Specialty.objects.get_or_create(name="Dermatology")
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    viewer = make_clinician("vera", first_name="Vera", last_name="View")
    derm = make_clinician(
        "dora", first_name="Dora", last_name="Derm", specialties=["Dermatology"]
    )
    case = make_case(
        owner,
        title="Target lesions on the palms",
        status=Case.Status.PUBLISHED,
        participants={viewer: CaseParticipant.Role.VIEWER},
    )
    consult = consults.consult_request(
        case=case,
        by=owner,
        question="Erythema multiforme or urticaria?",
        specialty=Specialty.objects.get(name="Dermatology"),
    )
    consults.consult_accept(consult=consult, by=derm)
    case_url = f"/cases/{case.pk}/"

    # B, a viewer, has the case page open.
    watcher = logged_in_page(viewer)
    watcher.goto(case_url)
    expect(watcher.locator("[data-discussion] [data-status]")).to_have_text(
        "Live", timeout=20000
    )
    watcher.evaluate("window.__notReloaded = true")
    panel = watcher.locator("#consults")
    item = panel.locator(f'[data-consult-id="{consult.pk}"]')
    expect(item.locator("[data-consult-status]")).to_have_text("Accepted")
    expect(item.locator("[data-consult-answer]")).to_have_count(0)

    # A, the dermatologist, answers through the consult page.
    specialist = logged_in_page(derm)
    specialist.goto(f"/consults/{consult.pk}/")
    specialist.get_by_role("link", name="Write your answer").click()
    specialist.get_by_label("Impression").fill(
        "Erythema multiforme, **HSV-associated** most likely."
    )
    specialist.get_by_role("button", name="Send answer").click()
    expect(specialist.get_by_text("Answer sent.")).to_be_visible()

    # B sees it inline: status, author, specialty and the rendered body.
    expect(item.locator("[data-consult-status]")).to_have_text("Answered")
    answer = item.locator("[data-consult-answer]")
    expect(answer.locator("[data-consult-answer-author]")).to_have_text("Dora Derm")
    expect(answer.locator("[data-consult-answer-specialty]")).to_have_text(
        "Dermatology"
    )
    expect(answer.locator("[data-consult-answer-body] strong")).to_have_text(
        "HSV-associated"
    )
    watcher.evaluate(AXE_SOURCE)
    assert watcher.evaluate(AXE_JS, AXE_TAGS) == []

    # The owner resolves the case from their page.
    mine = logged_in_page(owner)
    mine.goto(case_url)
    resolve = mine.locator("[data-case-resolve]")
    resolve.get_by_label("Final diagnosis").fill("Erythema multiforme")
    resolve.get_by_role("button", name="Mark resolved").click()
    expect(mine.locator("[data-case-status-pill]")).to_have_text("Resolved")

    # B follows: pill, outcome and its date, still on the same page.
    expect(watcher.locator("[data-case-status-pill]")).to_have_text("Resolved")
    outcome = watcher.locator("[data-case-outcome]")
    expect(outcome).to_be_visible()
    expect(outcome.locator("[data-case-outcome-dx]")).to_have_text(
        "Erythema multiforme"
    )
    case.refresh_from_db()
    day = timezone.localtime(case.resolved_at).strftime("%-d %b %Y")
    expect(outcome.locator("[data-case-outcome-date]")).to_have_text(f"Resolved {day}")
    assert watcher.evaluate("window.__notReloaded") is True
    assert ConsultRequest.objects.get(pk=consult.pk).status == "answered"
    assert case.status == Case.Status.RESOLVED


def test_an_older_panel_response_arriving_last_is_dropped(
    logged_in_page, make_clinician, make_case
):
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    case = make_case(owner, title="Itchy wrists", status=Case.Status.PUBLISHED)
    page = logged_in_page(owner)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#consults")).to_contain_text("No consults yet")

    # Two re-fetches whose responses are released newest first.
    shown = page.evaluate(
        """async () => {
          const panel = window.ConsiliumClinical.consultPanels[0];
          const held = [];
          const realFetch = window.fetch;
          window.fetch = () => new Promise((resolve) => held.push(resolve));
          const first = panel.refresh();
          const second = panel.refresh();
          window.fetch = realFetch;
          held[1](new Response("<p data-which>second</p>"));
          await second;
          held[0](new Response("<p data-which>first</p>"));
          await first;
          return panel.live.querySelector("[data-which]").textContent;
        }"""
    )

    assert shown == "second"
    expect(page.locator("#consults [data-which]")).to_have_text("second")
