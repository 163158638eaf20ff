"""The media side of submissions: the patient's copy and the case-grade copy.

The patient's file is an ordinary ``MediaAsset``: sniffed, size-capped and
stripped of metadata by the pipeline. Face proposals on it are ignored: it
is shown only to the patient and their clinician, who know who is in it.

A finding's case copy is a *new* asset made from the patient's copy's master
rendition and de-identified again by the same pipeline, uploaded in the
clinician's name (never the patient's) and added to the case's gallery,
unreleased. Face detection always runs on it and it always needs review: when
the clinician chose to blur faces (the default) every face found is blurred
in the same pass (``media_services.asset_derive``: one transcode for a
video), then, either way, nobody else on the case sees the copy until the
clinician has reviewed it on the face review page (``cases.views.media``) and
released it. Copying happens in a task (``portal.tasks``), because a video
may be gigabytes and storage may be remote; the pipeline queues
``portal.tasks.finding_copy_processed`` when the copy is done, which tells
the case page (no polling).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cases.models import CaseAsset
from cases.services import media as case_media
from media_handling import services as media_services
from media_handling.models import MediaAsset
from media_handling.sniff import sniff
from media_handling.uploads import AcceptedUpload, check_kind
from portal.models import FindingLink, Submission
from workspace.events import broadcast_on_commit, case_group, user_group

logger = logging.getLogger(__name__)

__all__ = [
    "PATIENT_USABLE",
    "asset_adopt",
    "asset_discard",
    "case_copy_discard",
    "case_copy_make",
    "case_copy_processed",
    "copy_enqueue",
    "unsent_uploads_delete",
    "upload_from_path",
]

# A patient's copy may be shown and copied once processed, faces or not.
PATIENT_USABLE = (MediaAsset.Status.READY, MediaAsset.Status.NEEDS_REVIEW)


def asset_adopt(asset: MediaAsset, submission: Submission) -> None:
    """Point the asset's progress frames at the patient's own pages."""
    group = user_group(submission.patient_id)
    if asset.owner_group != group:
        MediaAsset.objects.filter(pk=asset.pk).update(owner_group=group)
        asset.owner_group = group


def asset_discard(asset: MediaAsset) -> None:
    """Delete the patient's copy and, after commit, its files."""
    media_services.asset_delete(asset=asset)


def case_copy_discard(asset_id: int, case_ids: set[int]) -> None:
    """Delete a finding's case copy: its gallery items, the asset and (after
    commit) its files, telling each case's gallery (``media.updated``,
    status ``removed``). A copy still being processed is deleted too; the
    pipeline finds the row gone and deletes its own output.
    """
    items = CaseAsset.objects.select_for_update().filter(asset_id=asset_id)
    for item in items:
        case_ids.add(item.case_id)
    items.delete()
    for case_id in sorted(case_ids):
        broadcast_on_commit(
            case_group(case_id),
            {"type": "media.updated", "asset": {"id": asset_id, "status": "removed"}},
        )
    asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is not None:
        media_services.asset_delete(asset=asset)


def unsent_uploads_delete(*, older_than: timedelta = timedelta(hours=24)) -> int:
    """Delete patients' uploads never sent in a submission; returns how many.

    A patient may pick a file and leave without sending it; what they did not
    consent to share is not kept.
    """
    cutoff = timezone.now() - older_than
    unsent = MediaAsset.objects.filter(
        uploaded_by__kind="patient", submission__isnull=True, created__lt=cutoff
    )
    count = 0
    for asset in unsent.iterator():
        media_services.asset_delete(asset=asset)
        count += 1
    return count


def copy_enqueue(finding: FindingLink) -> None:
    """Queue making the finding's case copy, after commit."""
    from .tasks import finding_copy_media

    finding_id = finding.pk
    transaction.on_commit(lambda: finding_copy_media.enqueue(finding_id=finding_id))


def upload_from_path(path) -> AcceptedUpload:
    """Wrap a local file as an accepted upload, checked like any other."""
    sniffed = sniff(path)
    kind = check_kind(sniffed)
    upload = AcceptedUpload("copy", sniffed.mime or "", 0, None)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(256 * 1024):
            upload.file.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    upload.file.flush()
    upload.file.seek(0)
    upload.size = size
    upload.sniffed = sniffed
    upload.kind = kind
    upload.sha256 = digest.hexdigest()
    return upload


COPY_CAPTION = "Shared from a patient's submission"


def case_copy_make(finding: FindingLink) -> MediaAsset | None:
    """Create the case copy for ``finding`` (or reuse its case's); idempotent.

    The copy joins the case's gallery in the name of the clinician who
    attached it (``cases.services.media``), unreleased until its faces are
    settled. Returns None when the patient's file is gone.
    """
    with transaction.atomic():
        finding = (
            FindingLink.objects.select_for_update(of=("self",))
            .select_related("submission__asset", "created_by", "case")
            .get(pk=finding.pk)
        )
        if finding.asset_id:
            return finding.asset
        if finding.withdrawn_at is not None:
            # The patient withdrew it before the copy was made: make none.
            return None
        # One copy per submission and case: a second entry reuses it.
        sibling = (
            FindingLink.objects.filter(
                submission_id=finding.submission_id,
                case_id=finding.case_id,
                asset__isnull=False,
            )
            .exclude(pk=finding.pk)
            .values_list("asset_id", flat=True)
            .first()
        )
        if sibling:
            finding.asset_id = sibling
            finding.save(update_fields=["asset"])
            return finding.asset
        source = finding.submission.asset
        if source is None or finding.created_by is None:
            return None
        item = case_media.case_media_derive(
            case=finding.case,
            by=finding.created_by,
            source=source,
            blur=finding.blur_faces,
            caption=COPY_CAPTION,
            then=media_services.Continuation(
                task="portal.tasks.finding_copy_processed",
                kwargs={"case_id": finding.case_id},
            ),
        )
        finding.asset = item.asset
        finding.save(update_fields=["asset"])
    return finding.asset


def case_copy_processed(*, asset_id: int, case_id: int) -> str:
    """The pipeline is done with a case copy (its continuation, or a second
    finding reusing a copy already processed): tell the case page about every
    finding it illustrates (``finding.updated``). Returns the copy's status."""
    copy = MediaAsset.objects.filter(pk=asset_id).first()
    if copy is None:
        return "missing"
    findings = FindingLink.objects.filter(asset_id=asset_id, case_id=case_id)
    for finding_id, differential_id in findings.values_list("pk", "differential_id"):
        broadcast_on_commit(
            case_group(case_id),
            {
                "type": "finding.updated",
                "case": case_id,
                "differential": differential_id,
                "finding": finding_id,
            },
        )
    return copy.status
