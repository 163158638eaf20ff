"""The demo's clinical layer: differentials, votes and consults in every state."""

from io import StringIO

import pytest
from django.core.management import call_command

from consults.models import ConsultRequest
from consults.selectors import consults_for_queue
from diagnoses.models import Differential, DifferentialVote, RankingSnapshot
from workspace.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_differentials_votes_and_consults_in_every_state_once():
    call_command("seed_demo", stdout=StringIO())
    counts = (
        Differential.objects.count(),
        DifferentialVote.objects.count(),
        ConsultRequest.objects.count(),
        RankingSnapshot.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())

    assert (
        Differential.objects.count(),
        DifferentialVote.objects.count(),
        ConsultRequest.objects.count(),
        RankingSnapshot.objects.count(),
    ) == counts
    statuses = set(ConsultRequest.objects.values_list("status", flat=True))
    assert statuses == set(ConsultRequest.Status.values)
    assert set(Differential.objects.values_list("status", flat=True)) == set(
        Differential.Status.values
    )
    suggested = Differential.objects.get(consult__isnull=False)
    assert suggested.proposed_by.username == "sam"
    assert DifferentialVote.objects.values("voter").distinct().count() >= 2
    sam_queue = consults_for_queue(User.objects.get(username="sam"))
    assert [c.status for c in sam_queue] == ["requested"]
    (overdue,) = consults_for_queue(User.objects.get(username="ana"))
    assert overdue.overdue and overdue.urgency == "emergent"
