"""Background work for findings: the case-grade copy of a patient's file."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def finding_copy_media(finding_id: int, attempt: int = 0) -> str:
    """Make a finding's case copy, then settle its faces; returns its status.

    Idempotent and retry-safe: it re-reads the finding, copies only when the
    finding has no copy yet (under a lock), and settles faces only once the
    media worker has processed the copy, looking again later while it has
    not.
    """
    from media_handling.sniff import MediaError

    from .models import FindingLink
    from .services import submission_media

    finding = FindingLink.objects.filter(pk=finding_id).first()
    if finding is None:
        return "missing"
    if finding.asset_id is None:
        try:
            copy = submission_media.case_copy_make(finding)
        except MediaError as exc:
            logger.warning("finding %s: no case copy: %s", finding_id, exc)
            return "failed"
        if copy is None:
            return "missing"
    return submission_media.case_copy_settle(finding, attempt=attempt)
