"""Upload-session endpoints that need no case policy: only the uploader may
send parts to, sign parts of, or cancel their own session.

Opening and completing a session belong to the caller that owns the policy
(``cases.views.media``), because they decide where the asset goes;
``session_start`` is the JSON side of opening one, for those callers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from workspace.http import json_error, translate_errors

from . import services
from .models import UploadSession


def _session(request: HttpRequest, token) -> UploadSession:
    return get_object_or_404(UploadSession, token=token, uploaded_by=request.user)


def json_login_required(view):
    """Like login_required, but answers 401 JSON instead of redirecting."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error("Please log in again.", status=401)
        return view(request, *args, **kwargs)

    return wrapper


def session_urls(session: UploadSession) -> dict:
    """What a client needs to send, resume or cancel a session's parts
    (``static/js/upload_client.js``); the caller adds its ``complete_url``."""
    token = session.token
    return {
        "ok": True,
        "token": str(token),
        "mode": session.mode,
        "size": session.size,
        "part_size": session.part_size,
        "part_count": session.part_count,
        "parts_done": list(session.parts_done or []),
        "received": session.received,
        "status": session.status,
        # The client fills in the part number.
        "part_url": reverse("media_upload_part", args=[token, 1]).replace(
            "/parts/1/", "/parts/{n}/"
        ),
        "sign_url": reverse("media_upload_sign", args=[token]),
        "abort_url": reverse("media_upload_abort", args=[token]),
        "status_url": reverse("media_upload_status", args=[token]),
    }


def session_start(
    request: HttpRequest,
    start: Callable[[int], UploadSession],
    complete_url: Callable[[UploadSession], str],
) -> JsonResponse:
    """Open a session from a ``{"size": bytes}`` JSON body with ``start(size)``
    (the caller's service, which applies its policy and the limits) and
    answer where to send the parts (``session_urls``) and ``complete_url``."""
    try:
        size = int(json.loads(request.body or b"{}").get("size", 0))
    except (ValueError, TypeError, AttributeError):
        return json_error('Send the file size as {"size": bytes}.')
    session = start(size)
    return JsonResponse(
        {**session_urls(session), "complete_url": complete_url(session)}
    )


@json_login_required
@require_http_methods(["GET"])
def upload_status(request: HttpRequest, token) -> JsonResponse:
    """Where a session stands, so a client can resume after losing its place
    (a dropped connection or a reload): in S3 mode, the parts the bucket holds.
    The client keeps the ``complete_url`` it was given when the session opened."""
    session = _session(request, token)
    payload = session_urls(session)
    if session.mode == UploadSession.Mode.S3 and session.status == "open":
        payload["parts_done"] = services.upload_session_parts_held(session=session)
    if session.asset_id:
        payload["asset"] = {"id": session.asset_id}
    return JsonResponse(payload)


@json_login_required
@require_http_methods(["PUT"])
@translate_errors(json=True)
def upload_part(request: HttpRequest, token, number: int) -> JsonResponse:
    """PUT one part of a local session; the body is the part's raw bytes."""
    session = _session(request, token)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return json_error("A part needs a Content-Length.")
    session = services.upload_session_part(
        session=session,
        by=request.user,
        number=number,
        stream=request,
        length=length,
    )
    return JsonResponse(
        {
            "ok": True,
            "part": number,
            "received": session.received,
            "parts_done": len(session.parts_done),
        }
    )


@json_login_required
@require_POST
@translate_errors(json=True)
def upload_sign(request: HttpRequest, token) -> JsonResponse:
    """Presigned S3 URLs for the parts named in the JSON body ``{"parts": [...]}``."""
    session = _session(request, token)
    try:
        numbers = [int(n) for n in json.loads(request.body or b"{}").get("parts", [])]
    except (ValueError, TypeError, AttributeError):
        return json_error('Send the part numbers as {"parts": [1, 2, ...]}.')
    urls = services.upload_session_sign(
        session=session, by=request.user, numbers=numbers
    )
    return JsonResponse({"ok": True, "urls": {str(n): url for n, url in urls.items()}})


@json_login_required
@require_POST
@translate_errors(json=True)
def upload_abort(request: HttpRequest, token) -> JsonResponse:
    session = _session(request, token)
    services.upload_session_abort(session=session, by=request.user)
    return JsonResponse({"ok": True})
