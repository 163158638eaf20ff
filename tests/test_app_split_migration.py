"""Issue 15: moving models out of cases keeps every row of an existing database.

The models moved to diagnoses, consults and portal with their tables
(``db_table = "cases_*"``); the migrations only move Django's state. This
migrates back to the last pre-split migration, writes rows through the
historical models, migrates forward and reads them through the new apps.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consults.models import ConsultRequest
from diagnoses.models import Differential, DifferentialVote
from portal.models import SocialLink, Submission

NEW_APPS = {"diagnoses", "consults", "portal"}


def _pre_split():
    """Every app at its newest migration, except cases just before the split."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [("cases", "0013_independent_rounds_scores")] + [
        node for node in leaves if node[0] not in NEW_APPS | {"cases"}
    ]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_split_are_read_through_the_new_apps():
    old = _migrate(_pre_split())
    with pytest.raises(LookupError):
        old.get_model("diagnoses", "Differential")
    User = old.get_model("workspace", "User")
    owner = User.objects.create(username="owner-split", email="o@example.org")
    patient = User.objects.create(username="patient-split", kind="patient")
    case = old.get_model("cases", "Case").objects.create(owner=owner, title="Split")
    differential = old.get_model("cases", "Differential").objects.create(
        case=case, label="Lyme disease"
    )
    old.get_model("cases", "DifferentialVote").objects.create(
        differential=differential, voter=owner, likelihood=70
    )
    consult = old.get_model("cases", "ConsultRequest").objects.create(
        case=case,
        requested_by=owner,
        assignee=owner,
        question="Serology?",
        due_at=timezone.now(),
    )
    differential.consult = consult
    differential.save(update_fields=["consult"])
    link = old.get_model("cases", "SocialLink").objects.create(
        platform="youtube", url="https://youtu.be/abc"
    )
    old.get_model("cases", "Submission").objects.create(
        patient=patient,
        clinician=owner,
        link=link,
        description="My rash",
        consent_text="I agree",
        consent_at=timezone.now(),
    )

    new = _migrate(_latest())

    with pytest.raises(LookupError):
        new.get_model("cases", "Differential")
    moved = Differential.objects.get(label="Lyme disease")
    assert moved.case_id == case.pk
    assert moved.consult_id == consult.pk
    assert DifferentialVote.objects.get(differential=moved).likelihood == 70
    consult_row = ConsultRequest.objects.get(pk=consult.pk)
    assert consult_row.question == "Serology?"
    assert list(consult_row.suggested_differentials.all()) == [moved]
    submission = Submission.objects.get(description="My rash")
    assert submission.link == SocialLink.objects.get(pk=link.pk)
    assert submission.patient.username == "patient-split"
