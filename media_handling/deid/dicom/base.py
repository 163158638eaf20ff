"""Errors and options shared by the DICOM de-identification modules."""

from __future__ import annotations

from dataclasses import dataclass


class DicomError(Exception):
    """The input is not DICOM, is corrupt or truncated, or cannot be cleaned."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DicomDeidOptions:
    """How to de-identify. ``uid_key`` is secret: keep it per workspace/case."""

    uid_key: bytes
    date_shift_days: int | None = None
    keep_descriptors: bool = False

    def __post_init__(self) -> None:
        if len(self.uid_key) < 16:
            raise ValueError("uid_key must be at least 16 bytes")
