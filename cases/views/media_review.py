"""The uploader's pages for one photo or video: the face review (proposed
regions to keep, rects to draw, the caption) and the de-identification
report. Anyone else gets 404."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from cases.phi_gate import PHIFound
from cases.selectors import case_get_for
from cases.services import media as services
from cases.views.phi_forms import dismissed_keys, findings_by_field
from media_handling.models import MediaAsset
from media_handling.uploads import format_bytes
from workspace.audit import client_ip
from workspace.services import PermissionDenied, ServiceError
from workspace.views import clinician_required

from .media_common import _back, _own_item


@require_http_methods(["GET", "POST"])
@clinician_required
def media_review(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """The uploader's face review: proposed regions to keep, rects to draw."""
    case, access = case_get_for(request.user, case_id)
    item = _own_item(request, case, asset_id)
    asset = item.asset
    if asset.kind == MediaAsset.Kind.DICOM_SERIES:
        return redirect("case_dicom_review", case.pk, asset.pk)
    error = ""
    caption = item.caption
    caption_findings: list[dict] = []
    if request.method == "POST":
        caption = request.POST.get("caption", item.caption)
        dismissed = dismissed_keys(request.POST)
        try:
            drawn = json.loads(request.POST.get("drawn") or "[]")
            if not isinstance(drawn, list):
                raise ValueError
        except ValueError:
            error = "The drawn regions could not be read; please draw them again."
        else:
            try:
                services.case_media_caption(
                    item=item,
                    by=request.user,
                    caption=caption,
                    dismissed=dismissed,
                    ip=client_ip(request),
                )
                item = services.case_media_faces_confirm(
                    item=item,
                    by=request.user,
                    keep=request.POST.getlist("keep"),
                    drawn=drawn,
                    release=request.POST.get("action") != "save",
                    ip=client_ip(request),
                )
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc)) from exc
            except PHIFound as exc:
                error = str(exc)
                caption_findings = findings_by_field(exc, dismissed=dismissed).get(
                    "caption", []
                )
            except ServiceError as exc:
                error = str(exc)
            else:
                blurring = item.asset.status == MediaAsset.Status.PROCESSING
                messages.success(
                    request,
                    "Blurring the chosen regions; the media appears when it is done."
                    if blurring
                    else "Reviewed.",
                )
                return redirect(_back(case))
    return render(
        request,
        "cases/_media_review.html",
        {
            "case": case,
            "access": access,
            "item": item,
            "asset": asset,
            "url": reverse("case_media_gallery", args=[case.pk]) + f"{asset.pk}/",
            "faces": _faces_for_page(asset),
            "error": error,
            "caption": caption,
            "caption_findings": caption_findings,
            "reviewable": asset.status
            in (MediaAsset.Status.READY, MediaAsset.Status.NEEDS_REVIEW),
        },
        status=400 if error else 200,
    )


def _faces_for_page(asset: MediaAsset) -> dict[str, Any]:
    """Face data for the review script, rects at the time the still shows."""
    faces = asset.faces or {}
    at = float(faces.get("poster_time") or 0)
    proposed = []
    for number, face in enumerate(faces.get("proposed") or [], start=1):
        frames = face.get("keyframes") or []
        if not frames:
            continue
        nearest = min(frames, key=lambda k: abs(float(k[0]) - at))
        proposed.append(
            {
                "id": face["id"],
                "label": f"Face {number}",
                "rect": nearest[1:],
                "from": frames[0][0],
                "to": frames[-1][0],
                "seen": len(frames),
            }
        )
    blurred = [frames[0][1:] for frames in faces.get("blurred") or [] if frames]
    return {
        "frame": faces.get("frame") or asset.metadata or {},
        "proposed": proposed,
        "blurred": blurred,
    }


@require_GET
@clinician_required
def media_report(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """What de-identification removed, replaced and blurred (uploader only)."""
    case, access = case_get_for(request.user, case_id)
    item = _own_item(request, case, asset_id)
    asset = item.asset
    return render(
        request,
        "cases/_media_report.html",
        {
            "case": case,
            "access": access,
            "item": item,
            "asset": asset,
            "report": asset.report or {},
            "size": format_bytes(asset.size),
            "url": reverse("case_media_gallery", args=[case.pk]) + f"{asset.pk}/",
        },
    )


urlpatterns = [
    path(
        "cases/<int:case_id>/media/<int:asset_id>/review/",
        media_review,
        name="case_media_review",
    ),
    path(
        "cases/<int:case_id>/media/<int:asset_id>/report/",
        media_report,
        name="case_media_report",
    ),
]
