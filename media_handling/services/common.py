"""What every media service shares: where work files go, the ``media.updated``
announcement, queueing processing and deleting files after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from workspace.events import broadcast_on_commit

from .. import storage as media_storage
from ..models import MediaAsset


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
    from ..tasks import process_asset

    asset_id = asset.pk
    transaction.on_commit(lambda: process_asset.enqueue(asset_id=asset_id))


def _delete_on_commit(names: Iterable[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: media_storage.delete_names(names))
