"""How the differential panel's endpoints answer (shared by the modules of
:mod:`diagnoses.views`).

Every POST answers JSON to a ``fetch`` that sends ``Accept:
application/json`` (``{"ok": true, "version": n, "message": ...}`` or ``{"ok":
false, "errors": {...}}`` with 400/403), and otherwise redirects back to the
case page's differentials with a message, so the page works without
JavaScript too. A service's ``PermissionDenied`` becomes 403.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.models import Case
from cases.permissions import CaseAccess
from cases.selectors import case_get_for
from diagnoses.models import Differential, RankingSnapshot
from workspace.http import translate_errors, wants_json
from workspace.views import clinician_required

__all__ = ["back", "case_entry", "case_url", "done", "invalid", "panel_post"]


def back(request: HttpRequest | None, pk: int, *args, **kwargs) -> str:
    """Where a refused form post on case ``pk``'s differentials goes back to."""
    return reverse("case_detail", args=[pk]) + "#differentials"


def case_url(case: Case) -> str:
    return back(None, case.pk)


def panel_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST endpoint of the panel: clinicians only, a service's refusal
    answered as JSON or flashed back on the case page (:func:`back`)."""
    return require_POST(clinician_required(translate_errors(back=back)(view)))


def case_entry(
    request: HttpRequest, pk: int, differential_id: int
) -> tuple[Case, CaseAccess, Differential]:
    """The case (404 unless the user may see it), the user's access to it, and
    the entry (404 unless it is on that case)."""
    case, access = case_get_for(request.user, pk)
    entry = get_object_or_404(
        Differential.objects.select_related("case"), pk=differential_id, case=case
    )
    return case, access, entry


def _latest_version(case: Case) -> int | None:
    return (
        RankingSnapshot.objects.filter(case=case)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


def done(request: HttpRequest, case: Case, message: str, **data) -> HttpResponse:
    """Success: JSON with the ranking's version, or the message on the case page."""
    if wants_json(request):
        return JsonResponse(
            {"ok": True, "message": message, "version": _latest_version(case), **data}
        )
    messages.success(request, message)
    return redirect(case_url(case))


def invalid(request: HttpRequest, case: Case, form: forms.Form) -> HttpResponse:
    """A form that did not validate: its errors as JSON, or flashed."""
    errors = {f: " ".join(e) for f, e in form.errors.items()}
    if wants_json(request):
        return JsonResponse(
            {"ok": False, "errors": errors, "message": " ".join(errors.values())},
            status=400,
        )
    messages.error(request, " ".join(errors.values()))
    return redirect(case_url(case))
