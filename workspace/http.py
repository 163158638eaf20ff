"""Turning a service's refusal into a response, in one place.

A view calls services and lets their :class:`~workspace.errors.ServiceError`
propagate; :func:`translate_errors` answers it. A JSON caller (one that sent
``Accept: application/json``, or any caller of a JSON-only endpoint) gets
``{"ok": false, "error": ..., "errors": {...}}`` with the error's status. A
page gets Django's 403 page for a :class:`~workspace.errors.PermissionDenied`;
any other refusal is flashed and the user sent back to the page they came
from (the view's ``back``, else a same-host Referer), or shown a page saying
why when there is nowhere safe to go back to.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import PermissionDenied, ServiceError

__all__ = [
    "form_refusal",
    "json_error",
    "refusal_response",
    "translate_errors",
    "wants_json",
]


def wants_json(request: HttpRequest) -> bool:
    """The caller reads JSON rather than a page."""
    return "application/json" in request.headers.get("Accept", "")


def json_error(
    message: str,
    status: int = 400,
    *,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    """The one shape of a JSON refusal."""
    return JsonResponse(
        {"ok": False, "error": message, "errors": errors or {}, **extra},
        status=status,
    )


def _safe_referer(request: HttpRequest) -> str | None:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def refusal_response(
    request: HttpRequest,
    exc: ServiceError,
    *,
    json: bool | None = None,
    back: str | None = None,
) -> HttpResponse:
    """The response to ``exc`` (see the module docstring)."""
    if json if json is not None else wants_json(request):
        return json_error(exc.message, exc.status, errors=exc.errors)
    if isinstance(exc, PermissionDenied) or exc.status == 403:
        raise DjangoPermissionDenied(exc.message) from exc
    back = back or _safe_referer(request)
    if back and request.method == "POST":
        messages.error(request, exc.message)
        return redirect(back)
    return render(request, "refused.html", {"reason": exc.message}, status=exc.status)


def translate_errors(
    view: Callable[..., HttpResponse] | None = None,
    *,
    json: bool | None = None,
    back: Callable[..., str] | None = None,
):
    """Answer a ServiceError the view raises (see the module docstring).

    ``json=True`` marks a JSON-only endpoint; ``back(request, *args, **kwargs)``
    names the page a refused form post returns to.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ServiceError as exc:
                url = back(request, *args, **kwargs) if back else None
                return refusal_response(request, exc, json=json, back=url)

        return wrapper

    return decorate(view) if view is not None else decorate


def form_refusal(form: forms.Form, exc: ServiceError) -> None:
    """Put a refusal on the form that asked for it: field errors on their
    fields (unknown ones on the form), otherwise the message on the form.

    A PermissionDenied is not the form's to show: it propagates.
    """
    if isinstance(exc, PermissionDenied):
        raise exc
    if not exc.errors:
        form.add_error(None, exc.message)
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)
