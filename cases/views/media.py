"""A case's media: upload, live gallery data, face review, report, serving.

Thin: every view finds the case through ``case_get_for`` (404 for a case the
viewer may not see), the item through ``CaseAsset.visible_to``, and calls a
service. JSON endpoints answer ``{"ok": false, "error": ...}`` with a 4xx
status when refused, so the page's script can show the reason per file.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, CaseAsset
from cases.permissions import CaseAccess
from cases.phi_gate import PHIFound
from cases.selectors import case_get_for
from cases.services import media as services
from cases.templatetags.case_media import item_context
from cases.views.phi_forms import dismissed_keys, findings_by_field
from media_handling.models import MediaAsset, UploadSession
from media_handling.sniff import MediaError
from media_handling.storage import MediaAudit, serve_rendition
from media_handling.uploads import CappedUploadHandler, format_bytes
from media_handling.views import json_login_required, session_urls
from workspace.audit import client_ip
from workspace.http import json_error, translate_errors, wants_json
from workspace.services import PermissionDenied, ServiceError
from workspace.views import clinician_required

MAX_FILES_PER_REQUEST = 20


# --- helpers --------------------------------------------------------------------------


def _item(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    """The case's item for ``asset_id`` if the viewer may see it; else 404."""
    item = (
        CaseAsset.objects.select_related("asset", "case")
        .filter(case=case, asset_id=asset_id)
        .first()
    )
    if item is None or not item.visible_to(request.user):
        raise Http404("No such media.")
    return item


def _own_item(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    item = _item(request, case, asset_id)
    if item.added_by_id != request.user.pk:
        raise Http404("No such media.")
    return item


def _back(case: Case) -> str:
    return _back_to(case.pk)


def _back_to(case_id: int, *args, **kwargs) -> str:
    return reverse("case_detail", args=[case_id]) + "#media"


def _item_html(request: HttpRequest, item: CaseAsset, access: CaseAccess) -> str:
    return render_to_string(
        "cases/_media_item.html",
        item_context(item, user=request.user, access=access),
        request=request,
    )


def _result(request: HttpRequest, item: CaseAsset, access: CaseAccess) -> dict:
    return {
        "ok": True,
        "asset": item.asset.summary(),
        "version": item_context(item, user=request.user, access=access)["version"],
        "html": _item_html(request, item, access),
    }


# --- upload ---------------------------------------------------------------------------


@csrf_exempt
@require_POST
def media_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    """Several files in one multipart POST (field ``files``), each streamed to
    disk with its own size cap; one result per file, in order."""
    # The handler must be in place before anything reads the body, which the
    # CSRF check does: hence csrf_exempt here and csrf_protect on the inner
    # view. Who may upload is settled first, so a refused request is never
    # parsed at all.
    request.upload_handlers = [CappedUploadHandler(request)]
    if not request.user.is_authenticated:
        return json_error("Please log in again.", status=401)
    case, access = case_get_for(request.user, case_id)
    if not access.can_edit:
        return json_error("You can't add media to this case.", status=403)
    return _media_upload(request, case, access)


@csrf_protect
def _media_upload(request: HttpRequest, case: Case, access: CaseAccess) -> HttpResponse:
    files = request.FILES.getlist("files")
    if not files:
        return json_error("Choose at least one file.")
    if len(files) > MAX_FILES_PER_REQUEST:
        return json_error(f"Send at most {MAX_FILES_PER_REQUEST} files at a time.")
    results = []
    for upload in files:
        name = (upload.name or "file")[:200]
        try:
            item = services.case_media_upload(
                case=case,
                by=request.user,
                upload=upload,
                caption=request.POST.get("caption", ""),
                dismissed=dismissed_keys(request.POST),
                ip=client_ip(request),
            )
        except PHIFound as exc:
            results.append(
                {
                    "ok": False,
                    "name": name,
                    "error": str(exc),
                    "code": "phi_found",
                    "findings": exc.payload(),
                }
            )
        except (MediaError, ServiceError) as exc:
            results.append({"ok": False, "name": name, "error": str(exc)})
        else:
            results.append({"name": name, **_result(request, item, access)})
        finally:
            upload.close()
    if not wants_json(request):
        for result in results:
            if result["ok"]:
                messages.success(request, f"{result['name']}: uploaded, processing.")
            else:
                messages.error(request, f"{result['name']}: {result['error']}")
        return redirect(_back(case))
    return JsonResponse({"ok": any(r["ok"] for r in results), "files": results})


@require_POST
@json_login_required
@translate_errors(json=True)
def media_upload_start(request: HttpRequest, case_id: int) -> JsonResponse:
    """Open a part-by-part upload: ``{"size": bytes}`` in, where to send parts out."""
    case, access = case_get_for(request.user, case_id)
    if not access.can_edit:
        return json_error("You can't add media to this case.", status=403)
    try:
        size = int(json.loads(request.body or b"{}").get("size", 0))
    except (ValueError, TypeError, AttributeError):
        return json_error('Send the file size as {"size": bytes}.')
    # A 429 when the uploader already has too many uploads open.
    session = services.case_media_upload_start(case=case, by=request.user, size=size)
    return JsonResponse(
        {
            **session_urls(session),
            "complete_url": reverse(
                "case_media_upload_complete", args=[case.pk, session.token]
            ),
        }
    )


@require_POST
@json_login_required
@translate_errors(json=True)
def media_upload_complete(request: HttpRequest, case_id: int, token) -> JsonResponse:
    case, access = case_get_for(request.user, case_id)
    session = get_object_or_404(UploadSession, token=token, uploaded_by=request.user)
    item = services.case_media_upload_complete(
        case=case, by=request.user, session=session, ip=client_ip(request)
    )
    return JsonResponse(_result(request, item, access))


# --- gallery --------------------------------------------------------------------------


@clinician_required
def media_gallery(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's media on a page of its own (the case page embeds the same)."""
    case, access = case_get_for(request.user, case_id)
    return render(request, "cases/_media_page.html", {"case": case, "access": access})


@require_GET
@login_required
def media_items(request: HttpRequest, case_id: int) -> JsonResponse:
    """Every item the viewer may see, with its state and its rendered HTML."""
    case, access = case_get_for(request.user, case_id)
    items = CaseAsset.objects.filter(case=case).visible_to(request.user).gallery()
    return JsonResponse(
        {
            "ok": True,
            "items": [
                {
                    "id": item.asset_id,
                    "status": item.asset.status,
                    "version": context["version"],
                    "html": render_to_string(
                        "cases/_media_item.html", context, request=request
                    ),
                }
                for item, context in (
                    (i, item_context(i, user=request.user, access=access, case=case))
                    for i in items
                )
            ],
        }
    )


@require_POST
@clinician_required
@translate_errors(back=_back_to)
def media_release_all(request: HttpRequest, case_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    count = services.case_media_release_all(
        case=case, by=request.user, ip=client_ip(request)
    )
    messages.success(
        request,
        f"Released {count} item{'s' if count != 1 else ''}."
        if count
        else "Nothing was ready to release.",
    )
    return redirect(_back(case))


# --- one item -------------------------------------------------------------------------


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


@require_POST
@clinician_required
@translate_errors(back=_back_to)
def media_release(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    item = _own_item(request, case, asset_id)
    services.case_media_release(item=item, by=request.user, ip=client_ip(request))
    if wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, "Released to the case.")
    return redirect(_back(case))


@require_POST
@clinician_required
@translate_errors(back=_back_to)
def media_remove(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    item = _item(request, case, asset_id)
    services.case_media_remove(item=item, by=request.user, ip=client_ip(request))
    if wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, "Removed from the case.")
    return redirect(_back(case))


@require_http_methods(["GET", "HEAD"])
@login_required
def media_file(
    request: HttpRequest, case_id: int, asset_id: int, role: str
) -> HttpResponse:
    """One rendition, for a viewer who may see the case and the item; every
    response (each range of a playback too) is audited by ``serve_rendition``."""
    case, _ = case_get_for(request.user, case_id)
    item = _item(request, case, asset_id)
    if item.asset.rendition_name(role) is None:
        raise Http404("No such rendition.")
    return serve_rendition(
        request,
        item.asset,
        role,
        audit=MediaAudit(
            actor=request.user, verb="media.view", target=item.asset, case_id=case.pk
        ),
    )


urlpatterns = [
    path("cases/<int:case_id>/media/", media_gallery, name="case_media_gallery"),
    path("cases/<int:case_id>/media/upload/", media_upload, name="case_media_upload"),
    path(
        "cases/<int:case_id>/media/uploads/",
        media_upload_start,
        name="case_media_upload_start",
    ),
    path(
        "cases/<int:case_id>/media/uploads/<uuid:token>/complete/",
        media_upload_complete,
        name="case_media_upload_complete",
    ),
    path("cases/<int:case_id>/media/items/", media_items, name="case_media_items"),
    path(
        "cases/<int:case_id>/media/release-all/",
        media_release_all,
        name="case_media_release_all",
    ),
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
    path(
        "cases/<int:case_id>/media/<int:asset_id>/release/",
        media_release,
        name="case_media_release",
    ),
    path(
        "cases/<int:case_id>/media/<int:asset_id>/remove/",
        media_remove,
        name="case_media_remove",
    ),
    path(
        "cases/<int:case_id>/media/<int:asset_id>/<slug:role>",
        media_file,
        name="case_media_file",
    ),
]
