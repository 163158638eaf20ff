"""A case's DICOM studies: upload as series, burned-in text review, release.

Policy lives here; ``media_handling.dicom_upload`` and ``dicom_pipeline`` do
the bytes. The case decides how a study is de-identified: UIDs are keyed by
the case's workspace secret *and* the case (``dicom_policy_for``), so every
upload to one case maps the same original UID to the same new UID (series
and references stay intact across uploads) while two cases never share a
mapping. Dates are removed unless the uploader asks to shift them.

Rules, on top of those of ``cases.services.media``:
- only those who can edit a case that is not archived add studies;
- one gallery item (``CaseAsset``) per series, visible to its uploader at
  once and to the case once it is ready and released;
- only the uploader masks and releases a series that needs review;
  releasing it also releases the item to the case.
Every action is audited and announced as ``{"type": "media.updated",
"asset": {...}}`` to the case's group after commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cases.models import Case, CaseAsset
from media_handling import services as media_services
from media_handling import storage as media_storage
from media_handling.dicom_pipeline import (
    DicomPolicy,
    dicom_series_mask,
    dicom_series_release,
)
from media_handling.dicom_upload import (
    UploadProblem,
    dicom_assets_create,
    dicom_files_group,
)
from media_handling.models import UploadSession
from workspace.events import case_group
from workspace.models import User
from workspace.services import require

from .common import case_event
from .media import (
    _mark_released,
    _next_position,
    _record,
    _require_can_add,
    _require_uploader,
)

__all__ = [
    "DicomUploadOutcome",
    "UploadProblem",
    "case_dicom_mask",
    "case_dicom_release",
    "case_dicom_upload",
    "case_dicom_upload_complete",
    "case_dicom_upload_start",
    "dicom_policy_for",
]


def dicom_policy_for(case: Case, *, shift_dates: bool = False) -> DicomPolicy:
    """How studies uploaded to ``case`` are de-identified: keyed per case."""
    return DicomPolicy(
        scope=f"case:{case.pk}",
        workspace_id=case.workspace_id,
        shift_dates=shift_dates,
    )


@dataclass
class DicomUploadOutcome:
    """What an upload became: one item per series, and per-file problems."""

    items: list[CaseAsset] = field(default_factory=list)
    failed: list[UploadProblem] = field(default_factory=list)
    skipped: list[UploadProblem] = field(default_factory=list)
    images: int = 0


def _series_caption(modality: str, count: int) -> str:
    noun = "image" if count == 1 else "images"
    return f"{modality or 'DICOM'} series, {count} {noun}"


def case_dicom_upload(
    *,
    case: Case,
    by: User,
    files: Sequence[tuple[str, str | Path]],
    shift_dates: bool = False,
    ip: str | None = None,
) -> DicomUploadOutcome:
    """Group uploaded DICOM files and zip archives into series and add one
    gallery item per series; processing starts after commit.

    ``files`` are (name the uploader gave, local path) pairs. A corrupt,
    truncated or unsafe file fails on its own, listed in ``failed`` with
    its reason; files that are not DICOM images are listed in ``skipped``.
    Nothing is stored for them. Raises PermissionDenied when ``by`` may not
    add media to the case.
    """
    _require_can_add(case, by, "studies")
    outcome = DicomUploadOutcome()
    with tempfile.TemporaryDirectory(prefix="consilium-dicom-upload-") as workdir:
        grouping = dicom_files_group(files, workdir=workdir)
        outcome.failed, outcome.skipped = grouping.failed, grouping.skipped
        outcome.images = grouping.accepted
        if not grouping.series:
            return outcome
        assets = []
        try:
            with transaction.atomic():
                assets = dicom_assets_create(
                    series=grouping.series,
                    policy=dicom_policy_for(case, shift_dates=shift_dates),
                    uploaded_by=by,
                    owner_group=case_group(case),
                )
                first = _next_position(case)
                for offset, (asset, group) in enumerate(
                    zip(assets, grouping.series, strict=True)
                ):
                    outcome.items.append(
                        CaseAsset.objects.create(
                            case=case,
                            asset=asset,
                            added_by=by,
                            caption=_series_caption(group.modality, len(group.files)),
                            position=first + offset,
                        )
                    )
                case_event(
                    by=by,
                    verb="media.dicom.upload",
                    case=case,
                    ip=ip,
                    data={
                        "assets": [a.pk for a in assets],
                        "images": grouping.accepted,
                        "failed": len(grouping.failed),
                        "skipped": len(grouping.skipped),
                        "dates": "shifted" if shift_dates else "removed",
                    },
                )
        except BaseException:
            media_storage.delete_names(a.source_name for a in assets)
            raise
    return outcome


def case_dicom_upload_start(*, case: Case, by: User, size: int) -> UploadSession:
    """Open a part-by-part upload of a DICOM file or zip archive for ``case``.

    The parts travel like a video's (straight to S3 in scale mode); nothing
    is read until ``case_dicom_upload_complete``.
    """
    _require_can_add(case, by, "studies")
    return media_services.upload_session_start(
        uploaded_by=by,
        owner_group=case_group(case),
        size=size,
        purpose=UploadSession.Purpose.DICOM,
    )


def case_dicom_upload_complete(
    *,
    case: Case,
    by: User,
    session: UploadSession,
    name: str = "",
    shift_dates: bool = False,
    ip: str | None = None,
) -> DicomUploadOutcome:
    """Turn a finished DICOM session into series, like ``case_dicom_upload``.

    The stored file (or S3 object, streamed to a temporary file) is read
    once: a zip member by member, each extracted to disk with the archive
    guards, never whole in memory. A corrupt member fails on its own. The
    session's bytes are deleted afterwards, whatever the outcome.
    """
    _require_can_add(case, by, "studies")
    require(
        session.owner_group == case_group(case),
        "This upload was started for another case.",
    )
    label = (name or "upload").strip()[:200] or "upload"
    with media_services.upload_session_file(session=session, by=by) as (path, _kind):
        return case_dicom_upload(
            case=case,
            by=by,
            files=[(label, path)],
            shift_dates=shift_dates,
            ip=ip,
        )


def _own_item(item: CaseAsset, by: User) -> CaseAsset:
    item = (
        CaseAsset.objects.select_for_update()
        .select_related("case", "asset")
        .get(pk=item.pk)
    )
    _require_uploader(
        item, by, "Only the person who uploaded this series can review it."
    )
    return item


@transaction.atomic
def case_dicom_mask(
    *,
    item: CaseAsset,
    by: User,
    rects: Sequence[Sequence[Any]],
    frame: int | None,
    ip: str | None = None,
) -> CaseAsset:
    """Black out ``rects`` in one frame (0-based) or, with ``frame`` None, in
    every frame of the uploader's series under review; see
    ``dicom_series_mask`` for what is guaranteed of the stored pixels."""
    item = _own_item(item, by)
    item.asset = dicom_series_mask(asset=item.asset, by=by, rects=rects, frame=frame)
    _record(item, by, "media.dicom.mask", ip, {"rects": len(rects), "frame": frame})
    return item


@transaction.atomic
def case_dicom_release(
    *, item: CaseAsset, by: User, ip: str | None = None
) -> CaseAsset:
    """The uploader has reviewed the series: it becomes ready and is released
    to everyone who can see the case."""
    item = _own_item(item, by)
    item.asset = dicom_series_release(asset=item.asset, by=by)
    _mark_released(item)
    masks = (item.asset.metadata or {}).get("masks") or []
    _record(item, by, "media.dicom.release", ip, {"masks": len(masks)})
    return item
