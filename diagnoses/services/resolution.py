"""Resolving a published case with its final diagnosis, which scores every
voter's likelihoods (:mod:`diagnoses.scoring`).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from cases.models import Case
from cases.permissions import case_access
from cases.services.cases import case_announce, case_locked
from diagnoses.models import Differential
from diagnoses.scoring import case_scores_compute
from diagnoses.services._common import _announce, _audit, _gate
from workspace.errors import InvalidInput
from workspace.models import User
from workspace.services import ServiceError, require


def announce_resolution(*, case: Case, by: User) -> None:
    """A ``differential.updated`` frame (reason ``"resolve"``) after
    :func:`diagnoses.services.case_resolve`, so open panels show the
    outcome and the now-visible consensus at once."""
    _announce(
        case,
        by,
        "resolve",
        f"{by.display_name} resolved the case: {case.final_diagnosis}",
    )


# --- Resolving the case ---------------------------------------------------------------


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    by: User,
    final_diagnosis: str,
    confirmed: Differential | None = None,
    dismissed: Collection[str] = (),
    ip: str | None = None,
    announce_ranking: bool = True,
) -> Case:
    """Mark a published case resolved with its final diagnosis.

    ``confirmed`` links the diagnosis to an entry of the case's differential
    (confirming it, unless it already is; refused while another entry is
    confirmed); an empty ``final_diagnosis`` then takes the entry's label.
    With a confirmed entry (linked here or confirmed earlier) every voter's
    likelihoods are scored (:mod:`diagnoses.scoring`), replacing any
    earlier scores of the case. Everyone on the case hears of it live: a
    ``case.updated`` frame with ``final_diagnosis`` and, unless the caller
    announces the ranking itself, a ``differential.updated`` (``resolve``).

    Owner and collaborators resolve. The diagnosis is free text shown to
    everyone who sees the case, so it passes the PHI gate too
    (:func:`cases.phi_gate.phi_gate`, surface ``case.resolve``): refused
    while a finding is neither fixed nor in ``dismissed``; a dismissal is
    audited.
    """
    access = case_access(by, case)
    require(access.can_edit, "You can't resolve this case.")
    case = case_locked(case)
    if case.status != Case.Status.PUBLISHED:
        raise ServiceError("Only a published case can be resolved.")
    final_diagnosis = " ".join((final_diagnosis or "").split())
    if confirmed is not None:
        confirmed = Differential.objects.filter(pk=confirmed.pk, case=case).first()
        if confirmed is None:
            raise InvalidInput(
                {"confirmed": "That diagnosis is no longer on this case's list."}
            )
        if confirmed.status == Differential.Status.RULED_OUT:
            raise InvalidInput(
                {
                    "confirmed": f"“{confirmed.label}” was ruled out; reconsider it first."
                }
            )
        other = (
            Differential.objects.filter(case=case, status=Differential.Status.CONFIRMED)
            .exclude(pk=confirmed.pk)
            .first()
        )
        if other is not None:
            raise InvalidInput(
                {
                    "confirmed": f"“{other.label}” is already the confirmed diagnosis; "
                    "un-confirm it first."
                }
            )
        final_diagnosis = final_diagnosis or confirmed.label
    if not final_diagnosis:
        raise InvalidInput({"final_diagnosis": "Enter the final diagnosis."})
    if len(final_diagnosis) > 200:
        raise InvalidInput(
            {"final_diagnosis": "Keep the diagnosis under 200 characters."}
        )
    _gate(
        case,
        "case.resolve",
        {"final_diagnosis": final_diagnosis},
        by=by,
        dismissed=dismissed,
        ip=ip,
    )
    if confirmed is not None and not confirmed.is_confirmed:
        confirmed.status = Differential.Status.CONFIRMED
        confirmed.decided_by, confirmed.decided_at = by, timezone.now()
        confirmed.save(update_fields=["status", "decided_by", "decided_at", "updated"])
    case.status = Case.Status.RESOLVED
    case.final_diagnosis = final_diagnosis
    case.resolved_at = timezone.now()
    case.save(update_fields=["status", "final_diagnosis", "resolved_at", "updated"])
    scores = case_scores_compute(case)
    _audit(
        by,
        "case.resolve",
        case,
        ip,
        final_diagnosis=final_diagnosis,
        confirmed=confirmed.pk if confirmed else None,
        scored=len(scores),
    )
    case_announce(
        case,
        final_diagnosis=final_diagnosis,
        resolved_at=case.resolved_at.isoformat(),
        # The page's own "j M Y" in the site's time zone, so live and
        # reloaded pages read the same.
        resolved_on=date_format(timezone.localtime(case.resolved_at), "j M Y"),
    )
    if announce_ranking:
        announce_resolution(case=case, by=by)
    return case
