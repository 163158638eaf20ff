"""The uploader's review of burned-in text: masks, then release."""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from workspace.events import broadcast_on_commit
from workspace.models import User
from workspace.services import ServiceError, require

from .. import storage as media_storage
from ..deid.dicom import DicomError, apply_masks, read_dicom, write_dicom
from ..dicom_render import render_frame
from ..models import MediaAsset
from .frames import (
    FRAME_MAX_SIZE,
    THUMB_SIZE,
    frame_role,
    instance_role,
    series_frame_locate,
)

logger = logging.getLogger(__name__)

MAX_MASK_RECTS = 50
MIN_MASK_SIDE = 1


def _announce(asset: MediaAsset) -> None:
    if asset.owner_group:
        broadcast_on_commit(
            asset.owner_group, {"type": "media.updated", "asset": asset.summary()}
        )


def _locked_for_review(asset: MediaAsset, by: User) -> MediaAsset:
    asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
    require(
        by.is_authenticated and asset.uploaded_by_id == by.pk,
        "Only the person who uploaded this series can review it.",
    )
    if asset.kind != MediaAsset.Kind.DICOM_SERIES:
        raise ServiceError("Only DICOM series are masked here.")
    if asset.status != MediaAsset.Status.NEEDS_REVIEW:
        raise ServiceError("This series is not waiting for review.")
    return asset


def _clean_rects(rects: Sequence[Sequence[Any]]) -> list[tuple[int, int, int, int]]:
    if not rects:
        raise ServiceError("Draw at least one rectangle to mask.")
    if len(rects) > MAX_MASK_RECTS:
        raise ServiceError(f"At most {MAX_MASK_RECTS} rectangles at a time.")
    clean = []
    for rect in rects:
        if not isinstance(rect, list | tuple) or len(rect) != 4:
            raise ServiceError("Each rectangle needs x, y, width and height.")
        try:
            x, y, w, h = (round(float(v)) for v in rect)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ServiceError("Rectangles must be numbers.") from exc
        if w < MIN_MASK_SIDE or h < MIN_MASK_SIDE:
            raise ServiceError("A rectangle must have a width and a height.")
        clean.append((x, y, w, h))
    return clean


def _clip(
    rects: Iterable[tuple[int, int, int, int]], width: int, height: int
) -> list[tuple[int, int, int, int]]:
    clipped = []
    for x, y, w, h in rects:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 > x0 and y1 > y0:
            clipped.append((x0, y0, x1 - x0, y1 - y0))
    return clipped


def dicom_series_mask(
    *,
    asset: MediaAsset,
    by: User,
    rects: Sequence[Sequence[Any]],
    frame: int | None = None,
) -> MediaAsset:
    """Black out ``rects`` in series frame ``frame`` (0-based), or in every
    frame when ``frame`` is None, in the stored pixel data itself.

    Rectangles are ``[x, y, w, h]`` in image pixels, clipped to each image.
    Only the series' uploader may mask, and only while it needs review.
    Each changed instance is rewritten (Clean Pixel Data recorded, Burned In
    Annotation NO, UIDs kept) under a new storage name, its frames are
    rendered again, the old files are deleted after commit, and the mask is
    recorded in the metadata and report. The series stays in review until
    ``dicom_series_release``. Raises ServiceError for bad input; on a
    failure nothing changes.
    """
    clean = _clean_rects(rects)
    with transaction.atomic():
        asset = _locked_for_review(asset, by)
        metadata = dict(asset.metadata or {})
        total = int(metadata.get("frame_count") or 0)
        if frame is not None and not 0 <= frame < total:
            raise ServiceError("There is no such frame in this series.")
        targets = _mask_targets(asset, frame, clean)
        if not targets:
            raise ServiceError("The rectangles lie outside the image.")
        run = secrets.token_hex(6)
        stored: dict[str, str] = {}
        try:
            with tempfile.TemporaryDirectory(prefix="consilium-mask-") as tmp:
                for instance, local_frames, boxes in targets:
                    stored.update(
                        _mask_instance(
                            asset, run, Path(tmp), instance, local_frames, boxes
                        )
                    )
        except Exception as exc:
            media_storage.delete_names(stored.values())
            if isinstance(exc, DicomError | ValueError):
                raise ServiceError(f"The mask could not be applied: {exc}") from exc
            logger.exception("dicom asset %s: masking failed", asset.pk)
            raise ServiceError(
                "The mask could not be applied; please try again."
            ) from exc
        old = {role: asset.renditions.get(role) for role in stored}
        asset.renditions = {**asset.renditions, **stored}
        masked_frames = sum(len(f) for _, f, _ in targets)
        metadata["masks"] = [
            *metadata.get("masks", []),
            {
                "frame": frame,
                "rects": [list(r) for r in clean],
                "by": by.pk,
                "at": timezone.now().isoformat(),
            },
        ]
        asset.metadata = metadata
        report = dict(asset.report or {})
        where = f"frame {frame + 1}" if frame is not None else "every frame"
        count = len(clean)
        report["blurred"] = [
            *report.get("blurred", []),
            f"{count} rectangle{'s' if count != 1 else ''} blacked out in {where} "
            f"({masked_frames} frame{'s' if masked_frames != 1 else ''}) of the "
            "stored pixel data.",
        ]
        asset.report = report
        asset.save()
        names = [n for n in old.values() if n]
        transaction.on_commit(lambda: media_storage.delete_names(names))
        _announce(asset)
    return asset


def _mask_targets(
    asset: MediaAsset, frame: int | None, rects: list[tuple[int, int, int, int]]
) -> list[tuple[int, list[int], list[tuple[int, int, int, int]]]]:
    """(instance, its frames to mask, rects clipped to it) for each instance
    the mask touches."""
    instances = (asset.metadata or {}).get("instances") or []
    if frame is not None:
        number, local = series_frame_locate(asset, frame)
        chosen = [(number, [local])]
    else:
        chosen = [(n, list(range(int(i["frames"])))) for n, i in enumerate(instances)]
    targets = []
    for number, frames in chosen:
        info = instances[number]
        boxes = _clip(rects, int(info["width"]), int(info["height"]))
        if boxes:
            targets.append((number, frames, boxes))
    return targets


def _mask_instance(
    asset: MediaAsset,
    run: str,
    tmp: Path,
    instance: int,
    local_frames: list[int],
    boxes: list[tuple[int, int, int, int]],
) -> dict[str, str]:
    role = instance_role(instance)
    name = asset.rendition_name(role)
    if name is None:
        raise DicomError(f"instance {instance + 1} is missing from storage")
    with media_storage.local_copy(name, suffix=".dcm") as path:
        ds = read_dicom(path)
    apply_masks(ds, boxes, frames=local_frames)
    out = write_dicom(ds, tmp / f"{instance}.dcm")
    stored = {
        role: media_storage.save_path(
            media_storage.rendition_name(asset.key, run, role, "dcm"), out
        )
    }
    first = _first_frame(asset, instance)
    total = int((asset.metadata or {}).get("frame_count") or 0)
    for local in local_frames:
        index = first + local
        png = tmp / f"frame-{index}.png"
        png.write_bytes(render_frame(ds, local, max_size=FRAME_MAX_SIZE))
        stored[frame_role(index)] = media_storage.save_path(
            media_storage.rendition_name(asset.key, run, frame_role(index), "png"), png
        )
        if index == total // 2:
            thumb = tmp / "thumb.png"
            thumb.write_bytes(render_frame(ds, local, max_size=THUMB_SIZE))
            stored["thumb"] = media_storage.save_path(
                media_storage.rendition_name(asset.key, run, "thumb", "png"), thumb
            )
    return stored


def _first_frame(asset: MediaAsset, instance: int) -> int:
    instances = (asset.metadata or {}).get("instances") or []
    return sum(int(i["frames"]) for i in instances[:instance])


@transaction.atomic
def dicom_series_release(*, asset: MediaAsset, by: User) -> MediaAsset:
    """Release a reviewed series: its uploader has looked at every frame it
    needed to and masked what identified the patient. The series becomes
    ``ready`` and visible to everyone who can see where it was uploaded;
    the review (who, when, how many masks) is recorded in the report."""
    asset = _locked_for_review(asset, by)
    metadata = dict(asset.metadata or {})
    masks = metadata.get("masks") or []
    metadata["reviewed"] = {"by": by.pk, "at": timezone.now().isoformat()}
    asset.metadata = metadata
    report = dict(asset.report or {})
    report["notes"] = [
        *report.get("notes", []),
        "Burned-in text reviewed by the uploader before release"
        + (
            f" ({len(masks)} mask{'s' if len(masks) != 1 else ''} applied)."
            if masks
            else "; nothing needed masking."
        ),
    ]
    asset.report = report
    asset.status = MediaAsset.Status.READY
    asset.status_reason = ""
    asset.save()
    _announce(asset)
    return asset
