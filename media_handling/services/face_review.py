"""The uploader's choice of faces and regions to blur in a photo or video."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from workspace.models import User
from workspace.services import ServiceError, require

from .. import pipeline
from ..models import MediaAsset
from .common import _announce, _enqueue

MAX_DRAWN_REGIONS = 50
MIN_REGION_SIDE = 2


def _clean_rects(
    drawn: Sequence[Sequence[float]], frame: dict[str, Any]
) -> list[list[int]]:
    width, height = int(frame.get("width") or 0), int(frame.get("height") or 0)
    rects = []
    for raw in drawn:
        if not isinstance(raw, list | tuple) or len(raw) != 4:
            raise ServiceError("Each drawn region needs x, y, width and height.")
        try:
            x, y, w, h = (round(float(v)) for v in raw)
        except (TypeError, ValueError) as exc:
            raise ServiceError("Drawn regions must be numbers.") from exc
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 - x0 < MIN_REGION_SIDE or y1 - y0 < MIN_REGION_SIDE:
            continue
        rects.append([x0, y0, x1 - x0, y1 - y0])
    return rects


@transaction.atomic
def asset_faces_decide(
    *,
    asset: MediaAsset,
    by: User,
    keep: Iterable[str] = (),
    drawn: Sequence[Sequence[float]] = (),
    review_after: bool = False,
) -> MediaAsset:
    """Record the uploader's choice of regions to blur, and act on it.

    ``keep`` names proposed faces to blur; ``drawn`` adds rects in master
    rendition pixels (clipped to it; video: the whole clip). With anything to
    blur the asset goes back to ``processing`` and the task replaces every
    rendition with a blurred one; with nothing, the uploader has reviewed the
    proposals and the asset is ``ready``. With ``review_after`` (a blur
    chosen by a rule, not by looking) the blurred asset needs review again.
    """
    asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
    require(
        by.is_authenticated and asset.uploaded_by_id == by.pk,
        "Only the person who uploaded this can choose what to blur.",
    )
    if asset.kind not in pipeline.BLURRERS:
        raise ServiceError("Regions can only be blurred in photos and videos.")
    if asset.status not in (MediaAsset.Status.READY, MediaAsset.Status.NEEDS_REVIEW):
        raise ServiceError("This media is not ready for review yet.")
    faces = dict(asset.faces or {})
    ids = {p["id"] for p in faces.get("proposed") or []}
    keep = [k for k in dict.fromkeys(keep) if k]
    unknown = [k for k in keep if k not in ids]
    if unknown:
        raise ServiceError("Some of the chosen faces are not in this media.")
    if len(drawn) > MAX_DRAWN_REGIONS:
        raise ServiceError(f"At most {MAX_DRAWN_REGIONS} regions can be drawn.")
    rects = _clean_rects(drawn, faces.get("frame") or {})
    faces["decision"] = {
        "keep": keep,
        "drawn": rects,
        "by": by.pk,
        "at": timezone.now().isoformat(),
        "review_after": bool(review_after and (keep or rects)),
    }
    asset.faces = faces
    asset.status_reason = ""
    if keep or rects:
        asset.status = MediaAsset.Status.PROCESSING
        asset.step = MediaAsset.Step.BLUR
        asset.save()
        _enqueue(asset)
    else:
        require(not review_after, "Nothing was chosen to blur.")
        faces["proposed"] = []
        faces["decision"] = None
        report = dict(asset.report or {})
        report["blurred"] = [*report.get("blurred", []), "Reviewed: nothing blurred."]
        asset.report = report
        asset.status = MediaAsset.Status.READY
        asset.save()
    _announce(asset)
    return asset
