"""The demo seeder: realistic published cases that pass the PHI gate, idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.demo import CASES
from cases.models import Case
from cases.services.cases import phi_scan_fields

pytestmark = pytest.mark.django_db


def test_demo_case_text_has_no_phi_findings():
    for spec in CASES:
        fields = {
            "title": spec.title,
            "presenting_complaint": spec.presenting_complaint,
            "history": spec.history,
            "examination": spec.examination,
            "investigations": spec.investigations,
            "working_notes": spec.working_notes,
        }
        assert phi_scan_fields(fields, tags=spec.tags) == [], spec.title


def test_seed_demo_publishes_cases_across_specialties_and_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    first = set(Case.objects.values_list("pk", "status"))
    call_command("seed_demo", stdout=StringIO())

    assert set(Case.objects.values_list("pk", "status")) == first
    published = Case.objects.exclude(status=Case.Status.DRAFT)
    assert published.count() == sum(1 for spec in CASES if spec.publish)
    assert published.values("specialty").distinct().count() >= 5
    assert Case.objects.filter(status=Case.Status.RESOLVED).exists()
    assert Case.objects.filter(status=Case.Status.DRAFT).count() == 1
    assert all(c.deid_attestation and c.attested_by_id for c in published)
