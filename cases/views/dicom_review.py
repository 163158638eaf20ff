"""The uploader's burned-in text review of a DICOM series:
``/cases/<id>/series/<asset>/review/``, with ``mask/`` (JSON) and
``release/``. Only the uploader reaches it (404 for anyone else)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from cases.selectors import case_get_for
from cases.services import dicom as services
from media_handling.dicom_pipeline import (
    MAX_MASK_RECTS,
)
from media_handling.models import MediaAsset
from workspace.audit import client_ip
from workspace.http import json_error, translate_errors

from .dicom_viewer import _own_series, _series_page, _urls


@require_GET
@login_required
def dicom_review(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """The uploader's burned-in text review: frames, rectangles, masks."""
    case, access = case_get_for(request.user, case_id)
    item = _own_series(request, case, asset_id)
    asset = item.asset
    if asset.status != MediaAsset.Status.NEEDS_REVIEW:
        return redirect(_urls(case, asset)["viewer"])
    metadata = asset.metadata or {}
    context, script = _series_page(request, case, access, item, page="review")
    review = {
        **script,
        "maskUrl": reverse("case_dicom_mask", args=[case.pk, asset.pk]),
        "sizes": [
            [i["width"], i["height"]]
            for i in metadata.get("instances") or []
            for _ in range(int(i.get("frames") or 0))
        ],
        "maxRects": MAX_MASK_RECTS,
    }
    return render(
        request,
        "cases/dicom_review.html",
        {
            **context,
            "review": review,
            "masks": [
                {
                    "where": f"Frame {m['frame'] + 1}"
                    if m.get("frame") is not None
                    else "Every frame",
                    "count": len(m.get("rects") or []),
                }
                for m in metadata.get("masks") or []
            ],
        },
    )


@require_POST
@login_required
@translate_errors(json=True)
def dicom_mask(request: HttpRequest, case_id: int, asset_id: int) -> JsonResponse:
    """Apply a mask: ``{"rects": [[x, y, w, h], ...], "frame": N | null}``
    (N 1-based; null masks every frame)."""
    case, _ = case_get_for(request.user, case_id)
    item = _own_series(request, case, asset_id)
    try:
        body = json.loads(request.body or b"{}")
        rects = body["rects"]
        frame = body.get("frame")
        if not isinstance(rects, list) or not (
            frame is None or (isinstance(frame, int) and not isinstance(frame, bool))
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        return json_error('Send {"rects": [[x, y, w, h], ...], "frame": N or null}.')
    item = services.case_dicom_mask(
        item=item,
        by=request.user,
        rects=rects,
        frame=None if frame is None else frame - 1,
        ip=client_ip(request),
    )
    asset = item.asset
    return JsonResponse(
        {
            "ok": True,
            "version": asset.version,
            "masks": len((asset.metadata or {}).get("masks") or []),
            "message": (asset.report.get("blurred") or [""])[-1],
        }
    )


@require_POST
@login_required
@translate_errors(
    back=lambda request, case_id, asset_id: reverse(
        "case_dicom_review", args=[case_id, asset_id]
    )
)
def dicom_release(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    item = _own_series(request, case, asset_id)
    services.case_dicom_release(item=item, by=request.user, ip=client_ip(request))
    messages.success(request, "Released: everyone on the case can now scroll it.")
    return redirect(reverse("case_dicom_viewer", args=[case.pk, asset_id]))


urlpatterns = [
    path(
        "cases/<int:case_id>/series/<int:asset_id>/review/",
        dicom_review,
        name="case_dicom_review",
    ),
    path(
        "cases/<int:case_id>/series/<int:asset_id>/review/mask/",
        dicom_mask,
        name="case_dicom_mask",
    ),
    path(
        "cases/<int:case_id>/series/<int:asset_id>/review/release/",
        dicom_release,
        name="case_dicom_release",
    ),
]
