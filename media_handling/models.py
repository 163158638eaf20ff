"""Media assets and the uploads that create them.

A ``MediaAsset`` is one de-identified photo, video or DICOM series. It knows
nothing of cases or submissions: whoever creates it (``cases``) keeps the link,
decides who may see it, and names the channel group (``owner_group``) that
hears about its progress.

What is stored for an asset is only ever de-identified: the upload itself
waits under ``source_name`` until the processing task has read it, and is
deleted when processing ends, whatever the outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

__all__ = ["MediaAsset", "UploadSession"]


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Photo"
        VIDEO = "video", "Video"
        DICOM_SERIES = "dicom_series", "DICOM series"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        NEEDS_REVIEW = "needs_review", "Needs review"
        REJECTED = "rejected", "Rejected"

    class Step(models.TextChoices):
        """What a ``processing`` asset is waiting for the task to do."""

        NONE = "", "Nothing"
        DEIDENTIFY = "deidentify", "De-identify the upload"
        BLUR = "blur", "Blur the chosen regions"

    # Storage names use this, never the primary key or the uploaded file name.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.UPLOADED, db_index=True
    )
    # Why the asset was rejected or needs review; shown to the uploader.
    status_reason = models.TextField(blank=True)
    step = models.CharField(max_length=16, choices=Step.choices, blank=True)
    # The sniffed type of the upload (not what the client claimed).
    mime = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # What the stored renditions are: width, height, duration, frame_rate...
    metadata = models.JSONField(default=dict, blank=True)
    # The de-identification report: what was removed, replaced or blurred.
    report = models.JSONField(default=dict, blank=True)
    # Face regions: {"frame": {width, height}, "proposed": [{id, keyframes}],
    # "decision": {keep, drawn, by, at} | null, "applied": bool}.
    faces = models.JSONField(default=dict, blank=True)
    # Role ("thumb", "display", "poster", "video", ...) -> storage name.
    renditions = models.JSONField(default=dict, blank=True)
    # Storage name of the upload while it waits to be processed; "" after.
    source_name = models.CharField(max_length=300, blank=True)
    # Channel group told about status changes, e.g. "case.12" (set by the caller).
    owner_group = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="media_assets",
    )
    # Claims a processing run: a run whose token no longer matches lost the
    # race to a later run and throws its output away.
    run_token = models.CharField(max_length=32, blank=True)
    # The caller's continuation, enqueued once when processing ends (ready,
    # needs review or rejected): {"task": "app.tasks.name", "kwargs": {...}};
    # the task also gets ``asset_id``. Cleared once it is queued.
    on_processed = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"], name="media_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key.hex[:8]}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_pending(self) -> bool:
        """Whether the task has work left to do on this asset."""
        return self.status in (self.Status.UPLOADED, self.Status.PROCESSING)

    @property
    def proposed_faces(self) -> list[dict[str, Any]]:
        return list((self.faces or {}).get("proposed") or [])

    def rendition_name(self, role: str) -> str | None:
        name = (self.renditions or {}).get(role)
        return name if isinstance(name, str) and name else None

    def summary(self) -> dict[str, Any]:
        """What a status frame may carry: no reason text, no uploader, no names."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "status": self.status,
            "version": self.version,
        }

    @property
    def version(self) -> str:
        """Changes whenever anything shown about the asset changes."""
        stamp = self.updated.timestamp() if self.updated else 0
        return f"{self.status}-{int(stamp * 1000)}"


class UploadSession(models.Model):
    """A large upload arriving in parts, straight to S3 or through the app.

    Parts go to presigned S3 URLs (``mode`` s3) or are PUT to the app one at a
    time and written at their offset of one temporary file (``mode`` local), so no single
    request carries more than ``part_size`` bytes whatever the file's size.
    ``complete`` turns a session into a ``MediaAsset``; abandoned sessions
    expire and are cleaned up.
    """

    class Mode(models.TextChoices):
        LOCAL = "local", "Through the app"
        S3 = "s3", "Straight to S3"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        ABORTED = "aborted", "Aborted"

    class Purpose(models.TextChoices):
        # A photo or video that becomes one asset at ``complete``.
        MEDIA = "media", "Photo or video"
        # DICOM files or a zip of them, grouped into series at ``complete``.
        DICOM = "dicom", "DICOM study"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Whatever the caller uploads for, e.g. "case.12": the completing view
    # checks it, so a session opened for one case cannot complete in another.
    owner_group = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    part_size = models.PositiveIntegerField()
    purpose = models.CharField(
        max_length=8, choices=Purpose.choices, default=Purpose.MEDIA
    )
    # Bytes received so far (local mode): the sum of the parts in
    # ``parts_done``. Parts may arrive in any order and several at once; each
    # is written at its own offset of one file.
    received = models.PositiveBigIntegerField(default=0)
    parts_done = models.JSONField(default=list, blank=True)
    # Storage name the object is assembled under (s3) or will be saved as.
    object_name = models.CharField(max_length=300)
    s3_upload_id = models.CharField(max_length=1024, blank=True)
    # Sniffed from the first part (local) or the finished object (s3).
    kind = models.CharField(max_length=16, blank=True)
    mime = models.CharField(max_length=100, blank=True)
    asset = models.OneToOneField(
        MediaAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_session",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"upload {self.token.hex[:8]} ({self.mode}, {self.status})"

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_length(self, number: int) -> int:
        """How many bytes part ``number`` (1-based) must hold."""
        if number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)
