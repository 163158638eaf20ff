"""Differential services: proposals, votes, decisions, order, history, events."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseParticipant
from diagnoses import services as dx
from diagnoses.models import Differential, DifferentialVote, RankingSnapshot
from diagnoses.selectors import consensus, differential_ranking
from tests.fixtures.layer import GroupListener
from workspace.errors import InvalidInput
from workspace.events import case_group
from workspace.models import AuditEvent
from workspace.services import PermissionDenied, ServiceError

Role = CaseParticipant.Role


@pytest.fixture
def team(make_clinician, make_case):
    owner = make_clinician("owner")
    collaborator = make_clinician("collab")
    consultant = make_clinician("consultant")
    viewer = make_clinician("viewer")
    outsider = make_clinician("outsider")  # verified, sees community cases
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        participants={
            collaborator: Role.COLLABORATOR,
            consultant: Role.CONSULTANT,
            viewer: Role.VIEWER,
        },
    )
    return type(
        "Team",
        (),
        {
            "case": case,
            "owner": owner,
            "collaborator": collaborator,
            "consultant": consultant,
            "viewer": viewer,
            "outsider": outsider,
        },
    )


@pytest.fixture
def frames():
    """Listen on a case's group through the channel layer, like a consumer."""
    listeners = []

    def listen(case) -> GroupListener:
        listeners.append(GroupListener(case_group(case)))
        return listeners[-1]

    yield listen
    for listener in listeners:
        listener.close()


# --- Consensus arithmetic ------------------------------------------------------------


def test_consensus_of_no_votes_is_unknown():
    assert consensus([]) == (None, None)


def test_consensus_of_one_vote_has_no_spread():
    assert consensus([70]) == (70.0, 0.0)


def test_consensus_is_mean_and_population_standard_deviation():
    # mean 50; deviations -30, -10, 10, 30 → variance (900+100+100+900)/4 = 500
    assert consensus([20, 40, 60, 80]) == (50.0, 22.4)


def test_consensus_rounds_to_one_decimal():
    assert consensus([0, 0, 100]) == (33.3, 47.1)


def test_ranking_orders_confirmed_then_by_mean_then_unvoted_then_ruled_out(team):
    case, owner, collab = team.case, team.owner, team.collaborator
    low = dx.differential_add(case=case, by=owner, label="Low", likelihood=10)
    high = dx.differential_add(case=case, by=owner, label="High", likelihood=60)
    unvoted = dx.differential_add(case=case, by=owner, label="Unvoted")
    out = dx.differential_add(case=case, by=owner, label="Out", likelihood=99)
    sure = dx.differential_add(case=case, by=owner, label="Sure")
    dx.differential_vote(differential=high, by=collab, likelihood=80)
    dx.differential_rule_out(differential=out, by=owner)
    dx.differential_confirm(differential=sure, by=owner)

    ranked = differential_ranking(case, user=collab)

    assert [r.differential.label for r in ranked] == [
        "Sure",
        "High",
        "Low",
        "Unvoted",
        "Out",
    ]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    by_label = {r.differential.label: r for r in ranked}
    assert by_label["High"].mean == 70.0
    assert by_label["High"].spread == 10.0
    assert by_label["High"].voters == 2
    assert by_label["High"].proposer_estimate == 60
    assert by_label["High"].my_vote == 80
    assert by_label["Low"].my_vote is None
    assert by_label["Unvoted"].mean is None
    assert low.pk != unvoted.pk


def test_equal_means_fall_back_to_the_working_order(team):
    case, owner = team.case, team.owner
    a = dx.differential_add(case=case, by=owner, label="A", likelihood=50)
    b = dx.differential_add(case=case, by=owner, label="B", likelihood=50)
    dx.differentials_reorder(case=case, by=owner, order=[b.pk, a.pk])

    assert [r.differential.label for r in differential_ranking(case)] == ["B", "A"]


# --- Proposing ----------------------------------------------------------------------


def test_consultant_proposes_with_estimate_recorded_as_their_vote(team):
    entry = dx.differential_add(
        case=team.case,
        by=team.consultant,
        label="  Guttate   psoriasis ",
        icd10_code="l404",
        rationale="Post-streptococcal pattern.",
        likelihood=65,
    )

    entry.refresh_from_db()
    assert entry.label == "Guttate psoriasis"
    assert entry.icd10_code == "L40.4"
    assert entry.proposed_by == team.consultant
    assert entry.status == Differential.Status.CONSIDERED
    vote = DifferentialVote.objects.get(differential=entry)
    assert (vote.voter, vote.likelihood) == (team.consultant, 65)
    assert AuditEvent.objects.filter(
        verb="differential.add", case_id=team.case.pk, actor=team.consultant
    ).exists()


def test_new_entries_go_to_the_end_of_the_working_list(team):
    first = dx.differential_add(case=team.case, by=team.owner, label="First")
    second = dx.differential_add(case=team.case, by=team.owner, label="Second")
    assert second.position == first.position + 1


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_viewers_and_non_participants_cannot_propose(team, who):
    with pytest.raises(PermissionDenied):
        dx.differential_add(case=team.case, by=getattr(team, who), label="Eczema")
    assert not Differential.objects.exists()


def test_duplicate_label_is_refused_ignoring_case(team):
    dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    with pytest.raises(InvalidInput) as exc:
        dx.differential_add(case=team.case, by=team.collaborator, label="PSORIASIS")
    assert "already on the list" in exc.value.errors["label"]


@pytest.mark.parametrize("code", ["L4", "40.1", "L40.12345", "LL0", "L40-1"])
def test_malformed_icd10_code_is_refused(team, code):
    with pytest.raises(InvalidInput) as exc:
        dx.differential_add(
            case=team.case, by=team.owner, label="Psoriasis", icd10_code=code
        )
    assert "icd10_code" in exc.value.errors


def test_empty_label_is_refused(team):
    with pytest.raises(InvalidInput) as exc:
        dx.differential_add(case=team.case, by=team.owner, label="   ")
    assert exc.value.errors == {"label": "Enter a diagnosis."}


def test_archived_case_is_read_only(team):
    Case.objects.filter(pk=team.case.pk).update(status=Case.Status.ARCHIVED)
    with pytest.raises(ServiceError, match="archived"):
        dx.differential_add(case=team.case, by=team.owner, label="Eczema")


def test_proposer_edits_own_entry_and_others_without_edit_rights_cannot(team):
    entry = dx.differential_add(case=team.case, by=team.consultant, label="Ecz")
    dx.differential_update(
        differential=entry, by=team.consultant, label="Eczema", icd10_code="L30.9"
    )
    entry.refresh_from_db()
    assert (entry.label, entry.icd10_code) == ("Eczema", "L30.9")

    other = dx.differential_add(case=team.case, by=team.owner, label="Tinea")
    with pytest.raises(PermissionDenied):
        dx.differential_update(differential=other, by=team.consultant, label="X")


def test_delete_removes_entry_and_votes_but_not_the_confirmed_one(team):
    entry = dx.differential_add(
        case=team.case, by=team.owner, label="Tinea", likelihood=20
    )
    dx.differential_delete(differential=entry, by=team.collaborator)
    assert not Differential.objects.filter(pk=entry.pk).exists()
    assert not DifferentialVote.objects.exists()

    confirmed = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    dx.differential_confirm(differential=confirmed, by=team.owner)
    with pytest.raises(ServiceError, match="Reconsider it"):
        dx.differential_delete(differential=confirmed, by=team.owner)


# --- Voting -------------------------------------------------------------------------


def test_vote_is_recorded_then_changed_in_place(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    dx.differential_vote(differential=entry, by=team.collaborator, likelihood=30)
    dx.differential_vote(differential=entry, by=team.collaborator, likelihood=75)

    votes = DifferentialVote.objects.filter(differential=entry)
    assert [(v.voter, v.likelihood) for v in votes] == [(team.collaborator, 75)]
    assert AuditEvent.objects.filter(verb="differential.vote").count() == 2


def test_vote_can_be_withdrawn(team):
    entry = dx.differential_add(
        case=team.case, by=team.owner, label="Eczema", likelihood=40
    )
    result = dx.differential_vote(differential=entry, by=team.owner, likelihood=None)
    assert result is None
    assert not DifferentialVote.objects.exists()


def test_nobody_votes_on_someone_elses_behalf(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    with pytest.raises(PermissionDenied, match="your own vote"):
        dx.differential_vote(
            differential=entry,
            by=team.owner,
            voter=team.collaborator,
            likelihood=90,
        )
    assert not DifferentialVote.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_voting_without_access_is_refused(team, who):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    with pytest.raises(PermissionDenied):
        dx.differential_vote(differential=entry, by=getattr(team, who), likelihood=50)
    assert not DifferentialVote.objects.exists()


def test_unverified_clinician_cannot_vote_even_if_listed(team, make_clinician):
    unverified = make_clinician("unverified", verified=False)
    CaseParticipant.objects.create(
        case=team.case, user=unverified, role=Role.COLLABORATOR
    )
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    with pytest.raises(PermissionDenied):
        dx.differential_vote(differential=entry, by=unverified, likelihood=50)


@pytest.mark.parametrize("likelihood", [-1, 101, 50.5, True])
def test_likelihood_must_be_a_whole_number_from_0_to_100(team, likelihood):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    with pytest.raises(InvalidInput):
        dx.differential_vote(differential=entry, by=team.owner, likelihood=likelihood)


def test_ruled_out_entry_takes_no_votes(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    dx.differential_rule_out(differential=entry, by=team.owner, reason="KOH negative")
    with pytest.raises(ServiceError, match="reconsider it"):
        dx.differential_vote(differential=entry, by=team.collaborator, likelihood=10)


# --- Decisions ----------------------------------------------------------------------


def test_rule_out_records_who_when_and_why(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Tinea")
    dx.differential_rule_out(
        differential=entry, by=team.collaborator, reason="KOH negative"
    )
    entry.refresh_from_db()
    assert entry.status == Differential.Status.RULED_OUT
    assert entry.decided_by == team.collaborator
    assert entry.decided_at is not None
    assert entry.decision_note == "KOH negative"


def test_consultant_cannot_rule_out_or_confirm(team):
    entry = dx.differential_add(case=team.case, by=team.consultant, label="Tinea")
    with pytest.raises(PermissionDenied):
        dx.differential_rule_out(differential=entry, by=team.consultant)
    with pytest.raises(PermissionDenied):
        dx.differential_confirm(differential=entry, by=team.consultant)


def test_confirm_sets_the_final_diagnosis_without_resolving(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    dx.differential_confirm(differential=entry, by=team.collaborator)

    entry.refresh_from_db()
    case = Case.objects.get(pk=team.case.pk)
    assert entry.status == Differential.Status.CONFIRMED
    assert entry.decided_by == team.collaborator
    assert case.final_diagnosis == "Psoriasis"
    assert case.status == Case.Status.PUBLISHED
    assert case.resolved_at is None


def test_confirm_can_resolve_the_case(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    dx.differential_confirm(differential=entry, by=team.owner, resolve_case=True)

    case = Case.objects.get(pk=team.case.pk)
    assert case.status == Case.Status.RESOLVED
    assert case.resolved_at is not None
    assert case.final_diagnosis == "Psoriasis"
    assert AuditEvent.objects.filter(verb="case.resolve", case_id=case.pk).exists()


def test_resolving_a_draft_through_confirm_is_refused_and_nothing_changes(
    make_clinician, make_case
):
    owner = make_clinician()
    case = make_case(owner)  # draft
    entry = dx.differential_add(case=case, by=owner, label="Psoriasis")
    with pytest.raises(ServiceError, match="published"):
        dx.differential_confirm(differential=entry, by=owner, resolve_case=True)
    entry.refresh_from_db()
    assert entry.status == Differential.Status.CONSIDERED
    assert Case.objects.get(pk=case.pk).final_diagnosis == ""


def test_confirming_a_second_diagnosis_is_refused(team):
    first = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    second = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    dx.differential_confirm(differential=first, by=team.owner)

    with pytest.raises(ServiceError, match="Reconsider it first"):
        dx.differential_confirm(differential=second, by=team.owner)

    second.refresh_from_db()
    assert second.status == Differential.Status.CONSIDERED
    assert Case.objects.get(pk=team.case.pk).final_diagnosis == "Psoriasis"


def test_database_refuses_two_confirmed_entries(team):
    from django.db import IntegrityError, transaction

    first = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    second = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    Differential.objects.filter(pk=first.pk).update(status="confirmed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Differential.objects.filter(pk=second.pk).update(status="confirmed")


def test_unconfirm_then_confirm_another_moves_the_final_diagnosis(team):
    first = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    second = dx.differential_add(case=team.case, by=team.owner, label="Eczema")
    dx.differential_confirm(differential=first, by=team.owner, resolve_case=True)

    dx.differential_reconsider(differential=first, by=team.owner)
    case = Case.objects.get(pk=team.case.pk)
    assert (case.final_diagnosis, case.status) == ("", Case.Status.PUBLISHED)
    assert case.resolved_at is None

    dx.differential_confirm(differential=second, by=team.owner)
    assert Case.objects.get(pk=team.case.pk).final_diagnosis == "Eczema"


def test_reconsidering_an_entry_under_consideration_is_refused(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    with pytest.raises(ServiceError, match="already under consideration"):
        dx.differential_reconsider(differential=entry, by=team.owner)


def test_renaming_the_confirmed_entry_renames_the_final_diagnosis(team):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    dx.differential_confirm(differential=entry, by=team.owner)
    dx.differential_update(differential=entry, by=team.owner, label="Plaque psoriasis")
    assert Case.objects.get(pk=team.case.pk).final_diagnosis == "Plaque psoriasis"


# --- Order --------------------------------------------------------------------------


def test_reorder_sets_positions_and_needs_edit_rights(team):
    a = dx.differential_add(case=team.case, by=team.owner, label="A")
    b = dx.differential_add(case=team.case, by=team.owner, label="B")
    c = dx.differential_add(case=team.case, by=team.owner, label="C")

    dx.differentials_reorder(
        case=team.case, by=team.collaborator, order=[c.pk, a.pk, b.pk]
    )
    positions = dict(
        Differential.objects.filter(case=team.case).values_list("label", "position")
    )
    assert positions == {"C": 0, "A": 1, "B": 2}

    with pytest.raises(PermissionDenied):
        dx.differentials_reorder(
            case=team.case, by=team.consultant, order=[a.pk, b.pk, c.pk]
        )


def test_reorder_with_a_stale_list_is_refused(team):
    a = dx.differential_add(case=team.case, by=team.owner, label="A")
    dx.differential_add(case=team.case, by=team.owner, label="B")
    with pytest.raises(ServiceError, match="changed"):
        dx.differentials_reorder(case=team.case, by=team.owner, order=[a.pk])


# --- History and events -------------------------------------------------------------


def test_every_change_appends_a_ranking_snapshot(team):
    entry = dx.differential_add(
        case=team.case, by=team.owner, label="Psoriasis", likelihood=40
    )
    dx.differential_vote(differential=entry, by=team.collaborator, likelihood=80)

    snapshots = list(RankingSnapshot.objects.filter(case=team.case).order_by("id"))
    assert [s.reason for s in snapshots] == ["add", "vote"]
    assert snapshots[0].ranking[0]["mean"] == 40.0
    assert snapshots[1].ranking[0]["mean"] == 60.0
    assert snapshots[1].ranking[0]["voters"] == 2
    assert snapshots[1].summary == "Collab Tester voted on Psoriasis"
    assert snapshots[1].actor == team.collaborator


def test_trend_follows_the_mean_across_snapshots(team):
    entry = dx.differential_add(
        case=team.case, by=team.owner, label="Psoriasis", likelihood=40
    )
    dx.differential_vote(differential=entry, by=team.collaborator, likelihood=80)
    dx.differential_vote(differential=entry, by=team.consultant, likelihood=90)

    (ranked,) = differential_ranking(team.case, with_trend=True)
    assert ranked.trend == [40.0, 60.0, 70.0]
    assert ranked.trend_points.count(",") == 3


def test_vote_sends_differential_updated_with_the_full_ranking(
    team, frames, django_capture_on_commit_callbacks
):
    entry = dx.differential_add(
        case=team.case, by=team.owner, label="Psoriasis", icd10_code="L40.0"
    )
    listener = frames(team.case)

    with django_capture_on_commit_callbacks(execute=True):
        dx.differential_vote(differential=entry, by=team.collaborator, likelihood=70)

    (frame,) = listener.drain()
    assert frame["type"] == "differential.updated"
    assert frame["case"] == team.case.pk
    assert frame["reason"] == "vote"
    assert frame["differential"] == entry.pk
    assert frame["by"] == {"id": team.collaborator.pk, "name": "Collab Tester"}
    assert frame["version"] == RankingSnapshot.objects.latest("id").pk
    assert frame["case_status"] == "published"
    (row,) = frame["ranking"]
    assert row == {
        "id": entry.pk,
        "label": "Psoriasis",
        "icd10": "L40.0",
        "rationale": "",
        "status": "considered",
        "position": 0,
        "rank": 1,
        "mean": 70.0,
        "spread": 0.0,
        "voters": 1,
        "proposer": {"id": team.owner.pk, "name": "Owner Tester"},
        "proposer_estimate": None,
        "pooled": None,
        "pooled_rank": None,
        "consult": None,
        "decided_by": None,
        "decided_at": None,
    }


@pytest.mark.parametrize(
    "action, reason",
    [
        (lambda t, e: dx.differential_rule_out(differential=e, by=t.owner), "rule_out"),
        (lambda t, e: dx.differential_confirm(differential=e, by=t.owner), "confirm"),
        (
            lambda t, e: dx.differential_update(differential=e, by=t.owner, label="Y"),
            "update",
        ),
        (lambda t, e: dx.differential_delete(differential=e, by=t.owner), "delete"),
        (
            lambda t, e: dx.differential_add(case=t.case, by=t.owner, label="Z"),
            "add",
        ),
    ],
)
def test_each_change_broadcasts_its_reason(
    team, frames, django_capture_on_commit_callbacks, action, reason
):
    entry = dx.differential_add(case=team.case, by=team.owner, label="X")
    listener = frames(team.case)

    with django_capture_on_commit_callbacks(execute=True):
        action(team, entry)

    sent = [f for f in listener.drain() if f["type"] == "differential.updated"]
    assert [f["reason"] for f in sent] == [reason]


def test_confirm_broadcasts_the_final_diagnosis(
    team, frames, django_capture_on_commit_callbacks
):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    listener = frames(team.case)
    with django_capture_on_commit_callbacks(execute=True):
        dx.differential_confirm(differential=entry, by=team.owner, resolve_case=True)

    sent = {f["type"]: f for f in listener.drain()}
    assert sent["differential.updated"]["final_diagnosis"] == "Psoriasis"
    assert sent["differential.updated"]["case_status"] == "resolved"
    assert sent["differential.updated"]["ranking"][0]["decided_by"]["id"] == (
        team.owner.pk
    )
    assert sent["case.updated"]["status"] == "resolved"


def test_refused_action_broadcasts_nothing(
    team, frames, django_capture_on_commit_callbacks
):
    entry = dx.differential_add(case=team.case, by=team.owner, label="Psoriasis")
    listener = frames(team.case)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(PermissionDenied),
    ):
        dx.differential_vote(differential=entry, by=team.viewer, likelihood=10)
    assert listener.drain() == []
