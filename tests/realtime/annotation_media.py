"""Ready, released case media without files: what anchors are checked against."""

from __future__ import annotations

from django.utils import timezone

from cases.models import CaseAsset
from media_handling.models import MediaAsset

METADATA = {
    MediaAsset.Kind.IMAGE: {"width": 640, "height": 480},
    MediaAsset.Kind.VIDEO: {"width": 320, "height": 240, "duration": 12.5},
    MediaAsset.Kind.DICOM_SERIES: {"frame_count": 40, "modality": "CT"},
}


def media_item(case, by, kind, *, released: bool = True, **metadata) -> CaseAsset:
    asset = MediaAsset.objects.create(
        kind=kind,
        status=MediaAsset.Status.READY,
        uploaded_by=by,
        metadata={**METADATA[kind], **metadata},
    )
    return CaseAsset.objects.create(
        case=case,
        asset=asset,
        added_by=by,
        released_at=timezone.now() if released else None,
    )
