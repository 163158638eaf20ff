"""Find faces and make them unrecognisable, in still images and over time.

Detection uses the Haar cascades that ship inside opencv-python-headless, so
nothing is downloaded at run time. Haar cascades miss faces (turned away,
small, badly lit) and sometimes find faces that are not there, so detections
are suggestions for the uploader to confirm or correct, never a guarantee.

Every ``Rect`` is ``(x, y, w, h)`` in displayed pixels: after EXIF orientation
for images and after the display matrix for video.
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageFilter

FRONTAL_CASCADE = "haarcascade_frontalface_default.xml"
PROFILE_CASCADE = "haarcascade_profileface.xml"

# Detection runs on a copy no larger than this, which keeps it fast on camera
# originals; Haar's smallest face (24 px) is then about 2% of the long side.
DETECT_MAX_SIDE = 1024
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


class CascadeMissing(RuntimeError):
    """The OpenCV install lacks its bundled Haar cascade files."""


_per_thread = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """The named cascade, loaded once per thread.

    A ``CascadeClassifier`` keeps scratch state between the calls of one
    detection, so two threads detecting with one instance at once corrupt
    each other (OpenCV fails an assertion in ``getScaleData``): two uploads
    processed at the same time did exactly that.
    """
    loaded = _per_thread.__dict__.setdefault("cascades", {})
    if name not in loaded:
        loaded[name] = _load_cascade(name)
    return loaded[name]


def _cascade_cache_clear() -> None:
    _per_thread.__dict__.pop("cascades", None)


_cascade.cache_clear = _cascade_cache_clear  # type: ignore[attr-defined]


def _load_cascade(name: str) -> cv2.CascadeClassifier:
    path = os.path.join(cv2.data.haarcascades, name)
    if not os.path.isfile(path):
        raise CascadeMissing(
            f"Haar cascade {name} not found in {cv2.data.haarcascades}; "
            "install opencv-python-headless, which bundles it."
        )
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise CascadeMissing(f"Haar cascade {path} could not be loaded.")
    return classifier


def detect_faces(
    image: Image.Image, *, padding: float = 0.15, profiles: bool = True
) -> list[Rect]:
    """Rects to blur for the faces found in ``image``, largest first.

    Each detection is grown by ``padding`` on every side (Haar boxes stop at
    the brow and chin) and clipped to the image; overlapping detections from
    the frontal and profile cascades are merged into their union.
    """
    gray, scale = _detection_input(image)
    found = _run_cascade(_cascade(FRONTAL_CASCADE), gray)
    if profiles:
        # The profile cascade only knows faces turned one way; run it on the
        # mirror image too and mirror the hits back.
        cascade = _cascade(PROFILE_CASCADE)
        found += _run_cascade(cascade, gray)
        mirrored = np.ascontiguousarray(gray[:, ::-1])
        width = gray.shape[1]
        found += [
            Rect(width - r.right, r.y, r.w, r.h)
            for r in _run_cascade(cascade, mirrored)
        ]
    rects = []
    for rect in merge_rects(found):
        full = rect.scaled(1 / scale, 1 / scale).padded(padding)
        clipped = full.clipped(image.width, image.height)
        if clipped is not None:
            rects.append(clipped)
    return sorted(rects, key=lambda r: r.w * r.h, reverse=True)


def _detection_input(image: Image.Image) -> tuple[np.ndarray, float]:
    scale = min(1.0, DETECT_MAX_SIDE / max(image.size))
    small = image
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    gray = np.asarray(small.convert("L"))
    # Local (CLAHE) rather than global equalisation: a large bright or dark
    # background would otherwise squeeze the face into a few grey levels.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return clahe.apply(gray), scale


def _run_cascade(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[Rect]:
    min_side = max(24, min(gray.shape) // 25)
    hits = cascade.detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    return [Rect(*(int(v) for v in hit)) for hit in hits]


def merge_rects(rects: Iterable[Rect], *, min_overlap: float = 0.3) -> list[Rect]:
    """Merge rects that overlap (IoU >= ``min_overlap``, or one inside the other).

    Merged rects become their union: for blurring, covering too much is the
    safe mistake.
    """
    merged: list[Rect] = []
    for rect in sorted(rects, key=lambda r: r.w * r.h, reverse=True):
        for i, kept in enumerate(merged):
            if _iou(rect, kept) >= min_overlap or _contains(kept, rect):
                merged[i] = _union(kept, rect)
                break
        else:
            merged.append(rect)
    return merged


def _iou(a: Rect, b: Rect) -> float:
    iw = min(a.right, b.right) - max(a.x, b.x)
    ih = min(a.bottom, b.bottom) - max(a.y, b.y)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a.w * a.h + b.w * b.h - inter)


def _contains(outer: Rect, inner: Rect) -> bool:
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


@dataclass(frozen=True)
class FaceTrack:
    """Rects to blur in a video, as one keyframe list per face.

    Between two keyframes of a face its rect moves linearly; before the first
    and after the last it is held for ``hold_s`` seconds (a face seen at one
    sample is probably there until the next). Every rect is grown by
    ``padding`` to cover movement the keyframes missed.
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
        # size between samples is still the same face.
        distance = math.dist(_centre(rect), _centre(last)) / max(last.w, last.h, 1)
        score = _iou(rect, last) + (1.0 / (1.0 + distance) if distance < 1.0 else 0.0)
        if score > best_score:
            best, best_score = i, score
    return best


def _centre(rect: Rect) -> tuple[float, float]:
    return rect.x + rect.w / 2, rect.y + rect.h / 2


def _rect_at(
    face: tuple[Keyframe, ...], times: tuple[float, ...], t: float, hold_s: float
) -> Rect | None:
    if t <= times[0]:
        return face[0][1] if times[0] - t <= hold_s else None
    if t >= times[-1]:
        return face[-1][1] if t - times[-1] <= hold_s else None
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


def detect_faces_in_video(
    path: str | os.PathLike[str],
    *,
    sample_every_s: float = 1.0,
    max_samples: int = 300,
    padding: float = 0.15,
) -> list[tuple[float, Rect]]:
    """Faces found in frames sampled every ``sample_every_s`` seconds.

    Long videos are sampled more sparsely so at most ``max_samples`` frames
    are examined. Frames are decoded one at a time and turned upright first,
    so rects are in displayed pixels like every other ``Rect``.
    """
    # Imported here because the video module needs FaceTrack from this one.
    from media_handling.deid.video import display_frames, probe_video

    info = probe_video(path)
    interval = sample_every_s
    if info.duration:
        interval = max(sample_every_s, info.duration / max_samples)
    found: list[tuple[float, Rect]] = []
    for t, image in display_frames(path, every_s=interval, limit=max_samples):
        found.extend((t, rect) for rect in detect_faces(image, padding=padding))
    return found
