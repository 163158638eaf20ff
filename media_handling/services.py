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
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from workspace.events import broadcast_on_commit
from workspace.models import User
from workspace.services import ServiceError, require

from . import conf, pipeline, s3_multipart, uploads
from . import storage as media_storage
from .models import MediaAsset, UploadSession
from .s3_multipart import UploadIncomplete
from .sniff import MediaError, UploadLimitExceeded, sniff_bytes
from .uploads import AcceptedUpload, check_kind, check_size

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_DRAWN_REGIONS",
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
    "upload_session_sign",
    "upload_session_start",
    "upload_sessions_expire",
]

MAX_DRAWN_REGIONS = 50
MAX_SIGN_BATCH = 100
MIN_REGION_SIDE = 2
SERVER_FAILURE = "Processing failed on the server; please upload the file again."


def _temp_dir() -> str | None:
    # Work files hold identifiable pixels until blurred: keep them where the
    # operator put uploads (FILE_UPLOAD_TEMP_DIR), e.g. on an encrypted disk.
    return settings.FILE_UPLOAD_TEMP_DIR or None


def _announce(asset: MediaAsset) -> None:
    if asset.owner_group:
        broadcast_on_commit(
            asset.owner_group, {"type": "media.updated", "asset": asset.summary()}
        )


def _enqueue(asset: MediaAsset) -> None:
    from .tasks import process_asset

    asset_id = asset.pk
    transaction.on_commit(lambda: process_asset.enqueue(asset_id=asset_id))


def _delete_on_commit(names: Iterable[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: media_storage.delete_names(names))


# --- creating assets ------------------------------------------------------------------


REVIEW_REQUIRED = (
    "Check this for faces before it is shared: nobody else sees it until you have."
)
REVIEW_AFTER_BLUR = (
    "The faces found were blurred: check that none was missed before it is shared."
)


def asset_create_from_upload(
    *,
    upload: AcceptedUpload,
    uploaded_by: User,
    owner_group: str = "",
    review_required: bool = False,
    blur_found: bool = False,
    then: Continuation | None = None,
) -> MediaAsset:
    """Store an accepted upload privately and queue it for processing.

    The upload's temporary file is moved (local storage) or streamed (S3)
    into ``incoming/<key>``; the asset starts ``uploaded`` and the task is
    enqueued when the surrounding transaction commits. With
    ``review_required`` a processed photo or video always needs review,
    faces found or not (a patient's file copied onto a case); with
    ``blur_found`` every face found is blurred in the same pass. ``then`` is
    enqueued once processing ends (see ``Continuation``).
    """
    check_size(upload.sniffed, upload.size)
    asset = _new_asset(
        kind=check_kind(upload.sniffed),
        mime=upload.sniffed.mime or "",
        size=upload.size,
        sha256=getattr(upload, "sha256", ""),
        uploaded_by=uploaded_by,
        owner_group=owner_group,
        review_required=review_required,
        blur_found=blur_found,
        then=then,
    )
    stored = media_storage.save_file(media_storage.incoming_name(asset.key), upload)
    return _queue_stored(asset, stored)


def _queue_stored(asset: MediaAsset, stored: str) -> MediaAsset:
    """Save a new asset whose upload is stored as ``stored`` and queue its
    processing after commit; the stored file goes if the save fails."""
    try:
        with transaction.atomic():
            asset.source_name = stored
            asset.save()
            _announce(asset)
            _enqueue(asset)
    except BaseException:
        media_storage.delete_names([stored])
        raise
    return asset


@dataclass(frozen=True)
class Continuation:
    """What the caller wants done once an asset's processing ends: the task
    named by ``task`` (a dotted path to a ``django.tasks`` task) is enqueued
    with ``asset_id`` and ``kwargs``, once, when the asset is ready, needs
    review or is rejected. No polling: the pipeline says when it is done."""

    task: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"task": self.task, "kwargs": dict(self.kwargs)}


def _new_asset(
    *,
    review_required: bool,
    blur_found: bool,
    then: Continuation | None,
    **fields: Any,
) -> MediaAsset:
    faces: dict[str, Any] = {}
    if review_required:
        faces["review_required"] = True
    if blur_found:
        faces["blur_found"] = True
    if then is not None:
        import_string(then.task)  # a typo fails here, not after processing
    return MediaAsset(
        faces=faces, on_processed=then.as_json() if then else {}, **fields
    )


def asset_derive(
    *,
    source: MediaAsset,
    uploaded_by: User,
    owner_group: str,
    blur: bool,
    then: Continuation | None = None,
) -> MediaAsset:
    """A new asset made from ``source``'s master rendition (already
    de-identified), processed again by the pipeline and always reviewed by
    ``uploaded_by`` before it is shared; with ``blur`` every face found is
    blurred in that same pass (one transcode for a video). ``then`` is
    enqueued when it is done. The source is left as it is."""
    master = source.rendition_name(pipeline.MASTER_ROLE.get(source.kind, ""))
    if master is None or source.kind not in pipeline.BLURRERS:
        raise MediaError("This file has no picture to copy.")
    asset = _new_asset(
        kind=source.kind,
        mime=source.mime,
        size=source.size,
        sha256=source.sha256,
        uploaded_by=uploaded_by,
        owner_group=owner_group,
        review_required=True,
        blur_found=blur,
        then=then,
    )
    with media_storage.local_copy(master) as path:
        stored = media_storage.save_path(
            media_storage.incoming_name(asset.key), Path(path)
        )
    return _queue_stored(asset, stored)


def _continue(asset: MediaAsset) -> None:
    """Queue the caller's continuation, once, after commit."""
    then = asset.on_processed or {}
    asset.on_processed = {}
    if not then.get("task"):
        return
    task = import_string(then["task"])
    kwargs = {**(then.get("kwargs") or {}), "asset_id": asset.pk}
    transaction.on_commit(lambda: task.enqueue(**kwargs))


# --- processing -----------------------------------------------------------------------


def asset_process(*, asset_id: int) -> str:
    """Do the pending step of an asset; returns its status afterwards.

    ``uploaded`` assets are de-identified (ready, needs_review or rejected);
    ``processing`` assets redo the step they were claimed for (a crashed or
    duplicate run); assets in any other state are left alone.
    """
    claim = _claim(asset_id)
    if isinstance(claim, str):
        return claim
    asset, token = claim
    if asset.step == MediaAsset.Step.BLUR:
        return _run_blur(asset, token)
    return _run_deidentify(asset, token)


def _claim(asset_id: int) -> tuple[MediaAsset, str] | str:
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().filter(pk=asset_id).first()
        if asset is None:
            return "missing"
        if not asset.is_pending:
            return asset.status
        if asset.status == MediaAsset.Status.UPLOADED or not asset.step:
            asset.step = (
                MediaAsset.Step.DEIDENTIFY
                if asset.source_name
                else MediaAsset.Step.BLUR
            )
        asset.status = MediaAsset.Status.PROCESSING
        asset.run_token = secrets.token_hex(16)
        asset.save(update_fields=["status", "step", "run_token", "updated"])
        _announce(asset)
        return asset, asset.run_token


def _run_deidentify(asset: MediaAsset, token: str) -> str:
    run = token[:12]
    stored: dict[str, str] = {}
    outcome: dict[str, Any]
    try:
        with (
            tempfile.TemporaryDirectory(
                prefix="consilium-asset-", dir=_temp_dir()
            ) as workdir,
            media_storage.local_copy(asset.source_name) as source,
        ):
            size, digest = media_storage.file_digest(source)
            processor = pipeline.PROCESSORS.get(asset.kind)
            if processor is None:
                raise MediaError(
                    f"{asset.get_kind_display()} files cannot be processed."
                )
            options = {}
            if (asset.faces or {}).get(
                "blur_found"
            ) and asset.kind in pipeline.BLURRERS:
                options["blur_found"] = True
            result = processor(Path(source), Path(workdir), **options)
            for role, path in result.files.items():
                stored[role] = media_storage.save_path(
                    media_storage.rendition_name(asset.key, run, role, path.suffix[1:]),
                    path,
                )
    except MediaError as exc:
        outcome = {"status": MediaAsset.Status.REJECTED, "reason": str(exc)}
    except FileNotFoundError:
        logger.warning(
            "media asset %s: upload %s is missing", asset.pk, asset.source_name
        )
        outcome = {
            "status": MediaAsset.Status.REJECTED,
            "reason": "The upload was lost before it could be processed; please "
            "upload the file again.",
        }
    except Exception:
        logger.exception("media asset %s: processing failed", asset.pk)
        outcome = {"status": MediaAsset.Status.REJECTED, "reason": SERVER_FAILURE}
    else:
        faces = result.faces
        reason = result.review_reason
        required = bool((asset.faces or {}).get("review_required"))
        if required and asset.kind in pipeline.BLURRERS:
            faces = {**faces, "review_required": True}
            blurred = faces.get("blurred_at_once") and faces.get("blurred")
            reason = reason or (REVIEW_AFTER_BLUR if blurred else REVIEW_REQUIRED)
        outcome = {
            "status": (
                MediaAsset.Status.NEEDS_REVIEW if reason else MediaAsset.Status.READY
            ),
            "reason": reason,
            "size": size,
            "sha256": digest,
            "metadata": result.metadata,
            "report": result.report,
            "faces": {**faces, "decision": None, "blurred": faces.get("blurred", [])},
            "renditions": stored,
        }
    if outcome["status"] == MediaAsset.Status.REJECTED:
        media_storage.delete_names(stored.values())
        stored = {}
    return _finish(
        asset.pk, token, outcome, new_names=stored.values(), drop_source=True
    )


def _run_blur(asset: MediaAsset, token: str) -> str:
    run = token[:12]
    stored: dict[str, str] = {}
    master_role = pipeline.MASTER_ROLE.get(asset.kind, "")
    try:
        blurrer = pipeline.BLURRERS[asset.kind]
        master = asset.rendition_name(master_role)
        if master is None:
            raise MediaError("There is no picture to blur.")
        with (
            tempfile.TemporaryDirectory(
                prefix="consilium-blur-", dir=_temp_dir()
            ) as workdir,
            media_storage.local_copy(master) as local,
        ):
            blurred = blurrer(Path(local), Path(workdir), asset.faces or {})
            for role, path in blurred.files.items():
                stored[role] = media_storage.save_path(
                    media_storage.rendition_name(asset.key, run, role, path.suffix[1:]),
                    path,
                )
    except Exception as exc:
        if not isinstance(exc, MediaError):
            logger.exception("media asset %s: blurring failed", asset.pk)
        media_storage.delete_names(stored.values())
        return _finish(
            asset.pk,
            token,
            {
                "status": MediaAsset.Status.NEEDS_REVIEW,
                "reason": "Blurring failed; the media stays hidden. Please try again.",
            },
            new_names=(),
            drop_source=False,
        )
    faces = dict(asset.faces or {})
    kept, drawn = pipeline.chosen_regions(faces)
    review_after = bool((faces.get("decision") or {}).get("review_after"))
    faces["blurred"] = [*faces.get("blurred", []), *kept, *[[[0.0, *r]] for r in drawn]]
    faces["proposed"] = []
    faces["decision"] = None
    report = dict(asset.report or {})
    report["blurred"] = [*report.get("blurred", []), *blurred.lines]
    outcome = {
        # Blurred on someone's behalf (not their own review): they still check.
        "status": (
            MediaAsset.Status.NEEDS_REVIEW if review_after else MediaAsset.Status.READY
        ),
        "reason": REVIEW_AFTER_BLUR if review_after else "",
        "faces": faces,
        "report": report,
        "renditions": {**(asset.renditions or {}), **stored},
    }
    return _finish(
        asset.pk, token, outcome, new_names=stored.values(), drop_source=False
    )


def _finish(
    asset_id: int,
    token: str,
    outcome: dict[str, Any],
    *,
    new_names: Iterable[str],
    drop_source: bool,
) -> str:
    new_names = list(new_names)
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().filter(pk=asset_id).first()
        if (
            asset is None
            or asset.run_token != token
            or asset.status != MediaAsset.Status.PROCESSING
        ):
            # A later run took over (or the asset was deleted): its output wins.
            media_storage.delete_names(new_names)
            return asset.status if asset is not None else "missing"
        old = set(media_storage.asset_names(asset))
        asset.status = outcome["status"]
        asset.status_reason = outcome.get("reason", "")
        for name in ("size", "sha256", "metadata", "report", "faces", "renditions"):
            if name in outcome:
                setattr(asset, name, outcome[name])
        if drop_source:
            asset.source_name = ""
        asset.step = MediaAsset.Step.NONE
        asset.run_token = ""
        asset.processed_at = timezone.now()
        _continue(asset)
        asset.save()
        _delete_on_commit(old - set(media_storage.asset_names(asset)))
        _announce(asset)
        return asset.status


# --- face decisions -------------------------------------------------------------------


def _clean_rects(
    drawn: Sequence[Sequence[float]], frame: dict[str, Any]
) -> list[list[int]]:
    width, height = int(frame.get("width") or 0), int(frame.get("height") or 0)
    rects = []
    for raw in drawn:
        if not isinstance(raw, list | tuple) or len(raw) != 4:
            raise ServiceError("Each drawn region needs x, y, width and height.")
        try:
            x, y, w, h = (round(float(v)) for v in raw)
        except (TypeError, ValueError) as exc:
            raise ServiceError("Drawn regions must be numbers.") from exc
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 - x0 < MIN_REGION_SIDE or y1 - y0 < MIN_REGION_SIDE:
            continue
        rects.append([x0, y0, x1 - x0, y1 - y0])
    return rects


@transaction.atomic
def asset_faces_decide(
    *,
    asset: MediaAsset,
    by: User,
    keep: Iterable[str] = (),
    drawn: Sequence[Sequence[float]] = (),
    review_after: bool = False,
) -> MediaAsset:
    """Record the uploader's choice of regions to blur, and act on it.

    ``keep`` names proposed faces to blur; ``drawn`` adds rects in master
    rendition pixels (clipped to it; video: the whole clip). With anything to
    blur the asset goes back to ``processing`` and the task replaces every
    rendition with a blurred one; with nothing, the uploader has reviewed the
    proposals and the asset is ``ready``. With ``review_after`` (a blur
    chosen by a rule, not by looking) the blurred asset needs review again.
    """
    asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
    require(
        by.is_authenticated and asset.uploaded_by_id == by.pk,
        "Only the person who uploaded this can choose what to blur.",
    )
    if asset.kind not in pipeline.BLURRERS:
        raise ServiceError("Regions can only be blurred in photos and videos.")
    if asset.status not in (MediaAsset.Status.READY, MediaAsset.Status.NEEDS_REVIEW):
        raise ServiceError("This media is not ready for review yet.")
    faces = dict(asset.faces or {})
    ids = {p["id"] for p in faces.get("proposed") or []}
    keep = [k for k in dict.fromkeys(keep) if k]
    unknown = [k for k in keep if k not in ids]
    if unknown:
        raise ServiceError("Some of the chosen faces are not in this media.")
    if len(drawn) > MAX_DRAWN_REGIONS:
        raise ServiceError(f"At most {MAX_DRAWN_REGIONS} regions can be drawn.")
    rects = _clean_rects(drawn, faces.get("frame") or {})
    faces["decision"] = {
        "keep": keep,
        "drawn": rects,
        "by": by.pk,
        "at": timezone.now().isoformat(),
        "review_after": bool(review_after and (keep or rects)),
    }
    asset.faces = faces
    asset.status_reason = ""
    if keep or rects:
        asset.status = MediaAsset.Status.PROCESSING
        asset.step = MediaAsset.Step.BLUR
        asset.save()
        _enqueue(asset)
    else:
        require(not review_after, "Nothing was chosen to blur.")
        faces["proposed"] = []
        faces["decision"] = None
        report = dict(asset.report or {})
        report["blurred"] = [*report.get("blurred", []), "Reviewed: nothing blurred."]
        asset.report = report
        asset.status = MediaAsset.Status.READY
        asset.save()
    _announce(asset)
    return asset


# --- deleting -------------------------------------------------------------------------


@transaction.atomic
def asset_delete(*, asset: MediaAsset) -> None:
    """Delete an asset and, after commit, every file it stored.

    A processing run still in flight finds the row gone and deletes its own
    output.
    """
    asset = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
    if asset is None:
        return
    names = media_storage.asset_names(asset)
    session = UploadSession.objects.filter(asset=asset).first()
    if session is not None:
        session.delete()
    asset.delete()
    _delete_on_commit(names)


def assets_requeue_stale(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Enqueue processing again for assets stuck uploaded/processing (a crash)."""
    cutoff = timezone.now() - older_than
    stale = MediaAsset.objects.filter(
        status__in=[MediaAsset.Status.UPLOADED, MediaAsset.Status.PROCESSING],
        updated__lt=cutoff,
    )
    from .tasks import process_asset

    count = 0
    for asset_id in stale.values_list("pk", flat=True):
        process_asset.enqueue(asset_id=asset_id)
        count += 1
    return count


# --- upload sessions ------------------------------------------------------------------


@transaction.atomic
def upload_session_start(
    *,
    uploaded_by: User,
    owner_group: str,
    size: int,
    purpose: str = UploadSession.Purpose.MEDIA,
) -> UploadSession:
    """Open a session for a file of ``size`` bytes, to be sent in parts.

    The largest cap of any accepted kind applies now; the cap of the file's
    own kind applies as soon as its first bytes are known. One user may hold
    at most ``MEDIA_UPLOAD_MAX_OPEN_SESSIONS`` open sessions declaring at most
    ``MEDIA_UPLOAD_MAX_OPEN_BYTES`` together (parts must match the declared
    size, so that bounds the bytes held too); past either,
    ``UploadLimitExceeded`` (429) is raised and nothing is opened. The user's
    own expired sessions are closed first, so they never count.
    """
    if size <= 0:
        raise MediaError("The file is empty.")
    cap = (
        conf.max_bytes("dicom")
        if purpose == UploadSession.Purpose.DICOM
        else conf.largest_cap()
    )
    if size > cap:
        raise MediaError(
            f"The file is too large ({uploads.format_bytes(size)}): files may be at "
            f"most {uploads.format_bytes(cap)}."
        )
    _require_room(uploaded_by, size)
    part_size = conf.part_bytes()
    if -(-size // part_size) > s3_multipart.MAX_PARTS:
        part_size = -(-size // s3_multipart.MAX_PARTS)
    session = UploadSession(
        mode=UploadSession.Mode.S3 if conf.direct_to_s3() else UploadSession.Mode.LOCAL,
        uploaded_by=uploaded_by,
        owner_group=owner_group,
        size=size,
        part_size=part_size,
        purpose=purpose,
    )
    session.object_name = f"incoming/{session.token.hex}"
    if session.mode == UploadSession.Mode.S3:
        session.s3_upload_id = s3_multipart.multipart_create(session.object_name)
    session.save()
    return session


def _require_room(user: User, size: int) -> None:
    # The user's row lock serialises one user's concurrent starts, so two
    # at once cannot both squeeze under the limits.
    User.objects.select_for_update().filter(pk=user.pk).first()
    cutoff = timezone.now() - timedelta(seconds=conf.session_ttl_seconds())
    open_sessions = UploadSession.objects.filter(
        uploaded_by=user, status=UploadSession.Status.OPEN
    )
    for stale in open_sessions.filter(updated__lt=cutoff).select_for_update():
        _session_close(stale, UploadSession.Status.ABORTED)
    held = open_sessions.aggregate(count=Count("pk"), bytes=Sum("size"))
    count, held_bytes = held["count"], held["bytes"] or 0
    limit = conf.open_sessions_per_user()
    if count >= limit:
        raise UploadLimitExceeded(
            f"You already have {count} uploads in progress (at most {limit} at "
            "once). Let one finish or cancel it, then try again."
        )
    budget = conf.open_bytes_per_user()
    if held_bytes + size > budget:
        raise UploadLimitExceeded(
            f"Your uploads in progress already hold {uploads.format_bytes(held_bytes)}"
            f"; with this file ({uploads.format_bytes(size)}) they would pass "
            f"{uploads.format_bytes(budget)}. Let one finish or cancel it, then try "
            "again."
        )


def _open_session(
    session: UploadSession, by: User, *, lock: bool = True
) -> UploadSession:
    """The session fresh from the database (row-locked unless ``lock=False``),
    after checking that ``by`` opened it."""
    rows = UploadSession.objects.select_for_update() if lock else UploadSession.objects
    session = rows.get(pk=session.pk)
    require(
        by.is_authenticated and session.uploaded_by_id == by.pk,
        "This upload belongs to someone else.",
    )
    return session


def upload_session_sign(
    *, session: UploadSession, by: User, numbers: Sequence[int]
) -> dict[int, str]:
    """Presigned PUT URLs for parts of an S3 session (at most 100 at a time)."""
    with transaction.atomic():
        session = _open_session(session, by)
    if session.mode != UploadSession.Mode.S3 or session.status != session.Status.OPEN:
        raise ServiceError("This upload is not waiting for parts.")
    numbers = sorted({int(n) for n in numbers})
    if not numbers or len(numbers) > MAX_SIGN_BATCH:
        raise ServiceError(f"Ask for between 1 and {MAX_SIGN_BATCH} parts at a time.")
    if numbers[0] < 1 or numbers[-1] > session.part_count:
        raise ServiceError("No such part.")
    return s3_multipart.multipart_sign_parts(
        session.object_name, session.s3_upload_id, numbers
    )


def upload_session_parts_held(*, session: UploadSession) -> list[int]:
    """The part numbers an open S3 session's bucket already holds, so a client
    resumes after them; none when the bucket has forgotten the upload."""
    if session.mode != UploadSession.Mode.S3 or session.status != session.Status.OPEN:
        return list(session.parts_done or [])
    try:
        held = s3_multipart.multipart_parts(session.object_name, session.s3_upload_id)
    except Exception:  # an expired or aborted upload just starts again
        logger.info("S3 upload %s has no parts to resume", session.token)
        return []
    return [part["PartNumber"] for part in held]


def _accepted(session: UploadSession) -> dict[str, str]:
    if session.purpose == UploadSession.Purpose.DICOM:
        return conf.DICOM_KINDS
    return conf.ACCEPTED_KINDS


def upload_session_part(
    *, session: UploadSession, by: User, number: int, stream: IO[bytes], length: int
) -> UploadSession:
    """Write part ``number`` of a local session, read from ``stream``.

    Parts may come in any order and several at once: each is written at its
    own offset of the session's file outside any lock, then recorded in a
    short transaction; re-sending a part (a retry) overwrites it. Part 1
    decides the file's type: one that is not accepted, or whose declared
    size is over the cap for its type, ends the session (its bytes are
    deleted) and raises MediaError.
    """
    session = _open_session(session, by, lock=False)
    if (
        session.mode != UploadSession.Mode.LOCAL
        or session.status != session.Status.OPEN
    ):
        raise ServiceError("This upload is not waiting for parts.")
    if not 1 <= number <= session.part_count:
        raise ServiceError("No such part.")
    expected = session.part_length(number)
    if length != expected:
        raise MediaError(f"Part {number} must hold {expected} bytes, not {length}.")
    path = uploads.session_path(session.token)
    offset = (number - 1) * session.part_size
    uploads.part_write(
        path, offset=offset, length=length, stream=stream, size=session.size
    )
    sniffed = None
    if number == 1:
        with open(path, "rb") as fh:
            sniffed = sniff_bytes(fh.read(uploads.HEAD_BYTES))
    with transaction.atomic():
        session, refused = _part_record(session, by, number, sniffed)
    if refused is not None:
        raise refused
    return session


def _part_record(
    session: UploadSession, by: User, number: int, sniffed
) -> tuple[UploadSession, MediaError | None]:
    session = _open_session(session, by)
    if session.status != session.Status.OPEN:
        # Cancelled while this part was being written: drop what it wrote.
        uploads.session_path(session.token).unlink(missing_ok=True)
        raise ServiceError("This upload is not waiting for parts.")
    if sniffed is not None:
        try:
            check_kind(sniffed, _accepted(session))
            check_size(sniffed, session.size)
        except MediaError as exc:
            _session_close(session, UploadSession.Status.ABORTED)
            return session, exc
        session.kind, session.mime = sniffed.kind or "", sniffed.mime or ""
    done = set(session.parts_done or [])
    done.add(number)
    session.parts_done = sorted(done)
    session.received = sum(session.part_length(n) for n in session.parts_done)
    session.save(update_fields=["received", "parts_done", "kind", "mime", "updated"])
    return session, None


def upload_session_complete(*, session: UploadSession, by: User) -> MediaAsset:
    """Verify a finished session's bytes and turn them into an asset.

    Checks that every byte arrived, sniffs the first bytes of the assembled
    file or S3 object, applies the cap for its type, then stores it as the
    asset's upload and queues processing. Completing twice returns the same
    asset. Missing parts raise ``UploadIncomplete`` and leave the session
    open for them; any other verification failure deletes the bytes, ends
    the session and raises MediaError saying why.
    """
    with transaction.atomic():
        result = _session_complete(session, by)
    if isinstance(result, MediaError):
        raise result
    return result


def _session_complete(session: UploadSession, by: User) -> MediaAsset | MediaError:
    session = _open_session(session, by)
    if session.status == UploadSession.Status.COMPLETE and session.asset_id:
        return session.asset
    if session.status != UploadSession.Status.OPEN:
        raise ServiceError("This upload was cancelled.")
    if session.purpose != UploadSession.Purpose.MEDIA:
        raise ServiceError("This upload is not a photo or video.")
    try:
        if session.mode == UploadSession.Mode.S3:
            head, stored = _complete_s3(session)
        else:
            head, stored = _complete_local(session)
        sniffed = sniff_bytes(head)
        kind = check_kind(sniffed)
        check_size(sniffed, session.size)
    except UploadIncomplete:
        raise
    except MediaError as exc:
        _session_close(session, UploadSession.Status.ABORTED)
        return exc
    asset = MediaAsset.objects.create(
        kind=kind,
        mime=sniffed.mime or "",
        size=session.size,
        uploaded_by=by,
        owner_group=session.owner_group,
        source_name=stored,
    )
    session.asset = asset
    session.kind, session.mime = sniffed.kind or "", sniffed.mime or ""
    session.status = UploadSession.Status.COMPLETE
    session.save()
    _announce(asset)
    _enqueue(asset)
    return asset


def _assembled_head(session: UploadSession) -> bytes:
    """Finish a session's bytes and return their first ``HEAD_BYTES``.

    S3: completes the multipart upload and checks the object's size. Local:
    checks every part arrived (``UploadIncomplete``) and the file's size.
    A size mismatch raises MediaError.
    """
    if session.mode == UploadSession.Mode.S3:
        s3_multipart.multipart_complete(
            session.object_name,
            session.s3_upload_id,
            size=session.size,
            part_count=session.part_count,
        )
        if s3_multipart.object_size(session.object_name) != session.size:
            raise MediaError("The uploaded object does not have the expected size.")
        return s3_multipart.object_head(session.object_name)
    path = uploads.session_path(session.token)
    if (
        session.received != session.size
        or len(session.parts_done or []) != session.part_count
        or not path.exists()
    ):
        raise UploadIncomplete(
            f"The upload is incomplete: {session.received} of {session.size} bytes "
            "arrived."
        )
    if path.stat().st_size != session.size:
        raise MediaError("The upload does not have the expected size.")
    with open(path, "rb") as fh:
        return fh.read(uploads.HEAD_BYTES)


def _complete_s3(session: UploadSession) -> tuple[bytes, str]:
    return _assembled_head(session), session.object_name


def _complete_local(session: UploadSession) -> tuple[bytes, str]:
    path = uploads.session_path(session.token)
    head = _assembled_head(session)
    sniffed = sniff_bytes(head)
    check_kind(sniffed)
    check_size(sniffed, session.size)
    content = uploads.LocalUploadFile(path)
    try:
        stored = media_storage.save_file(session.object_name, content)
    finally:
        content.close()
        path.unlink(missing_ok=True)
    return head, stored


@contextlib.contextmanager
def upload_session_file(
    *, session: UploadSession, by: User
) -> Iterator[tuple[Path, str]]:
    """The finished bytes of a DICOM session as a local file, for the block.

    Checks that every part arrived (``UploadIncomplete`` otherwise; the
    session stays open for them), sniffs the head and applies the cap for
    its kind (a refusal ends the session and raises MediaError), and claims
    the session (``complete``) in a short transaction, so the caller's
    long processing holds no lock and a second completion gets a
    ServiceError. Yields (path, sniffed kind): the session's own file, or in
    S3 mode the object streamed into a temporary file. The bytes are
    deleted when the block ends, however it ends.
    """
    with transaction.atomic():
        claimed = _file_claim(session, by)
    if isinstance(claimed, MediaError):
        raise claimed
    try:
        if claimed.mode == UploadSession.Mode.S3:
            with media_storage.local_copy(claimed.object_name) as path:
                yield path, claimed.kind
        else:
            yield uploads.session_path(claimed.token), claimed.kind
    finally:
        if claimed.mode == UploadSession.Mode.S3:
            media_storage.delete_names([claimed.object_name])
        else:
            uploads.session_path(claimed.token).unlink(missing_ok=True)


def _file_claim(session: UploadSession, by: User) -> UploadSession | MediaError:
    session = _open_session(session, by)
    if session.status == UploadSession.Status.COMPLETE:
        raise ServiceError("This upload was already completed.")
    if session.status != UploadSession.Status.OPEN:
        raise ServiceError("This upload was cancelled.")
    if session.purpose != UploadSession.Purpose.DICOM:
        raise ServiceError("This upload is not a DICOM study.")
    try:
        sniffed = sniff_bytes(_assembled_head(session))
        check_kind(sniffed, conf.DICOM_KINDS)
        check_size(sniffed, session.size)
    except UploadIncomplete:
        raise
    except MediaError as exc:
        _session_close(session, UploadSession.Status.ABORTED)
        return exc
    session.kind, session.mime = sniffed.kind or "", sniffed.mime or ""
    session.status = UploadSession.Status.COMPLETE
    session.save(update_fields=["kind", "mime", "status", "updated"])
    return session


def _session_close(session: UploadSession, status: str) -> None:
    """Free whatever bytes a session holds and mark it closed."""
    if session.mode == UploadSession.Mode.S3:
        if session.s3_upload_id:
            s3_multipart.multipart_abort(session.object_name, session.s3_upload_id)
        media_storage.delete_names([session.object_name])
    else:
        uploads.session_path(session.token).unlink(missing_ok=True)
    session.status = status
    session.save(update_fields=["status", "updated"])


@transaction.atomic
def upload_session_abort(*, session: UploadSession, by: User) -> None:
    """Cancel an open session and free its bytes; closed sessions stay as they are."""
    session = _open_session(session, by)
    if session.status == UploadSession.Status.OPEN:
        _session_close(session, UploadSession.Status.ABORTED)


def upload_sessions_expire(*, now: datetime | None = None) -> int:
    """Abort open sessions older than ``MEDIA_UPLOAD_SESSION_TTL_SECONDS``."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=conf.session_ttl_seconds())
    count = 0
    for pk in UploadSession.objects.filter(
        status=UploadSession.Status.OPEN, updated__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            session = UploadSession.objects.select_for_update().get(pk=pk)
            if session.status == UploadSession.Status.OPEN:
                _session_close(session, UploadSession.Status.ABORTED)
                count += 1
    return count
