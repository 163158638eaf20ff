"""Background work for findings: the case-grade copy of a patient's file."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def finding_copy_media(finding_id: int) -> str:
    """Make a finding's case copy; returns its status.

    Idempotent and retry-safe: it re-reads the finding and copies only when
    the finding has no copy yet (under a lock). The pipeline queues
    ``finding_copy_processed`` when the new copy is done; a copy that was
    already processed (reused from another finding) is announced now.
    """
    from media_handling.sniff import MediaError
    from portal import submission_media
    from portal.models import FindingLink

    finding = FindingLink.objects.filter(pk=finding_id).first()
    if finding is None:
        return "missing"
    try:
        copy = submission_media.case_copy_make(finding)
    except MediaError as exc:
        logger.warning("finding %s: no case copy: %s", finding_id, exc)
        return "failed"
    if copy is None:
        return "missing"
    copy.refresh_from_db()
    if copy.is_pending:
        return "waiting"
    return submission_media.case_copy_processed(
        asset_id=copy.pk, case_id=finding.case_id
    )


@task
def finding_copy_processed(asset_id: int, case_id: int) -> str:
    """The media pipeline's continuation for a case copy: tell the case page."""
    from portal import submission_media

    return submission_media.case_copy_processed(asset_id=asset_id, case_id=case_id)
