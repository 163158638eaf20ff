"""The clinician's triage of a submission: open, rate, reply to, dismiss.

Replies and dismissal notes reach the patient, so they pass the PHI gate.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.utils import timezone

from cases.phi_gate import phi_gate
from portal.models import Submission
from portal.services._common import (
    _audit,
    _check_open,
    _lock,
    _mark_read,
    _mark_reviewed,
    _note,
    _notify_patient,
    _require_clinician,
)
from workspace.errors import InvalidInput
from workspace.models import User
from workspace.services import ServiceError


def _gate_patient_note(
    submission: Submission,
    note: str,
    *,
    by: User,
    dismissed: Collection[str],
    surface: str,
    ip: str | None,
) -> None:
    """A note the patient will read passes the PHI gate (as the ``reply`` field)."""
    phi_gate(
        fields={"reply": note},
        dismissed=dismissed,
        by=by,
        surface=surface,
        target=submission,
        ip=ip,
    )


def _set_patient_note(submission: Submission, note: str, now) -> list[str]:
    """Replace the note the patient sees; the fields it changed."""
    submission.clinician_note = note
    submission.clinician_note_at = now
    return ["clinician_note", "clinician_note_at"]


@transaction.atomic
def submission_open(
    *, submission: Submission, by: User, ip: str | None = None
) -> Submission:
    """Record that the clinician opened it; the first opening marks it read."""
    _require_clinician(submission, by)
    if submission.read_at is None:
        Submission.objects.filter(pk=submission.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        submission.refresh_from_db(fields=["read_at"])
    _audit(by, "submission.view", submission, ip)
    return submission


@transaction.atomic
def submission_rate(
    *,
    submission: Submission,
    by: User,
    credibility: str,
    note: str = "",
    ip: str | None = None,
) -> Submission:
    """Rate how credible the content is, with a private note; marks it reviewed."""
    submission = _lock(submission)
    _require_clinician(submission, by)
    _check_open(submission, "rated")
    if credibility not in Submission.Credibility.values:
        raise InvalidInput({"credibility": "Choose a rating."})
    now = timezone.now()
    submission.credibility = credibility
    submission.credibility_note = _note(note)
    fields = ["credibility", "credibility_note", "updated"]
    fields += _mark_reviewed(submission, now)
    submission.save(update_fields=fields)
    _audit(by, "submission.rate", submission, ip, credibility=credibility)
    return submission


@transaction.atomic
def submission_reply(
    *,
    submission: Submission,
    by: User,
    note: str,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Submission:
    """Set the note the patient sees (replacing any earlier one) and tell them.

    The note passes the PHI gate (``PHIFound`` until every finding is edited
    away or in ``dismissed``; dismissals are audited).
    """
    submission = _lock(submission)
    _require_clinician(submission, by)
    _check_open(submission, "answered")
    note = _note(note, "reply")
    if not note:
        raise InvalidInput({"reply": "Write a note for your patient."})
    _gate_patient_note(
        submission, note, by=by, dismissed=dismissed, surface="submission.reply", ip=ip
    )
    now = timezone.now()
    fields = [*_set_patient_note(submission, note, now), "updated"]
    fields += _mark_reviewed(submission, now)
    submission.save(update_fields=fields)
    _audit(by, "submission.reply", submission, ip)
    _notify_patient(
        submission,
        f"{by.display_name} replied about what you sent",
        note[:200],
    )
    return submission


@transaction.atomic
def submission_dismiss(
    *,
    submission: Submission,
    by: User,
    note: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Submission:
    """Close a submission without using it; ``note`` (optional) goes to the
    patient, through the PHI gate like a reply."""
    submission = _lock(submission)
    _require_clinician(submission, by)
    _check_open(submission, "dismissed")
    if submission.status == Submission.Status.DISMISSED:
        return submission
    if submission.status == Submission.Status.ATTACHED:
        raise ServiceError("This is already attached to a case.")
    note = _note(note, "reply")
    _gate_patient_note(
        submission,
        note,
        by=by,
        dismissed=dismissed,
        surface="submission.dismiss",
        ip=ip,
    )
    now = timezone.now()
    submission.status = Submission.Status.DISMISSED
    submission.decided_at = now
    fields = ["status", "decided_at", "updated"]
    if note:
        fields += _set_patient_note(submission, note, now)
    fields += _mark_read(submission, now)
    submission.save(update_fields=fields)
    _audit(by, "submission.dismiss", submission, ip)
    _notify_patient(
        submission,
        f"{by.display_name} reviewed what you sent",
        note[:200] or "They have looked at it and won't be adding it to your notes.",
    )
    return submission
