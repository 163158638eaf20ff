"""Independent differentials in the browser: three clinicians record their
own likelihoods blind, submit, see the consensus; the owner reveals it; a
resolved case is scored and the calibration plot shows on the track record."""

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseParticipant
from diagnoses import services as dx
from diagnoses.models import DiagnosisScore, DifferentialRound
from workspace.models import Specialty

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Role = CaseParticipant.Role


@pytest.fixture
def trio(make_clinician, make_case):
    ana = make_clinician("ana", first_name="Ana", last_name="Owner")
    ben = make_clinician("ben", first_name="Ben", last_name="Second")
    cy = make_clinician("cy", first_name="Cy", last_name="Third")
    outsider = make_clinician("oz", first_name="Oz", last_name="Outside")
    case = make_case(
        ana,
        title="Scaly plaques on the elbows and knees",
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        independent=True,
        specialty=Specialty.objects.get(name="Dermatology"),
        participants={ben: Role.COLLABORATOR, cy: Role.COLLABORATOR},
    )
    dx.differential_add(case=case, by=ana, label="Plaque psoriasis", likelihood=70)
    dx.differential_add(case=case, by=ana, label="Nummular eczema", likelihood=20)
    return type(
        "Trio", (), {"case": case, "ana": ana, "ben": ben, "cy": cy, "oz": outsider}
    )


def _open(logged_in_page, user, case):
    page = logged_in_page(user)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("[data-discussion] [data-status]")).to_have_text(
        "Live", timeout=20000
    )
    return page, page.locator("#differentials")


def _rate(panel, label, value):
    row = panel.locator(".dx-item", has_text=label)
    row.get_by_label(f"Your likelihood for {label}").fill(str(value))
    expect(row.locator('[data-dx-stat="mine"]')).to_have_text(str(value))
    return row


def test_independent_round_with_three_clinicians(logged_in_page, trio):
    ana, ana_panel = _open(logged_in_page, trio.ana, trio.case)
    _, ben_panel = _open(logged_in_page, trio.ben, trio.case)
    _, cy_panel = _open(logged_in_page, trio.cy, trio.case)

    # Nobody has submitted: everyone sees the labels, nobody the numbers.
    for panel in (ana_panel, ben_panel, cy_panel):
        expect(panel.locator("[data-dx-hidden]")).to_contain_text(
            "their likelihoods are hidden"
        )
        expect(panel.locator(".dx-item")).to_have_count(2)
        expect(panel.locator('[data-dx-stat="mean"]')).to_have_count(0)
    expect(ben_panel.locator(".dx-item", has_text="Plaque psoriasis")).to_contain_text(
        "hidden until you submit"
    )

    # Ben rates and submits: he sees the consensus and the pooled ranking.
    _rate(ben_panel, "Plaque psoriasis", 40)
    _rate(ben_panel, "Nummular eczema", 50)
    ben_panel.get_by_role("button", name="Submit my differential").click()
    expect(ben_panel.locator("[data-dx-submitted]")).to_be_visible()
    ben_psoriasis = ben_panel.locator(".dx-item", has_text="Plaque psoriasis")
    expect(ben_psoriasis.locator('[data-dx-stat="mean"]')).to_have_text("55")
    expect(ben_psoriasis.locator('[data-dx-stat="voters"]')).to_have_text("2")
    expect(ben_psoriasis.locator('[data-dx-stat="pooled"]')).to_contain_text("1 pts")

    # Cy hears of it live but still sees no numbers; his own rating shows.
    expect(cy_panel.locator("[data-dx-rounds]")).to_have_text(
        "1 differential submitted."
    )
    expect(cy_panel.locator('[data-dx-stat="mean"]')).to_have_count(0)
    _rate(cy_panel, "Plaque psoriasis", 90)
    expect(cy_panel.locator('[data-dx-stat="mean"]')).to_have_count(0)
    # Ben, who submitted, follows Cy's vote live.
    expect(ben_psoriasis.locator('[data-dx-stat="voters"]')).to_have_text("3")
    cy_panel.get_by_role("button", name="Submit my differential").click()
    cy_psoriasis = cy_panel.locator(".dx-item", has_text="Plaque psoriasis")
    expect(cy_psoriasis.locator('[data-dx-stat="mean"]')).to_have_text("66.7")
    expect(cy_psoriasis.locator('[data-dx-stat="spread"]')).to_contain_text("±")
    expect(cy_panel.locator("[data-dx-rounds]")).to_have_text(
        "2 differentials submitted."
    )

    # Ana, the owner, has not submitted: still blind until she reveals.
    expect(ana_panel.locator("[data-dx-rounds]")).to_have_text(
        "2 differentials submitted."
    )
    expect(ana_panel.locator('[data-dx-stat="mean"]')).to_have_count(0)
    ana.on("dialog", lambda dialog: dialog.accept())
    ana_panel.get_by_role("button", name="Reveal consensus").click()
    ana_psoriasis = ana_panel.locator(".dx-item", has_text="Plaque psoriasis")
    expect(ana_psoriasis.locator('[data-dx-stat="mean"]')).to_have_text("66.7")
    expect(ana_panel.locator("[data-dx-shown]")).to_contain_text("revealed")

    rounds = {
        r.voter.username: r.likelihoods
        for r in DifferentialRound.objects.select_related("voter")
    }
    assert set(rounds) == {"ben", "cy"}
    assert sorted(rounds["ben"].values()) == [40, 50]
    assert list(rounds["cy"].values()) == [90]


def test_resolved_case_is_scored_and_the_plot_is_visible(logged_in_page, trio):
    ben, ben_panel = _open(logged_in_page, trio.ben, trio.case)
    _rate(ben_panel, "Plaque psoriasis", 80)
    _rate(ben_panel, "Nummular eczema", 10)
    ben_panel.get_by_role("button", name="Submit my differential").click()
    expect(ben_panel.locator("[data-dx-submitted]")).to_be_visible()

    # A non-participant sees why they cannot vote and asks to join.
    oz, oz_panel = _open(logged_in_page, trio.oz, trio.case)
    expect(oz_panel.locator("[data-dx-join]")).to_contain_text(
        "You can read this case but not vote"
    )
    oz_panel.get_by_label("Message to the owner").fill("I run a psoriasis clinic")
    oz_panel.get_by_role("button", name="Ask to join").click()
    expect(oz_panel.locator("[data-dx-join-asked]")).to_be_visible()

    # Ana resolves, linking the final diagnosis to the differential entry.
    ana, _ = _open(logged_in_page, trio.ana, trio.case)
    resolve = ana.locator("[data-case-resolve]")
    resolve.get_by_label("Confirmed diagnosis on the differential").select_option(
        label="Plaque psoriasis"
    )
    resolve.get_by_role("button", name="Mark resolved").click()
    expect(ana.locator("[data-case-status-pill]")).to_have_text("Resolved")

    # Everyone on the case sees it live, without reloading.
    for page in (ben, oz):
        expect(page.locator("[data-case-status-pill]")).to_have_text("Resolved")
        expect(page.locator("[data-case-outcome-dx]")).to_have_text("Plaque psoriasis")
        expect(page.locator("#differentials .pill--confirmed")).to_be_visible()
    expect(oz_panel.locator('[data-dx-stat="mean"]').first).to_be_visible()

    score = DiagnosisScore.objects.get(case=trio.case, user=trio.ben)
    assert score.brier == pytest.approx((0.2**2 + 0.1**2) / 2)
    assert score.top1 and score.independent

    # Ben's track record: one scored case, the calibration plot drawn.
    ben.goto("/track-record/")
    expect(ben.locator("dd[data-tr-cases]")).to_have_text("1")
    expect(ben.locator("dd[data-tr-brier]")).to_have_text("0.025")
    plot = ben.locator("svg.calibration-plot").first
    expect(plot).to_be_visible()
    expect(plot.locator("circle.cal-point")).to_have_count(2)
    expect(plot.locator("line.cal-diagonal")).to_have_count(1)
    expect(ben.locator("table[data-tr-calibration]")).to_contain_text("80–90%")

    # Private until Ben shows it; then Ana sees it too.
    private = ana.goto(f"/clinicians/{trio.ben.username}/track-record/")
    assert private is not None and private.status == 404
    ben.get_by_role("button", name="Show on my profile").click()
    expect(ben.locator("[data-tr-visibility]")).to_contain_text("Colleagues can see")
    ana.goto(f"/clinicians/{trio.ben.username}/track-record/")
    expect(
        ana.get_by_role("heading", name="Ben Second’s diagnostic track record")
    ).to_be_visible()
    expect(ana.locator("svg.calibration-plot").first).to_be_visible()
