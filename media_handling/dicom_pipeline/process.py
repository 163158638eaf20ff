"""De-identify a series bundle, render its frames, describe and report it."""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from ..deid.dicom import (
    DEID_METHOD_CODES,
    DicomDeidOptions,
    DicomDeidReport,
    DicomError,
    read_deidentified,
    read_dicom,
    write_dicom,
)
from ..dicom_render import frame_count, header_summary, render_frame, window_presets
from ..processed import Processed
from ..sniff import MediaError
from .frames import FRAME_MAX_SIZE, THUMB_SIZE, frame_role, instance_role
from .policy import DicomPolicy, bundle_open, policy_options


@dataclass
class _Instance:
    path: Path
    ds: Dataset  # the de-identified header; pixel data dropped once rendered
    report: DicomDeidReport
    frames: list[Path]


def deidentify_series(source: Path, workdir: Path) -> Processed:
    """De-identify every instance of a series bundle and render its frames.

    Instances that cannot be read, cleaned or decoded are left out and
    listed in the report's notes; the series is rejected (MediaError) only
    when none is left or when the files turn out to hold several series.
    The result needs review when any instance's pixels may show burned-in
    text (``burned_in_reason``). One instance's pixels are in memory at a
    time.
    """
    archive, policy, names = bundle_open(source)
    options = policy_options(policy)
    instances: list[_Instance] = []
    failures: list[str] = []
    for folder in ("in", "out", "frames"):
        (workdir / folder).mkdir()
    with archive:
        for position, name in enumerate(names, start=1):
            try:
                extracted = Path(archive.extract(name, workdir / "in"))
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                failures.append(f"File {position}: missing from the upload ({exc}).")
                continue
            first_frame = sum(len(i.frames) for i in instances)
            try:
                instances.append(
                    _clean_instance(
                        extracted, workdir, len(instances), first_frame, options
                    )
                )
            except DicomError as exc:
                failures.append(f"File {position}: {exc.reason}.")
            finally:
                extracted.unlink(missing_ok=True)
    if not instances:
        detail = " ".join(failures[:3])
        raise MediaError(f"No image in this series could be de-identified. {detail}")
    if len({i.report.series_instance_uid for i in instances}) != 1:
        raise MediaError("The files of this upload belong to more than one series.")

    files: dict[str, Path] = {}
    frames = [frame for instance in instances for frame in instance.frames]
    for index, instance in enumerate(instances):
        files[instance_role(index)] = instance.path
    for index, frame in enumerate(frames):
        files[frame_role(index)] = frame
    files["thumb"] = _thumb(instances, workdir)
    reasons = [i.report.review_reason for i in instances if i.report.review_reason]
    return Processed(
        files=files,
        metadata=_metadata(instances, policy),
        report=_report(instances, policy, failures),
        review_reason=_review_text(reasons[0]) if reasons else "",
    )


def _clean_instance(
    path: Path,
    workdir: Path,
    index: int,
    first_frame: int,
    options: DicomDeidOptions,
) -> _Instance:
    ds, report = read_deidentified(path, options=options)
    frames = []
    try:
        # Frames are rendered before the instance is kept: an image nobody
        # can look at cannot be reviewed or discussed either.
        for local in range(frame_count(ds)):
            png = workdir / "frames" / f"{first_frame + local}.png"
            png.write_bytes(render_frame(ds, local, max_size=FRAME_MAX_SIZE))
            frames.append(png)
    except Exception as exc:
        for png in frames:
            png.unlink(missing_ok=True)
        raise DicomError(f"cannot decode the pixel data ({exc})") from exc
    out = write_dicom(ds, workdir / "out" / f"{index}.dcm")
    return _Instance(path=out, ds=_header_only(ds), report=report, frames=frames)


def _thumb(instances: list[_Instance], workdir: Path) -> Path:
    """The middle frame of the series, small (from the stored instance)."""
    middle = sum(len(i.frames) for i in instances) // 2
    for instance in instances:
        if middle < len(instance.frames):
            ds = read_dicom(instance.path)
            thumb = workdir / "thumb.png"
            thumb.write_bytes(render_frame(ds, middle, max_size=THUMB_SIZE))
            return thumb
        middle -= len(instance.frames)
    raise AssertionError("the middle frame lies in some instance")


def _header_only(ds: Dataset) -> Dataset:
    """Drop the pixels once rendered: metadata needs only the header."""
    if "PixelData" in ds:
        del ds.PixelData
    return ds


def _review_text(reason: str) -> str:
    return (
        f"Check the frames for burned-in text ({reason}). Mask anything that "
        "identifies the patient, then release the series."
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _metadata(instances: list[_Instance], policy: DicomPolicy) -> dict[str, Any]:
    first = instances[0].ds
    grayscale = int(first.get("SamplesPerPixel", 1)) == 1 and (
        str(first.get("PhotometricInterpretation", "")).upper() != "PALETTE COLOR"
    )
    presets = window_presets(first) if grayscale else []
    return {
        "modality": str(first.get("Modality", "") or ""),
        "body_part": str(first.get("BodyPartExamined", "") or ""),
        "frame_count": sum(len(i.frames) for i in instances),
        "width": int(first.Columns),
        "height": int(first.Rows),
        "grayscale": grayscale,
        "instances": [
            {
                "frames": len(i.frames),
                "width": int(i.ds.Columns),
                "height": int(i.ds.Rows),
                "number": _number(i.ds.get("InstanceNumber")),
                "location": _number(i.ds.get("SliceLocation")),
            }
            for i in instances
        ],
        "presets": [
            {"id": str(n), "name": p.name, "center": p.center, "width": p.width}
            for n, p in enumerate(presets, start=1)
        ],
        "header": [list(row) for row in header_summary(first)],
        "study_uid": instances[0].report.study_instance_uid,
        "series_uid": instances[0].report.series_instance_uid,
        "policy": policy.as_dict(),
        "masks": [],
        "reviewed": None,
    }


def _report(
    instances: list[_Instance], policy: DicomPolicy, failures: list[str]
) -> dict[str, Any]:
    removed: Counter[str] = Counter()
    emptied: Counter[str] = Counter()
    replaced: Counter[str] = Counter()
    uids = private = shifted = segments = transcoded = 0
    codes: set[str] = set()
    bands = set()
    for instance in instances:
        report = instance.report
        removed.update(report.removed)
        emptied.update(report.emptied)
        replaced.update(report.replaced)
        uids += report.uids_replaced
        private += report.private_removed
        shifted += report.dates_shifted
        segments += report.codestream_segments_removed
        transcoded += report.pixels_transcoded
        codes.update(report.method_codes)
        if report.age_band:
            bands.add(report.age_band)
    count = len(instances)
    noun = "image" if count == 1 else "images"
    removed_lines = []
    if removed or emptied:
        names = sorted(set(removed) | set(emptied))
        shown = ", ".join(names[:12]) + ("…" if len(names) > 12 else "")
        removed_lines.append(
            f"{len(names)} identifying attributes removed or emptied "
            f"(DICOM PS3.15 Basic Profile): {shown}"
        )
    if private:
        removed_lines.append(f"{private} private (vendor) attributes")
    if segments:
        removed_lines.append(
            f"{segments} comment or application segments inside compressed frames"
        )
    if transcoded:
        removed_lines.append(
            f"Compressed pixels of {transcoded} {'image' if transcoded == 1 else 'images'}"
            " decoded and stored uncompressed (their segments could not be cleaned)"
        )
    if not policy.shift_dates:
        removed_lines.append("Dates (only what the profile requires stays, empty)")
    replaced_lines = [
        f"{uids} UIDs replaced with keyed 2.25 UIDs, consistent within this case "
        "so series and references stay intact",
        "Patient name set to ANONYMOUS; patient ID replaced by a keyed pseudonym",
    ]
    if policy.shift_dates:
        replaced_lines.append(
            f"{shifted} dates shifted by this case's secret offset (intervals kept)"
        )
    if bands:
        replaced_lines.append(f"Age kept only as a band: {', '.join(sorted(bands))}")
    notes = [f"{count} {noun} de-identified."]
    notes.extend(failures)
    return {
        "kind": "dicom_series",
        "source": {"instances": count + len(failures)},
        "removed": removed_lines,
        "replaced": replaced_lines,
        "blurred": [],
        "notes": notes,
        "details": {
            "instances": count,
            "failed": failures,
            "removed": dict(removed),
            "emptied": dict(emptied),
            "replaced": dict(replaced),
            "uids_replaced": uids,
            "private_removed": private,
            "dates_shifted": shifted,
            "codestream_segments_removed": segments,
            "pixels_transcoded": transcoded,
            "dates": "shifted" if policy.shift_dates else "removed",
            "age_bands": sorted(bands),
            "method_codes": [
                {"code": c, "meaning": DEID_METHOD_CODES[c]} for c in sorted(codes)
            ],
        },
    }
