"""Who may open a page: decorators for clinicians, verified clinicians and patients."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse

from workspace import services


def _kind_required(check, reason: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(reason)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


clinician_required = _kind_required(
    lambda u: u.is_clinician, "This page is for clinicians."
)


def verified_clinician_required(view):
    """403 with ``services.VERIFICATION_NEEDED`` (JSON when asked) for
    clinicians whose registration is not verified."""

    @clinician_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_verified_clinician:
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse(
                    {
                        "ok": False,
                        "code": "unverified",
                        "error": services.VERIFICATION_NEEDED,
                    },
                    status=403,
                )
            raise PermissionDenied(services.VERIFICATION_NEEDED)
        return view(request, *args, **kwargs)

    return wrapper


patient_required = _kind_required(lambda u: u.is_patient, "This page is for patients.")
