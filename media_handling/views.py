"""Upload-session endpoints that need no case policy: only the uploader may
send parts to, sign parts of, or cancel their own session.

Opening and completing a session belong to the caller that owns the policy
(``cases.views.media``), because they decide where the asset goes.
"""

from __future__ import annotations

import json
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from workspace.services import PermissionDenied, ServiceError

from . import services
from .models import UploadSession
from .sniff import MediaError


def _session(request: HttpRequest, token) -> UploadSession:
    return get_object_or_404(UploadSession, token=token, uploaded_by=request.user)


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def json_login_required(view):
    """Like login_required, but answers 401 JSON instead of redirecting."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error("Please log in again.", status=401)
        return view(request, *args, **kwargs)

    return wrapper


@json_login_required
@require_http_methods(["PUT"])
def upload_part(request: HttpRequest, token, number: int) -> JsonResponse:
    """PUT one part of a local session; the body is the part's raw bytes."""
    session = _session(request, token)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error("A part needs a Content-Length.")
    try:
        session = services.upload_session_part(
            session=session,
            by=request.user,
            number=number,
            stream=request,
            length=length,
        )
    except PermissionDenied as exc:
        return _error(str(exc), status=403)
    except (ServiceError, MediaError) as exc:
        return _error(str(exc))
    return JsonResponse({"ok": True, "part": number, "received": session.received})


@json_login_required
@require_POST
def upload_sign(request: HttpRequest, token) -> JsonResponse:
    """Presigned S3 URLs for the parts named in the JSON body ``{"parts": [...]}``."""
    session = _session(request, token)
    try:
        numbers = [int(n) for n in json.loads(request.body or b"{}").get("parts", [])]
    except (ValueError, TypeError, AttributeError):
        return _error('Send the part numbers as {"parts": [1, 2, ...]}.')
    try:
        urls = services.upload_session_sign(
            session=session, by=request.user, numbers=numbers
        )
    except (ServiceError, MediaError) as exc:
        return _error(str(exc))
    return JsonResponse({"ok": True, "urls": {str(n): url for n, url in urls.items()}})


@json_login_required
@require_POST
def upload_abort(request: HttpRequest, token) -> JsonResponse:
    session = _session(request, token)
    try:
        services.upload_session_abort(session=session, by=request.user)
    except ServiceError as exc:
        return _error(str(exc))
    return JsonResponse({"ok": True})
