"""Upload sessions: a large file sent in parts, straight to S3 or to local disk.

One user holds a bounded number of open sessions and bytes; part 1 decides
the file's type; completing a session verifies every byte arrived, sniffs
the head, applies the cap for its type and turns the bytes into an asset
(photos and videos) or hands them to the caller as a file (DICOM studies).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from workspace.models import User
from workspace.services import ServiceError, require

from .. import conf, s3_multipart, uploads
from .. import storage as media_storage
from ..models import MediaAsset, UploadSession
from ..s3_multipart import UploadIncomplete
from ..sniff import MediaError, Sniffed, UploadLimitExceeded, sniff_bytes
from ..uploads import check_kind, check_size
from .common import _announce, _enqueue

logger = logging.getLogger(__name__)

MAX_SIGN_BATCH = 100


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
        refused = _sniff_or_close(session, lambda: sniffed, _accepted(session))
        if isinstance(refused, MediaError):
            return session, refused
    done = set(session.parts_done or [])
    done.add(number)
    session.parts_done = sorted(done)
    session.received = sum(session.part_length(n) for n in session.parts_done)
    session.save(update_fields=["received", "parts_done", "kind", "mime", "updated"])
    return session, None


def upload_session_complete(
    *, session: UploadSession, by: User, review_required: bool = False
) -> MediaAsset:
    """Verify a finished session's bytes and turn them into an asset.

    Checks that every byte arrived, sniffs the first bytes of the assembled
    file or S3 object, applies the cap for its type, then stores it as the
    asset's upload and queues processing. Completing twice returns the same
    asset. Missing parts raise ``UploadIncomplete`` and leave the session
    open for them; any other verification failure deletes the bytes, ends
    the session and raises MediaError saying why. With ``review_required``
    a photo or video waits for its uploader's face review, faces found or not.
    """
    with transaction.atomic():
        result = _session_complete(session, by, review_required)
    if isinstance(result, MediaError):
        raise result
    return result


def _session_complete(
    session: UploadSession, by: User, review_required: bool
) -> MediaAsset | MediaError:
    session = _open_session(session, by)
    if session.status == UploadSession.Status.COMPLETE and session.asset_id:
        return session.asset
    if session.status != UploadSession.Status.OPEN:
        raise ServiceError("This upload was cancelled.")
    if session.purpose != UploadSession.Purpose.MEDIA:
        raise ServiceError("This upload is not a photo or video.")
    sniffed = _sniff_or_close(session, lambda: sniff_bytes(_assembled_head(session)))
    if isinstance(sniffed, MediaError):
        return sniffed
    if session.mode == UploadSession.Mode.S3:
        stored = session.object_name
    else:
        stored = _store_local(session)
    asset = MediaAsset.objects.create(
        kind=check_kind(sniffed),
        mime=sniffed.mime or "",
        size=session.size,
        uploaded_by=by,
        owner_group=session.owner_group,
        source_name=stored,
        faces={"review_required": True} if review_required else {},
    )
    session.asset = asset
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


def _sniff_or_close(
    session: UploadSession,
    sniff: Callable[[], Sniffed],
    accepted: dict[str, str] | None = None,
) -> Sniffed | MediaError:
    """Sniff a session's head (``sniff()``) and apply the rules for its type.

    Passing, the sniffed kind and mime are set on the session (unsaved) and
    the ``Sniffed`` is returned. Refused (not an ``accepted`` kind, over the
    cap for its type, or bytes of the wrong size), the session ends, its
    bytes deleted, and the MediaError is returned, for the caller to raise
    once the close has committed. ``UploadIncomplete`` leaves the session
    open for the missing parts and propagates.
    """
    try:
        sniffed = sniff()
        check_kind(sniffed, accepted)
        check_size(sniffed, session.size)
    except UploadIncomplete:
        raise
    except MediaError as exc:
        _session_close(session, UploadSession.Status.ABORTED)
        return exc
    session.kind, session.mime = sniffed.kind or "", sniffed.mime or ""
    return sniffed


def _store_local(session: UploadSession) -> str:
    """Move a verified local session's file into storage; the stored name."""
    path = uploads.session_path(session.token)
    content = uploads.LocalUploadFile(path)
    try:
        return media_storage.save_file(session.object_name, content)
    finally:
        content.close()
        path.unlink(missing_ok=True)


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
    refused = _sniff_or_close(
        session, lambda: sniff_bytes(_assembled_head(session)), conf.DICOM_KINDS
    )
    if isinstance(refused, MediaError):
        return refused
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
