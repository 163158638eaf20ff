"""Confirm and Rule out with JavaScript on (issue 15): the decision forms hold
an input named ``action``, which shadows ``form.action``; the script must post
to the form's own URL, not to ``/cases/<id>/[object HTMLInputElement]``."""

import pytest
from playwright.sync_api import expect

from cases.models import Case
from diagnoses import services as dx
from diagnoses.models import Differential

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_confirm_and_rule_out_post_by_fetch_to_the_forms_own_url(
    logged_in_page, make_clinician, make_case
):
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    case = make_case(
        owner, title="Fever and a new murmur", status=Case.Status.PUBLISHED
    )
    endo = dx.differential_add(case=case, by=owner, label="Infective endocarditis")
    rheum = dx.differential_add(case=case, by=owner, label="Acute rheumatic fever")

    page = logged_in_page(owner)
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url, r.resource_type)))
    page.goto(f"/cases/{case.pk}/")
    # Survives only while the page is not reloaded: the script did the posting.
    page.evaluate("window.__notReloaded = true")
    panel = page.locator("#differentials")

    endo_row = panel.locator(".dx-item", has_text="Infective endocarditis")
    endo_row.get_by_text("Confirm…").click()
    endo_row.get_by_role("button", name="Confirm Infective endocarditis").click()
    expect(endo_row.locator(".pill--confirmed")).to_be_visible()

    rheum_row = panel.locator(".dx-item", has_text="Acute rheumatic fever")
    rheum_row.get_by_text("Rule out…").click()
    rheum_row.get_by_role("button", name="Rule out Acute rheumatic fever").click()
    expect(rheum_row.locator(".pill--ruled_out")).to_be_visible()

    assert page.evaluate("window.__notReloaded") is True
    endo.refresh_from_db()
    rheum.refresh_from_db()
    assert endo.status == Differential.Status.CONFIRMED
    assert rheum.status == Differential.Status.RULED_OUT

    posts = [(url, kind) for method, url, kind in requests if method == "POST"]
    decide = [f"/cases/{case.pk}/differentials/{d.pk}/" for d in (endo, rheum)]
    assert [kind for _, kind in posts] == ["fetch", "fetch"]
    assert all(any(p in url for p in decide) for url, _ in posts), posts
    assert not [url for _, url, _ in requests if "object" in url]

    # After a reload the server-rendered list shows the same decisions.
    page.reload()
    expect(endo_row.locator(".pill--confirmed")).to_be_visible()
    expect(rheum_row.locator(".pill--ruled_out")).to_be_visible()


def test_a_refresh_keeps_what_is_typed_and_the_findings_being_answered(
    logged_in_page, make_clinician, make_case
):
    """The list is re-fetched whenever anyone changes it (or a late frame
    arrives); a form the user is filling in, or whose PHI findings they are
    answering, is carried over rather than wiped."""
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    case = make_case(
        owner, title="Fever and a new murmur", status=Case.Status.PUBLISHED
    )
    dx.differential_add(case=case, by=owner, label="Infective endocarditis")
    page = logged_in_page(owner)
    page.goto(f"/cases/{case.pk}/")
    entry = page.locator(".dx-item", has_text="Infective endocarditis")
    entry.get_by_text("Rule out…").click()
    rule_out = entry.locator("form", has=page.locator('input[value="rule_out"]'))
    reason = rule_out.get_by_label("Why (optional)")
    reason.fill("Cultures negative")

    page.evaluate("window.ConsiliumClinical.panels[0].refresh()")
    page.wait_for_load_state("networkidle")

    expect(reason).to_have_value("Cultures negative")
    reason.fill("Cultures negative, says Dr House")
    rule_out.get_by_role("button", name="Rule out Infective endocarditis").click()
    expect(rule_out.locator(".phi-item mark")).to_have_text("House")

    page.evaluate("window.ConsiliumClinical.panels[0].refresh()")
    page.wait_for_load_state("networkidle")

    expect(rule_out.locator(".phi-item mark")).to_have_text("House")
    rule_out.get_by_label("Not identifying: keep it as written").check()
    rule_out.get_by_role("button", name="Rule out Infective endocarditis").click()
    expect(entry.locator(".pill--ruled_out")).to_be_visible()
    assert Differential.objects.get().status == "ruled_out"
