"""The patient portal: send a photo, video or link to one's clinician.

Thin, mobile-first pages. A patient sees their own submissions and nothing
else (``portal.selectors``). Files arrive in one of two ways:

- with JavaScript, in parts through an upload session (``portal_upload_*``;
  parts go to ``media_handling``'s part endpoints or straight to S3), which
  shows progress and resumes after a dropped connection; the form then names
  the finished asset;
- without it, as an ordinary multipart form post, streamed to disk with the
  media pipeline's size caps and type sniffing.

``submission_media`` serves the patient's copy to the patient and their
clinician only, and audits each viewing.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.contrib import messages
from django.core import exceptions
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from media_handling import services as media_services
from media_handling import storage as media_storage
from media_handling.models import MediaAsset, UploadSession
from media_handling.uploads import AcceptedUpload, CappedUploadHandler, RejectedUpload
from media_handling.views import session_urls
from portal import selectors, services
from portal.forms import SubmissionForm
from portal.models import SocialLink
from portal.social_links import SocialLinkError, parse_social_link
from portal.views.common import form_errors_json
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import user_group
from workspace.http import form_refusal, json_error, translate_errors, wants_json
from workspace.models import User
from workspace.services import VERIFICATION_NEEDED, ServiceError
from workspace.views import patient_required

MEDIA_ROLES = {"video", "poster", "thumb", "display"}


def _clinicians(patient: User) -> list[User]:
    return list(
        User.objects.filter(
            patient_links__patient=patient, patient_links__active=True
        ).select_related("clinician_profile")
    )


def _submission_url(request: HttpRequest, pk: int) -> str:
    """Submission ``pk`` on the portal page (where a refused withdrawal goes back)."""
    return reverse("portal") + f"#submission-{pk}"


# --- The portal page ------------------------------------------------------------------


@csrf_exempt
@patient_required
def portal(request: HttpRequest) -> HttpResponse:
    """The form and the patient's submissions; POST submits (with or without JS)."""
    if request.method == "POST":
        # Stream any file to disk with the caps before the body is parsed; the
        # CSRF check runs after that, on the parsed form.
        request.upload_handlers = [CappedUploadHandler(request)]
    return _portal(request)


@csrf_protect
def _portal(request: HttpRequest) -> HttpResponse:
    patient = request.user
    clinicians = _clinicians(patient)
    form = SubmissionForm(
        request.POST or None, request.FILES or None, clinicians=clinicians
    )
    if request.method == "POST" and clinicians:
        if form.is_valid():
            created = _submit(request, form)
            if created is not None:
                if wants_json(request):
                    return JsonResponse(
                        {
                            "ok": True,
                            "id": created.pk,
                            "url": _submission_url(request, created.pk),
                        }
                    )
                messages.success(
                    request,
                    "Sent. Your clinician will see it in their inbox.",
                )
                return redirect(_submission_url(request, created.pk))
        if wants_json(request):
            return form_errors_json(form)
        status = 400
    else:
        status = 200
    return render(
        request,
        "portal/portal_home.html",
        {
            "form": form,
            "clinicians": clinicians,
            "submissions": selectors.submissions_for_patient(patient),
            "consent_text": services.CONSENT_TEXT,
        },
        status=status,
    )


def _submit(request: HttpRequest, form: SubmissionForm):
    """Create the submission; on refusal, put the reasons on the form."""
    data = form.cleaned_data
    patient = request.user
    upload = request.FILES.get("file")
    if isinstance(upload, RejectedUpload):
        form.add_error("file", upload.error)
        return None
    asset = None
    stored: list[str] = []
    try:
        with transaction.atomic():
            if isinstance(upload, AcceptedUpload):
                asset = media_services.asset_create_from_upload(
                    upload=upload,
                    uploaded_by=patient,
                    owner_group=user_group(patient),
                )
                stored = media_storage.asset_names(asset)
            elif data.get("asset"):
                asset = MediaAsset.objects.filter(
                    pk=data["asset"], uploaded_by=patient
                ).first()
                if asset is None:
                    raise InvalidInput(
                        {
                            "file": "That upload was not found; please add the file again."
                        }
                    )
            return services.submission_create(
                patient=patient,
                clinician=data["clinician"],
                description=data["description"],
                consent=data["consent"],
                asset=asset,
                link_url=data["link"],
                ip=audit.client_ip(request),
            )
    except InvalidInput as exc:
        media_storage.delete_names(stored)
        form_refusal(form, exc)
    except ServiceError as exc:  # a MediaError too
        media_storage.delete_names(stored)
        form.add_error(None, str(exc))
    return None


@require_GET
@patient_required
def portal_list(request: HttpRequest) -> HttpResponse:
    """The patient's submissions as an HTML fragment, for live refresh."""
    return render(
        request,
        "portal/portal_list.html",
        {"submissions": selectors.submissions_for_patient(request.user)},
    )


@require_POST
@patient_required
@translate_errors(back=_submission_url)
def portal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.submission_get_for_patient(request.user, pk)
    services.submission_withdraw(
        submission=submission, by=request.user, ip=audit.client_ip(request)
    )
    messages.success(
        request,
        "Withdrawn. Your file and any copy shared on a case discussion "
        "have been deleted.",
    )
    return redirect(_submission_url(request, pk))


# --- Live link validation -------------------------------------------------------------


@require_GET
@patient_required
def portal_link_check(request: HttpRequest) -> JsonResponse:
    """Parse a pasted link (no network access) for the live preview card."""
    url = request.GET.get("url", "")
    try:
        parsed = parse_social_link(url, request.GET.get("description", ""))
    except SocialLinkError as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse(
        {
            "ok": True,
            "platform": parsed.platform,
            "platform_label": SocialLink.Platform(parsed.platform).label,
            # What a case may show; null when the link stays with the clinician.
            "canonical_url": parsed.canonical_url,
            "case_safe": parsed.case_safe,
            "private_reason": parsed.private_reason,
            "content_id": parsed.content_id,
            "embed_url": parsed.embed_url,
            "hashtags": parsed.hashtags,
        }
    )


# --- Upload sessions ------------------------------------------------------------------


def _session_payload(session: UploadSession) -> dict:
    return {
        **session_urls(session),
        "complete_url": reverse("portal_upload_complete", args=[session.token]),
    }


def _own_session(request: HttpRequest, token: UUID) -> UploadSession:
    return get_object_or_404(
        UploadSession,
        token=token,
        uploaded_by=request.user,
        owner_group=user_group(request.user),
    )


@require_POST
@patient_required
@translate_errors(json=True)
def portal_upload_start(request: HttpRequest) -> JsonResponse:
    """Open an upload session for a file of ``size`` bytes (JSON body)."""
    try:
        body = json.loads(request.body or b"{}")
        size = int(body.get("size"))
    except (ValueError, TypeError, AttributeError):
        return json_error('Send the file size as {"size": bytes}.')
    if not _clinicians(request.user):
        return json_error("You are not linked to a clinician yet.", status=403)
    # A 429 when the patient already has too many uploads open.
    session = media_services.upload_session_start(
        uploaded_by=request.user, owner_group=user_group(request.user), size=size
    )
    return JsonResponse(_session_payload(session), status=201)


@require_POST
@patient_required
@translate_errors(json=True)
def portal_upload_complete(request: HttpRequest, token: UUID) -> JsonResponse:
    """Finish a session: the bytes become the patient's (unsent) asset."""
    session = _own_session(request, token)
    asset = media_services.upload_session_complete(session=session, by=request.user)
    audit.record(
        actor=request.user,
        verb="portal.upload",
        target=asset,
        request=request,
        data={"kind": asset.kind, "size": asset.size, "via": session.mode},
    )
    return JsonResponse(
        {
            "ok": True,
            "asset": {"id": asset.pk, "kind": asset.kind, "status": asset.status},
        }
    )


# --- Media (patient and clinician) ----------------------------------------------------


def submission_media(request: HttpRequest, pk: int, role: str) -> HttpResponse:
    """The patient's copy, for the patient and their clinician only (audited).

    Every response is audited, each byte range of a playback included.
    """
    if role not in MEDIA_ROLES:
        raise Http404("No such file.")
    user = request.user
    if user.is_authenticated and user.is_clinician and not user.is_verified_clinician:
        raise exceptions.PermissionDenied(VERIFICATION_NEEDED)
    submission = selectors.submission_get_for_media(request.user, pk)
    return media_storage.serve_rendition(
        request,
        submission.asset,
        role,
        audit=media_storage.MediaAudit(
            actor=request.user,
            verb="submission.media_view",
            target=submission,
            data={"asset": submission.asset_id},
        ),
    )


urlpatterns = [
    path("portal/", portal, name="portal"),
    path("portal/submissions/", portal_list, name="portal_list"),
    path(
        "portal/submissions/<int:pk>/withdraw/",
        portal_withdraw,
        name="portal_withdraw",
    ),
    path("portal/link/", portal_link_check, name="portal_link_check"),
    path("portal/uploads/", portal_upload_start, name="portal_upload_start"),
    path(
        "portal/uploads/<uuid:token>/complete/",
        portal_upload_complete,
        name="portal_upload_complete",
    ),
    path(
        "submissions/<int:pk>/media/<str:role>/",
        submission_media,
        name="submission_media",
    ),
]
