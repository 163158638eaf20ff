"""What a viewer's case socket hears when a consult is answered and the case
is resolved: the frames the case page's consult and outcome panels follow."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from consults import services as consults
from diagnoses.services import case_resolve
from tests.fixtures.ws import frame_of, join, settle

pytestmark = [
    pytest.mark.django_db(
        transaction=True, available_apps=list(django_settings.INSTALLED_APPS)
    ),
    pytest.mark.usefixtures("close_db_threads"),
]


async def test_viewer_hears_the_consult_answer_and_the_resolution(
    discussion, make_clinician
):
    def setup():
        derm = make_clinician("dora", specialties=["Dermatology"])
        consult = consults.consult_request(
            case=discussion.case,
            by=discussion.colleague,
            question="Drug eruption or viral exanthem?",
            assignee=derm,
        )
        consults.consult_accept(consult=consult, by=derm)
        return derm, consult

    derm, consult = await sync_to_async(setup)()
    viewer, _ = await join(discussion.viewer, discussion.case)
    await settle(viewer)

    await sync_to_async(consults.consult_answer)(
        consult=consult, by=derm, impression="Drug eruption"
    )
    answered = await frame_of(viewer, "consult.updated")
    assert answered["case"] == discussion.case.pk
    assert answered["consult"]["id"] == consult.pk
    assert answered["consult"]["status"] == "answered"

    await sync_to_async(case_resolve)(
        case=discussion.case, by=discussion.owner, final_diagnosis="Drug eruption"
    )
    resolved = await frame_of(
        viewer, "case.updated", skip=("presence", "differential.updated")
    )
    assert resolved["status"] == "resolved"
    assert resolved["final_diagnosis"] == "Drug eruption"
    assert resolved["resolved_at"]
    assert resolved["resolved_on"]
    await viewer.disconnect()
