"""Media settings, read at call time so tests can override them.

Every value has a default here, so the app works before the project's
settings name them; ``workspace/settings.py`` documents and overrides them.
"""

from __future__ import annotations

from django.conf import settings

MiB = 1024 * 1024

# The upload sniffer's kinds ("image", "video", "dicom") -> MediaAsset kinds
# the pipeline accepts. DICOM joins when its pipeline does.
ACCEPTED_KINDS = {"image": "image", "video": "video"}
# What the DICOM study upload accepts (``cases.views.dicom``): single files
# and zip archives of them, grouped into one series asset each.
DICOM_KINDS = {"dicom": "dicom_series", "zip": "dicom_series"}


def max_bytes(kind: str | None) -> int:
    """The size cap for a sniffed kind ("image", "video", "dicom")."""
    caps = {
        "image": settings.MEDIA_MAX_IMAGE_BYTES,
        "video": settings.MEDIA_MAX_VIDEO_BYTES,
        "dicom": settings.MEDIA_MAX_DICOM_BYTES,
        "zip": settings.MEDIA_MAX_DICOM_BYTES,
    }
    return caps.get(kind or "", max(caps.values()))


def largest_cap() -> int:
    return max(max_bytes(kind) for kind in ("image", "video", "dicom"))


def part_bytes() -> int:
    """Size of each part of a session upload; S3 needs at least 5 MiB."""
    return int(getattr(settings, "MEDIA_UPLOAD_PART_BYTES", 8 * MiB))


def direct_to_s3() -> bool:
    """Whether session uploads go from the browser straight to S3."""
    return bool(settings.S3_BUCKET) and bool(
        getattr(settings, "MEDIA_DIRECT_UPLOADS", True)
    )


def open_sessions_per_user() -> int:
    """Upload sessions one user may have open at once."""
    return int(getattr(settings, "MEDIA_UPLOAD_MAX_OPEN_SESSIONS", 8))


def open_bytes_per_user() -> int:
    """Declared bytes of one user's open sessions together (default: two
    files of the largest kind, so one stalled upload never blocks the next)."""
    value = getattr(settings, "MEDIA_UPLOAD_MAX_OPEN_BYTES", None)
    return int(value) if value else 2 * largest_cap()


def dicom_zip_limits():
    """The zip-bomb guards for uploaded DICOM archives (``deid.dicom.ZipLimits``)."""
    from .deid.dicom import ZipLimits

    return ZipLimits(
        max_members=int(getattr(settings, "MEDIA_DICOM_ZIP_MAX_MEMBERS", 10_000)),
        max_member_bytes=max_bytes("dicom"),
        max_total_bytes=int(
            getattr(settings, "MEDIA_DICOM_ZIP_MAX_BYTES", 4 * max_bytes("dicom"))
        ),
        max_ratio=int(getattr(settings, "MEDIA_DICOM_ZIP_MAX_RATIO", 1000)),
    )


def session_ttl_seconds() -> int:
    return int(getattr(settings, "MEDIA_UPLOAD_SESSION_TTL_SECONDS", 24 * 3600))


def url_expiry_seconds() -> int:
    return int(settings.MEDIA_URL_EXPIRY_SECONDS)


def video_face_samples() -> int:
    """How many frames of a video face detection looks at, at most."""
    return int(getattr(settings, "MEDIA_VIDEO_FACE_SAMPLES", 60))
