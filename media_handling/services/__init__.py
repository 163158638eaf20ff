"""Actions on media assets and upload sessions. The only place they change.

Callers (the ``cases`` views and services) decide who may upload where and
who may see what; these functions guarantee the media rules themselves:

- an asset is created only from bytes whose type was sniffed and accepted
  and whose size is within the cap for that type;
- the upload is stored under a private name until ``asset_process`` has read
  it and is deleted when processing ends, whether the asset became ready,
  needs review or was rejected;
- processing is idempotent and safe to run twice at once: each run claims
  the asset with a token and only the run holding the latest token may
  record its output (a loser deletes what it wrote);
- every status change is announced as ``{"type": "media.updated", "asset":
  {id, kind, status, version}}`` to the asset's ``owner_group`` after commit.

One module per concern: ``assets`` (create, derive, delete, requeue),
``processing`` (de-identify and blur), ``face_review`` (the uploader's
choice of what to blur) and ``upload_sessions`` (files sent in parts).
"""

from ..s3_multipart import UploadIncomplete
from ..sniff import UploadLimitExceeded
from .assets import (
    Continuation,
    asset_create_from_upload,
    asset_delete,
    asset_derive,
    assets_requeue_stale,
)
from .face_review import MAX_DRAWN_REGIONS, asset_faces_decide
from .processing import (
    REVIEW_AFTER_BLUR,
    REVIEW_REQUIRED,
    SERVER_FAILURE,
    asset_process,
)
from .upload_sessions import (
    MAX_SIGN_BATCH,
    upload_session_abort,
    upload_session_complete,
    upload_session_file,
    upload_session_part,
    upload_session_parts_held,
    upload_session_sign,
    upload_session_start,
    upload_sessions_expire,
)

__all__ = [
    "MAX_DRAWN_REGIONS",
    "MAX_SIGN_BATCH",
    "REVIEW_AFTER_BLUR",
    "REVIEW_REQUIRED",
    "SERVER_FAILURE",
    "Continuation",
    "UploadIncomplete",
    "UploadLimitExceeded",
    "asset_create_from_upload",
    "asset_delete",
    "asset_derive",
    "asset_faces_decide",
    "asset_process",
    "assets_requeue_stale",
    "upload_session_abort",
    "upload_session_complete",
    "upload_session_file",
    "upload_session_part",
    "upload_session_parts_held",
    "upload_session_sign",
    "upload_session_start",
    "upload_sessions_expire",
]
