"""Creating and editing a case: the form, autosave, inline PHI warnings and
publishing (from a fresh draft or the edit page), and the live PHI scan.

Thin: parse with ``CaseForm``, call a service, render; refusals become
field errors (pages) or ``{"ok": false, ...}`` (JSON).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from cases.forms import MARKDOWN_HELP, CaseForm
from cases.models import Case
from cases.permissions import CaseAccess
from cases.selectors import case_get_for
from cases.services import cases as services
from cases.services.cases import PHIFound
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.errors import InvalidInput
from workspace.http import form_refusal, translate_errors
from workspace.views import clinician_required


def _json_errors(form) -> dict[str, list[str]]:
    return {
        field: [error["message"] for error in errors]
        for field, errors in form.errors.get_json_data().items()
    }


def _phi(form: CaseForm) -> tuple[dict[str, list[dict]], list[dict]]:
    """Findings on the text as typed, grouped by field and as one list."""
    fields, tags = form.raw_text()
    texts = {**fields, "tags": ", ".join(tags)}
    dismissed = form.dismissed
    flat = [
        services.finding_as_dict(f, dismissed=dismissed, text=texts[f.field])
        for f in services.phi_scan_fields(fields, tags=tags)
    ]
    by_field: dict[str, list[dict]] = defaultdict(list)
    for finding in flat:
        by_field[finding["field"]].append(finding)
    return dict(by_field), flat


def _invalid(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"ok": False, "errors": errors}, status=400)


def _intent(request: HttpRequest) -> str:
    return "publish" if request.POST.get("action") == "publish" else "save"


def _create(request: HttpRequest, form: CaseForm) -> Case:
    """A new draft from a valid form, owned by the requester."""
    return services.case_create(
        owner=request.user,
        dismissed=form.dismissed,
        ip=client_ip(request),
        **form.changes(),
    )


def _update(request: HttpRequest, case: Case, form: CaseForm, **options) -> Case:
    """Save a valid form's changes to ``case`` (``options``: attestation,
    autosave)."""
    return services.case_update(
        case=case,
        by=request.user,
        changes=form.changes(),
        dismissed=form.dismissed,
        ip=client_ip(request),
        **options,
    )


def _render_form(
    request: HttpRequest,
    form: CaseForm,
    *,
    case: Case | None = None,
    access: CaseAccess | None = None,
    phi_blocked: bool = False,
    status: int = 200,
) -> HttpResponse:
    phi_by_field, phi_flat = _phi(form)
    unresolved = [f for f in phi_flat if not f["dismissed"]]
    can_publish = (
        case is None or (case.is_draft and access is not None and access.can_manage)
    ) and request.user.is_verified_clinician
    return render(
        request,
        "cases/form.html",
        {
            "form": form,
            "case": case,
            "access": access,
            "phi": phi_by_field,
            "phi_findings": phi_flat,
            "phi_unresolved": len(unresolved),
            "phi_blocked": phi_blocked,
            "can_publish": can_publish,
            "is_draft": case is None or case.is_draft,
            "autosave_url": (
                reverse("case_autosave", args=[case.pk])
                if case is not None
                else reverse("case_create_autosave")
            ),
            "scan_url": reverse("case_phi_scan"),
            "markdown_help": MARKDOWN_HELP,
        },
        status=status,
    )


@clinician_required
@translate_errors
def case_create(request: HttpRequest) -> HttpResponse:
    intent = _intent(request) if request.method == "POST" else "save"
    form = CaseForm(request.POST or None, user=request.user, intent=intent)
    if request.method == "POST" and form.is_valid():
        try:
            case = _create(request, form)
        except workspace_services.ServiceError as exc:
            form_refusal(form, exc)
        else:
            if intent == "publish":
                return _publish_or_explain(request, form, case)
            messages.success(
                request, "Draft saved. Only you can see it until you publish it."
            )
            return redirect("case_edit", case.pk)
    return _render_form(request, form)


def _publish_or_explain(request: HttpRequest, form: CaseForm, case: Case):
    """After a fresh draft was created: publish it, or say why not and edit."""
    try:
        services.case_publish(
            case=case,
            by=request.user,
            attestation=form.cleaned_data.get("attestation", ""),
            dismissed=form.dismissed,
            ip=client_ip(request),
        )
    except workspace_services.ServiceError as exc:
        messages.warning(request, f"Draft saved, but not published yet: {exc}")
        return redirect(f"{reverse('case_edit', args=[case.pk])}?publish=1")
    messages.success(request, "Case published.")
    return redirect(case)


@clinician_required
@translate_errors
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_edit:
        raise PermissionDenied("You can't edit this case.")
    if case.status == Case.Status.ARCHIVED:
        raise PermissionDenied("Archived cases are read-only.")
    intent = _intent(request) if request.method == "POST" else "save"
    if intent == "publish" and not (case.is_draft and access.can_manage):
        raise PermissionDenied("Only the owner can publish a draft.")
    form = CaseForm(request.POST or None, user=request.user, case=case, intent=intent)
    phi_blocked = False
    if request.method == "POST" and form.is_valid():
        attestation = (
            form.cleaned_data.get("attestation", "")
            if form.cleaned_data.get("attest")
            else ""
        )
        was_draft = case.is_draft
        saved = False
        try:
            case = _update(request, case, form, attestation=attestation)
            saved = True
            if intent == "publish":
                case = services.case_publish(
                    case=case,
                    by=request.user,
                    attestation=attestation,
                    dismissed=form.dismissed,
                    ip=client_ip(request),
                )
        except PHIFound as exc:
            phi_blocked = True
            form.add_error(None, str(exc))
        except workspace_services.ServiceError as exc:
            form_refusal(form, exc)
        else:
            if intent == "publish":
                messages.success(request, "Case published.")
                return redirect(case)
            if was_draft:
                messages.success(request, "Draft saved.")
                return redirect("case_edit", case.pk)
            messages.success(request, "Changes saved.")
            return redirect(case)
        if saved:
            form.add_error(None, "Your changes are saved, but not published yet.")
    if request.method == "GET" and request.GET.get("publish"):
        phi_blocked = True
    return _render_form(
        request, form, case=case, access=access, phi_blocked=phi_blocked
    )


# --- JSON: autosave and live PHI scan -------------------------------------------------


def _findings_payload(form: CaseForm) -> list[dict]:
    return _phi(form)[1]


@require_POST
@clinician_required
def case_create_autosave(request: HttpRequest) -> JsonResponse:
    """Create the draft on the first autosave; the client then edits it."""
    form = CaseForm(request.POST, user=request.user, intent="autosave")
    if not form.is_valid():
        return _invalid(_json_errors(form))
    try:
        case = _create(request, form)
    except InvalidInput as exc:
        return _invalid({k: [v] for k, v in exc.errors.items()})
    return JsonResponse(
        {
            "ok": True,
            "id": case.pk,
            "saved_at": case.updated.isoformat(),
            "edit_url": reverse("case_edit", args=[case.pk]),
            "autosave_url": reverse("case_autosave", args=[case.pk]),
            "detail_url": case.get_absolute_url(),
            "findings": _findings_payload(form),
        },
        status=201,
    )


@require_POST
@clinician_required
def case_autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """Save a draft as it is typed; published cases save through the form."""
    case, access = case_get_for(request.user, pk)
    if not access.can_edit:
        return JsonResponse(
            {"ok": False, "error": "You can't edit this case."}, status=403
        )
    if not case.is_draft:
        return JsonResponse(
            {"ok": False, "error": "Only drafts are saved automatically."}, status=409
        )
    form = CaseForm(request.POST, user=request.user, case=case, intent="autosave")
    if not form.is_valid():
        return _invalid(_json_errors(form))
    try:
        case = _update(request, case, form, autosave=True)
    except InvalidInput as exc:
        return _invalid({k: [v] for k, v in exc.errors.items()})
    except workspace_services.ServiceError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=403)
    return JsonResponse(
        {
            "ok": True,
            "id": case.pk,
            "saved_at": case.updated.isoformat(),
            "findings": _findings_payload(form),
        }
    )


@require_POST
@clinician_required
def case_phi_scan(request: HttpRequest) -> JsonResponse:
    """Scan posted text without saving it (live warnings on any form)."""
    form = CaseForm(request.POST, user=request.user, intent="autosave")
    return JsonResponse({"ok": True, "findings": _findings_payload(form)})


urlpatterns = [
    path("cases/new/", case_create, name="case_create"),
    path("cases/new/autosave/", case_create_autosave, name="case_create_autosave"),
    path("cases/phi-scan/", case_phi_scan, name="case_phi_scan"),
    path("cases/<int:pk>/edit/", case_edit, name="case_edit"),
    path("cases/<int:pk>/autosave/", case_autosave, name="case_autosave"),
]
