"""Turn uploaded DICOM files, folders and zip archives into one asset per series.

``dicom_files_group`` reads every uploaded file (or zip member) once, whole,
so a corrupt or truncated file is caught here and reported on its own
(``UploadProblem``) while the rest of the upload goes on. Readable files are
grouped by (Study Instance UID, Series Instance UID) and ordered by Instance
Number and slice position. Files that are not DICOM images (a DICOMDIR
index, a structured report, a stray text file, a duplicate) are *skipped*,
which is not a failure.

``dicom_assets_create`` then writes each series into a bundle (see
``dicom_pipeline.policy``), stores it privately as the asset's upload and
queues it for processing, like ``services.asset_create_from_upload`` does
for a photo. Nothing here knows about cases: the caller names the policy
(key scope, workspace, dates) and the channel group that hears of progress.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from workspace.events import broadcast_on_commit
from workspace.models import User

from . import conf
from . import storage as media_storage
from .deid.dicom import (
    DicomError,
    ZipBudget,
    ZipLimits,
    instance_sort_key,
    iter_archive,
    read_dicom,
    series_key,
)
from .dicom_pipeline import DicomPolicy, bundle_write
from .models import MediaAsset
from .sniff import sniff

__all__ = [
    "DicomGrouping",
    "SeriesGroup",
    "UploadProblem",
    "dicom_assets_create",
    "dicom_files_group",
]

# Media Storage Directory Storage: a DICOMDIR index (it lists patient names).
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class UploadProblem:
    """One uploaded file that did not become part of a series, and why.

    ``name`` is the name the uploader gave it (``archive.zip!member`` inside
    an archive): show it back to them, never store it.
    """

    name: str
    reason: str


@dataclass
class SeriesGroup:
    """The readable files of one series, in display order."""

    modality: str
    files: list[Path]
    size: int
    # Original UIDs: identifying, kept in memory only, to tell series apart.
    study_uid: str = field(repr=False)
    series_uid: str = field(repr=False)


@dataclass
class DicomGrouping:
    series: list[SeriesGroup]
    failed: list[UploadProblem]
    skipped: list[UploadProblem]

    @property
    def accepted(self) -> int:
        return sum(len(group.files) for group in self.series)


@dataclass
class _Entry:
    sort_key: tuple[float, float, int]
    path: Path
    size: int
    modality: str


class _Grouper:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.series: dict[tuple[str, str], list[_Entry]] = {}
        self.seen: set[str] = set()
        self.failed: list[UploadProblem] = []
        self.skipped: list[UploadProblem] = []
        self.count = 0

    def add(self, name: str, path: Path, *, owned: bool) -> None:
        """Look at one file; ``owned`` files (extracted zip members) may be
        moved into the work folder, uploads are referenced where they are."""
        if Path(name.split("!")[-1]).name.upper() == "DICOMDIR":
            self.skipped.append(
                UploadProblem(name, "DICOMDIR index (lists patient names): not kept")
            )
            return
        try:
            found = sniff(path)
        except OSError as exc:
            self.failed.append(UploadProblem(name, f"cannot read the file: {exc}"))
            return
        if found.kind == "zip":
            self.skipped.append(
                UploadProblem(name, "archive inside an archive: not expanded")
            )
            return
        if found.kind != "dicom":
            self.skipped.append(UploadProblem(name, "not a DICOM file"))
            return
        try:
            ds = read_dicom(path)
        except DicomError as exc:
            self.failed.append(UploadProblem(name, exc.reason))
            return
        meta = getattr(ds, "file_meta", None)
        if str(getattr(meta, "MediaStorageSOPClassUID", "")) == _DICOMDIR_CLASS:
            self.skipped.append(UploadProblem(name, "DICOMDIR index: not kept"))
            return
        if "PixelData" not in ds:
            self.skipped.append(
                UploadProblem(name, "no image in this file (a report or index)")
            )
            return
        key = series_key(ds)
        if not key[0] or not key[1]:
            self.failed.append(
                UploadProblem(name, "no Study or Series Instance UID: cannot group it")
            )
            return
        instance = str(ds.SOPInstanceUID)
        if instance in self.seen:
            self.skipped.append(
                UploadProblem(name, "the same image was uploaded twice")
            )
            return
        self.seen.add(instance)
        self.count += 1
        if owned:
            kept = self.workdir / f"{self.count}.dcm"
            shutil.move(path, kept)
            path = kept
        self.series.setdefault(key, []).append(
            _Entry(
                sort_key=(*instance_sort_key(ds), self.count),
                path=path,
                size=path.stat().st_size,
                modality=str(ds.get("Modality", "") or ""),
            )
        )

    def result(self) -> DicomGrouping:
        groups = []
        for (study, series), entries in self.series.items():
            entries.sort(key=lambda e: e.sort_key)
            groups.append(
                SeriesGroup(
                    modality=entries[0].modality,
                    files=[e.path for e in entries],
                    size=sum(e.size for e in entries),
                    study_uid=study,
                    series_uid=series,
                )
            )
        # Studies stay together, series in upload order within them.
        order = {study: n for n, (study, _) in enumerate(self.series)}
        groups.sort(key=lambda g: order[g.study_uid])
        return DicomGrouping(groups, self.failed, self.skipped)


def dicom_files_group(
    inputs: Iterable[tuple[str, str | Path]],
    *,
    workdir: str | Path,
    limits: ZipLimits | None = None,
) -> DicomGrouping:
    """Read and group uploaded files into series.

    ``inputs`` are (name shown to the uploader, local path) pairs: DICOM
    files or zip archives of them (recognised by content, not by name).
    Zip members are extracted into ``workdir`` with the guards of
    ``deid.dicom.inputs`` (traversal, links, bombs), so ``workdir`` must
    outlive the grouping's use; uploaded files are used in place. The zip
    limits (default ``conf.dicom_zip_limits()``) hold for all the archives of
    one upload together.
    """
    limits = limits or conf.dicom_zip_limits()
    budget = ZipBudget()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    grouper = _Grouper(workdir)
    for name, raw in inputs:
        path = Path(raw)
        try:
            is_zip = sniff(path).kind == "zip"
        except OSError as exc:
            grouper.failed.append(UploadProblem(name, f"cannot read the file: {exc}"))
            continue
        if not is_zip:
            grouper.add(name, path, owned=False)
            continue
        for member in iter_archive(path, display=name, limits=limits, budget=budget):
            if member.error:
                grouper.failed.append(UploadProblem(member.display, member.error))
            else:
                grouper.add(member.display, member.path, owned=True)
    return grouper.result()


def dicom_assets_create(
    *,
    series: Sequence[SeriesGroup],
    policy: DicomPolicy,
    uploaded_by: User,
    owner_group: str = "",
) -> list[MediaAsset]:
    """One ``uploaded`` DICOM series asset per group, queued for processing.

    Each group's files and the policy are bundled and stored under the
    asset's private ``incoming/`` name; the rows are created in one
    transaction and processing is enqueued when it commits. If anything
    fails, every bundle stored so far is deleted and the error propagates.
    """
    from .tasks import process_asset

    assets: list[MediaAsset] = []
    stored: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="consilium-dicom-bundle-") as tmp:
            for index, group in enumerate(series):
                bundle = bundle_write(
                    Path(tmp) / f"{index}.zip", group.files, policy=policy
                )
                size, digest = media_storage.file_digest(bundle)
                asset = MediaAsset(
                    kind=MediaAsset.Kind.DICOM_SERIES,
                    mime="application/dicom",
                    size=size,
                    sha256=digest,
                    uploaded_by=uploaded_by,
                    owner_group=owner_group,
                )
                name = media_storage.save_path(
                    media_storage.incoming_name(asset.key), bundle
                )
                stored.append(name)
                asset.source_name = name
                assets.append(asset)
                bundle.unlink()
        with transaction.atomic():
            for asset in assets:
                asset.save()
                asset_id = asset.pk
                transaction.on_commit(
                    lambda asset_id=asset_id: process_asset.enqueue(asset_id=asset_id)
                )
                if owner_group:
                    broadcast_on_commit(
                        owner_group, {"type": "media.updated", "asset": asset.summary()}
                    )
    except BaseException:
        media_storage.delete_names(stored)
        raise
    return assets
