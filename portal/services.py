"""Patients' submissions to their clinician, and findings made of them on cases.

Rules:

- A patient submits only to a clinician they have an active care link with,
  only their own upload, and only with consent (the consent text and time are
  stored with the submission).
- Only the submission's clinician reads, rates, replies to, dismisses or
  attaches it, and only once their registration is verified. Status moves ``submitted → reviewed`` (on the first rating or
  reply) ``→ attached | dismissed``; an attached submission may be attached to
  more differentials. Dismissed or withdrawn ones cannot be attached.
- The patient may withdraw a submission at any point, attached or not;
  consent is then gone, so their file and every case copy are deleted and
  each finding made of it becomes a tombstone ("withdrawn by the patient").
- Attaching needs edit rights on the differential's case (``can_edit``) and a
  case that is not archived. What reaches the case is only de-identified: the
  photo or video as a new, case-grade asset (made from the patient's copy,
  metadata stripped again, faces blurred when asked), the link as its
  canonical URL; never the patient's name, description or original link.

Every action is audited. The clinician is notified of new submissions and
the patient of their clinician's decisions (``Notification.Kind.SUBMISSION``,
pushed live on commit). Attaching also sends ``{"type": "finding.added",
"case", "differential", "finding"}`` to the case's group, and, once a
photo's or video's case copy is ready (or failed), ``{"type":
"finding.updated", ...}`` with the same fields (``submission_media``);
withdrawing sends ``finding.updated`` with ``"withdrawn": true``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import PHIFound, phi_gate
from diagnoses.models import Differential
from media_handling.models import MediaAsset
from portal import submission_media
from portal.models import CONSENT_TEXT, FindingLink, SocialLink, Submission
from portal.social_links import SocialLinkError, parse_social_link
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.models import CareLink, Notification, User
from workspace.services import (
    ServiceError,
    notification_create,
    require,
    require_verified,
)

__all__ = [
    "CONSENT_TEXT",
    "MAX_DESCRIPTION",
    "MAX_NOTE",
    "PHIFound",
    "per_hour_limit",
    "submission_attach",
    "submission_create",
    "submission_dismiss",
    "submission_open",
    "submission_rate",
    "submission_reply",
    "submission_withdraw",
]

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000


def per_hour_limit() -> int:
    """How many submissions a patient may send in an hour (a flood guard)."""
    return int(getattr(settings, "PORTAL_SUBMISSIONS_PER_HOUR", 30))


# --- Helpers --------------------------------------------------------------------------


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


def _case_facing(link: SocialLink | None) -> tuple[str, str]:
    """The canonical and embed URLs a case may show for ``link``, or blanks.

    Derived again from what the patient pasted rather than trusted from the
    stored row, so a link saved by an older parser can't carry a handle or
    a sharer's id onto a case.
    """
    if link is None:
        return "", ""
    try:
        parsed = parse_social_link(link.url)
    except SocialLinkError:
        return "", ""
    return parsed.canonical_url or "", parsed.embed_url or ""


# --- Patient --------------------------------------------------------------------------


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


# --- Clinician ------------------------------------------------------------------------


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
    phi_gate(
        fields={"reply": note},
        dismissed=dismissed,
        by=by,
        surface="submission.reply",
        target=submission,
        ip=ip,
    )
    now = timezone.now()
    submission.clinician_note = note
    submission.clinician_note_at = now
    fields = ["clinician_note", "clinician_note_at", "updated"]
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
    phi_gate(
        fields={"reply": note},
        dismissed=dismissed,
        by=by,
        surface="submission.dismiss",
        target=submission,
        ip=ip,
    )
    now = timezone.now()
    submission.status = Submission.Status.DISMISSED
    submission.decided_at = now
    fields = ["status", "decided_at", "updated"]
    if note:
        submission.clinician_note = note
        submission.clinician_note_at = now
        fields += ["clinician_note", "clinician_note_at"]
    fields += _mark_read(submission, now)
    submission.save(update_fields=fields)
    _audit(by, "submission.dismiss", submission, ip)
    _notify_patient(
        submission,
        f"{by.display_name} reviewed what you sent",
        note[:200] or "They have looked at it and won't be adding it to your notes.",
    )
    return submission


@transaction.atomic
def submission_attach(
    *,
    submission: Submission,
    by: User,
    differential: Differential,
    relation: str,
    note: str = "",
    blur_faces: bool = True,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> FindingLink:
    """Put a submission on a differential entry of a case ``by`` can edit.

    Guarantees: ``by`` is the submission's clinician and may edit the case
    (not archived); the submission is neither dismissed nor withdrawn; a
    photo or video has finished processing. The finding holds only
    de-identified content: the link's canonical URL, and a new case-grade
    asset made from the patient's copy by a task queued on commit (one per
    case, reused when the same submission goes on another entry of that
    case; faces blurred when ``blur_faces``, and never shown to the case
    before ``by`` has reviewed it: see ``submission_media``). The note, which
    every participant reads, passes the PHI gate (``PHIFound`` until each
    finding is edited away or in ``dismissed``; dismissals go on the case's
    trail). The patient is told their submission was added to their notes,
    without the case.
    """
    if relation not in FindingLink.Relation.values:
        raise InvalidInput({"relation": "Choose how this relates."})
    note = _note(note)
    # Lock order: case, then submission (as the differentials services do).
    case = Case.objects.select_for_update().get(pk=differential.case_id)
    submission = _lock(submission)
    _require_clinician(submission, by)
    _check_open(submission, "attached")
    if submission.status == Submission.Status.DISMISSED:
        raise ServiceError("This was dismissed; it can't be attached.")
    require(
        case_access(by, case).can_edit,
        "You can only attach findings to cases you can edit.",
    )
    if case.status == Case.Status.ARCHIVED:
        raise ServiceError("This case is archived.")
    entry = Differential.objects.filter(pk=differential.pk, case=case).first()
    if entry is None:
        raise ServiceError("That diagnosis is no longer on the list.")
    phi_gate(
        fields={"note": note},
        dismissed=dismissed,
        by=by,
        surface="finding.note",
        target=entry,
        case_id=case.pk,
        ip=ip,
    )
    link = submission.link
    asset = submission.asset
    if asset is not None and asset.status == MediaAsset.Status.REJECTED:
        # Nothing usable to copy; a link, if there is one, can still be shared.
        asset = None
        if link is None:
            raise ServiceError(
                "The file could not be processed, so it can't be shared."
            )
    if asset is not None and asset.status not in submission_media.PATIENT_USABLE:
        raise ServiceError(
            "The file is still being processed; try again when it is ready."
        )
    shared = _case_facing(link)
    try:
        with transaction.atomic():
            finding = FindingLink.objects.create(
                submission=submission,
                differential=entry,
                case=case,
                relation=relation,
                note=note,
                created_by=by,
                blur_faces=bool(blur_faces and asset is not None),
                platform=link.platform if link else "",
                canonical_url=shared[0],
                embed_url=shared[1],
            )
    except IntegrityError as exc:
        raise ServiceError("This is already attached to that diagnosis.") from exc
    if asset is not None:
        # The copy is made by a task: a video may be gigabytes, storage remote.
        submission_media.copy_enqueue(finding)
    now = timezone.now()
    first = submission.status != Submission.Status.ATTACHED
    submission.status = Submission.Status.ATTACHED
    fields = ["status", "updated"]
    if first:
        submission.decided_at = now
        fields.append("decided_at")
    if submission.reviewed_at is None:
        submission.reviewed_at = now
        fields.append("reviewed_at")
    fields += _mark_read(submission, now)
    submission.save(update_fields=fields)
    # Two events: the patient's trail (no case details in its label) and the
    # case's (no patient in it), so neither side's log names the other.
    _audit(
        by,
        "submission.attach",
        submission,
        ip,
        finding=finding.pk,
        relation=relation,
    )
    audit.record(
        actor=by,
        verb="finding.add",
        target=finding,
        case_id=case.pk,
        ip=ip,
        data={
            "differential": entry.pk,
            "relation": relation,
            "media": asset is not None,
            "link": link is not None,
            "blur_faces": finding.blur_faces,
        },
    )
    broadcast_on_commit(
        case_group(case),
        {
            "type": "finding.added",
            "case": case.pk,
            "differential": entry.pk,
            "finding": finding.pk,
        },
    )
    if first:
        _notify_patient(
            submission,
            f"{by.display_name} added what you sent to your notes",
            "A copy without your name or file details is now part of the "
            "discussion of your care.",
        )
    return finding
