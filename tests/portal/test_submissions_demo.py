"""The demo's patient submissions: every state, a case-grade copy on the
attached one, and a second run that changes nothing."""

from __future__ import annotations

import pytest

from cases import demo as case_demo
from consults import demo as consults_demo
from diagnoses import demo as diagnoses_demo
from media_handling.models import MediaAsset
from portal import demo as portal_demo
from portal.models import FindingLink, Submission
from workspace import demo as workspace_demo

pytestmark = pytest.mark.django_db


def seed_all():
    demo = workspace_demo.Demo()
    workspace_demo.seed(demo)
    # The order seed_demo discovers them in (INSTALLED_APPS).
    for module in (case_demo, diagnoses_demo, consults_demo, portal_demo):
        module.seed(demo)
    return demo


def test_demo_patient_has_submissions_in_every_state_and_reseeding_is_a_no_op():
    demo = seed_all()
    pat, ana = demo.users["pat"], demo.users["ana"]
    first = dict(Submission.objects.values_list("pk", "status"))

    seed_all()

    assert dict(Submission.objects.values_list("pk", "status")) == first
    mine = Submission.objects.filter(patient=pat, clinician=ana)
    assert sorted(mine.values_list("status", flat=True)) == sorted(
        ["attached", "reviewed", "submitted", "dismissed", "withdrawn"]
    )
    assert mine.get(status="dismissed").credibility == "misinformation"
    assert mine.get(status="reviewed").clinician_note
    finding = FindingLink.objects.get(submission__patient=pat)
    assert finding.differential.label == "Pulmonary embolism"
    assert finding.asset.status == MediaAsset.Status.READY
    assert finding.asset.uploaded_by == ana
