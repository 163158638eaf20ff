"""Attaching a submission to a differential entry of a case, as a finding.

What reaches the case is only de-identified: a case-grade copy of the photo
or video (made by a task, see ``portal.submission_media``) and the link's
canonical URL, never the patient's name, description or original link.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import phi_gate
from diagnoses.models import Differential
from media_handling.models import MediaAsset
from portal import submission_media
from portal.models import FindingLink, SocialLink, Submission
from portal.services._common import (
    _audit,
    _check_open,
    _lock,
    _mark_read,
    _note,
    _notify_patient,
    _require_clinician,
)
from portal.social_links import SocialLinkError, parse_social_link
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.models import User
from workspace.services import ServiceError, require


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
    every participant reads, passes the PHI gate, and so does the link when
    it is to a site other than the known platforms, whose path may carry a
    name: ``PHIFound`` until each finding is edited away or in ``dismissed``
    (dismissals go on the case's trail). The patient is told their submission
    was added to their notes, without the case.
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
    link = submission.link
    shared = _case_facing(link)
    fields = {"note": note}
    if link is not None and link.platform == SocialLink.Platform.OTHER and shared[0]:
        # A known platform's link is rebuilt from the post's id alone; any
        # other site's keeps its path, which can carry a name
        # ("/in/jane-doe"), so the clinician checks it like the note.
        fields["link"] = shared[0]
    phi_gate(
        fields=fields,
        dismissed=dismissed,
        by=by,
        surface="finding.note",
        target=entry,
        case_id=case.pk,
        ip=ip,
    )
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
