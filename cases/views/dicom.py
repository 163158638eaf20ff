"""A case's DICOM studies: upload, the scrollable viewer, frames, review.

Thin: every view finds the case through ``case_get_for`` (404 for a case
the viewer may not see, so patients, strangers and wrong ids all get the
same answer), then the series through its ``CaseAsset`` link and
``CaseAsset.visible_to`` (the uploader sees their series in every state,
everyone else once it is ready and released), and calls a service.

- ``/cases/<id>/studies/upload/``: the upload page, and the multipart POST
  of DICOM files and zip archives (field ``files``).
- ``/cases/<id>/series/<asset>/?frame=N``: the viewer, opened at slice N
  (1-based), so a pasted link lands on the slice being discussed.
- ``/cases/<id>/series/<asset>/frames/<N>.png?preset=<id>``: one frame; the
  default window is a stored rendition (an S3 redirect in scale mode), other
  presets are rendered on request.
- ``/cases/<id>/series/<asset>/review/``: the uploader's burned-in text
  review, with ``mask/`` (JSON) and ``release/``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, CaseAsset
from cases.selectors import case_get_for
from cases.services import dicom as services
from media_handling import conf as media_conf
from media_handling.dicom_pipeline import (
    DEFAULT_PRESET,
    MAX_MASK_RECTS,
    frame_role,
    series_frame_png,
)
from media_handling.models import MediaAsset, UploadSession
from media_handling.storage import MediaAudit, serve_content, serve_rendition
from media_handling.uploads import CappedUploadHandler, RejectedUpload, format_bytes
from media_handling.views import json_login_required, session_urls
from workspace import audit
from workspace.audit import client_ip
from workspace.http import json_error, translate_errors, wants_json
from workspace.services import PermissionDenied

MAX_FILES_PER_REQUEST = 100


class DicomUploadHandler(CappedUploadHandler):
    """Streams DICOM files and zip archives, with the DICOM size cap."""

    accepted_kinds = media_conf.DICOM_KINDS


ACCEPT = ".dcm,.dicom,.zip,application/dicom,application/zip"


# --- helpers --------------------------------------------------------------------------


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


# --- upload ---------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def dicom_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    """The upload page (GET); DICOM files and zip archives in one multipart
    POST (field ``files``), each streamed to disk with its size cap."""
    if request.method == "POST":
        # The handler must be in place before anything reads the body, which
        # the CSRF check would do: hence csrf_exempt here, csrf_protect below.
        request.upload_handlers = [DicomUploadHandler(request)]
    return _dicom_upload(request, case_id)


@csrf_protect
@login_required
@translate_errors
def _dicom_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case, access = case_get_for(request.user, case_id)
    if not access.can_edit or case.status == Case.Status.ARCHIVED:
        raise PermissionDenied("You can't add studies to this case.")
    if request.method == "GET":
        return render(
            request,
            "cases/dicom_upload.html",
            {
                "case": case,
                "access": access,
                "accept": ACCEPT,
                "max_files": MAX_FILES_PER_REQUEST,
                "max_bytes": media_conf.max_bytes("dicom"),
                "max_label": format_bytes(media_conf.max_bytes("dicom")),
                "start_url": reverse("case_dicom_upload_start", args=[case.pk]),
            },
        )
    uploads = request.FILES.getlist("files")
    try:
        result = _upload(request, case, uploads)
    finally:
        for upload in uploads:
            upload.close()
    if isinstance(result, JsonResponse) or wants_json(request):
        return result if isinstance(result, JsonResponse) else JsonResponse(result)
    for problem in result["failed"]:
        messages.error(request, f"{problem['name']}: {problem['reason']}")
    if result["series"]:
        count = len(result["series"])
        messages.success(
            request,
            f"{result['images']} image{'s' if result['images'] != 1 else ''} in "
            f"{count} series uploaded; de-identifying now.",
        )
    if not result["series"] and not result["failed"]:
        messages.error(request, "No DICOM image was found in the upload.")
    return redirect(case.get_absolute_url() + "#media")


def _upload(
    request: HttpRequest, case: Case, uploads: list[Any]
) -> dict[str, Any] | JsonResponse:
    if not uploads:
        return json_error("Choose at least one DICOM file, folder or zip archive.")
    if len(uploads) > MAX_FILES_PER_REQUEST:
        return json_error(
            f"Send at most {MAX_FILES_PER_REQUEST} files at a time, or a zip archive."
        )
    failed: list[dict[str, str]] = []
    files = []
    for upload in uploads:
        name = (upload.name or "file")[:200]
        if isinstance(upload, RejectedUpload):
            failed.append({"name": name, "reason": upload.error})
        elif getattr(upload, "kind", "") != MediaAsset.Kind.DICOM_SERIES:
            failed.append(
                {"name": name, "reason": "not a DICOM file or a zip archive of them"}
            )
        else:
            files.append((name, upload.temporary_file_path()))
    outcome = services.case_dicom_upload(
        case=case,
        by=request.user,
        files=files,
        shift_dates=request.POST.get("shift_dates") == "on",
        ip=client_ip(request),
    )
    return _outcome(case, outcome, failed)


def _outcome(case: Case, outcome, failed: list[dict[str, str]]) -> dict[str, Any]:
    failed = failed + [{"name": p.name, "reason": p.reason} for p in outcome.failed]
    return {
        "ok": bool(outcome.items),
        "images": outcome.images,
        "series": [_status(case, item) for item in outcome.items],
        "failed": failed,
        "skipped": [{"name": p.name, "reason": p.reason} for p in outcome.skipped],
    }


@require_POST
@json_login_required
@translate_errors(json=True)
def dicom_upload_start(request: HttpRequest, case_id: int) -> JsonResponse:
    """Open a part-by-part upload of one DICOM file or zip archive:
    ``{"size": bytes}`` in, where to send the parts out (like a video's)."""
    # Who may add studies is the service's rule (a PermissionDenied: 403).
    case, _access = case_get_for(request.user, case_id)
    try:
        size = int(json.loads(request.body or b"{}").get("size", 0))
    except (ValueError, TypeError, AttributeError):
        return json_error('Send the file size as {"size": bytes}.')
    session = services.case_dicom_upload_start(case=case, by=request.user, size=size)
    return JsonResponse(
        {
            **session_urls(session),
            "complete_url": reverse(
                "case_dicom_upload_complete", args=[case.pk, session.token]
            ),
        }
    )


@require_POST
@json_login_required
@translate_errors(json=True)
def dicom_upload_complete(request: HttpRequest, case_id: int, token) -> JsonResponse:
    """Group a finished DICOM session into series (``{"name", "shift_dates"}``)."""
    case, _access = case_get_for(request.user, case_id)
    session = get_object_or_404(UploadSession, token=token, uploaded_by=request.user)
    try:
        body = json.loads(request.body or b"{}")
        name = str(body.get("name") or "")
        shift = bool(body.get("shift_dates"))
    except (ValueError, TypeError, AttributeError):
        return json_error('Send {"name": "...", "shift_dates": false}.')
    outcome = services.case_dicom_upload_complete(
        case=case,
        by=request.user,
        session=session,
        name=name,
        shift_dates=shift,
        ip=client_ip(request),
    )
    return JsonResponse(_outcome(case, outcome, []))


# --- viewer ---------------------------------------------------------------------------


@require_GET
@login_required
def dicom_viewer(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """The series viewer, opened at ``?frame=N``; a status page until ready."""
    case, access = case_get_for(request.user, case_id)
    item = _series(request, case, asset_id)
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
        data={"frame": frame},
    )
    viewer = {
        "frames": total,
        "frame": frame,
        "frameUrl": urls["frame"],
        "version": asset.version,
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
            "case": case,
            "access": access,
            "item": item,
            "asset": asset,
            "urls": urls,
            "frame": frame,
            "first_frame_url": urls["frame"].replace("{n}", str(frame))
            + f"?v={asset.version}",
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


# --- review ---------------------------------------------------------------------------


@require_GET
@login_required
def dicom_review(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    """The uploader's burned-in text review: frames, rectangles, masks."""
    case, access = case_get_for(request.user, case_id)
    item = _own_series(request, case, asset_id)
    asset = item.asset
    urls = _urls(case, asset)
    if asset.status != MediaAsset.Status.NEEDS_REVIEW:
        return redirect(urls["viewer"])
    metadata = asset.metadata or {}
    total = int(metadata.get("frame_count") or 0)
    frame = _frame_param(request, total)
    audit.record(
        actor=request.user,
        verb="media.dicom.view",
        target=asset,
        case_id=case.pk,
        request=request,
        data={"page": "review"},
    )
    review = {
        "frames": total,
        "frame": frame,
        "frameUrl": urls["frame"],
        "version": asset.version,
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
            "case": case,
            "access": access,
            "item": item,
            "asset": asset,
            "urls": urls,
            "frame": frame,
            "first_frame_url": urls["frame"].replace("{n}", str(frame))
            + f"?v={asset.version}",
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
    path("cases/<int:case_id>/studies/upload/", dicom_upload, name="case_dicom_upload"),
    path(
        "cases/<int:case_id>/studies/uploads/",
        dicom_upload_start,
        name="case_dicom_upload_start",
    ),
    path(
        "cases/<int:case_id>/studies/uploads/<uuid:token>/complete/",
        dicom_upload_complete,
        name="case_dicom_upload_complete",
    ),
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
