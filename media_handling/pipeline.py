"""What processing does to one upload, on local files, without the database.

``PROCESSORS[kind](source, workdir)`` de-identifies an upload and returns a
``Processed``: the rendition files to store (by role), what they are, the
de-identification report and the face regions it proposes.
``BLURRERS[kind](master, workdir, faces)`` blurs chosen regions into new
renditions made from the stored, already de-identified master rendition
(the original is gone by then). ``services.asset_process`` runs these in the
task and does the storing and the state changes. A DICOM series joins by
adding its entries (``"dicom_series"``) to both tables.

Every face rect is ``[x, y, w, h]`` in pixels of the master rendition
(``faces["frame"]`` gives its size); video keyframes are
``[t, x, y, w, h]`` with ``t`` in seconds from the first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from . import conf
from .deid.image import RENDITION_QUALITY, clean_image, make_renditions
from .deid.video import clean_video, poster_frame
from .deid.video.decoding import poster_time
from .dicom_pipeline import deidentify_series
from .faces import detect_faces, detect_faces_in_video
from .processed import Blurred, Processed
from .regions import FaceTrack, Rect, blur_regions
from .sniff import MediaError

IMAGE_SIZES = {"display": 1600, "thumb": 320}
POSTER_SIZES = {"poster": 1600, "thumb": 320}
# Master rendition of each kind: face rects are in its pixels and blurring
# starts from it.
MASTER_ROLE = {"image": "display", "video": "video"}


def deidentify_image(
    source: Path, workdir: Path, *, blur_found: bool = False
) -> Processed:
    """Clean a photo: upright, metadata-free pixels; display and thumb sizes.
    With ``blur_found`` every face found is blurred into them as well."""
    clean = workdir / "clean"
    report = clean_image(source, clean)
    made = make_renditions(clean, workdir / "renditions", sizes=IMAGE_SIZES)
    clean.unlink(missing_ok=True)
    with Image.open(made["display"]) as display:
        display.load()
        size = display.size
        found = detect_faces(display.convert("RGB"))
    faces = _image_proposals(found, size)
    blurred_lines: list[str] = []
    if blur_found and found:
        blurred = blur_image(
            made["display"], workdir, {**faces, "decision": _keep_all(faces)}
        )
        made = {**made, **blurred.files}
        blurred_lines = blurred.lines
        faces = _blurred_at_once(faces)
    notes = []
    if report.orientation_applied:
        notes.append(f"Turned upright (EXIF orientation {report.orientation}).")
    if (report.width, report.height) != size:
        notes.append(
            f"Stored at {size[0]}×{size[1]} (uploaded {report.width}×{report.height})."
        )
    return Processed(
        files=dict(made),
        metadata={
            "width": size[0],
            "height": size[1],
            "source_width": report.width,
            "source_height": report.height,
        },
        report={
            "kind": "image",
            "source": {"mime": report.source_mime, "frames": report.frames},
            "removed": report.removed(),
            "replaced": [
                "Pixels copied into a new image file: nothing but the picture "
                "was carried over."
            ],
            "blurred": blurred_lines,
            "notes": notes,
            "details": report.as_dict(),
        },
        faces=faces,
        review_reason=_review_reason(len(faces["proposed"])),
    )


def deidentify_video(
    source: Path, workdir: Path, *, blur_found: bool = False
) -> Processed:
    """Clean a video: a new H.264/AAC MP4, a poster and a thumbnail.

    Faces are looked for in the cleaned video and proposed. With
    ``blur_found`` (a copy made from an already de-identified master, such as
    a patient's video becoming a case finding) they are looked for in the
    source instead and blurred while it is encoded: one transcode, not one
    to clean and another to blur. Rects are in displayed source pixels,
    which ``clean_video`` maps onto its output.
    """
    video = workdir / "video.mp4"
    track = _faces_in_video(source) if blur_found else None
    report = clean_video(source, video, faces=track if track and track.faces else None)
    still = workdir / "still.jpg"
    poster_frame(video, still)
    made = make_renditions(still, workdir / "renditions", sizes=POSTER_SIZES)
    still.unlink(missing_ok=True)
    if track is None:
        track = _faces_in_video(video)
    proposals = [
        {
            "id": f"f{i}",
            "keyframes": [[round(t, 3), *rect] for t, rect in face],
        }
        for i, face in enumerate(track.faces, start=1)
    ]
    faces = {
        "frame": {"width": report.width, "height": report.height},
        "proposed": proposals,
        "duration": report.duration,
        "poster_time": poster_time(report.duration),
    }
    source_info = report.source
    removed = []
    container = [k for k in report.metadata_removed if not k.startswith("stream ")]
    streams = sorted(
        {
            k.split(": ", 1)[1]
            for k in report.metadata_removed
            if k.startswith("stream ")
        }
    )
    if container:
        removed.append(f"Container metadata: {', '.join(container)}")
    if streams:
        removed.append(f"Stream metadata: {', '.join(streams)}")
    if report.streams_dropped:
        removed.append(f"Other tracks: {', '.join(report.streams_dropped)}")
    removed.append("Creation and modification times (set to zero)")
    notes = []
    if report.rotation_applied:
        notes.append(f"Turned upright ({report.rotation_applied}° rotation applied).")
    if (source_info.width, source_info.height) != (report.width, report.height):
        notes.append(
            f"Stored at {report.width}×{report.height} "
            f"(uploaded {source_info.width}×{source_info.height})."
        )
    if report.decode_errors:
        notes.append(f"{report.decode_errors} damaged frame(s) were skipped.")
    audio = " and AAC audio" if report.audio_codec else ""
    return Processed(
        files={"video": video, **made},
        metadata={
            "width": report.width,
            "height": report.height,
            "duration": report.duration,
            "frame_rate": source_info.frame_rate,
            "has_audio": bool(report.audio_codec),
            "source_codecs": list(source_info.codecs),
        },
        report={
            "kind": "video",
            "source": {"codecs": list(source_info.codecs)},
            "removed": removed,
            "replaced": [
                f"Re-encoded as H.264 video{audio} in a new MP4: in-band encoder "
                "messages and every other track are gone."
            ],
            "blurred": (
                [
                    f"{_regions(len(proposals))} blurred in {report.frames_blurred} "
                    f"of {report.frames} frames."
                ]
                if blur_found and proposals
                else []
            ),
            "notes": notes,
            "details": report.as_dict(),
        },
        faces=_blurred_at_once(faces) if blur_found else faces,
        review_reason="" if blur_found else _review_reason(len(proposals)),
    )


def _faces_in_video(path: Path) -> FaceTrack:
    return FaceTrack.from_keyframes(
        detect_faces_in_video(
            path, max_samples=conf.video_face_samples(), sample_every_s=0.5
        )
    )


def _image_proposals(found: Sequence[Rect], size: tuple[int, int]) -> dict[str, Any]:
    return {
        "frame": {"width": size[0], "height": size[1]},
        "proposed": [
            {"id": f"f{i}", "keyframes": [[0.0, *rect]]}
            for i, rect in enumerate(found, start=1)
        ],
    }


def _keep_all(faces: dict[str, Any]) -> dict[str, Any]:
    return {"keep": [p["id"] for p in faces["proposed"]], "drawn": []}


def _blurred_at_once(faces: dict[str, Any]) -> dict[str, Any]:
    """Faces found and blurred in the same pass: recorded as blurred, with
    nothing left to propose (the uploader still reviews the result)."""
    return {
        **faces,
        "proposed": [],
        "blurred": [p["keyframes"] for p in faces["proposed"]],
        "blurred_at_once": True,
    }


def _review_reason(count: int) -> str:
    if not count:
        return ""
    noun = "a possible face" if count == 1 else f"{count} possible faces"
    return f"Found {noun}: choose what to blur before releasing."


# --- blurring -------------------------------------------------------------------------


def chosen_regions(faces: dict[str, Any]) -> tuple[list[list[list[float]]], list[Rect]]:
    """(kept proposals' keyframes, drawn rects) from a recorded decision."""
    decision = faces.get("decision") or {}
    keep = set(decision.get("keep") or [])
    kept = [p["keyframes"] for p in faces.get("proposed") or [] if p["id"] in keep]
    drawn = [Rect(*map(int, r)) for r in decision.get("drawn") or []]
    return kept, drawn


def blur_image(master: Path, workdir: Path, faces: dict[str, Any]) -> Blurred:
    """Blur the chosen rects into the display rendition; a new thumb from it."""
    kept, drawn = chosen_regions(faces)
    rects = [Rect(*map(int, frames[0][1:])) for frames in kept] + drawn
    with Image.open(master) as opened:
        fmt = opened.format
        opened.load()
        picture = opened.convert("RGBA" if opened.mode in ("RGBA", "LA") else "RGB")
    fresh = Image.new(picture.mode, picture.size)
    fresh.paste(picture)
    done = blur_regions(fresh, rects)
    ext = "webp" if fmt == "WEBP" else "jpg"
    display = workdir / f"display.{ext}"
    fresh.save(
        display, format="WEBP" if ext == "webp" else "JPEG", quality=RENDITION_QUALITY
    )
    thumbs = make_renditions(display, workdir / "thumbs", sizes={"thumb": 320})
    return Blurred(
        files={"display": display, "thumb": thumbs["thumb"]},
        lines=[f"{_regions(done)} blurred in the photo."],
        regions=done,
    )


def blur_video(master: Path, workdir: Path, faces: dict[str, Any]) -> Blurred:
    """Blur kept face tracks and drawn rects (whole clip) into a new video."""
    kept, drawn = chosen_regions(faces)
    duration = float(faces.get("duration") or 0) or 24 * 3600.0
    tracks = [
        tuple((float(k[0]), Rect(*map(int, k[1:]))) for k in frames) for frames in kept
    ]
    tracks += [((0.0, rect), (duration, rect)) for rect in drawn]
    track = FaceTrack(tuple(tracks))
    video = workdir / "video.mp4"
    report = clean_video(master, video, faces=track)
    still = workdir / "still.jpg"
    poster_frame(video, still)
    made = make_renditions(still, workdir / "renditions", sizes=POSTER_SIZES)
    regions = len(tracks)
    return Blurred(
        files={"video": video, **made},
        lines=[
            f"{_regions(regions)} blurred in {report.frames_blurred} of "
            f"{report.frames} frames."
        ],
        regions=regions,
    )


def _regions(count: int) -> str:
    return "1 region" if count == 1 else f"{count} regions"


Processor = Callable[[Path, Path], Processed]
Blurrer = Callable[[Path, Path, dict[str, Any]], Blurred]


PROCESSORS: dict[str, Processor] = {
    "image": deidentify_image,
    "video": deidentify_video,
    "dicom_series": deidentify_series,
}
BLURRERS: dict[str, Blurrer] = {"image": blur_image, "video": blur_video}

__all__ = [
    "BLURRERS",
    "MASTER_ROLE",
    "PROCESSORS",
    "Blurred",
    "MediaError",
    "Processed",
    "blur_image",
    "blur_video",
    "chosen_regions",
    "deidentify_image",
    "deidentify_video",
]
