"""Publishing a draft through the PHI gate.

Only the owner, a verified clinician, publishes; every text field and the
tags are scanned, each finding must be fixed or dismissed, and the publisher
attests that the case is de-identified. The scan, the dismissals and the
attestation are stored on the case and in the audit trail; a refusal is
audited too (``case.publish_blocked``).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from cases.phi import Finding, findings_unresolved
from cases.phi_gate import PHIFound
from workspace.errors import InvalidInput
from workspace.models import User
from workspace.services import ServiceError, require

from .common import case_announce, case_event, case_locked
from .findings import _attest, _kinds, case_phi_scan
from .validation import _check_sharing, _publish_problems

__all__ = ["case_publish"]


@transaction.atomic
def _publish_locked(
    *,
    case: Case,
    by: User,
    attestation: str,
    dismissed: Collection[str],
    ip: str | None,
) -> tuple[Case, list[Finding]]:
    access = case_access(by, case)
    require(access.can_manage, "Only the case owner can publish it.")
    require(
        by.is_verified_clinician,
        "Only verified clinicians can publish cases. Ask staff to verify your registration.",
    )
    case = case_locked(case)
    if case.status != Case.Status.DRAFT:
        raise ServiceError("This case has already been published.")
    problems = _publish_problems(case) | _check_sharing(
        owner=case.owner, visibility=case.visibility, workspace=case.workspace
    )
    if problems:
        raise InvalidInput(problems)
    findings = case_phi_scan(case)
    given = set(dismissed)
    unresolved = findings_unresolved(findings, given)
    if unresolved:
        return case, unresolved
    if not attestation.strip():
        raise InvalidInput({"attestation": "Attest that the case is de-identified."})
    now = timezone.now()
    case.status = Case.Status.PUBLISHED
    case.published_at = now
    if case.visibility == Case.Visibility.COMMUNITY:
        # Independent differentials by default for community cases (drafts
        # usually start private, before their visibility is chosen); the
        # owner can turn it off on the differential panel.
        case.independent = True
    attested = _attest(case, by, findings, given, attestation, now)
    kept = case.phi_dismissed
    case.save(
        update_fields=["status", "published_at", *attested, "independent", "updated"]
    )
    case_event(
        by=by,
        verb="case.publish",
        case=case,
        ip=ip,
        data={
            "visibility": case.visibility,
            "findings": len(findings),
            "dismissed": len(kept),
            "kinds": _kinds(findings),
            "dismissed_keys": kept,
            "attestation": case.deid_attestation,
        },
    )
    case_announce(case)
    return case, []


def case_publish(
    *,
    case: Case,
    by: User,
    attestation: str,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Case:
    """Publish a draft through the PHI gate (see the module docstring).

    Only the owner, a verified clinician, publishes. Raises
    :class:`InvalidInput` when required fields or the attestation are missing
    and :class:`PHIFound` (after recording a ``case.publish_blocked`` audit
    event, which survives the refusal) while findings remain unresolved.
    """
    case, unresolved = _publish_locked(
        case=case, by=by, attestation=attestation, dismissed=dismissed, ip=ip
    )
    if unresolved:
        case_event(
            by=by,
            verb="case.publish_blocked",
            case=case,
            ip=ip,
            data={"unresolved": len(unresolved), "kinds": _kinds(unresolved)},
        )
        raise PHIFound(unresolved)
    return case
