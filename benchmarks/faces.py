"""Face detection: recall per kind of hard picture, and false positives.

Inputs are made here from the real photographs in ``tests/fixtures/data``
(one face: the public-domain NASA astronaut portrait; three face-free
photos: a coffee cup, a rocket, a cat), in the variants the issue names:

- upright: the portrait at 3 sizes, pasted at 3 places in larger pictures;
- small: the face 48 px (and 32, 64 px) across in 640-1600 px pictures;
- tilted: the portrait turned ±15, ±25, ±35 and ±45 degrees;
- dark: the portrait at 25%, 15% and 8% of its brightness;
- panning video: the face crossing a 640×360 clip at 1, 2 and 4 face
  widths a second, detected and tracked as the media pipeline does
  (``detect_faces_in_video`` every 0.5 s, ``FaceTrack.from_keyframes``);
  recall is the share of *frames* whose face the blur covers;
- face-free: the three photos, each also turned 25° and darkened, a
  checkerboard, gradients and noise; every box reported is a false positive.

A face counts as found when one returned rect (what would be blurred)
covers at least 80% of its true box. The same pictures also go through the
Haar cascades the detector replaced (frontal + mirrored profile, as the old
``media_handling.faces`` ran them), for comparison.

Run: ``.venv/bin/python -m benchmarks.faces``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from media_handling.faces import (  # noqa: E402
    FaceTrack,
    Rect,
    detect_faces,
    detect_faces_in_video,
)
from tests.fixtures import media_factory as mf  # noqa: E402

COVER = 0.8
Detector = Callable[[Image.Image], list[Rect]]


def _covered(rects: list[Rect], truth: Rect) -> bool:
    for r in rects:
        iw = min(r.right, truth.right) - max(r.x, truth.x)
        ih = min(r.bottom, truth.bottom) - max(r.y, truth.y)
        if iw > 0 and ih > 0 and iw * ih >= COVER * truth.w * truth.h:
            return True
    return False


# --- the old detector, for comparison ---------------------------------------------------


def haar(image: Image.Image) -> list[Rect]:
    """What the Haar-based ``detect_faces`` did (frontal + profiles, CLAHE)."""
    scale = min(1.0, 1024 / max(image.size))
    small = image
    if scale < 1.0:
        small = image.resize((round(image.width * scale), round(image.height * scale)))
    gray = cv2.createCLAHE(2.0, (8, 8)).apply(np.asarray(small.convert("L")))
    min_side = max(24, min(gray.shape) // 25)
    found = []
    for name, mirror in (
        ("haarcascade_frontalface_default.xml", False),
        ("haarcascade_profileface.xml", False),
        ("haarcascade_profileface.xml", True),
    ):
        cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))
        look = np.ascontiguousarray(gray[:, ::-1]) if mirror else gray
        for x, y, w, h in cascade.detectMultiScale(
            look, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
        ):
            x = gray.shape[1] - x - w if mirror else x
            found.append(
                Rect(int(x), int(y), int(w), int(h))
                .scaled(1 / scale, 1 / scale)
                .padded(0.15)
            )
    return found


# --- still pictures ---------------------------------------------------------------------


def upright() -> Iterator[tuple[str, Image.Image, Rect]]:
    for side in (160, 320, 640):
        for where in ((0.1, 0.1), (0.5, 0.3), (0.8, 0.6)):
            size = (max(640, side * 2), max(480, round(side * 1.5)))
            x = round((size[0] - side) * where[0])
            y = round((size[1] - side) * where[1])
            box = (x, y, side, side)
            yield (
                f"{side}px head",
                mf.face_picture(size=size, face=box),
                Rect(*mf.face_in_box(box)),
            )


def small() -> Iterator[tuple[str, Image.Image, Rect]]:
    for width in (32, 48, 64):
        for size in ((640, 480), (1024, 768), (1600, 1200)):
            picture, truth = mf.small_face_picture(face_width=width, size=size)
            yield f"{width}px in {size[0]}", picture, Rect(*truth)


def tilted() -> Iterator[tuple[str, Image.Image, Rect]]:
    for degrees in (15, -15, 25, -25, 35, -35, 45, -45):
        picture, truth = mf.tilted_face_picture(degrees)
        yield f"{degrees}°", picture, Rect(*truth)


def dark() -> Iterator[tuple[str, Image.Image, Rect]]:
    for level in (0.25, 0.15, 0.08):
        picture, truth = mf.dark_face_picture(level)
        yield f"{level:.0%}", picture, Rect(*truth)


def face_free() -> Iterator[tuple[str, Image.Image]]:
    for name in mf.FACE_FREE:
        photo = mf.face_free(name)
        yield name, photo
        yield f"{name} 25°", photo.rotate(25, expand=True)
        yield f"{name} dark", Image.eval(photo, lambda v: round(v * 0.15))
    yield "checkerboard", Image.fromarray(mf.checkerboard(640, 480, cell=16))
    gradient = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    yield "gradient", gradient
    noise = np.random.default_rng(12).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    yield "noise", Image.fromarray(noise)


def _recall(
    cases: list[tuple[str, Image.Image, Rect]], detector: Detector
) -> tuple[int, int, float, list[str]]:
    hits, missed, start = 0, [], time.perf_counter()
    for label, picture, truth in cases:
        if _covered(detector(picture), truth):
            hits += 1
        else:
            missed.append(label)
    per = (time.perf_counter() - start) / len(cases)
    return hits, len(cases), per, missed


# --- video ------------------------------------------------------------------------------


def panning(speed: float, workdir: Path) -> tuple[int, int]:
    """(frames whose face is covered, frames) for a face crossing at ``speed``
    face widths a second."""
    size, side, fps = (640, 360), 160, 15
    face_w = mf.face_in_box((0, 0, side, side))[2]
    seconds = (size[0] - side) / (speed * face_w)
    frames, face_at = mf.panning_face_frames(size=size, side=side, seconds=seconds)
    path = mf.write_video(
        workdir / f"pan{speed}.mp4",
        size=size,
        fps=fps,
        seconds=seconds,
        frames=frames,
        audio=False,
    )
    track = FaceTrack.from_keyframes(detect_faces_in_video(path, sample_every_s=0.5))
    count = round(seconds * fps)
    covered = sum(
        _covered(track.rects_at(i / fps), Rect(*face_at(i / fps))) for i in range(count)
    )
    return covered, count


# --- report -----------------------------------------------------------------------------


def main() -> None:
    variants = {
        "upright": list(upright()),
        "small (32/48/64 px)": list(small()),
        "tilted (±15–45°)": list(tilted()),
        "dark (25/15/8%)": list(dark()),
    }
    only_48 = [c for c in variants["small (32/48/64 px)"] if c[0].startswith("48px")]
    only_25 = [c for c in variants["tilted (±15–45°)"] if c[0] in ("25°", "-25°")]
    variants = {
        "upright": variants["upright"],
        "small, 48 px": only_48,
        "small, 32–64 px": variants["small (32/48/64 px)"],
        "tilted 25°": only_25,
        "tilted ±15–45°": variants["tilted (±15–45°)"],
        "dark": variants["dark (25/15/8%)"],
    }
    print("| variant | CenterFace recall | s/picture | Haar (old) recall | missed |")
    print("| --- | --- | --- | --- | --- |")
    for name, cases in variants.items():
        hits, total, per, missed = _recall(cases, detect_faces)
        old_hits, _, _, _ = _recall(cases, haar)
        print(
            f"| {name} | {hits}/{total} ({hits / total:.0%}) | {per:.2f} | "
            f"{old_hits}/{total} ({old_hits / total:.0%}) | "
            f"{', '.join(missed) or '-'} |"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for speed in (1.0, 2.0, 4.0):
            covered, count = panning(speed, Path(tmp))
            print(
                f"| panning video, {speed:g} face widths/s (frames) | "
                f"{covered}/{count} ({covered / count:.0%}) | - | - | - |"
            )
    pictures = list(face_free())
    boxes = sum(len(detect_faces(p)) for _, p in pictures)
    old_boxes = sum(len(haar(p)) for _, p in pictures)
    flagged = [label for label, p in pictures if detect_faces(p)]
    print(
        f"| false positives on {len(pictures)} face-free pictures (boxes) | "
        f"{boxes} | - | {old_boxes} | {', '.join(flagged) or '-'} |"
    )
    print(f"\n(recall: a returned rect covers >= {COVER:.0%} of the true face box)")


if __name__ == "__main__":
    main()
