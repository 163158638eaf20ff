"""Workspace's own texts pass the PHI gate that cases hands down at start-up,
and nothing is stored if no gate was handed down."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from cases.phi_gate import PHIFound, phi_gate
from workspace import services, text_gate
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


def test_the_cases_app_registers_its_phi_gate():
    registered = text_gate.gate()

    assert registered.check is phi_gate
    assert registered.refused is PHIFound


def test_a_workspace_description_naming_a_patient_is_refused(clinician):
    with pytest.raises(PHIFound):
        services.workspace_create(
            name="Ward 7 rounds",
            description="For Mrs Jane Planted, MRN 99887766",
            by=clinician,
        )

    assert not Workspace.objects.exists()


def test_without_a_registered_gate_nothing_is_stored(clinician, monkeypatch):
    monkeypatch.setattr(text_gate, "_registered", None)

    with pytest.raises(ImproperlyConfigured, match="No PHI gate"):
        services.workspace_create(name="Dermatology club", by=clinician)

    assert not Workspace.objects.exists()
