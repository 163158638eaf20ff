"""A consult end to end in real browsers: a clinician asks, a dermatologist
accepts and answers, and the suggested diagnosis and the votes show up live on
the case pages that are already open (over the case WebSocket)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case
from consults.models import ConsultRequest
from diagnoses.models import Differential
from workspace.models import Specialty

pytestmark = pytest.mark.e2e


def test_clinician_requests_specialist_answers_and_ranking_updates_live(
    logged_in_page, make_clinician, make_case
):
    # Transactional tests flush the specialties the migrations seeded.
    Specialty.objects.get_or_create(name="Dermatology")
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    derm = make_clinician(
        "dora", first_name="Dora", last_name="Derm", specialties=["Dermatology"]
    )
    case = make_case(
        owner, title="Scaly plaques after a sore throat", status=Case.Status.PUBLISHED
    )
    case_url = f"/cases/{case.pk}/"

    # The clinician asks dermatology.
    mine = logged_in_page(owner)
    mine.goto(case_url)
    mine.get_by_role("link", name="Request a consult").click()
    mine.get_by_label("Specialty").select_option(label="Dermatology")
    mine.get_by_label("Question").fill("Guttate psoriasis or pityriasis rosea?")
    mine.get_by_label("Urgent").check()
    expect(mine.locator("#due-default-hint")).to_contain_text("in 24 hours")
    mine.get_by_role("button", name="Send request").click()
    expect(mine.get_by_role("heading", name="Consult: Dermatology")).to_be_visible()
    consult = ConsultRequest.objects.get(case=case)
    assert consult.urgency == "urgent"

    # ...and keeps the case page open.
    mine.goto(case_url)
    panel = mine.locator("#differentials")
    expect(mine.locator("#consults")).to_contain_text("Requested")
    expect(panel).to_contain_text("No diagnoses yet")

    # The dermatologist finds it in the queue, accepts and answers.
    theirs = logged_in_page(derm)
    theirs.goto("/consults/")
    theirs.get_by_role("link", name="Scaly plaques after a sore throat").click()
    theirs.get_by_role("button", name="Accept consult").click()
    theirs.get_by_role("link", name="Write your answer").click()
    theirs.get_by_label("Impression").fill(
        "Guttate psoriasis after streptococcal throat."
    )
    suggestion = theirs.locator(".consult-suggestion").first
    suggestion.get_by_label("Diagnosis").fill("guttate")
    theirs.get_by_role("option", name="L40.4 Guttate psoriasis").click()
    expect(suggestion.get_by_label("ICD-10 code")).to_have_value("L40.4")
    suggestion.get_by_label("Likelihood (0–100)").fill("70")
    theirs.get_by_role("button", name="Send answer").click()
    expect(theirs.get_by_text("Answer sent.")).to_be_visible()

    # The clinician's open page shows the suggestion without a reload.
    row = panel.locator(".dx-item", has_text="Guttate psoriasis")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Proposed by Dora Derm")
    expect(row.locator('[data-dx-stat="mean"]')).to_have_text("70")
    expect(mine.locator("#consults")).to_contain_text("Answered")

    # The specialist, now a consultant, watches the ranking while the
    # clinician votes: the mean and the voter count change live there.
    theirs.goto(case_url)
    their_row = theirs.locator(".dx-item", has_text="Guttate psoriasis")
    expect(their_row.locator('[data-dx-stat="voters"]')).to_have_text("1")
    row.get_by_label("Your likelihood for Guttate psoriasis").fill("90")
    expect(row.locator('[data-dx-stat="mine"]')).to_have_text("90")
    expect(their_row.locator('[data-dx-stat="voters"]')).to_have_text("2")
    expect(their_row.locator('[data-dx-stat="mean"]')).to_have_text("80")
    entry = Differential.objects.get(case=case)
    assert entry.proposed_by == derm
    assert sorted(entry.votes.values_list("likelihood", flat=True)) == [70, 90]


def test_identifiers_in_a_consult_are_listed_and_sent_once_marked_not_identifying(
    logged_in_page, make_clinician, make_case
):
    """The question and the decline reason pass the PHI gate: the form comes
    back with the finding highlighted and a box to mark it not identifying."""
    Specialty.objects.get_or_create(name="Dermatology")
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    derm = make_clinician(
        "dora", first_name="Dora", last_name="Derm", specialties=["Dermatology"]
    )
    case = make_case(
        owner, title="Scaly plaques after a sore throat", status=Case.Status.PUBLISHED
    )

    mine = logged_in_page(owner)
    mine.goto(f"/cases/{case.pk}/consults/new/")
    mine.get_by_label("Specialty").select_option(label="Dermatology")
    mine.get_by_label("Question").fill("Dr House thinks guttate psoriasis: agree?")
    mine.get_by_role("button", name="Send request").click()
    finding = mine.locator('[data-phi-for="question"] .phi-item')
    expect(finding.locator("mark")).to_have_text("House")
    expect(mine.locator(".form-errors")).to_contain_text("not identifying")
    assert not ConsultRequest.objects.exists()

    finding.get_by_label("Not identifying: keep it as written").check()
    mine.get_by_role("button", name="Send request").click()
    expect(mine.get_by_role("heading", name="Consult: Dermatology")).to_be_visible()
    consult = ConsultRequest.objects.get(case=case)
    assert consult.question == "Dr House thinks guttate psoriasis: agree?"

    # The dermatologist declines, naming a colleague: reviewed the same way.
    theirs = logged_in_page(derm)
    theirs.goto(f"/consults/{consult.pk}/")
    theirs.get_by_text("Decline…").click()
    theirs.get_by_label("Reason for declining").fill("Ask Dr Wilson in rheumatology")
    theirs.get_by_role("button", name="Decline consult").click()
    declined = theirs.locator('[data-phi-for="reason"] .phi-item')
    expect(declined.locator("mark")).to_have_text("Wilson")
    consult.refresh_from_db()
    assert consult.status == ConsultRequest.Status.REQUESTED

    declined.get_by_label("Not identifying: keep it as written").check()
    theirs.get_by_role("button", name="Decline consult").click()
    expect(
        theirs.get_by_text("Declined. The requester has been told why.")
    ).to_be_visible()
    consult.refresh_from_db()
    assert consult.status == ConsultRequest.Status.DECLINED
