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

This module holds the upload; the viewer is in :mod:`cases.views.dicom_viewer`
and the review in :mod:`cases.views.dicom_review`, whose URLs
``urlpatterns`` includes.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import Case
from cases.selectors import case_get_for
from cases.services import dicom as services
from media_handling import conf as media_conf
from media_handling.models import MediaAsset, UploadSession
from media_handling.uploads import CappedUploadHandler, RejectedUpload, format_bytes
from media_handling.views import json_login_required, session_start
from workspace.audit import client_ip
from workspace.http import json_error, translate_errors, wants_json
from workspace.services import PermissionDenied

from . import dicom_review, dicom_viewer
from .dicom_viewer import _status

MAX_FILES_PER_REQUEST = 100


class DicomUploadHandler(CappedUploadHandler):
    """Streams DICOM files and zip archives, with the DICOM size cap."""

    accepted_kinds = media_conf.DICOM_KINDS


ACCEPT = ".dcm,.dicom,.zip,application/dicom,application/zip"


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
    return session_start(
        request,
        lambda size: services.case_dicom_upload_start(
            case=case, by=request.user, size=size
        ),
        lambda session: reverse(
            "case_dicom_upload_complete", args=[case.pk, session.token]
        ),
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
    *dicom_viewer.urlpatterns,
    *dicom_review.urlpatterns,
]
