"""The patient's side: sending a submission, and taking it back.

Withdrawing empties every finding made of the submission into a tombstone
and deletes each case copy (see :func:`submission_withdraw`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from media_handling.models import MediaAsset
from portal import submission_media
from portal.models import CONSENT_TEXT, FindingLink, SocialLink, Submission
from portal.services._common import (
    MAX_DESCRIPTION,
    _audit,
    _lock,
    _review_url,
    per_hour_limit,
)
from portal.social_links import SocialLinkError, parse_social_link
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.models import CareLink, Notification, User
from workspace.services import ServiceError, notification_create, require


@transaction.atomic
def submission_create(
    *,
    patient: User,
    clinician: User,
    description: str,
    consent: bool,
    asset: MediaAsset | None = None,
    link_url: str = "",
    ip: str | None = None,
) -> Submission:
    """Send a photo or video and/or a link to one of the patient's clinicians.

    Guarantees: the patient has an active care link with ``clinician``; the
    asset (if any) was uploaded by this patient, is a photo or video and is in
    no other submission; the link (if any) parsed, with its canonical form and
    hashtags stored; consent was given, and the consent text and time are
    stored. Raises ``InvalidInput`` (per-field messages) for input the
    patient can fix, ``PermissionDenied`` otherwise. Notifies the clinician.
    """
    require(patient.is_authenticated and patient.is_patient, "Only patients submit.")
    require(
        CareLink.objects.filter(
            patient=patient, clinician=clinician, active=True
        ).exists(),
        "You can only send things to your own clinician.",
    )
    recent = Submission.objects.filter(
        patient=patient, created__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if recent >= per_hour_limit():
        raise ServiceError(
            "You have sent a lot in the last hour. Please wait a little before "
            "sending more, or contact your clinician directly."
        )
    errors: dict[str, str] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = "Tell your clinician what you noticed, and when."
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = (
            f"Please keep the description under {MAX_DESCRIPTION} characters."
        )
    if not consent:
        errors["consent"] = "Please confirm that you agree to share this."
    parsed = None
    link_url = (link_url or "").strip()
    if link_url:
        try:
            parsed = parse_social_link(link_url, description)
        except SocialLinkError as exc:
            errors["link"] = str(exc)
    if asset is not None:
        asset = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
        if asset is None or asset.uploaded_by_id != patient.pk:
            errors["file"] = "That upload was not found; please send the file again."
        elif asset.kind not in (MediaAsset.Kind.IMAGE, MediaAsset.Kind.VIDEO):
            errors["file"] = "Only photos and videos can be sent."
        elif asset.status == MediaAsset.Status.REJECTED:
            errors["file"] = asset.status_reason or "That file could not be used."
        elif Submission.objects.filter(asset=asset).exists():
            errors["file"] = "That file has already been sent."
    if asset is None and not link_url and "file" not in errors:
        errors["file"] = "Add a photo or video, or paste a link."
    if errors:
        raise InvalidInput(errors)
    link = None
    if parsed is not None:
        link = SocialLink.objects.create(
            platform=parsed.platform,
            url=link_url[:2048],
            canonical_url=parsed.canonical_url or "",
            content_id=parsed.content_id or "",
            embed_url=parsed.embed_url or "",
            hashtags=parsed.hashtags,
        )
    now = timezone.now()
    submission = Submission.objects.create(
        patient=patient,
        clinician=clinician,
        asset=asset,
        link=link,
        description=description,
        consent_text=CONSENT_TEXT,
        consent_at=now,
    )
    if asset is not None:
        submission_media.asset_adopt(asset, submission)
    _audit(
        patient,
        "submission.create",
        submission,
        ip,
        clinician=clinician.pk,
        asset=asset.pk if asset else None,
        platform=link.platform if link else None,
        consent_at=now.isoformat(),
    )
    notification_create(
        user=clinician,
        kind=Notification.Kind.SUBMISSION,
        title=f"New from {patient.display_name}: {submission.kind_label}",
        body=description[:200],
        url=_review_url(submission),
        data={"submission": submission.pk},
    )
    return submission


@transaction.atomic
def submission_withdraw(
    *, submission: Submission, by: User, ip: str | None = None
) -> Submission:
    """The patient takes a submission back, at any point: consent is gone.

    Guarantees, all in this transaction (files and frames after commit):

    - the patient's file is deleted with every stored rendition;
    - every finding made of it becomes a tombstone in its place on the case
      ("withdrawn by the patient"): its note, link and case copy are
      removed, and the copy (gallery item, asset, renditions; local or S3)
      is deleted;
    - each case's open pages hear ``finding.updated`` with ``withdrawn:
      true`` (the differential panel refreshes on it) and ``media.updated``
      with status ``removed`` for each deleted copy (the gallery refreshes);
    - the patient's trail gets ``submission.withdraw``; each case's trail
      gets ``finding.withdraw``, without the patient as its actor, so the
      case's log names no patient;
    - the clinician is notified.

    Withdrawing twice is a no-op.
    """
    submission = _lock(submission)
    require(
        by.is_authenticated and submission.patient_id == by.pk,
        "Only the patient who sent this can withdraw it.",
    )
    if submission.status == Submission.Status.WITHDRAWN:
        return submission
    now = timezone.now()
    asset = submission.asset
    removed = _findings_withdraw(submission, now)
    submission.status = Submission.Status.WITHDRAWN
    submission.withdrawn_at = now
    submission.asset = None
    submission.save(update_fields=["status", "withdrawn_at", "asset", "updated"])
    if asset is not None:
        submission_media.asset_discard(asset)
    _audit(
        by,
        "submission.withdraw",
        submission,
        ip,
        asset=asset.pk if asset else None,
        findings=[f.pk for f in removed],
    )
    cases = len({f.case_id for f in removed})
    body = ""
    if cases:
        body = (
            f"Every copy shared on {cases} case{'s' if cases != 1 else ''} has "
            "been removed and marked as withdrawn by the patient."
        )
    notification_create(
        user=submission.clinician,
        kind=Notification.Kind.SUBMISSION,
        title=f"{submission.patient.display_name} withdrew a submission",
        body=body,
        url=_review_url(submission),
        data={"submission": submission.pk, "status": submission.status},
    )
    return submission


def _findings_withdraw(submission: Submission, now) -> list[FindingLink]:
    """Empty every finding of ``submission`` into a tombstone; delete the copies."""
    findings = list(
        FindingLink.objects.select_for_update(of=("self",))
        .filter(submission=submission, withdrawn_at__isnull=True)
        .order_by("pk")
    )
    copies: dict[int, set[int]] = {}  # copy asset id -> case ids showing it
    for finding in findings:
        if finding.asset_id:
            copies.setdefault(finding.asset_id, set()).add(finding.case_id)
        finding.withdrawn_at = now
        finding.note = ""
        finding.asset = None
        finding.platform = ""
        finding.canonical_url = ""
        finding.embed_url = ""
        finding.blur_faces = False
        finding.save(
            update_fields=[
                "withdrawn_at",
                "note",
                "asset",
                "platform",
                "canonical_url",
                "embed_url",
                "blur_faces",
            ]
        )
        audit.record(
            actor=None,
            verb="finding.withdraw",
            target=finding,
            case_id=finding.case_id,
            data={"differential": finding.differential_id, "by": "patient"},
        )
        broadcast_on_commit(
            case_group(finding.case_id),
            {
                "type": "finding.updated",
                "case": finding.case_id,
                "differential": finding.differential_id,
                "finding": finding.pk,
                "withdrawn": True,
            },
        )
    for copy_id, case_ids in copies.items():
        submission_media.case_copy_discard(copy_id, case_ids)
    return findings
