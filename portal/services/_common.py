"""What every submission service shares: limits, locking, the clinician check,
notes, the patient's notification and the patient's audit trail."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from portal.models import Submission
from workspace import audit
from workspace.errors import InvalidInput
from workspace.models import Notification, User
from workspace.services import (
    ServiceError,
    notification_create,
    require,
    require_verified,
)

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000


def per_hour_limit() -> int:
    """How many submissions a patient may send in an hour (a flood guard)."""
    return int(getattr(settings, "PORTAL_SUBMISSIONS_PER_HOUR", 30))


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("patient", "clinician", "asset", "link")
        .get(pk=submission.pk)
    )


def _require_clinician(submission: Submission, by: User) -> None:
    require(
        by.is_authenticated and submission.clinician_id == by.pk,
        "Only the clinician this was sent to can do that.",
    )
    require_verified(by)


def _note(text: str, field: str = "note") -> str:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput({field: f"Keep the note under {MAX_NOTE} characters."})
    return text


def _portal_url() -> str:
    return reverse("portal")


def _review_url(submission: Submission) -> str:
    return reverse("inbox_review", args=[submission.pk])


def _notify_patient(submission: Submission, title: str, body: str = "") -> None:
    notification_create(
        user=submission.patient,
        kind=Notification.Kind.SUBMISSION,
        title=title,
        body=body,
        url=_portal_url() + f"#submission-{submission.pk}",
        data={"submission": submission.pk, "status": submission.status},
    )


def _audit(by: User, verb: str, submission: Submission, ip: str | None, **data) -> None:
    # Never with a case id: the patient's trail stays off every case's log.
    audit.record(actor=by, verb=verb, target=submission, ip=ip, data=data)


def _mark_read(submission: Submission, now) -> list[str]:
    if submission.read_at is not None:
        return []
    submission.read_at = now
    return ["read_at"]


def _mark_reviewed(submission: Submission, now) -> list[str]:
    """A first rating or reply moves ``submitted`` to ``reviewed``."""
    changed = _mark_read(submission, now)
    if submission.status != Submission.Status.SUBMITTED:
        return changed
    submission.status = Submission.Status.REVIEWED
    submission.reviewed_at = now
    return [*changed, "status", "reviewed_at"]


def _check_open(submission: Submission, action: str) -> None:
    if submission.status == Submission.Status.WITHDRAWN:
        raise ServiceError(f"The patient withdrew this; it can't be {action}.")
