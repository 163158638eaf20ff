"""Output names for offline de-identification that carry nothing of the inputs.

Exported file and folder names routinely hold patient names, record numbers
and dates ("SMITH_JOHN_MRN4471/2023-06-11 CT HEAD/IM0001.dcm"), so no part
of an input's path is ever reused, not even its extension:

- DICOM goes to ``study-<s>/series-<r>/<SOP Instance UID>.dcm``, where the
  UIDs are the de-identified (keyed ``2.25.``) ones and ``<s>``/``<r>`` are
  the first 12 hex digits of the SHA-256 of the de-identified Study/Series
  Instance UID: short, stable for a given key across runs (so a second run
  into the same folder files an instance in the same place), and no more
  revealing than the UIDs written inside the files.
- Other media goes to ``<kind>-<n>.<ext>`` (``image-0001.jpg``), numbered in
  the order the inputs were walked, with the extension of the cleaned
  output's own type; numbers already taken in the folder are skipped, never
  overwritten.
- Work in progress is written under a random hidden name first.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from pydicom.dataset import Dataset


def _short(uid: object) -> str:
    text = str(uid or "")
    if not text:
        return "unknown"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class OutputNames:
    """Hands out identifier-free paths under ``out`` for one run."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._used: set[Path] = set()
        self._next: dict[str, int] = {}

    def dicom(self, ds: Dataset) -> Path:
        """Where a de-identified dataset goes (call after de-identifying)."""
        folder = (
            self.out
            / f"study-{_short(ds.get('StudyInstanceUID'))}"
            / f"series-{_short(ds.get('SeriesInstanceUID'))}"
        )
        path, counter = folder / f"{ds.SOPInstanceUID}.dcm", 1
        # The same instance twice in one run (a duplicate input) is kept
        # twice; from an earlier run with the same key it is the same file.
        while path in self._used:
            counter += 1
            path = folder / f"{ds.SOPInstanceUID}-{counter}.dcm"
        self._used.add(path)
        return path

    def media(self, kind: str, ext: str) -> Path:
        """The next free ``<kind>-<n>.<ext>`` in the output folder."""
        number = self._next.get(kind, 0)
        while True:
            number += 1
            path = self.out / f"{kind}-{number:04d}.{ext}"
            if path not in self._used and not path.exists():
                self._next[kind] = number
                self._used.add(path)
                return path

    def partial(self) -> Path:
        """A hidden temporary name in the output folder."""
        return self.out / f".{uuid.uuid4().hex}.part"
