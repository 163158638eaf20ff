"""Find faces and make them unrecognisable, in still images and over time.

Detection runs CenterFace, a small convolutional face detector (MIT licence),
through OpenCV's DNN module. Its ONNX file ships in this package
(``media_handling/models/centerface``, see the README there), so nothing is
downloaded at run time and no extra runtime is needed. Every picture is
searched upright and tilted both ways (``TILTS``), small pictures are enlarged
first and dark ones get a brightened second look, because a missed face is the
mistake that matters. Detections are still suggestions for the uploader to
confirm or correct, never a guarantee.

Every ``Rect`` is ``(x, y, w, h)`` in displayed pixels: after EXIF orientation
for images and after the display matrix for video.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageFilter

MODEL_PATH = (
    Path(__file__).resolve().parent / "models" / "centerface" / "centerface.onnx"
)
MODEL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks

# A heatmap peak at or above this is a face. CenterFace scores real faces
# 0.6-1.0 and scores no face-free test picture above 0.2; a low threshold
# trades a few extra boxes for the uploader to untick against missed faces.
SCORE_THRESHOLD = 0.35
# Pictures are searched at most this large (long side) ...
DETECT_MAX_SIDE = 1024
# ... and small ones are enlarged to this (at most ``MAX_UPSCALE`` times), so
# a face a few dozen pixels across covers enough of the network's grid.
DETECT_MIN_SIDE = 512
MAX_UPSCALE = 3.0
# Degrees each picture is also searched at: the network finds faces tilted up
# to about 35 degrees, so these cover heads tilted up to about 65 degrees.
TILTS = (0.0, 30.0, -30.0)
# Tilted searches run on a copy at most this large (long side).
TILT_MAX_SIDE = 640
# Mean grey level under which a brightened copy is searched as well.
DARK_MEAN = 90.0
# Nets kept per thread, one per input shape (see ``_net``).
NETS_PER_THREAD = 8
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


class DetectorMissing(RuntimeError):
    """The face detector's model file is missing or damaged."""


_per_thread = threading.local()
_verified: set[Path] = set()
_verify_lock = threading.Lock()


def _net(width: int, height: int) -> cv2.dnn.Net:
    """A CenterFace net for ``width`` x ``height`` inputs, for this thread only.

    Two rules, both learnt the hard way. One net per thread: a net keeps its
    buffers between calls, so two threads running one net corrupt each other
    (as two uploads processed at once did with the old Haar cascades). One
    net per input shape: OpenCV sizes those buffers for the first input a net
    sees, and a later input of another shape through the same net gives
    garbage boxes, so what one call found would depend on what an earlier,
    unrelated call had looked at.
    """
    nets = _per_thread.__dict__.setdefault("nets", OrderedDict())
    key = (width, height)
    net = nets.get(key)
    if net is None:
        net = _load_net(MODEL_PATH)
        nets[key] = net
        while len(nets) > NETS_PER_THREAD:
            nets.popitem(last=False)
    else:
        nets.move_to_end(key)
    return net


def _nets_clear() -> None:
    """Forget this thread's nets (tests point ``MODEL_PATH`` elsewhere)."""
    _per_thread.__dict__.pop("nets", None)
    with _verify_lock:
        _verified.clear()


def _load_net(path: Path) -> cv2.dnn.Net:
    if not path.is_file():
        raise DetectorMissing(
            f"Face detector model {path.name} not found at {path}; it ships with "
            "the media_handling package (media_handling/models/centerface)."
        )
    with _verify_lock:
        if path not in _verified:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != MODEL_SHA256:
                raise DetectorMissing(
                    f"Face detector model {path} is damaged (sha256 {digest[:12]}…)."
                )
            _verified.add(path)
    try:
        return cv2.dnn.readNetFromONNX(str(path))
    except cv2.error as exc:
        raise DetectorMissing(
            f"Face detector model {path} could not be loaded."
        ) from exc


def detect_faces(
    image: Image.Image, *, padding: float = 0.15, profiles: bool = True
) -> list[Rect]:
    """Rects to blur for the faces found in ``image``, largest first.

    Each detection is grown by ``padding`` on every side and clipped to the
    image; overlapping detections (of the upright, tilted and brightened
    searches) are merged into their union. ``profiles=False`` searches the
    upright picture only, which is faster and misses tilted heads.
    """
    rgb = np.asarray(image.convert("RGB"))
    tilts = TILTS if profiles else (0.0,)
    found = _detect_rgb(rgb, tilts=tilts)
    rects = []
    for rect in merge_rects(found):
        clipped = rect.padded(padding).clipped(image.width, image.height)
        if clipped is not None:
            rects.append(clipped)
    return sorted(rects, key=lambda r: r.w * r.h, reverse=True)


def _detect_rgb(
    rgb: np.ndarray,
    *,
    tilts: Sequence[float] = TILTS,
    max_side: int = DETECT_MAX_SIDE,
    threshold: float = SCORE_THRESHOLD,
) -> list[Rect]:
    """Unpadded face boxes in ``rgb`` (H x W x 3) pixels, from every search."""
    height, width = rgb.shape[:2]
    if not height or not width:
        return []
    long_side = max(width, height)
    scale = min(
        max_side / long_side, max(1.0, min(MAX_UPSCALE, DETECT_MIN_SIDE / long_side))
    )
    work = rgb
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        work = cv2.resize(rgb, size, interpolation=interpolation)
    looks = [work]
    if float(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY).mean()) < DARK_MEAN:
        looks.append(_brightened(work))
    upright: list[Rect] = []
    tilted: list[Rect] = []
    for look in looks:
        for tilt in tilts:
            # Tilted searches back up the upright one (which already finds
            # heads tilted up to ~35 degrees), at a lower resolution.
            shrink = 1.0 if not tilt else min(1.0, TILT_MAX_SIDE / max(look.shape[:2]))
            small = look
            if shrink < 1.0:
                size = (
                    max(1, round(look.shape[1] * shrink)),
                    max(1, round(look.shape[0] * shrink)),
                )
                small = cv2.resize(look, size, interpolation=cv2.INTER_AREA)
            for x0, y0, x1, y1 in _search_tilted(small, tilt, threshold):
                factor = 1 / (scale * shrink)
                rect = Rect(
                    math.floor(x0),
                    math.floor(y0),
                    math.ceil(x1) - math.floor(x0),
                    math.ceil(y1) - math.floor(y0),
                ).scaled(factor, factor)
                clipped = rect.clipped(width, height)
                if clipped is not None:
                    (tilted if tilt else upright).append(clipped)
    # A tilted search's box encloses the turned box, so it is looser than an
    # upright one of the same face: keep it only for faces upright missed.
    extra = [
        t
        for t in tilted
        if not any(_iou(t, u) >= 0.1 or _contains(t, u) for u in upright)
    ]
    return upright + extra


def _brightened(rgb: np.ndarray) -> np.ndarray:
    """A dark picture lifted to mid grey (gamma), then locally equalised (CLAHE)."""
    mean = max(1.0, float(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).mean()))
    gamma = math.log(0.45) / math.log(mean / 255)
    table = (np.linspace(0, 1, 256) ** gamma * 255).clip(0, 255).astype(np.uint8)
    lifted = cv2.LUT(rgb, table)
    lab = cv2.cvtColor(lifted, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _search_tilted(
    rgb: np.ndarray, tilt: float, threshold: float
) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, x1, y1) found in ``rgb`` turned by ``tilt`` degrees,
    as the boxes enclosing them back in ``rgb``'s pixels."""
    if not tilt:
        return _forward(rgb, threshold)
    height, width = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), tilt, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    out_w = math.ceil(width * cos + height * sin)
    out_h = math.ceil(width * sin + height * cos)
    turn[0, 2] += out_w / 2 - width / 2
    turn[1, 2] += out_h / 2 - height / 2
    turned = cv2.warpAffine(
        rgb, turn, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=(127, 127, 127)
    )
    back = cv2.invertAffineTransform(turn)
    boxes = []
    for x0, y0, x1, y1 in _forward(turned, threshold):
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]])
        points = corners @ back.T
        boxes.append(
            (
                float(points[:, 0].min()),
                float(points[:, 1].min()),
                float(points[:, 0].max()),
                float(points[:, 1].max()),
            )
        )
    return boxes


def _forward(
    rgb: np.ndarray, threshold: float
) -> list[tuple[float, float, float, float]]:
    """CenterFace on one picture: boxes (x0, y0, x1, y1) in its pixels.

    The picture is padded (not stretched) to multiples of 32, as the network
    needs; decoding follows the reference implementation (deface's
    ``centerface.py``): each heatmap cell over the threshold is a face centre,
    with its size and sub-cell offset read from the other outputs.
    """
    height, width = rgb.shape[:2]
    pad_w, pad_h = -(-width // 32) * 32, -(-height // 32) * 32
    if (pad_w, pad_h) != (width, height):
        rgb = cv2.copyMakeBorder(
            rgb, 0, pad_h - height, 0, pad_w - width, cv2.BORDER_CONSTANT, value=0
        )
    blob = cv2.dnn.blobFromImage(np.ascontiguousarray(rgb), 1.0, swapRB=False)
    net = _net(pad_w, pad_h)
    net.setInput(blob)
    heatmap, scales, offsets, _ = net.forward(list(_OUTPUTS))
    heat = heatmap[0, 0]
    ys, xs = np.nonzero(heat >= threshold)
    if not len(ys):
        return []
    side_h = np.exp(np.clip(scales[0, 0, ys, xs], -10, 10)) * 4
    side_w = np.exp(np.clip(scales[0, 1, ys, xs], -10, 10)) * 4
    cy = (ys + offsets[0, 0, ys, xs] + 0.5) * 4
    cx = (xs + offsets[0, 1, ys, xs] + 0.5) * 4
    x0 = np.clip(cx - side_w / 2, 0, width)
    y0 = np.clip(cy - side_h / 2, 0, height)
    x1 = np.clip(cx + side_w / 2, 0, width)
    y1 = np.clip(cy + side_h / 2, 0, height)
    scores = heat[ys, xs]
    boxes = [
        [float(a), float(b), float(c - a), float(d - b)]
        for a, b, c, d in zip(x0, y0, x1, y1, strict=True)
    ]
    keep = cv2.dnn.NMSBoxes(boxes, scores.astype(float).tolist(), threshold, 0.3)
    result = []
    for i in np.asarray(keep).reshape(-1):
        x, y, w, h = boxes[int(i)]
        if w >= 2 and h >= 2:
            result.append((x, y, x + w, y + h))
    return result


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
        score = _iou(rect, last) + (1.0 / (1.0 + distance) if distance < reach else 0.0)
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


def detect_faces_in_video(
    path: str | os.PathLike[str],
    *,
    sample_every_s: float = 0.5,
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
