"""``manage.py deidentify PATH… --out DIR``: de-identify files offline.

Files, folders and ``.zip`` archives are walked; each file is dispatched by
its content: DICOM through ``media_handling.deid.dicom`` (one UID key for the
whole run, so series and references stay intact across files), images and
video through ``media_handling.deid.image``/``video``. One line per input:

- ``cleaned <src> -> <dst>`` (``(N faces blurred)`` when faces were found)
- ``needs review: <src>: <reason>`` (written, but burned-in text may remain,
  or a photo or video still shows a face the detector found)
- ``failed: <src>: <reason>`` (nothing written)
- ``skipped: <src>: <reason>`` (not a failure: e.g. a DICOMDIR index)

Photos and videos are searched for faces (``media_handling.faces``) after
cleaning: faces found are blurred and searched for again, and a file is only
reported ``cleaned`` when none is found any more. With ``--keep-faces`` they
are left sharp and the file is reported ``needs review``.

then a summary; the exit status is non-zero when any file failed.

Output names never reuse any part of an input's file or folder names (they
carry patient names, record numbers and dates): folders are not mirrored;
DICOM goes to ``study-…/series-…/<new SOP Instance UID>.dcm`` named from
the de-identified UIDs, other media to ``image-0001.jpg``, ``video-0001.mp4``
and so on (``media_handling.deid.naming``). The printed report is the only
place input and output meet (``cleaned <input> -> <output>``): it goes to the
operator's terminal, who already holds the inputs, so it reveals nothing new
to them, and it is never written into the output folder. Keep it apart from
the output when sharing that.

The batch logic (``deidentify_paths``) needs no Django and is tested directly.
"""

from __future__ import annotations

import os
import secrets
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_handling.deid.dicom import (
    DicomDeidOptions,
    DicomError,
    InputFile,
    ZipLimits,
    deidentify_dataset,
    is_dicom_file,
    iter_input_files,
    read_dicom,
    write_dicom,
)
from media_handling.deid.naming import OutputNames

CLEANED = "cleaned"
NEEDS_REVIEW = "needs review"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    status: str
    source: str
    output: Path | None = None
    reason: str = ""

    def line(self) -> str:
        if self.status == CLEANED:
            note = f" ({self.reason})" if self.reason else ""
            return f"cleaned {self.source} -> {self.output}{note}"
        return f"{self.status}: {self.source}: {self.reason}"


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """Image and video cleaning live in sibling modules; DICOM must work even
    when they are absent or broken."""
    try:
        imported = __import__(f"media_handling.{module}", fromlist=[name])
        return getattr(imported, name)
    except Exception:
        return None


def _kind(path: Path) -> tuple[str | None, str]:
    sniff = _optional("sniff", "sniff")
    if sniff is not None:
        try:
            found = sniff(path)
        except Exception as exc:
            return None, f"cannot read file: {exc}"
        return found.kind, found.reason or "unsupported file type"
    if is_dicom_file(path):
        return "dicom", ""
    return None, "unsupported file type (content sniffing unavailable)"


def deidentify_paths(
    paths: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    options: DicomDeidOptions,
    limits: ZipLimits | None = None,
    blur_faces: bool = True,
) -> Iterator[Outcome]:
    """De-identify every file under ``paths`` into ``out_dir``, one Outcome
    per input file. A failed file writes nothing; others are unaffected.
    Faces found in photos and videos are blurred (``blur_faces``) or the
    file is reported as needing review; never as cleaned."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = OutputNames(out)
    for item in iter_input_files(paths, limits=limits, exclude=out):
        if item.error:
            yield Outcome(FAILED, item.display, reason=item.error)
            continue
        try:
            yield _process(item, options, names, blur_faces)
        except Exception as exc:  # one bad file must not stop the batch
            yield Outcome(FAILED, item.display, reason=f"{type(exc).__name__}: {exc}")


def _process(
    item: InputFile,
    options: DicomDeidOptions,
    names: OutputNames,
    blur_faces: bool = True,
) -> Outcome:
    if item.path.name.upper() == "DICOMDIR":
        return Outcome(
            SKIPPED,
            item.display,
            reason="DICOMDIR index (lists patient names); not copied",
        )
    kind, reason = _kind(item.path)
    if kind == "dicom":
        return _process_dicom(item, options, names)
    if kind == "image":
        outcome = _process_media(item, "image", "clean_image", names)
        return _face_check(outcome, "image", blur_faces)
    if kind == "video":
        outcome = _process_media(item, "video", "clean_video", names)
        return _face_check(outcome, "video", blur_faces)
    if kind == "zip":
        return Outcome(
            FAILED, item.display, reason="archive inside an archive (not expanded)"
        )
    return Outcome(FAILED, item.display, reason=reason)


def _process_dicom(
    item: InputFile, options: DicomDeidOptions, names: OutputNames
) -> Outcome:
    try:
        ds = read_dicom(item.path)
        report = deidentify_dataset(ds, options=options)
        dst = write_dicom(ds, names.dicom(ds))
    except DicomError as exc:
        return Outcome(FAILED, item.display, reason=exc.reason)
    if report.needs_review:
        return Outcome(
            NEEDS_REVIEW,
            item.display,
            dst,
            f"{report.review_reason} (written to {dst})",
        )
    return Outcome(CLEANED, item.display, dst)


def _process_media(
    item: InputFile, module: str, name: str, names: OutputNames
) -> Outcome:
    clean = _optional(f"deid.{module}", name)
    if clean is None:
        return Outcome(
            FAILED, item.display, reason=f"{module} cleaning is not available"
        )
    partial = names.partial()
    try:
        report = clean(item.path, partial)
        ext = getattr(report, "ext", None) or ("mp4" if module == "video" else "bin")
        dst = names.media(module, ext)
        os.replace(partial, dst)
    except Exception as exc:
        return Outcome(FAILED, item.display, reason=str(exc) or type(exc).__name__)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(CLEANED, item.display, dst)


def _faces_in(path: Path, kind: str) -> list[Any]:
    """Faces found in a cleaned photo (rects) or video ((t, rect) keyframes)."""
    faces = __import__("media_handling.faces", fromlist=["detect_faces"])
    if kind == "video":
        return faces.detect_faces_in_video(path)
    from PIL import Image

    with Image.open(path) as opened:
        return faces.detect_faces(opened.convert("RGB"))


def _blur(path: Path, kind: str, found: list[Any]) -> None:
    """Blur ``found`` into the cleaned file at ``path``, replacing it."""
    blurred = path.with_name(f".{uuid.uuid4().hex}.blur{path.suffix}")
    try:
        if kind == "video":
            from media_handling.deid.video import clean_video
            from media_handling.faces import FaceTrack

            clean_video(path, blurred, faces=FaceTrack.from_keyframes(found))
        else:
            from media_handling.deid.image import clean_image

            clean_image(path, blurred, faces=found)
        os.replace(blurred, path)
    finally:
        blurred.unlink(missing_ok=True)


def _face_check(outcome: Outcome, kind: str, blur_faces: bool) -> Outcome:
    """A cleaned photo or video is only "cleaned" once no face is found in it."""
    if outcome.status != CLEANED or outcome.output is None:
        return outcome
    dst = outcome.output
    try:
        found = _faces_in(dst, kind)
        if not found:
            return outcome
        count = len(found) if kind == "image" else _tracks(found)
        noun = f"{count} face(s)"
        if not blur_faces:
            return Outcome(
                NEEDS_REVIEW,
                outcome.source,
                dst,
                f"{noun} detected and left sharp (--keep-faces); written to {dst}",
            )
        _blur(dst, kind, found)
        left = _faces_in(dst, kind)
    except Exception as exc:
        return Outcome(
            NEEDS_REVIEW,
            outcome.source,
            dst,
            f"face detection failed ({type(exc).__name__}: {exc}); check it for "
            f"faces (written to {dst})",
        )
    if left:
        return Outcome(
            NEEDS_REVIEW,
            outcome.source,
            dst,
            f"a face is still detected after blurring; written to {dst}",
        )
    return Outcome(CLEANED, outcome.source, dst, f"{noun} blurred")


def _tracks(keyframes: list[Any]) -> int:
    from media_handling.faces import FaceTrack

    return len(FaceTrack.from_keyframes(keyframes).faces)


def _uid_key(hex_key: str | None) -> bytes:
    if hex_key is None:
        return secrets.token_bytes(32)
    try:
        key = bytes.fromhex(hex_key)
    except ValueError as exc:
        raise CommandError("--key must be hexadecimal") from exc
    if len(key) < 16:
        raise CommandError("--key must be at least 16 bytes (32 hex digits)")
    return key


class Command(BaseCommand):
    help = (
        "De-identify DICOM, images and video from files, folders and .zip "
        "archives into --out; exits non-zero if any file failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="files, folders or .zip archives")
        parser.add_argument("--out", required=True, help="output folder")
        parser.add_argument(
            "--date-shift",
            type=int,
            default=None,
            metavar="DAYS",
            help="shift DICOM dates by DAYS (intervals kept) instead of removing them",
        )
        parser.add_argument(
            "--key",
            default=None,
            metavar="HEX",
            help="secret UID key (hex, >= 16 bytes); random per run when omitted. "
            "Reuse it to keep UIDs consistent across runs.",
        )
        parser.add_argument(
            "--keep-faces",
            action="store_true",
            help="leave faces found in photos and videos sharp; such files are "
            "reported as needing review instead of being blurred",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        options = DicomDeidOptions(
            uid_key=_uid_key(opts["key"]), date_shift_days=opts["date_shift"]
        )
        counts: Counter[str] = Counter()
        with warnings.catch_warnings():
            # pydicom warns about every odd value it reads; the per-file lines
            # already say what matters.
            warnings.simplefilter("ignore", UserWarning)
            outcomes = deidentify_paths(
                opts["paths"],
                opts["out"],
                options=options,
                blur_faces=not opts["keep_faces"],
            )
            for outcome in outcomes:
                counts[outcome.status] += 1
                self.stdout.write(outcome.line())
        self.stdout.write(
            f"{counts[CLEANED]} cleaned, {counts[NEEDS_REVIEW]} need review, "
            f"{counts[FAILED]} failed, {counts[SKIPPED]} skipped"
        )
        if counts[FAILED]:
            raise CommandError(f"{counts[FAILED]} file(s) failed")
