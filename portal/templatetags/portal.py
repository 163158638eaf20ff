"""Patient findings on a case's differential panel, composed in by the portal.

``{% load portal %}``, then once per panel ``{% case_findings case ranked as
findings_by_entry %}`` (one query, none for an empty list) and under each
entry ``{% entry_findings findings_by_entry differential %}``. The findings
are the de-identified case copies of ``portal.selectors``, never the patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from cases.models import Case
from diagnoses.models import Differential
from portal.selectors import FindingView, findings_for_case

register = template.Library()


@register.simple_tag
def case_findings(case: Case, entries: Sequence[Any]) -> dict[int, list[FindingView]]:
    """The case's findings by differential id; no query when it has no entries."""
    return findings_for_case(case) if entries else {}


@register.inclusion_tag("portal/_findings.html")
def entry_findings(
    findings_by_entry: dict[int, list[FindingView]], differential: Differential
) -> dict[str, Any]:
    return {
        "findings": findings_by_entry.get(differential.pk, []),
        "label": differential.label,
    }
