"""Regions of a picture to blur, and blurring them: geometry with no detector.

The lowest layer of face handling: ``Rect`` (``(x, y, w, h)`` in displayed
pixels, after EXIF orientation for images and the display matrix for video),
merging overlapping rects, ``blur_regions`` (make rects unrecognisable) and
``FaceTrack`` (rects over time, interpolated between keyframes). It imports
nothing from ``media_handling``, so the detector (``faces``) and the cleaners
(``deid.image``, ``deid.video``) all build on it without importing each other.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from PIL import Image, ImageFilter

__all__ = [
    "OBSCURE_CELLS",
    "FaceTrack",
    "Keyframe",
    "Rect",
    "blur_regions",
    "merge_rects",
    "rect_contains",
    "rect_iou",
]

# A blurred region is reduced to this many cells across its longer side before
# the Gaussian pass, so no facial detail survives whatever the blur radius.
OBSCURE_CELLS = 8


class Rect(NamedTuple):
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def padded(self, fraction: float) -> Rect:
        """This rect grown by ``fraction`` of its width and height on each side."""
        dx, dy = round(self.w * fraction), round(self.h * fraction)
        return Rect(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def clipped(self, width: int, height: int) -> Rect | None:
        """The part of this rect inside a ``width`` x ``height`` image, if any."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.right), min(height, self.bottom)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def scaled(self, sx: float, sy: float) -> Rect:
        """This rect in an image resized by (sx, sy), rounded outwards."""
        x0, y0 = math.floor(self.x * sx), math.floor(self.y * sy)
        x1, y1 = math.ceil(self.right * sx), math.ceil(self.bottom * sy)
        return Rect(x0, y0, x1 - x0, y1 - y0)


def merge_rects(rects: Iterable[Rect], *, min_overlap: float = 0.3) -> list[Rect]:
    """Merge rects that overlap (IoU >= ``min_overlap``, or one inside the other).

    Merged rects become their union: for blurring, covering too much is the
    safe mistake.
    """
    merged: list[Rect] = []
    for rect in sorted(rects, key=lambda r: r.w * r.h, reverse=True):
        for i, kept in enumerate(merged):
            if rect_iou(rect, kept) >= min_overlap or rect_contains(kept, rect):
                merged[i] = _union(kept, rect)
                break
        else:
            merged.append(rect)
    return merged


def rect_iou(a: Rect, b: Rect) -> float:
    iw = min(a.right, b.right) - max(a.x, b.x)
    ih = min(a.bottom, b.bottom) - max(a.y, b.y)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a.w * a.h + b.w * b.h - inter)


def rect_contains(outer: Rect, inner: Rect) -> bool:
    cx, cy = inner.x + inner.w / 2, inner.y + inner.h / 2
    return outer.x <= cx <= outer.right and outer.y <= cy <= outer.bottom


def _union(a: Rect, b: Rect) -> Rect:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    return Rect(x0, y0, max(a.right, b.right) - x0, max(a.bottom, b.bottom) - y0)


def blur_regions(image: Image.Image, rects: Iterable[Rect]) -> int:
    """Make each rect of ``image`` unrecognisable, in place.

    A region is pixelated to ``OBSCURE_CELLS`` cells across, then smoothed
    with a Gaussian as wide as a cell, so neither facial detail nor sharp cell
    edges remain. Pixels outside the rects are untouched. Returns how many
    rects overlapped the image.
    """
    done = 0
    for rect in rects:
        box = rect.clipped(image.width, image.height)
        if box is None:
            continue
        bounds = (box.x, box.y, box.right, box.bottom)
        image.paste(_obscure(image.crop(bounds)), bounds)
        done += 1
    return done


def _obscure(region: Image.Image) -> Image.Image:
    w, h = region.size
    cell = max(w, h) / OBSCURE_CELLS
    small = (max(1, round(w / cell)), max(1, round(h / cell)))
    mosaic = region.resize(small, Image.Resampling.BOX).resize(
        (w, h), Image.Resampling.NEAREST
    )
    return mosaic.filter(ImageFilter.GaussianBlur(radius=max(1.0, cell / 2)))


Keyframe = tuple[float, Rect]

# How fast (face sizes per second) a face may cross the frame and still be
# taken for the same face at the next sample, e.g. while the camera pans.
PAN_SIZES_PER_S = 3.0


@dataclass(frozen=True)
class FaceTrack:
    """Rects to blur in a video, as one keyframe list per face.

    Between two keyframes of a face its rect moves linearly; before the first
    and after the last it is held for ``hold_s`` seconds (a face seen at one
    sample is probably there until the next), grown along the face's last
    movement so a face that keeps moving stays covered. Every rect is grown
    by ``padding`` to cover movement the keyframes missed.
    """

    faces: tuple[tuple[Keyframe, ...], ...] = ()
    hold_s: float = 1.0
    padding: float = 0.1
    _times: tuple[tuple[float, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        faces = tuple(
            tuple(sorted(face, key=lambda k: k[0])) for face in self.faces if face
        )
        object.__setattr__(self, "faces", faces)
        object.__setattr__(self, "_times", tuple(tuple(t for t, _ in f) for f in faces))

    @classmethod
    def from_keyframes(
        cls,
        keyframes: Iterable[tuple[float, Sequence[int]]],
        *,
        max_gap_s: float = 2.5,
        hold_s: float = 1.0,
        padding: float = 0.1,
    ) -> FaceTrack:
        """Group loose (t, rect) keyframes, e.g. from detection, into faces.

        A keyframe continues the face whose latest rect, seen at most
        ``max_gap_s`` earlier, it overlaps or sits next to; otherwise it
        starts a new face. Each face takes at most one keyframe per time.
        """
        faces: list[list[Keyframe]] = []
        by_time: dict[float, list[Rect]] = {}
        for t, rect in keyframes:
            by_time.setdefault(float(t), []).append(Rect(*rect))
        for t in sorted(by_time):
            taken: set[int] = set()
            for rect in by_time[t]:
                best = _closest_face(faces, rect, t, max_gap_s, taken)
                if best is None:
                    faces.append([(t, rect)])
                    taken.add(len(faces) - 1)
                else:
                    faces[best].append((t, rect))
                    taken.add(best)
        return cls(tuple(tuple(f) for f in faces), hold_s=hold_s, padding=padding)

    @classmethod
    def still(
        cls, rects: Iterable[Sequence[int]], *, padding: float = 0.0
    ) -> FaceTrack:
        """The same rects on every frame (e.g. drawn once by the uploader)."""
        faces = tuple(((0.0, Rect(*r)),) for r in rects)
        return cls(faces, hold_s=math.inf, padding=padding)

    def __bool__(self) -> bool:
        return bool(self.faces)

    def rects_at(self, t: float) -> list[Rect]:
        """The padded rects to blur at time ``t`` (seconds)."""
        rects = []
        for face, times in zip(self.faces, self._times, strict=True):
            rect = _rect_at(face, times, t, self.hold_s)
            if rect is not None:
                rects.append(rect.padded(self.padding))
        return rects


def _closest_face(
    faces: list[list[Keyframe]], rect: Rect, t: float, max_gap_s: float, taken: set[int]
) -> int | None:
    best, best_score = None, 0.0
    for i, face in enumerate(faces):
        last_t, last = face[-1]
        if i in taken or t - last_t > max_gap_s:
            continue
        # Overlap decides; failing that, a face that moved less than its own
        # size, or (the camera panning) up to PAN_SIZES_PER_S of its sizes a
        # second, between samples is still the same face.
        distance = math.dist(_centre(rect), _centre(last)) / max(last.w, last.h, 1)
        reach = max(1.0, PAN_SIZES_PER_S * (t - last_t))
        score = rect_iou(rect, last) + (
            1.0 / (1.0 + distance) if distance < reach else 0.0
        )
        if score > best_score:
            best, best_score = i, score
    return best


def _centre(rect: Rect) -> tuple[float, float]:
    return rect.x + rect.w / 2, rect.y + rect.h / 2


def _rect_at(
    face: tuple[Keyframe, ...], times: tuple[float, ...], t: float, hold_s: float
) -> Rect | None:
    if t <= times[0]:
        if times[0] - t > hold_s:
            return None
        return _extrapolated(face[0], face[1] if len(face) > 1 else None, t)
    if t >= times[-1]:
        if t - times[-1] > hold_s:
            return None
        return _extrapolated(face[-1], face[-2] if len(face) > 1 else None, t)
    i = bisect.bisect_right(times, t)
    (t0, a), (t1, b) = face[i - 1], face[i]
    k = (t - t0) / (t1 - t0)
    # Interpolate the edges rather than x/w, so the rect never shrinks below
    # both keyframes while it moves.
    x0 = a.x + (b.x - a.x) * k
    y0 = a.y + (b.y - a.y) * k
    x1 = a.right + (b.right - a.right) * k
    y1 = a.bottom + (b.bottom - a.bottom) * k
    left, top = math.floor(x0), math.floor(y0)
    return Rect(left, top, math.ceil(x1) - left, math.ceil(y1) - top)


def _extrapolated(edge: Keyframe, inner: Keyframe | None, t: float) -> Rect:
    """The rect of ``edge`` held to time ``t``, grown to where the face would
    be had it kept moving as between ``inner`` and ``edge`` (a pan goes on
    after the last sample): both places are covered."""
    t0, rect = edge
    if inner is None or t == t0 or inner[0] == t0:
        return rect
    t1, other = inner
    k = (t - t0) / (t0 - t1)
    dx, dy = (rect.x - other.x) * k, (rect.y - other.y) * k
    moved = Rect(
        math.floor(rect.x + dx), math.floor(rect.y + dy), rect.w + 1, rect.h + 1
    )
    return _union(rect, moved)
