"""Independent differentials: hiding, rounds, reveal, pooled (Borda) ranking,
the frames about votes, scoring on resolve and the track record."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, CaseParticipant, JoinRequest
from cases.services import cases as case_services
from diagnoses import services as dx
from diagnoses.models import DiagnosisScore, Differential, DifferentialRound
from diagnoses.scoring import (
    brier_score,
    case_scores_compute,
    log_score,
    score_forecasts,
)
from diagnoses.selectors import borda, consensus_hidden, differential_ranking
from diagnoses.services import case_resolve
from diagnoses.track_record import calibration_bins, calibration_svg, track_record
from realtime.consumers import blind_for
from workspace.errors import InvalidInput
from workspace.models import Notification, Specialty
from workspace.services import PermissionDenied, ServiceError

Role = CaseParticipant.Role


@pytest.fixture
def trio(make_clinician, make_case):
    """An independent community case: owner Ana, collaborators Ben and Cy."""
    ana = make_clinician("ana", first_name="Ana", last_name="Owner")
    ben = make_clinician("ben", first_name="Ben", last_name="Collab")
    cy = make_clinician("cy", first_name="Cy", last_name="Collab")
    viewer = make_clinician("val", first_name="Val", last_name="Viewer")
    outsider = make_clinician("oz", first_name="Oz", last_name="Side")
    case = make_case(
        ana,
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        independent=True,
        specialty=Specialty.objects.get(name="Dermatology"),
        participants={
            ben: Role.COLLABORATOR,
            cy: Role.COLLABORATOR,
            viewer: Role.VIEWER,
        },
    )
    psoriasis = dx.differential_add(case=case, by=ana, label="Psoriasis", likelihood=70)
    eczema = dx.differential_add(case=case, by=ben, label="Eczema", likelihood=20)
    return type(
        "Trio",
        (),
        {
            "case": case,
            "ana": ana,
            "ben": ben,
            "cy": cy,
            "viewer": viewer,
            "outsider": outsider,
            "psoriasis": psoriasis,
            "eczema": eczema,
        },
    )


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def fragment(client_for, user, case) -> str:
    response = client_for(user).get(reverse("differentials_fragment", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Mode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "visibility, expected",
    [(Case.Visibility.COMMUNITY, True), (Case.Visibility.PRIVATE, False)],
)
def test_independent_mode_defaults_on_for_community_cases(
    make_clinician, visibility, expected
):
    owner = make_clinician()
    case = case_services.case_create(
        owner=owner, title="Itchy plaques", visibility=visibility
    )
    assert case.independent is expected


def test_only_the_owner_toggles_independent_mode(trio):
    with pytest.raises(PermissionDenied):
        dx.differential_independent_set(case=trio.case, by=trio.ben, on=False)
    dx.differential_independent_set(case=trio.case, by=trio.ana, on=False)
    assert fresh(trio.case).independent is False
    assert not consensus_hidden(fresh(trio.case), trio.cy)


# --- Hiding -----------------------------------------------------------------------------


def test_consensus_is_hidden_until_the_viewer_submits(trio):
    case = fresh(trio.case)
    for user in (trio.ana, trio.ben, trio.cy, trio.viewer, trio.outsider):
        assert consensus_hidden(case, user)
    dx.differential_round_submit(case=case, by=trio.ben)
    assert not consensus_hidden(fresh(case), trio.ben)
    assert consensus_hidden(fresh(case), trio.ana)


def test_fragment_hides_others_likelihoods_but_lists_their_labels(trio, client_for):
    dx.differential_vote(differential=trio.psoriasis, by=trio.cy, likelihood=33)
    html = fragment(client_for, trio.cy, trio.case)
    assert "Eczema" in html and "Psoriasis" in html  # labels stay visible
    assert "likelihoods are hidden" in html
    assert 'data-dx-stat="mean"' not in html
    assert 'data-dx-stat="proposer"' not in html
    assert "dx-meter" not in html
    # Own vote only; the proposer estimates 70 and 20 are nowhere.
    assert re.search(r'data-dx-stat="mine">33<', html)
    assert ">70<" not in html and "(70" not in html
    assert "Submit my differential" in html


def test_history_page_hides_rankings_before_submitting(trio, client_for):
    url = reverse("differentials_history", args=[trio.case.pk])
    html = client_for(trio.cy).get(url).content.decode()
    assert "Rankings are hidden" in html
    assert "<table" not in html
    dx.differential_vote(differential=trio.eczema, by=trio.cy, likelihood=10)
    dx.differential_round_submit(case=trio.case, by=trio.cy)
    html = client_for(trio.cy).get(url).content.decode()
    assert "<table" in html


def test_after_submitting_the_consensus_and_pooled_ranking_appear(trio, client_for):
    dx.differential_round_submit(case=trio.case, by=trio.ana)
    html = fragment(client_for, trio.ana, trio.case)
    assert 'data-dx-stat="mean">70<' in html
    assert 'data-dx-stat="pooled"' in html
    assert "You submitted your differential." in html
    assert "Submit my differential" not in html


def test_reveal_shows_the_consensus_to_everyone(trio, client_for):
    with pytest.raises(PermissionDenied):
        dx.differential_consensus_reveal(case=trio.case, by=trio.ben)
    dx.differential_consensus_reveal(case=trio.case, by=trio.ana)
    case = fresh(trio.case)
    assert not consensus_hidden(case, trio.cy)
    assert 'data-dx-stat="mean">70<' in fragment(client_for, trio.cy, case)
    with pytest.raises(ServiceError):
        dx.differential_consensus_reveal(case=case, by=trio.ana)


def test_resolving_opens_the_consensus(trio):
    case_resolve(case=trio.case, by=trio.ana, final_diagnosis="Psoriasis")
    assert not consensus_hidden(fresh(trio.case), trio.outsider)


# --- Rounds ------------------------------------------------------------------------------


def test_round_locks_in_the_current_likelihoods_once(trio):
    dx.differential_vote(differential=trio.eczema, by=trio.ana, likelihood=15)
    submitted = dx.differential_round_submit(case=trio.case, by=trio.ana)
    assert submitted.submitted is not None
    assert submitted.likelihoods == {
        str(trio.psoriasis.pk): 70,
        str(trio.eczema.pk): 15,
    }
    # Later votes do not change the round.
    dx.differential_vote(differential=trio.eczema, by=trio.ana, likelihood=90)
    assert (
        DifferentialRound.objects.get(pk=submitted.pk).likelihoods[str(trio.eczema.pk)]
        == 15
    )
    with pytest.raises(ServiceError, match="already submitted"):
        dx.differential_round_submit(case=trio.case, by=trio.ana)


def test_round_needs_a_vote_and_a_voter(trio):
    with pytest.raises(ServiceError, match="at least one"):
        dx.differential_round_submit(case=trio.case, by=trio.cy)
    with pytest.raises(PermissionDenied):
        dx.differential_round_submit(case=trio.case, by=trio.viewer)
    with pytest.raises(PermissionDenied):
        dx.differential_round_submit(case=trio.case, by=trio.outsider)
    assert not DifferentialRound.objects.exists()


def test_round_refused_when_the_case_is_not_independent(trio):
    dx.differential_independent_set(case=trio.case, by=trio.ana, on=False)
    with pytest.raises(ServiceError, match="does not use"):
        dx.differential_round_submit(case=trio.case, by=trio.ana)


def test_round_view_answers_json_and_400_with_a_message(trio, client_for):
    url = reverse("differential_round_submit", args=[trio.case.pk])
    headers = {"Accept": "application/json"}
    refused = client_for(trio.cy).post(url, headers=headers)
    assert refused.status_code == 400
    assert "likelihood" in refused.json()["error"]
    ok = client_for(trio.ben).post(url, headers=headers)
    assert ok.status_code == 200 and ok.json()["ok"] is True
    denied = client_for(trio.viewer).post(url, headers=headers)
    assert denied.status_code == 403


# --- Pooled ranking ----------------------------------------------------------------------


def test_borda_points_with_ties_share_their_places():
    # Round 1: A 80 > B 50 > C 10 → 3, 2, 1. Round 2: B 60 = C 60 > A 5 → 2.5, 2.5, 1.
    points = borda([{1: 80, 2: 50, 3: 10}, {1: 5, 2: 60, 3: 60}])
    assert points == {1: 4.0, 2: 4.5, 3: 3.5}
    # A round rating fewer entries gives fewer points.
    assert borda([{1: 90}]) == {1: 1.0}


def test_pooled_ranking_uses_submitted_rounds_only(trio):
    dx.differential_vote(differential=trio.eczema, by=trio.ana, likelihood=10)
    dx.differential_round_submit(case=trio.case, by=trio.ana)  # P 70 > E 10
    dx.differential_vote(differential=trio.psoriasis, by=trio.ben, likelihood=5)
    dx.differential_round_submit(case=trio.case, by=trio.ben)  # E 20 > P 5
    dx.differential_vote(
        differential=trio.eczema, by=trio.cy, likelihood=99
    )  # no round
    ranked = {r.differential.label: r for r in differential_ranking(fresh(trio.case))}
    assert ranked["Psoriasis"].pooled == 3.0  # 2 + 1
    assert ranked["Eczema"].pooled == 3.0  # 1 + 2
    assert ranked["Psoriasis"].pooled_rank == ranked["Eczema"].pooled_rank == 1
    # Mean ± SD still from everyone's current votes.
    assert ranked["Eczema"].mean == round((10 + 20 + 99) / 3, 1)
    assert ranked["Eczema"].voters == 3


# --- Frames ------------------------------------------------------------------------------


def test_vote_frame_carries_a_blind_ranking_while_hidden(
    trio, django_capture_on_commit_callbacks, case_events
):
    frames = case_events(
        trio.case,
        lambda: dx.differential_vote(
            differential=trio.eczema, by=trio.cy, likelihood=40
        ),
    )
    (frame,) = [f for f in frames if f["type"] == "differential.updated"]
    assert frame["independent"] is True
    assert frame["blind"]["submitted"] == []
    for row in frame["blind"]["ranking"]:
        assert row["mean"] is row["spread"] is row["voters"] is None
        assert row["proposer_estimate"] is None
    assert [r["label"] for r in frame["blind"]["ranking"]] == ["Psoriasis", "Eczema"]

    hidden = blind_for(frame, trio.cy.pk)
    assert "blind" not in hidden and hidden["hidden"] is True
    assert all(r["mean"] is None for r in hidden["ranking"])


def test_submitted_voter_gets_the_full_frame(trio, case_events):
    dx.differential_round_submit(case=trio.case, by=trio.ana)
    frames = case_events(
        trio.case,
        lambda: dx.differential_vote(
            differential=trio.eczema, by=trio.cy, likelihood=40
        ),
    )
    (frame,) = [f for f in frames if f["type"] == "differential.updated"]
    assert frame["blind"]["submitted"] == [trio.ana.pk]
    full = blind_for(frame, trio.ana.pk)
    assert "blind" not in full and "hidden" not in full
    assert {r["label"]: r["mean"] for r in full["ranking"]}["Eczema"] == 30.0


def test_no_blind_part_after_the_reveal(trio, case_events):
    dx.differential_consensus_reveal(case=trio.case, by=trio.ana)
    frames = case_events(
        trio.case,
        lambda: dx.differential_vote(
            differential=trio.eczema, by=trio.cy, likelihood=40
        ),
    )
    (frame,) = [f for f in frames if f["type"] == "differential.updated"]
    assert "blind" not in frame


def test_resolving_pushes_status_and_ranking_live(trio, case_events):
    frames = case_events(
        trio.case,
        lambda: case_resolve(
            case=trio.case, by=trio.ana, final_diagnosis="", confirmed=trio.psoriasis
        ),
    )
    by_type = {f["type"]: f for f in frames}
    assert by_type["case.updated"]["status"] == "resolved"
    assert by_type["case.updated"]["final_diagnosis"] == "Psoriasis"
    assert by_type["differential.updated"]["reason"] == "resolve"
    assert "blind" not in by_type["differential.updated"]


# --- Scoring ------------------------------------------------------------------------------


def test_brier_and_log_score_math():
    forecasts = [(0.7, 1), (0.2, 0)]
    assert brier_score(forecasts) == pytest.approx(((0.3) ** 2 + 0.2**2) / 2)
    assert log_score(forecasts) == pytest.approx((math.log(0.7) + math.log(0.8)) / 2)
    # Certain misses are clipped, so the score stays finite.
    assert log_score([(0.0, 1)]) == pytest.approx(math.log(0.01))
    assert brier_score([(0.5, 1), (0.5, 0)]) == 0.25


def test_unrated_confirmed_entry_counts_as_zero_and_ties_are_not_top1():
    forecasts, top1 = score_forecasts({1: 60, 2: 30}, confirmed_id=3)
    assert sorted(forecasts) == [(0.0, 1), (0.3, 0), (0.6, 0)]
    assert top1 is False
    _, tied = score_forecasts({1: 50, 2: 50}, confirmed_id=1)
    assert tied is False
    _, best = score_forecasts({1: 60, 2: 50}, confirmed_id=1)
    assert best is True


def test_resolving_with_a_linked_entry_scores_every_voter(trio):
    dx.differential_vote(differential=trio.psoriasis, by=trio.ben, likelihood=40)
    dx.differential_vote(differential=trio.eczema, by=trio.cy, likelihood=90)
    case_resolve(
        case=trio.case,
        by=trio.ana,
        final_diagnosis="Plaque psoriasis",
        confirmed=trio.psoriasis,
    )
    case = fresh(trio.case)
    assert case.final_diagnosis == "Plaque psoriasis"  # free text stays
    assert Differential.objects.get(pk=trio.psoriasis.pk).is_confirmed
    scores = {s.user_id: s for s in DiagnosisScore.objects.filter(case=case)}
    assert set(scores) == {trio.ana.pk, trio.ben.pk, trio.cy.pk}
    # Ana: P 70 (confirmed) only → (0.3)².
    assert scores[trio.ana.pk].brier == pytest.approx(0.09)
    assert scores[trio.ana.pk].top1 is True
    # Ben: P 40, E 20 → ((0.6)² + (0.2)²) / 2.
    assert scores[trio.ben.pk].brier == pytest.approx(0.2)
    # Cy rated only Eczema (90): P counts as 0 → (1 + 0.81) / 2.
    assert scores[trio.cy.pk].brier == pytest.approx(0.905)
    assert scores[trio.cy.pk].entries == 2 and scores[trio.cy.pk].top1 is False
    assert scores[trio.ana.pk].specialty.name == "Dermatology"


def test_scoring_uses_the_independent_round_not_later_votes(trio):
    dx.differential_round_submit(case=trio.case, by=trio.ben)  # E 20 only
    dx.differential_vote(differential=trio.psoriasis, by=trio.ben, likelihood=100)
    case_resolve(
        case=trio.case, by=trio.ana, final_diagnosis="", confirmed=trio.psoriasis
    )
    ben = DiagnosisScore.objects.get(case=trio.case, user=trio.ben)
    assert ben.independent is True
    assert ben.brier == pytest.approx((1 + 0.04) / 2)  # P 0 (unrated then), E 0.2


def test_rescoring_is_idempotent(trio):
    case_resolve(
        case=trio.case, by=trio.ana, final_diagnosis="", confirmed=trio.psoriasis
    )
    assert DiagnosisScore.objects.filter(case=trio.case).count() == 2
    case_scores_compute(fresh(trio.case))
    assert DiagnosisScore.objects.filter(case=trio.case).count() == 2
    # Un-confirming removes the scores; resolving again scores once more.
    dx.differential_reconsider(
        differential=Differential.objects.get(pk=trio.psoriasis.pk), by=trio.ana
    )
    assert not DiagnosisScore.objects.filter(case=trio.case).exists()
    case_resolve(
        case=fresh(trio.case), by=trio.ana, final_diagnosis="", confirmed=trio.eczema
    )
    scores = DiagnosisScore.objects.filter(case=trio.case)
    assert scores.count() == 2
    assert {s.confirmed_id for s in scores} == {trio.eczema.pk}
    assert track_record(trio.ana).cases == 1


def test_resolving_without_a_confirmed_entry_scores_nothing(trio):
    case_resolve(case=trio.case, by=trio.ana, final_diagnosis="Tinea")
    assert not DiagnosisScore.objects.exists()


def test_linking_refused_while_another_entry_is_confirmed(trio):
    dx.differential_confirm(differential=trio.eczema, by=trio.ana)
    with pytest.raises(InvalidInput) as refused:
        case_resolve(
            case=trio.case, by=trio.ana, final_diagnosis="", confirmed=trio.psoriasis
        )
    assert "confirmed" in refused.value.errors
    assert fresh(trio.case).status == Case.Status.PUBLISHED


def test_confirm_and_resolve_scores_too(trio):
    dx.differential_confirm(differential=trio.psoriasis, by=trio.ana, resolve_case=True)
    assert DiagnosisScore.objects.filter(case=trio.case).count() == 2


def test_resolve_form_links_the_entry(trio, client_for):
    response = client_for(trio.ana).post(
        reverse("case_resolve", args=[trio.case.pk]),
        {"confirmed": trio.psoriasis.pk, "final_diagnosis": ""},
    )
    assert response.status_code == 302
    assert fresh(trio.case).final_diagnosis == "Psoriasis"
    assert DiagnosisScore.objects.filter(case=trio.case).count() == 2


def test_resolve_form_needs_a_diagnosis_one_way_or_another(trio, client_for):
    response = client_for(trio.ana).post(
        reverse("case_resolve", args=[trio.case.pk]), {"final_diagnosis": ""}
    )
    assert response.status_code == 400
    assert "link one from the differential" in response.content.decode()


# --- Track record ----------------------------------------------------------------------


def test_calibration_bins_and_svg():
    bins = calibration_bins([(0.05, 0), (0.08, 1), (0.95, 1), (1.0, 1)])
    assert bins[0].count == 2 and bins[0].observed == 0.5
    assert bins[0].predicted == pytest.approx(0.065)
    assert bins[9].count == 2 and bins[9].observed == 1.0
    assert sum(b.count for b in bins) == 4


def _resolved(trio):
    dx.differential_vote(differential=trio.eczema, by=trio.ana, likelihood=10)
    case_resolve(
        case=trio.case, by=trio.ana, final_diagnosis="", confirmed=trio.psoriasis
    )


def test_svg_is_accessible_and_escaped(trio):
    trio.ana.first_name = "<script>"
    trio.ana.save()
    _resolved(trio)
    svg = str(calibration_svg(track_record(trio.ana)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert 'data-reference="perfect"' in svg
    assert svg.count('class="cal-point"') == 2  # bins 10–20 and 70–80


def test_track_record_page_is_private_until_shown(trio, client_for):
    _resolved(trio)
    own = client_for(trio.ana).get(reverse("track_record"))
    html = own.content.decode()
    assert "data-tr-cases>1<" in html
    assert "calibration-plot" in html and "Only you" in html
    public = reverse("clinician_track_record", args=[trio.ana.username])
    assert client_for(trio.ben).get(public).status_code == 404
    client_for(trio.ana).post(reverse("track_record_show"), {"shown": "1"})
    shown = client_for(trio.ben).get(public)
    assert shown.status_code == 200
    assert "calibration-plot" in shown.content.decode()
    assert "Show on my profile" not in shown.content.decode()
    client_for(trio.ana).post(reverse("track_record_show"), {})
    assert client_for(trio.ben).get(public).status_code == 404


def test_profile_shows_own_track_record(trio, client_for):
    _resolved(trio)
    html = client_for(trio.ana).get(reverse("profile")).content.decode()
    assert "Diagnostic track record" in html and "calibration-plot" in html
    assert "Dermatology: 1 case, Brier" in html


def test_track_record_page_query_count_is_constant(
    make_clinician, make_case, client_for
):
    def scored(user, n):
        for i in range(n):
            case = make_case(user, status=Case.Status.PUBLISHED)
            a = dx.differential_add(case=case, by=user, label=f"A{i}", likelihood=60)
            dx.differential_add(case=case, by=user, label=f"B{i}", likelihood=30)
            case_resolve(case=case, by=user, final_diagnosis="", confirmed=a)

    few, many = make_clinician("few"), make_clinician("many")
    scored(few, 1)
    scored(many, 6)
    counts = []
    for user in (few, many):
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("track_record")).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_fragment_query_count_is_constant_in_independent_mode(
    make_clinician, make_case, client_for
):
    owner = make_clinician()
    others = [make_clinician() for _ in range(3)]

    def build(n_entries, voters):
        case = make_case(
            owner,
            status=Case.Status.PUBLISHED,
            independent=True,
            participants=dict.fromkeys(others, Role.COLLABORATOR),
        )
        for i in range(n_entries):
            entry = dx.differential_add(case=case, by=owner, label=f"Dx {i}")
            for j, voter in enumerate(voters):
                dx.differential_vote(differential=entry, by=voter, likelihood=10 + j)
        for voter in voters:
            dx.differential_round_submit(case=case, by=voter)
        return case

    small = build(1, others[:1])
    large = build(6, others)
    client = client_for(others[0])
    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("differentials_fragment", args=[case.pk]))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


# --- Joining -----------------------------------------------------------------------------


def test_non_participant_sees_why_and_asks_to_join(trio, client_for):
    html = fragment(client_for, trio.outsider, trio.case)
    assert "You can read this case but not vote" in html
    assert "Ask to join" in html
    url = reverse("case_join_request", args=[trio.case.pk])
    response = client_for(trio.outsider).post(
        url, {"message": "I see a lot of these"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert JoinRequest.objects.filter(case=trio.case, user=trio.outsider).exists()
    note = Notification.objects.get(user=trio.ana)
    assert "asks to join" in note.title and note.data["user"] == "oz"
    again = client_for(trio.outsider).post(url, headers={"Accept": "application/json"})
    assert again.status_code == 400 and "already asked" in again.json()["error"]
    assert "You asked to join" in fragment(client_for, trio.outsider, trio.case)


def test_participants_cannot_ask_to_join(trio):
    with pytest.raises(ServiceError, match="already take part"):
        case_services.case_join_request(case=trio.case, by=trio.viewer)


def test_owner_sees_join_requests_until_the_requester_is_added(trio, client_for):
    case_services.case_join_request(case=trio.case, by=trio.outsider, message="Keen")
    page = client_for(trio.ana).get(reverse("case_detail", args=[trio.case.pk]))
    html = page.content.decode()
    assert "Asked to join" in html and "Oz Side" in html and "Keen" in html
    assert (
        "Asked to join"
        not in client_for(trio.ben)
        .get(reverse("case_detail", args=[trio.case.pk]))
        .content.decode()
    )
    case_services.participant_invite(
        case=trio.case, by=trio.ana, invitee=trio.outsider, role=Role.CONSULTANT
    )
    assert not JoinRequest.objects.exists()
    html = client_for(trio.ana).get(reverse("case_detail", args=[trio.case.pk]))
    assert "Asked to join" not in html.content.decode()


@pytest.mark.parametrize(
    "visibility, expected",
    [(Case.Visibility.COMMUNITY, True), (Case.Visibility.WORKSPACE, False)],
)
def test_publishing_to_the_community_turns_independent_mode_on(
    make_clinician, make_workspace, visibility, expected
):
    owner = make_clinician()
    workspace = make_workspace("Skin unit", members={owner: "owner"})
    draft = case_services.case_create(
        owner=owner,
        title="Itchy annular plaques",
        specialty=Specialty.objects.get(name="Dermatology"),
        age_band="40–49",
        presenting_complaint="Itchy rings on the trunk for a month.",
    )
    assert draft.independent is False  # drafts start private
    case_services.case_update(
        case=draft,
        by=owner,
        changes={"visibility": visibility, "workspace": workspace},
    )
    published = case_services.case_publish(
        case=draft, by=owner, attestation="De-identified."
    )
    assert published.independent is expected
