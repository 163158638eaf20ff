"""Actions on a case's media: add, review faces, release, caption, remove.

Policy lives here; ``media_handling`` does the bytes. Every function checks
the actor's rights through :func:`cases.permissions.case_access`, writes an
``AuditEvent`` and announces ``{"type": "media.updated", "asset": {...}}`` to
the case's group after commit (processing progress is announced by
``media_handling`` itself, to the same group). Frames carry ids and states
only: clients fetch what they may see through the permission-checked views.

Rules:
- only those who can edit the case add media, and only while it is not
  archived;
- only the uploader reviews faces, releases or captions their upload;
- an item reaches anyone but its uploader once it is released and its asset
  is ready (see ``CaseAsset.visible_to``);
- the uploader or the case owner removes an item; the asset and its files go
  with the last item that uses it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cases.models import Case, CaseAsset
from cases.permissions import case_access
from media_handling import services as media_services
from media_handling import storage as media_storage
from media_handling.models import MediaAsset, UploadSession
from media_handling.sniff import MediaError
from media_handling.uploads import RejectedUpload
from workspace.events import broadcast_on_commit, case_group
from workspace.models import User
from workspace.services import ServiceError, require

from .common import case_event, case_text_gate

__all__ = [
    "MediaError",
    "case_media_caption",
    "case_media_derive",
    "case_media_faces_confirm",
    "case_media_release",
    "case_media_release_all",
    "case_media_remove",
    "case_media_upload",
    "case_media_upload_complete",
    "case_media_upload_start",
]

MAX_CAPTION = 300


def _require_can_add(case: Case, by: User, what: str = "media") -> None:
    """Only those who can edit a case that is not archived add ``what``."""
    require(case_access(by, case).can_edit, f"You can't add {what} to this case.")
    require(
        case.status != Case.Status.ARCHIVED,
        f"This case is archived; {what} can no longer be added.",
    )


def _require_uploader(
    item: CaseAsset,
    by: User,
    refusal: str = "Only the person who uploaded this can do that.",
) -> None:
    require(by.is_authenticated and item.added_by_id == by.pk, refusal)
    require(
        case_access(by, item.case).can_edit,
        "You can no longer change media in this case.",
    )


def _announce(item: CaseAsset, *, status: str | None = None) -> None:
    asset = item.asset
    payload = asset.summary() if status is None else {"id": asset.pk, "status": status}
    broadcast_on_commit(
        case_group(item.case_id), {"type": "media.updated", "asset": payload}
    )


def _record(
    item: CaseAsset,
    by: User,
    verb: str,
    ip: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    """Audit ``verb`` on the item's asset and announce the item to the case."""
    case_event(by=by, verb=verb, case=item.case, target=item.asset, ip=ip, data=data)
    _announce(item)


def _mark_released(item: CaseAsset, now: datetime | None = None) -> bool:
    """Release an unreleased item (saved); whether it was released now."""
    if item.released_at is not None:
        return False
    item.released_at = now or timezone.now()
    item.save(update_fields=["released_at"])
    return True


def _next_position(case: Case) -> int:
    """The gallery position after the case's last item."""
    last = CaseAsset.objects.filter(case=case).aggregate(last=Max("position"))["last"]
    return (last or 0) + 1


def _link(case: Case, asset: MediaAsset, by: User, caption: str) -> CaseAsset:
    item, _ = CaseAsset.objects.get_or_create(
        case=case,
        asset=asset,
        defaults={
            "added_by": by,
            "caption": caption.strip()[:MAX_CAPTION],
            "position": _next_position(case),
        },
    )
    return item


def _link_new(
    case: Case,
    asset: MediaAsset,
    by: User,
    caption: str,
    verb: str,
    ip: str | None,
    data: dict[str, Any],
) -> CaseAsset:
    """Add an asset just created for the case to its gallery and audit it;
    should that fail, the stored upload goes too (the transaction rolls the
    asset back, not the file)."""
    try:
        item = _link(case, asset, by, caption)
        case_event(by=by, verb=verb, case=case, target=asset, ip=ip, data=data)
    except BaseException:
        media_storage.delete_names([asset.source_name])
        raise
    return item


def _gate_caption(
    by: User,
    case: Case,
    caption: str,
    dismissed: Collection[str],
    ip: str | None,
    *,
    target: Any = None,
) -> None:
    case_text_gate(
        by=by,
        case=case,
        surface="media.caption",
        fields={"caption": caption.strip()[:MAX_CAPTION]},
        dismissed=dismissed,
        target=target,
        ip=ip,
    )


def case_media_upload(
    *,
    case: Case,
    by: User,
    upload: UploadedFile,
    caption: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> CaseAsset:
    """Add one streamed upload to the case; processing starts after commit.

    ``upload`` is what ``CappedUploadHandler`` put in ``request.FILES``: a
    refused file raises MediaError with its reason, and nothing is stored.
    A photo or video is a picture of a patient: its uploader reviews it on
    the face review page before it can be released, faces found or not (the
    detector is a help, not the check).
    """
    _require_can_add(case, by)
    if isinstance(upload, RejectedUpload):
        raise MediaError(upload.error)
    if not hasattr(upload, "sniffed"):
        raise MediaError("The file did not arrive through the media upload.")
    with transaction.atomic():
        # Before anything is stored: a refused caption keeps no file.
        _gate_caption(by, case, caption, dismissed, ip)
        asset = media_services.asset_create_from_upload(
            upload=upload,
            uploaded_by=by,
            owner_group=case_group(case),
            review_required=True,
        )
        data = {"kind": asset.kind, "size": asset.size, "mime": asset.mime}
        return _link_new(case, asset, by, caption, "media.upload", ip, data)


def case_media_derive(
    *,
    case: Case,
    by: User,
    source: MediaAsset,
    blur: bool,
    caption: str = "",
    then: media_services.Continuation | None = None,
) -> CaseAsset:
    """Add a copy of another asset (a patient's photo or video) to the case,
    in ``by``'s name, unreleased until they have reviewed it; with ``blur``
    the faces found are blurred in the same pass. ``then`` runs when the
    copy is processed (``media_services.asset_derive``)."""
    _require_can_add(case, by)
    with transaction.atomic():
        asset = media_services.asset_derive(
            source=source,
            uploaded_by=by,
            owner_group=case_group(case),
            blur=blur,
            then=then,
        )
        data = {"kind": asset.kind, "from": source.pk, "blur": blur}
        return _link_new(case, asset, by, caption, "media.derive", None, data)


def case_media_upload_start(*, case: Case, by: User, size: int) -> UploadSession:
    """Open a part-by-part upload of a large file for this case."""
    _require_can_add(case, by)
    return media_services.upload_session_start(
        uploaded_by=by, owner_group=case_group(case), size=size
    )


def case_media_upload_complete(
    *,
    case: Case,
    by: User,
    session: UploadSession,
    caption: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> CaseAsset:
    """Verify a finished part-by-part upload and add it to the case.

    Completing the same session again returns the same item.
    """
    _require_can_add(case, by)
    require(
        session.owner_group == case_group(case),
        "This upload was started for another case.",
    )
    with transaction.atomic():
        _gate_caption(by, case, caption, dismissed, ip)
        asset = media_services.upload_session_complete(
            session=session, by=by, review_required=True
        )
        existing = CaseAsset.objects.filter(case=case, asset=asset).first()
        if existing is not None:
            return existing
        item = _link(case, asset, by, caption)
        case_event(
            by=by,
            verb="media.upload",
            case=case,
            target=asset,
            ip=ip,
            data={
                "kind": asset.kind,
                "size": asset.size,
                "mime": asset.mime,
                "via": session.mode,
            },
        )
    return item


@transaction.atomic
def case_media_faces_confirm(
    *,
    item: CaseAsset,
    by: User,
    keep: Iterable[str] = (),
    drawn: Sequence[Sequence[float]] = (),
    release: bool = True,
    review_after: bool = False,
    ip: str | None = None,
) -> CaseAsset:
    """Apply the uploader's choice of faces and regions to blur.

    The chosen regions are blurred into every stored rendition by the task
    (nobody else sees the item meanwhile); choosing none records that the
    uploader reviewed it. With ``release`` the item is released, and becomes
    visible to the case once the asset is ready. ``review_after`` marks a
    blur applied by rule (a patient's copy): it needs review again after.
    """
    item = CaseAsset.objects.select_for_update().select_related("case").get(pk=item.pk)
    _require_uploader(item, by)
    require(
        not (release and review_after), "A copy still to be reviewed can't be released."
    )
    keep, drawn = list(keep), list(drawn)
    asset = media_services.asset_faces_decide(
        asset=item.asset, by=by, keep=keep, drawn=drawn, review_after=review_after
    )
    item.asset = asset
    if release:
        _mark_released(item)
    _record(
        item,
        by,
        "media.faces",
        ip,
        {"faces": len(keep), "drawn": len(drawn), "release": release}
        | ({"by_rule": True} if review_after else {}),
    )
    return item


@transaction.atomic
def case_media_release(
    *, item: CaseAsset, by: User, ip: str | None = None
) -> CaseAsset:
    """Show a ready item to everyone who can see the case."""
    item = CaseAsset.objects.select_for_update().select_related("case").get(pk=item.pk)
    _require_uploader(item, by)
    status = item.asset.status
    if status == MediaAsset.Status.NEEDS_REVIEW:
        raise ServiceError(
            "Review it for faces (choose any to blur) before releasing it."
        )
    if status != MediaAsset.Status.READY:
        raise ServiceError("This media is not ready yet.")
    if _mark_released(item):
        _record(item, by, "media.release", ip)
    return item


@transaction.atomic
def case_media_release_all(*, case: Case, by: User, ip: str | None = None) -> int:
    """Release every ready, unreleased item ``by`` uploaded to the case."""
    require(
        case_access(by, case).can_edit, "You can no longer change media in this case."
    )
    items = list(
        CaseAsset.objects.select_for_update()
        .filter(
            case=case,
            added_by=by,
            released_at__isnull=True,
            asset__status=MediaAsset.Status.READY,
        )
        .select_related("asset")
    )
    now = timezone.now()
    for item in items:
        _mark_released(item, now)
        _announce(item)
    if items:
        case_event(
            by=by,
            verb="media.release",
            case=case,
            ip=ip,
            data={"assets": [i.asset_id for i in items]},
        )
    return len(items)


@transaction.atomic
def case_media_caption(
    *,
    item: CaseAsset,
    by: User,
    caption: str,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> CaseAsset:
    """Change the caption of one's own upload.

    Everyone on the case reads it: a new caption passes the PHI gate.
    """
    item = CaseAsset.objects.select_for_update().select_related("case").get(pk=item.pk)
    _require_uploader(item, by)
    caption = caption.strip()
    if len(caption) > MAX_CAPTION:
        raise ServiceError(f"Captions may be at most {MAX_CAPTION} characters.")
    if caption != item.caption:
        _gate_caption(by, item.case, caption, dismissed, ip, target=item.asset)
        item.caption = caption
        item.save(update_fields=["caption"])
        _record(item, by, "media.caption", ip)
    return item


@transaction.atomic
def case_media_remove(*, item: CaseAsset, by: User, ip: str | None = None) -> None:
    """Remove an item from the case; the asset and its files go with its last use."""
    item = (
        CaseAsset.objects.select_for_update()
        .select_related("case", "asset")
        .filter(pk=item.pk)
        .first()
    )
    if item is None:
        return
    access = case_access(by, item.case)
    require(
        access.can_manage or (access.can_edit and item.added_by_id == by.pk),
        "Only the uploader or the case owner can remove this.",
    )
    asset = item.asset
    _announce(item, status="removed")
    item.delete()
    case_event(
        by=by,
        verb="media.remove",
        case=item.case,
        target=asset,
        ip=ip,
        data={"kind": asset.kind},
    )
    if not CaseAsset.objects.filter(asset=asset).exists() and not _used_elsewhere(
        asset
    ):
        media_services.asset_delete(asset=asset)


def _used_elsewhere(asset: MediaAsset) -> bool:
    """Whether another owner (a patient's submission) still holds the asset."""
    for relation in asset._meta.related_objects:
        if relation.related_model in (CaseAsset, UploadSession):
            continue
        holders = relation.related_model._default_manager.filter(
            **{relation.field.name: asset}
        )
        if holders.exists():
            return True
    return False
