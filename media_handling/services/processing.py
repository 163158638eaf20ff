"""Processing an asset: de-identify its upload, or blur the regions chosen.

Idempotent and safe to run twice at once: each run claims the asset with a
token and only the run holding the latest token records its output (a loser
deletes what it wrote). The upload is deleted when processing ends, whether
the asset became ready, needs review or was rejected.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import pipeline
from .. import storage as media_storage
from ..models import MediaAsset
from ..sniff import MediaError
from .common import _announce, _delete_on_commit, _temp_dir

logger = logging.getLogger(__name__)

SERVER_FAILURE = "Processing failed on the server; please upload the file again."


REVIEW_REQUIRED = (
    "Check this for faces before it is shared: nobody else sees it until you have."
)
REVIEW_AFTER_BLUR = (
    "The faces found were blurred: check that none was missed before it is shared."
)


def _continue(asset: MediaAsset) -> None:
    """Queue the caller's continuation, once, after commit."""
    then = asset.on_processed or {}
    asset.on_processed = {}
    if not then.get("task"):
        return
    task = import_string(then["task"])
    kwargs = {**(then.get("kwargs") or {}), "asset_id": asset.pk}
    transaction.on_commit(lambda: task.enqueue(**kwargs))


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
