"""Independent differentials over the case WebSocket: ``differential.updated``
frames reach each connection with only what its user may see."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import transaction

from cases.models import Case, CaseParticipant
from diagnoses import services as dx
from tests.fixtures.ws import frame_of, join, settle

pytestmark = [
    pytest.mark.django_db(
        transaction=True, available_apps=list(django_settings.INSTALLED_APPS)
    ),
    pytest.mark.usefixtures("close_db_threads"),
]


@pytest.fixture
def blind_case(make_clinician, make_case):
    owner = make_clinician("ines", first_name="Ines", last_name="Owner")
    early = make_clinician("eli", first_name="Eli", last_name="Early")
    late = make_clinician("lou", first_name="Lou", last_name="Late")
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        independent=True,
        participants={
            early: CaseParticipant.Role.COLLABORATOR,
            late: CaseParticipant.Role.COLLABORATOR,
        },
    )
    entry = dx.differential_add(
        case=case, by=owner, label="Lichen planus", likelihood=80
    )
    dx.differential_vote(differential=entry, by=early, likelihood=60)
    dx.differential_round_submit(case=case, by=early)
    return type(
        "Blind",
        (),
        {"case": case, "owner": owner, "early": early, "late": late, "entry": entry},
    )


def _vote(entry, user, likelihood):
    with transaction.atomic():
        dx.differential_vote(differential=entry, by=user, likelihood=likelihood)


async def test_vote_frames_are_stripped_for_those_who_have_not_submitted(blind_case):
    early, _ = await join(blind_case.early, blind_case.case)
    late, _ = await join(blind_case.late, blind_case.case)
    await settle(early)
    await settle(late)

    await sync_to_async(_vote)(blind_case.entry, blind_case.owner, 90)

    seen_late = await frame_of(late, "differential.updated")
    seen_early = await frame_of(early, "differential.updated")
    assert "blind" not in seen_late and "blind" not in seen_early
    assert seen_late["hidden"] is True
    (row,) = seen_late["ranking"]
    assert row["label"] == "Lichen planus"
    assert row["mean"] is None and row["voters"] is None
    assert row["proposer_estimate"] is None
    assert "hidden" not in seen_early
    (full,) = seen_early["ranking"]
    assert full["mean"] == 75.0 and full["voters"] == 2


async def test_reveal_sends_everyone_the_consensus(blind_case):
    late, _ = await join(blind_case.late, blind_case.case)
    await settle(late)

    def reveal():
        with transaction.atomic():
            dx.differential_consensus_reveal(case=blind_case.case, by=blind_case.owner)

    await sync_to_async(reveal)()
    frame = await frame_of(late, "differential.updated")
    assert frame["reason"] == "reveal"
    assert "hidden" not in frame
    assert frame["ranking"][0]["mean"] == 70.0
