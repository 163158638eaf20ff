"""What diagnoses adds to the case page (see :mod:`cases.panels`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cases.models import Case
from cases.permissions import CaseAccess
from diagnoses.forms import ResolveForm


def context(*, request: HttpRequest, case: Case, access: CaseAccess) -> dict[str, Any]:
    """The resolve form, for the editors of a published case."""
    if access.can_edit and case.status == Case.Status.PUBLISHED:
        return {"resolve_form": ResolveForm(case=case)}
    return {}
