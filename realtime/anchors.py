"""Annotation anchors: the place on a case's media a discussion message points at.

A client sends ``anchor`` with ``message.send``; ``anchor_clean`` checks it
strictly and returns the case item and the place to store. Anything wrong is
``BadAnchor`` (protocol code ``bad_anchor``) and nothing is stored.

Accepted shapes (every coordinate is a fraction of the picture, 0–1, from the
top left):

- ``{"media": id, "kind": "region", "shape": "arrow"|"circle"|"box",
  "x1", "y1", "x2", "y2"}`` on a photo: a box or circle fills the rectangle
  between the two corners; an arrow points from (x1, y1) to (x2, y2).
- ``{"media": id, "kind": "time", "t": seconds}`` on a video, 0 ≤ t ≤ its
  duration.
- ``{"media": id, "kind": "slice", "frame": n, "x", "y"}`` on a DICOM series:
  frame ``n`` (1-based, as in the viewer's ``?frame=``) and a point on it.

``media`` is the asset id the case's media URLs and ``media.updated`` frames
use. The item must belong to the message's case, be visible to the sender,
and be released and ready (everyone on the case sees annotations, so they
may only point at what everyone can see).
"""

from __future__ import annotations

import math
from typing import Any

from cases.models import Case, CaseAsset
from media_handling.models import MediaAsset
from workspace.models import User
from workspace.services import ServiceError

from .models import Message

__all__ = ["BadAnchor", "anchor_clean", "anchor_frame"]

SHAPES = ("arrow", "circle", "box")
KIND_FOR_MEDIA = {
    "region": MediaAsset.Kind.IMAGE,
    "time": MediaAsset.Kind.VIDEO,
    "slice": MediaAsset.Kind.DICOM_SERIES,
}
KEYS = {
    "region": {"media", "kind", "shape", "x1", "y1", "x2", "y2"},
    "time": {"media", "kind", "t"},
    "slice": {"media", "kind", "frame", "x", "y"},
}
# A region smaller than this (in each direction) is a slip of the pointer.
MIN_EXTENT = 0.01


class BadAnchor(ServiceError):
    """A refused anchor; the protocol's error code is ``bad_anchor``."""

    code = "bad_anchor"


def _fraction(anchor: dict, key: str) -> float:
    value = anchor.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadAnchor(f"anchor.{key} must be a number from 0 to 1.")
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise BadAnchor(f"anchor.{key} must be a number from 0 to 1.")
    return round(value, 4)


def _place(anchor: dict, asset: MediaAsset) -> dict[str, Any]:
    kind = anchor["kind"]
    if kind == "region":
        shape = anchor.get("shape")
        if shape not in SHAPES:
            raise BadAnchor("anchor.shape must be arrow, circle or box.")
        place = {"kind": kind, "shape": shape}
        for key in ("x1", "y1", "x2", "y2"):
            place[key] = _fraction(anchor, key)
        dx = abs(place["x2"] - place["x1"])
        dy = abs(place["y2"] - place["y1"])
        too_small = (
            max(dx, dy) < MIN_EXTENT if shape == "arrow" else min(dx, dy) < MIN_EXTENT
        )
        if too_small:
            raise BadAnchor("Draw the region a little larger.")
        return place
    if kind == "time":
        t = anchor.get("t")
        if (
            isinstance(t, bool)
            or not isinstance(t, int | float)
            or not math.isfinite(t)
        ):
            raise BadAnchor("anchor.t must be a time in seconds.")
        duration = (asset.metadata or {}).get("duration")
        try:
            duration = float(duration)
        except (TypeError, ValueError):
            duration = None
        if duration is None or not math.isfinite(duration):
            raise BadAnchor("This video has no known length; it can't be pinned.")
        if not 0.0 <= float(t) <= duration:
            raise BadAnchor(
                f"anchor.t must be between 0 and the video's length ({duration:g} s)."
            )
        return {"kind": kind, "t": round(float(t), 2)}
    frame = anchor.get("frame")
    total = int((asset.metadata or {}).get("frame_count") or 0)
    if (
        isinstance(frame, bool)
        or not isinstance(frame, int)
        or not 1 <= frame <= max(total, 0)
    ):
        raise BadAnchor(f"anchor.frame must be a slice number from 1 to {total}.")
    return {
        "kind": kind,
        "frame": frame,
        "x": _fraction(anchor, "x"),
        "y": _fraction(anchor, "y"),
    }


def anchor_clean(
    *, case: Case, by: User, anchor: object
) -> tuple[CaseAsset, dict[str, Any]] | None:
    """``(item, place)`` for a valid ``anchor``; ``None`` when there is none.

    Raises ``BadAnchor`` for anything malformed, for media of another case or
    that ``by`` may not see (the same answer for both), for media of the
    wrong kind, and for media not yet released to the case.
    """
    if anchor is None:
        return None
    if not isinstance(anchor, dict):
        raise BadAnchor("anchor must be an object.")
    kind = anchor.get("kind")
    if kind not in KEYS:
        raise BadAnchor("anchor.kind must be region, time or slice.")
    extra = set(anchor) - KEYS[kind]
    if extra:
        raise BadAnchor(
            f"anchor has fields a {kind} anchor does not take: "
            + ", ".join(sorted(map(str, extra)))
            + "."
        )
    media = anchor.get("media")
    if isinstance(media, bool) or not isinstance(media, int) or media <= 0:
        raise BadAnchor("anchor.media must be the id of one of the case's media.")
    item = (
        CaseAsset.objects.select_related("asset")
        .filter(case=case, asset_id=media)
        .first()
    )
    if item is None or not item.visible_to(by):
        raise BadAnchor("That media is not part of this case.")
    if item.asset.kind != KIND_FOR_MEDIA[kind]:
        wanted = {"region": "a photo", "time": "a video", "slice": "a DICOM series"}
        raise BadAnchor(f"A {kind} anchor must point at {wanted[kind]}.")
    if not item.is_visible_to_others:
        raise BadAnchor(
            "Release this media to the case before annotating it: "
            "everyone on the case sees annotations."
        )
    return item, _place(anchor, item.asset)


def anchor_frame(message: Message) -> dict[str, Any] | None:
    """The anchor as frames carry it: the place plus ``media`` (the asset id,
    ``None`` once the item was removed) and ``media_kind``; ``modality`` for a
    slice. ``None`` for a plain or deleted message.

    Reads ``message.anchor_media.asset``: select both with the message.
    """
    if not message.anchor or message.is_deleted:
        return None
    frame = dict(message.anchor)
    item = message.anchor_media
    if item is None:
        frame.update(media=None, media_kind=None)
        return frame
    asset = item.asset
    frame.update(media=asset.pk, media_kind=asset.kind)
    if asset.kind == MediaAsset.Kind.DICOM_SERIES:
        frame["modality"] = str((asset.metadata or {}).get("modality") or "")
    return frame
