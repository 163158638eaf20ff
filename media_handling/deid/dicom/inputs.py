"""Walk files, folders and zip archives safely (traversal, bombs, links)."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .base import DicomError


@dataclass(frozen=True)
class ZipLimits:
    """Guards against zip bombs; sizes are counted while streaming, not
    taken from the archive's own (forgeable) headers."""

    max_members: int = 20_000
    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 8 * 1024**3
    max_ratio: int = 1000  # uncompressed / compressed, for members over 1 MiB


# Below this many bytes a high compression ratio is harmless (a blank frame).
RATIO_FLOOR = 1024**2


@dataclass
class ZipBudget:
    """What the archives of one upload or one run have extracted so far, so
    the limits hold for all of them together, not for each archive."""

    members: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class InputFile:
    """One input: ``path`` is readable while the iterator is on it; ``relpath``
    is where it sits relative to the argument (archives become folders);
    ``error`` is set when it could not be extracted safely."""

    path: Path
    relpath: PurePosixPath
    display: str
    error: str | None = None


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """True when the file has the Part 10 "DICM" prefix at byte 128."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _is_hidden_member(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    return any(
        (p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts
    )


def _safe_member_path(name: str) -> PurePosixPath | None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return None
    clean = [p for p in parts if p not in ("", ".")]
    if not clean or any(p == ".." for p in clean):
        return None
    return PurePosixPath(*clean)


def _declared_entries(path: Path) -> int | None:
    """The entry count the archive's end record declares, read before the
    central directory is parsed (a forged count of millions would otherwise
    cost gigabytes of ZipInfo objects). None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            # zipfile has no public way to read the end record alone.
            end = zipfile._EndRecData(handle)
    except (OSError, AttributeError, IndexError, ValueError):
        return None
    if not end:
        return None
    return int(end[zipfile._ECD_ENTRIES_TOTAL])


def _iter_zip(
    path: Path,
    rel: PurePosixPath,
    display: str,
    limits: ZipLimits,
    budget: ZipBudget | None = None,
) -> Iterator[InputFile]:
    budget = budget if budget is not None else ZipBudget()
    declared = _declared_entries(path)
    # Archivers add a __MACOSX/ fork per file and a folder entry per folder.
    if declared is not None and declared > 3 * limits.max_members:
        yield InputFile(
            path,
            rel,
            display,
            f"zip has {declared} entries (limit {limits.max_members} files)",
        )
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield InputFile(path, rel, display, f"unreadable zip archive: {exc}")
        return
    with archive, tempfile.TemporaryDirectory(prefix="deid-zip-") as tmp:
        # Folders, and the hidden files and __MACOSX/ resource forks that
        # archivers add, are skipped just as a folder walk skips them.
        members = [
            i
            for i in archive.infolist()
            if not i.is_dir() and not _is_hidden_member(i.filename)
        ]
        if len(members) + budget.members > limits.max_members:
            yield InputFile(
                path,
                rel,
                display,
                f"zip has {len(members)} members (limit {limits.max_members})",
            )
            return
        declared_total = sum(i.file_size for i in members)
        if declared_total + budget.bytes > limits.max_total_bytes:
            yield InputFile(
                path,
                rel,
                display,
                "zip bomb: archive larger than the limit "
                f"({declared_total} bytes declared, limit {limits.max_total_bytes})",
            )
            return
        for index, info in enumerate(members):
            member_display = f"{display}!{info.filename}"
            member_rel = _safe_member_path(info.filename)
            mode = info.external_attr >> 16
            if member_rel is None:
                yield InputFile(
                    path, rel, member_display, "unsafe path in zip (traversal)"
                )
                continue
            if stat.S_ISLNK(mode):
                yield InputFile(path, rel, member_display, "symbolic link in zip")
                continue
            if info.flag_bits & 0x1:
                yield InputFile(path, rel, member_display, "encrypted zip member")
                continue
            if info.file_size > limits.max_member_bytes:
                yield InputFile(
                    path, rel, member_display, "zip bomb: member larger than the limit"
                )
                continue
            if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                yield InputFile(
                    path, rel, member_display, "zip bomb: compression ratio too high"
                )
                continue
            target = Path(tmp) / f"{index}{PurePosixPath(member_rel.name).suffix}"
            error = _extract_member(archive, info, target, limits, budget.bytes)
            budget.members += 1
            if error:
                target.unlink(missing_ok=True)
                yield InputFile(path, rel, member_display, error)
                if error.startswith("zip bomb: archive"):
                    return
                continue
            budget.bytes += target.stat().st_size
            try:
                yield InputFile(target, rel / member_rel, member_display)
            finally:
                target.unlink(missing_ok=True)


def _extract_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    limits: ZipLimits,
    total: int,
) -> str | None:
    # The declared sizes were checked already; these count the bytes that
    # actually come out, in case the headers lie.
    written = 0
    ratio_cap = limits.max_ratio * max(info.compress_size, 1)
    try:
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > limits.max_member_bytes:
                    return "zip bomb: member larger than the limit"
                if total + written > limits.max_total_bytes:
                    return "zip bomb: archive larger than the limit"
                if written > RATIO_FLOOR and written > ratio_cap:
                    return "zip bomb: compression ratio too high"
                if written > info.file_size:
                    return "corrupt zip member: more bytes than it declares"
                sink.write(chunk)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
    ) as exc:
        return f"corrupt zip member: {exc}"
    except NotImplementedError as exc:
        return f"unsupported zip compression: {exc}"
    except Exception as exc:  # a codec error sinks one member only
        return f"corrupt zip member: {type(exc).__name__}"
    return None


def iter_input_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    limits: ZipLimits | None = None,
    exclude: Path | None = None,
) -> Iterator[InputFile]:
    """Every file under ``paths``: folders walked in sorted order (symlinks
    and hidden files skipped), ``.zip`` archives streamed member by member to
    temp files that live until the iterator moves on. ``exclude`` is a folder
    never entered (the output folder, when it sits inside an input)."""
    limits = limits or ZipLimits()
    exclude = exclude.resolve() if exclude else None
    for raw in paths:
        root = Path(raw)
        if root.is_symlink() or not root.exists():
            yield InputFile(
                root, PurePosixPath(root.name), str(root), "no such file or folder"
            )
            continue
        if root.is_dir():
            for path in _walk(root, exclude):
                rel = PurePosixPath(root.name, *path.relative_to(root).parts)
                yield from _expand(path, rel, str(path), limits)
        else:
            yield from _expand(root, PurePosixPath(root.name), str(root), limits)


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not (base / d).is_symlink()
            and (exclude is None or (base / d).resolve() != exclude)
        )
        for name in sorted(files):
            path = base / name
            if not name.startswith(".") and not path.is_symlink():
                yield path


def _expand(
    path: Path, rel: PurePosixPath, display: str, limits: ZipLimits
) -> Iterator[InputFile]:
    if path.suffix.lower() == ".zip" or (not path.suffix and _has_zip_magic(path)):
        yield from _iter_zip(path, rel.with_suffix(""), display, limits)
    else:
        yield InputFile(path, rel, display)


def iter_archive(
    path: str | os.PathLike[str],
    *,
    display: str,
    limits: ZipLimits | None = None,
    budget: ZipBudget | None = None,
) -> Iterator[InputFile]:
    """The members of the zip archive at ``path`` (whatever its name), with
    the same guards as ``iter_input_files``; ``display`` names the archive
    in each member's ``display`` (``"<display>!<member>"``). Pass one
    ``budget`` to several calls to apply the limits to them together.

    Declared sizes and counts are checked before anything is extracted (an
    archive over the limits is refused whole); actual bytes, and each
    member's compression ratio, are counted while each member streams out.
    A member that is unsafe, corrupt or too large is reported on its own
    and the other members go on. Archives inside the archive are
    members like any other: never expanded."""
    path = Path(path)
    yield from _iter_zip(
        path,
        PurePosixPath(Path(display).stem or "archive"),
        display,
        limits or ZipLimits(),
        budget,
    )


def _has_zip_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def iter_dicom_files(
    path: str | os.PathLike[str], *, limits: ZipLimits | None = None
) -> Iterator[Path]:
    """DICOM files (by their "DICM" prefix) under a file, folder or zip.

    Zip members are temp files valid until the next item is requested.
    Raises DicomError for an archive (or member) that is unsafe to extract.
    """
    for item in iter_input_files([path], limits=limits):
        if item.error:
            raise DicomError(f"{item.display}: {item.error}")
        if is_dicom_file(item.path):
            yield item.path
