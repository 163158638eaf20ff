"""Live frames through the real ASGI stack: a vote or a consult answer reaches
every open case page as ``differential.updated`` / ``consult.updated``."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from cases.models import Case, CaseParticipant
from consults import services as consult_services
from diagnoses import services as dx
from tests.fixtures.ws import frame_of, join
from workspace.models import Specialty

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_case(make_clinician, make_case):
    # Transactional tests flush the specialties the migrations seeded.
    Specialty.objects.get_or_create(name="Dermatology")
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    colleague = make_clinician("colin", first_name="Colin", last_name="Lab")
    derm = make_clinician("dora", specialties=["Dermatology"])
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        participants={colleague: CaseParticipant.Role.COLLABORATOR},
    )
    return owner, colleague, derm, case


async def test_vote_reaches_an_open_case_page_as_differential_updated(live_case):
    owner, colleague, _, case = live_case
    entry = await database_sync_to_async(dx.differential_add)(
        case=case, by=owner, label="Psoriasis", likelihood=40
    )
    comm, _ = await join(owner, case)

    await database_sync_to_async(dx.differential_vote)(
        differential=entry, by=colleague, likelihood=80
    )

    frame = await frame_of(comm, "differential.updated", skip=("hello", "presence"))
    assert frame["reason"] == "vote"
    assert frame["by"] == {"id": colleague.pk, "name": "Colin Lab"}
    (row,) = frame["ranking"]
    assert (row["label"], row["mean"], row["spread"], row["voters"]) == (
        "Psoriasis",
        60.0,
        20.0,
        2,
    )
    await comm.disconnect()


async def test_consult_answer_adds_the_suggestion_live(live_case):
    owner, _, derm, case = live_case
    dermatology = await database_sync_to_async(Specialty.objects.get)(
        name="Dermatology"
    )
    consult = await database_sync_to_async(consult_services.consult_request)(
        case=case, by=owner, question="?", specialty=dermatology
    )
    await database_sync_to_async(consult_services.consult_accept)(
        consult=consult, by=derm
    )
    comm, _ = await join(owner, case)

    await database_sync_to_async(consult_services.consult_answer)(
        consult=consult,
        by=derm,
        impression="Psoriasis",
        suggestions=[{"label": "Guttate psoriasis", "likelihood": 70}],
    )

    dx_frame = await frame_of(comm, "differential.updated", skip=("hello", "presence"))
    assert [r["label"] for r in dx_frame["ranking"]] == ["Guttate psoriasis"]
    assert dx_frame["ranking"][0]["consult"] == consult.pk
    consult_frame = await frame_of(comm, "consult.updated", skip=("hello", "presence"))
    assert consult_frame["consult"]["status"] == "answered"
    await comm.disconnect()
