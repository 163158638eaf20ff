"""Assets' lives outside processing: created from an upload or derived from
another asset's master, deleted with their files, requeued after a crash.

A new asset is stored under a private name and queued for processing when
the surrounding transaction commits; ``Continuation`` says what the caller
wants done once processing ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from workspace.models import User

from .. import pipeline
from .. import storage as media_storage
from ..models import MediaAsset, UploadSession
from ..sniff import MediaError
from ..uploads import AcceptedUpload, check_kind, check_size
from .common import _announce, _delete_on_commit, _enqueue


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
    from ..tasks import process_asset

    count = 0
    for asset_id in stale.values_list("pk", flat=True):
        process_asset.enqueue(asset_id=asset_id)
        count += 1
    return count
