"""A case's media: upload, live gallery data, release, removal, serving; the
face review and report pages are in :mod:`cases.views.media_review`.

Thin: every view finds the case through ``case_get_for`` (404 for a case the
viewer may not see), the item through ``CaseAsset.visible_to``, and calls a
service. JSON endpoints answer ``{"ok": false, "error": ...}`` with a 4xx
status when refused, so the page's script can show the reason per file.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from cases.views.phi_forms import dismissed_keys
from media_handling.models import UploadSession
from media_handling.sniff import MediaError
from media_handling.storage import MediaAudit, serve_rendition
from media_handling.uploads import CappedUploadHandler
from media_handling.views import json_login_required, session_start
from workspace.audit import client_ip
from workspace.http import json_error, translate_errors, wants_json
from workspace.services import ServiceError
from workspace.views import clinician_required

from . import media_review
from .media_common import _back, _back_to, _item, _own_item

MAX_FILES_PER_REQUEST = 20


# --- helpers --------------------------------------------------------------------------


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    """After an action on an item: ``{"ok": true}`` for the gallery's script,
    else ``message`` and back to the case's media."""
    if wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, message)
    return redirect(_back(case))


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
    # A 429 when the uploader already has too many uploads open.
    return session_start(
        request,
        lambda size: services.case_media_upload_start(
            case=case, by=request.user, size=size
        ),
        lambda session: reverse(
            "case_media_upload_complete", args=[case.pk, session.token]
        ),
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


@require_POST
@clinician_required
@translate_errors(back=_back_to)
def media_release(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    item = _own_item(request, case, asset_id)
    services.case_media_release(item=item, by=request.user, ip=client_ip(request))
    return _done(request, case, "Released to the case.")


@require_POST
@clinician_required
@translate_errors(back=_back_to)
def media_remove(request: HttpRequest, case_id: int, asset_id: int) -> HttpResponse:
    case, _ = case_get_for(request.user, case_id)
    item = _item(request, case, asset_id)
    services.case_media_remove(item=item, by=request.user, ip=client_ip(request))
    return _done(request, case, "Removed from the case.")


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
    *media_review.urlpatterns,
]
