"""``manage.py deidentify PATH… --out DIR``: de-identify files offline.

Files, folders and ``.zip`` archives are walked; each file is dispatched by
its content: DICOM through ``media_handling.deid.dicom`` (one UID key for the
whole run, so series and references stay intact across files), images and
video through ``media_handling.deid.image``/``video``. One line per input:

- ``cleaned <src> -> <dst>``
- ``needs review: <src>: <reason>`` (written, but burned-in text may remain)
- ``failed: <src>: <reason>`` (nothing written)
- ``skipped: <src>: <reason>`` (not a failure: e.g. a DICOMDIR index)

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
            return f"cleaned {self.source} -> {self.output}"
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
) -> Iterator[Outcome]:
    """De-identify every file under ``paths`` into ``out_dir``, one Outcome
    per input file. A failed file writes nothing; others are unaffected."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = OutputNames(out)
    for item in iter_input_files(paths, limits=limits, exclude=out):
        if item.error:
            yield Outcome(FAILED, item.display, reason=item.error)
            continue
        try:
            yield _process(item, options, names)
        except Exception as exc:  # one bad file must not stop the batch
            yield Outcome(FAILED, item.display, reason=f"{type(exc).__name__}: {exc}")


def _process(item: InputFile, options: DicomDeidOptions, names: OutputNames) -> Outcome:
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
        return _process_media(item, "image", "clean_image", names)
    if kind == "video":
        return _process_media(item, "video", "clean_video", names)
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

    def handle(self, *args: Any, **opts: Any) -> None:
        options = DicomDeidOptions(
            uid_key=_uid_key(opts["key"]), date_shift_days=opts["date_shift"]
        )
        counts: Counter[str] = Counter()
        with warnings.catch_warnings():
            # pydicom warns about every odd value it reads; the per-file lines
            # already say what matters.
            warnings.simplefilter("ignore", UserWarning)
            outcomes = deidentify_paths(opts["paths"], opts["out"], options=options)
            for outcome in outcomes:
                counts[outcome.status] += 1
                self.stdout.write(outcome.line())
        self.stdout.write(
            f"{counts[CLEANED]} cleaned, {counts[NEEDS_REVIEW]} need review, "
            f"{counts[FAILED]} failed, {counts[SKIPPED]} skipped"
        )
        if counts[FAILED]:
            raise CommandError(f"{counts[FAILED]} file(s) failed")
