"""Find faces and make them unrecognisable, in still images and over time.

Detection runs CenterFace, a small convolutional face detector (MIT licence),
through OpenCV's DNN module. Its ONNX file ships in this package
(``media_handling/models/centerface``, see the README there), so nothing is
downloaded at run time and no extra runtime is needed. Every picture is
searched upright and tilted both ways (``TILTS``), small pictures are enlarged
first and dark ones get a brightened second look, because a missed face is the
mistake that matters. Detections are still suggestions for the uploader to
confirm or correct, never a guarantee.

Every ``Rect`` (``media_handling.regions``) is ``(x, y, w, h)`` in displayed
pixels: after EXIF orientation for images and after the display matrix for
video.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from media_handling.deid.video.decoding import display_frames, poster_time, probe_video
from media_handling.regions import (
    FaceTrack,
    Rect,
    blur_regions,
    merge_rects,
    rect_contains,
    rect_iou,
)

# The geometry and blurring live in ``regions`` (no detector needed); they
# are re-exported so ``faces`` stays the one name for "face handling".
__all__ = [
    "DetectorMissing",
    "FaceTrack",
    "Rect",
    "blur_regions",
    "detect_faces",
    "detect_faces_in_video",
    "merge_rects",
]

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
        if not any(rect_iou(t, u) >= 0.1 or rect_contains(t, u) for u in upright)
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


def detect_faces_in_video(
    path: str | os.PathLike[str],
    *,
    sample_every_s: float = 0.5,
    max_samples: int = 300,
    padding: float = 0.15,
) -> list[tuple[float, Rect]]:
    """Faces found in frames sampled every ``sample_every_s`` seconds.

    Long videos are sampled more sparsely so at most ``max_samples`` frames
    are examined, and the frame the poster and thumbnail are taken from is
    always among them: everyone who sees the case sees that one. Frames are
    decoded one at a time and turned upright first, so rects are in
    displayed pixels like every other ``Rect``.
    """
    info = probe_video(path)
    interval = sample_every_s
    if info.duration:
        interval = max(sample_every_s, info.duration / max_samples)
    found: list[tuple[float, Rect]] = []
    frames = display_frames(
        path,
        every_s=interval,
        also_at=(poster_time(info.duration),),
        limit=max_samples + 1,
    )
    for t, image in frames:
        found.extend((t, rect) for rect in detect_faces(image, padding=padding))
    return found
