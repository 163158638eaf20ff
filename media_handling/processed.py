"""What processing one upload produced: the result type every processor returns.

Its own module so that the processors (``pipeline`` for photos and video,
``dicom_pipeline`` for DICOM series) and the services that store their output
all import it from below, never from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Blurred", "Processed"]


@dataclass
class Processed:
    """Rendition files to store (by role), what they are, the de-identification
    report and the face regions it proposes (``review_reason`` when someone
    must look before it is shared)."""

    files: dict[str, Path]
    metadata: dict[str, Any]
    report: dict[str, Any]
    faces: dict[str, Any] = field(default_factory=dict)
    review_reason: str = ""


@dataclass
class Blurred:
    """New renditions with chosen regions blurred, and report lines saying so."""

    files: dict[str, Path]
    lines: list[str]
    regions: int
