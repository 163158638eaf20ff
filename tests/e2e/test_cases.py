"""A clinician takes a case from draft to published; a colleague finds it."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_draft_phi_warning_fix_publish_and_colleague_finds_it(
    logged_in_page, make_clinician
):
    author = make_clinician("author", first_name="Ada", last_name="Author")
    colleague = make_clinician("colleague")
    page = logged_in_page(author)

    # Start a case; the draft autosaves and the scanner flags the name and date.
    page.goto("/cases/new/")
    page.get_by_label("Title").fill("Annular rash after a woodland walk")
    page.get_by_label("Specialty").select_option(label="Dermatology")
    page.get_by_label("Age band").select_option("30–39")
    page.get_by_label("Presenting complaint").fill(
        "An expanding red ring on the thigh."
    )
    page.get_by_label("History").fill(
        "Seen by Dr Patel on 12/03/2024 after a tick bite."
    )

    history = page.locator('[data-phi-for="history"]')
    expect(history.locator("mark").first).to_have_text("Patel")
    expect(history).to_contain_text("Looks like a person's name")
    expect(history).to_contain_text("Looks like a date more specific than a year")
    expect(page.locator("[data-autosave-status]")).to_contain_text("Draft saved")
    expect(page).to_have_url(re.compile(r"/cases/\d+/edit/$"))
    draft = Case.objects.get(title="Annular rash after a woodland walk")
    assert draft.status == Case.Status.DRAFT
    assert "Patel" in draft.history

    # Publishing now is refused: the warnings are still open.
    page.get_by_label("Community — every verified clinician").check()
    page.get_by_label("I attest that this case is de-identified.").check()
    page.get_by_role("button", name="Publish case").click()
    expect(page.get_by_role("alert")).to_contain_text("must be removed or marked")
    expect(page.locator('[data-phi-for="history"] mark').first).to_have_text("Patel")

    # Fix the text; the warnings go away as the draft saves.
    page.get_by_label("History").fill("Seen in clinic last spring after a tick bite.")
    expect(page.locator('[data-phi-for="history"] .phi-item')).to_have_count(0)
    expect(page.locator("[data-phi-summary]")).to_have_text(
        "No identifiers found in the text."
    )
    page.get_by_label("I attest that this case is de-identified.").check()
    page.get_by_role("button", name="Publish case").click()

    expect(
        page.get_by_role("heading", name="Annular rash after a woodland walk")
    ).to_be_visible()
    expect(page.locator(".case-badges")).to_contain_text("Published")
    draft.refresh_from_db()
    assert draft.status == Case.Status.PUBLISHED
    assert draft.attested_by == author

    # A second clinician finds it in the community feed by searching.
    other = logged_in_page(colleague)
    other.goto("/cases/?feed=community")
    other.get_by_role("searchbox", name="Search").fill("woodland")
    other.get_by_role("button", name="Search").click()
    other.get_by_role("link", name="Annular rash after a woodland walk").click()
    expect(
        other.get_by_role("heading", name="Annular rash after a woodland walk")
    ).to_be_visible()
    expect(other.locator("#section-history")).to_contain_text("last spring")


def test_differential_with_an_identifier_is_dismissed_then_confirmed_and_ruled_out(
    logged_in_page, make_clinician, make_case
):
    """The panel lists PHI findings inline, resends with the dismissal, and its
    Confirm and Rule out forms post to their own URL (an input named
    ``action`` once shadowed ``form.action``)."""
    from diagnoses import services as dx
    from diagnoses.models import Differential

    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    case = make_case(
        owner, title="Scaly plaques after a sore throat", status=Case.Status.PUBLISHED
    )
    dx.differential_add(case=case, by=owner, label="Pityriasis rosea")
    page = logged_in_page(owner)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#differentials")
    expect(panel.locator(".dx-item", has_text="Pityriasis rosea")).to_be_visible()

    # A label with a name in it: refused, the finding listed in the form.
    page.get_by_text("Propose a diagnosis").click()
    add = panel.locator("form[data-dx-form=add]")
    add.get_by_label("Diagnosis").fill("Guttate psoriasis per Dr House")
    add.get_by_role("button", name="Add to the list").click()
    finding = add.locator(".phi-item")
    expect(finding.locator("mark")).to_have_text("House")
    expect(add.locator("[data-dx-errors]")).to_contain_text("not identifying")
    assert not Differential.objects.filter(label__startswith="Guttate").exists()

    # Ticked as not identifying and sent again: it joins the list.
    finding.get_by_label("Not identifying: keep it as written").check()
    add.get_by_role("button", name="Add to the list").click()
    guttate = panel.locator(".dx-item", has_text="Guttate psoriasis per Dr House")
    expect(guttate).to_be_visible()
    expect(add.locator(".phi-item")).to_have_count(0)

    # Rule out the other entry, with a reason that needs a dismissal too.
    rosea = panel.locator(".dx-item", has_text="Pityriasis rosea")
    rosea.get_by_text("Rule out…").click()
    rule_out = rosea.locator("form", has=page.locator('input[value="rule_out"]'))
    rule_out.get_by_label("Why (optional)").fill("No herald patch, says Dr House")
    rule_out.get_by_role("button", name="Rule out Pityriasis rosea").click()
    expect(rule_out.locator(".phi-item mark")).to_have_text("House")
    rule_out.get_by_label("Not identifying: keep it as written").check()
    rule_out.get_by_role("button", name="Rule out Pityriasis rosea").click()
    expect(rosea.locator(".pill--ruled_out")).to_be_visible()

    # Confirm the new entry.
    guttate.get_by_text("Confirm…").click()
    guttate.get_by_role("button", name="Confirm Guttate psoriasis per Dr House").click()
    expect(guttate.locator(".pill--confirmed")).to_be_visible()
    expect(panel.locator("[data-dx-final-label]")).to_have_text(
        "Guttate psoriasis per Dr House"
    )
    statuses = dict(Differential.objects.values_list("label", "status"))
    assert statuses == {
        "Pityriasis rosea": "ruled_out",
        "Guttate psoriasis per Dr House": "confirmed",
    }
