"""A case's DICOM series: the scrollable viewer, its status and its frames.

The series is found through its ``CaseAsset`` link and
``CaseAsset.visible_to`` (the uploader sees their series in every state,
everyone else once it is ready and released); the helpers here serve the
upload and review views too.

- ``/cases/<id>/series/<asset>/?frame=N``: the viewer, opened at slice N
  (1-based), so a pasted link lands on the slice being discussed.
- ``/cases/<id>/series/<asset>/frames/<N>.png?preset=<id>``: one frame; the
  default window is a stored rendition (an S3 redirect in scale mode), other
  presets are rendered on request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from cases.models import Case, CaseAsset
from cases.permissions import CaseAccess
from cases.selectors import case_get_for
from media_handling.dicom_pipeline import (
    DEFAULT_PRESET,
    frame_role,
    series_frame_png,
)
from media_handling.models import MediaAsset
from media_handling.storage import MediaAudit, serve_content, serve_rendition
from workspace import audit


def _series(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    """The case's DICOM series ``asset_id`` if the viewer may see it; else 404."""
    item = (
        CaseAsset.objects.select_related("asset")
        .filter(case=case, asset_id=asset_id, asset__kind=MediaAsset.Kind.DICOM_SERIES)
        .first()
    )
    if item is None or not item.visible_to(request.user):
        raise Http404("No such series.")
    item.case = case
    return item


def _own_series(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    item = _series(request, case, asset_id)
    if item.added_by_id != request.user.pk:
        raise Http404("No such series.")
    return item


def _urls(case: Case, asset: MediaAsset) -> dict[str, str]:
    args = [case.pk, asset.pk]
    return {
        "viewer": reverse("case_dicom_viewer", args=args),
        "review": reverse("case_dicom_review", args=args),
        "status": reverse("case_dicom_status", args=args),
        "frame": reverse("case_dicom_frame", args=[*args, 1]).replace(
            "/1.png", "/{n}.png"
        ),
    }


def _presets(asset: MediaAsset) -> list[dict[str, Any]]:
    """The viewer's window choices: the stored default first, then the rest."""
    metadata = asset.metadata or {}
    presets = list(metadata.get("presets") or [])
    if not presets:
        return [{"id": DEFAULT_PRESET, "name": "Default"}]
    first = presets[0]
    return [
        {"id": DEFAULT_PRESET, "name": first["name"]},
        *({"id": p["id"], "name": p["name"]} for p in presets[1:]),
    ]


def _frame_info(asset: MediaAsset) -> list[list[Any]]:
    """(instance number, slice location) for each frame of the series."""
    info = []
    for instance in (asset.metadata or {}).get("instances") or []:
        for _ in range(int(instance.get("frames") or 0)):
            info.append([instance.get("number"), instance.get("location")])
    return info


def _frame_param(request: HttpRequest, total: int) -> int:
    try:
        frame = int(request.GET.get("frame", "1"))
    except ValueError:
        frame = 1
    return min(max(frame, 1), max(total, 1))


def _status(case: Case, item: CaseAsset) -> dict[str, Any]:
    asset = item.asset
    return {
        "ok": True,
        "id": asset.pk,
        "status": asset.status,
        "reason": asset.status_reason,
        "version": asset.version,
        "frames": (asset.metadata or {}).get("frame_count") or 0,
        "caption": item.caption,
        **{f"{k}_url": v for k, v in _urls(case, asset).items() if k != "frame"},
    }


def _series_page(
    request: HttpRequest,
    case: Case,
    access: CaseAccess,
    item: CaseAsset,
    *,
    page: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the viewer and the review page share, opened at ``?frame=N``: the
    template context and the start of the page script's settings. Records
    the view (``media.dicom.view``: the frame, or the ``page`` shown)."""
    asset = item.asset
    urls = _urls(case, asset)
    total = int((asset.metadata or {}).get("frame_count") or 0)
    frame = _frame_param(request, total)
    audit.record(
        actor=request.user,
        verb="media.dicom.view",
        target=asset,
        case_id=case.pk,
        request=request,
        data={"page": page} if page else {"frame": frame},
    )
    context = {
        "case": case,
        "access": access,
        "item": item,
        "asset": asset,
        "urls": urls,
        "frame": frame,
        "first_frame_url": urls["frame"].replace("{n}", str(frame))
        + f"?v={asset.version}",
    }
    script = {
        "frames": total,
        "frame": frame,
        "frameUrl": urls["frame"],
        "version": asset.version,
    }
    return context, script


@require_GET
@login_required
def dicom_viewer(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """The series viewer, opened at ``?frame=N``; a status page until ready."""
    case, access = case_get_for(request.user, case_id)
    item = _series(request, case, asset_id)
    asset = item.asset
    context, script = _series_page(request, case, access, item)
    urls, frame = context["urls"], context["frame"]
    viewer = {
        **script,
        "presets": _presets(asset),
        "info": _frame_info(asset),
        "shareUrl": request.build_absolute_uri(urls["viewer"]),
        "statusUrl": urls["status"],
        "status": asset.status,
    }
    return render(
        request,
        "cases/dicom_viewer.html",
        {
            **context,
            "viewer": viewer,
            "header": (asset.metadata or {}).get("header") or [],
            "own": item.added_by_id == request.user.pk,
            "share_url": f"{viewer['shareUrl']}?frame={frame}",
        },
    )


@require_GET
@login_required
def dicom_status(request: HttpRequest, case_id: int, asset_id: int) -> JsonResponse:
    """The series' state, for pages waiting on processing."""
    case, _ = case_get_for(request.user, case_id)
    item = _series(request, case, asset_id)
    return JsonResponse(_status(case, item))


@require_http_methods(["GET", "HEAD"])
@login_required
def dicom_frame(
    request: HttpRequest, case_id: int, asset_id: int, number: int
) -> HttpResponse:
    """Frame ``number`` (1-based) as PNG in window ``?preset=`` (default: the
    stored rendering). Every response is audited, as every other media
    response is: one event per frame a viewer loads."""
    case, _ = case_get_for(request.user, case_id)
    item = _series(request, case, asset_id)
    asset = item.asset
    if asset.status not in (MediaAsset.Status.READY, MediaAsset.Status.NEEDS_REVIEW):
        raise Http404("This series has no frames yet.")
    index = number - 1
    if asset.rendition_name(frame_role(index)) is None:
        raise Http404("No such frame.")
    preset = request.GET.get("preset") or DEFAULT_PRESET
    media_audit = MediaAudit(
        actor=request.user,
        verb="media.dicom.frames",
        target=asset,
        case_id=case.pk,
        data={"frame": number, "preset": preset[:20]},
    )
    if preset == DEFAULT_PRESET:
        return serve_rendition(request, asset, frame_role(index), audit=media_audit)
    try:
        png = series_frame_png(asset, index, preset)
    except (KeyError, IndexError) as exc:
        raise Http404("No such frame or window.") from exc
    return serve_content(
        request,
        png,
        mime="image/png",
        filename=f"frame-{number}.png",
        audit=media_audit,
        role=frame_role(index),
    )


urlpatterns = [
    path(
        "cases/<int:case_id>/series/<int:asset_id>/",
        dicom_viewer,
        name="case_dicom_viewer",
    ),
    path(
        "cases/<int:case_id>/series/<int:asset_id>/status/",
        dicom_status,
        name="case_dicom_status",
    ),
    path(
        "cases/<int:case_id>/series/<int:asset_id>/frames/<int:number>.png",
        dicom_frame,
        name="case_dicom_frame",
    ),
]
