"""Case pages: the list and feeds, create and edit (autosave, inline PHI
warnings, publish), the case page, resolve, archive and participants.

Thin: parse with a form, look the case up through ``case_get_for`` (404 for
a case the user may not see), call a service, render. A user who may see a
case but not do the action gets 403; services' refusals become messages or
field errors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from cases import selectors
from cases.forms import (
    MARKDOWN_HELP,
    CaseFilterForm,
    CaseForm,
    InviteForm,
    RoleForm,
)
from cases.models import Case, CaseInvitation, CaseParticipant, JoinRequest, Tag
from cases.panels import case_page_context
from cases.permissions import CaseAccess
from cases.search import cases_search
from cases.selectors import Feed, case_get_for
from cases.services import cases as services
from cases.services.cases import PHIFound
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.errors import InvalidInput
from workspace.http import form_refusal, translate_errors
from workspace.views import clinician_required

PAGE_SIZE = 20
SECTIONS = (
    ("presenting_complaint", "Presenting complaint"),
    ("history", "History"),
    ("examination", "Examination"),
    ("investigations", "Investigations"),
    ("working_notes", "Working notes"),
)


# --- Helpers --------------------------------------------------------------------------


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
        for f in services.phi_scan_fields(fields, tags)
    ]
    by_field: dict[str, list[dict]] = defaultdict(list)
    for finding in flat:
        by_field[finding["field"]].append(finding)
    return dict(by_field), flat


def _participants(request: HttpRequest, pk: int, *args, **kwargs) -> str:
    """Where a refused change to case ``pk``'s participants goes back to."""
    return reverse("case_detail", args=[pk]) + "#participants"


def _intent(request: HttpRequest) -> str:
    return "publish" if request.POST.get("action") == "publish" else "save"


# --- List -----------------------------------------------------------------------------


@clinician_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Feeds, filters, search and pages, in a fixed number of queries."""
    form = CaseFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    feed = data.get("feed") or Feed.ALL
    cases = selectors.cases_feed(request.user, feed)
    cases = selectors.cases_filter(
        cases,
        specialty=data.get("specialty"),
        tag=data.get("tag") or "",
        status=data.get("status") or "",
        age_band=data.get("age_band") or "",
    )
    query = data.get("q") or ""
    cases = cases_search(cases, query) if query else selectors.cases_newest_first(cases)
    page = Paginator(selectors.cases_for_cards(cases), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    popular_tags = (
        Tag.objects.filter(
            cases__in=selectors.cases_feed(request.user, feed).exclude(
                status=Case.Status.ARCHIVED
            )
        )
        .annotate(uses=Count("id"))
        .order_by("-uses", "name")[:12]
    )
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "feed": feed,
            "feeds": Feed.choices,
            "page": page,
            "query": query,
            "popular_tags": popular_tags,
            "filtered": any(
                data.get(k) for k in ("q", "specialty", "tag", "status", "age_band")
            ),
        },
    )


# --- Create and edit ------------------------------------------------------------------


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
            case = services.case_create(
                owner=request.user,
                dismissed=form.dismissed,
                ip=client_ip(request),
                **form.changes(),
            )
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
            case = services.case_update(
                case=case,
                by=request.user,
                changes=form.changes(),
                dismissed=form.dismissed,
                attestation=attestation,
                ip=client_ip(request),
            )
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
        return JsonResponse({"ok": False, "errors": _json_errors(form)}, status=400)
    try:
        case = services.case_create(
            owner=request.user,
            dismissed=form.dismissed,
            ip=client_ip(request),
            **form.changes(),
        )
    except InvalidInput as exc:
        errors = {k: [v] for k, v in exc.errors.items()}
        return JsonResponse({"ok": False, "errors": errors}, status=400)
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
        return JsonResponse({"ok": False, "errors": _json_errors(form)}, status=400)
    try:
        case = services.case_update(
            case=case,
            by=request.user,
            changes=form.changes(),
            dismissed=form.dismissed,
            autosave=True,
            ip=client_ip(request),
        )
    except InvalidInput as exc:
        errors = {k: [v] for k, v in exc.errors.items()}
        return JsonResponse({"ok": False, "errors": errors}, status=400)
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


# --- The case page --------------------------------------------------------------------


def case_page(
    request: HttpRequest,
    case: Case,
    access: CaseAccess,
    *,
    invite_form: InviteForm | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the case page for a viewer ``case_get_for`` let through.

    Feature apps add to its context through their ``case_page.py``
    (:func:`cases.panels.case_page_context`); ``extra`` overrides that, e.g.
    with a feature's bound form after a refusal.
    """
    services.case_view_record(case=case, user=request.user, ip=client_ip(request))
    participants = list(selectors.case_participants(case))
    my_participation = next(
        (p for p in participants if p.user_id == request.user.pk), None
    )
    sections = [
        (name, label, case.html(name))
        for name, label in SECTIONS
        if (getattr(case, name) or "").strip()
    ]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "access": access,
            "sections": sections,
            "tags": list(case.tags.all()),
            "participants": participants,
            "my_participation": my_participation,
            "invite_form": invite_form or (InviteForm() if access.can_manage else None),
            "join_requests": (
                list(
                    JoinRequest.objects.filter(case=case)
                    .exclude(user__case_participations__case=case)
                    .select_related("user")
                )
                if access.can_manage
                else []
            ),
            "pending_invitations": (
                list(case.invitations.filter(status=CaseInvitation.Status.PENDING))
                if access.can_manage
                else []
            ),
            "role_choices": RoleForm.base_fields["role"].choices,
            **case_page_context(request=request, case=case, access=access),
            **(extra or {}),
        },
        status=status,
    )


@clinician_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    return case_page(request, case, access)


@require_POST
@clinician_required
def case_archive(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_manage:
        raise PermissionDenied("Only the case owner can archive it.")
    services.case_archive(case=case, by=request.user, ip=client_ip(request))
    messages.success(request, "Case archived. Only its participants can see it now.")
    return redirect(case)


# --- Participants ---------------------------------------------------------------------


@require_POST
@clinician_required
@translate_errors
def participant_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_manage:
        raise PermissionDenied("Only the case owner can invite.")
    form = InviteForm(request.POST)
    if form.is_valid():
        who = form.cleaned_data["who"]
        try:
            if isinstance(who, str):
                invitation = services.participant_invite_email(
                    case=case,
                    by=request.user,
                    email=who,
                    role=form.cleaned_data["role"],
                    ip=client_ip(request),
                    url_builder=request.build_absolute_uri,
                )
            else:
                participant = services.participant_invite(
                    case=case,
                    by=request.user,
                    invitee=who,
                    role=form.cleaned_data["role"],
                    ip=client_ip(request),
                )
        except workspace_services.ServiceError as exc:
            form_refusal(form, exc)
        else:
            if isinstance(who, str):
                messages.success(
                    request,
                    f"Sent an invitation link to {invitation.email} "
                    f"({invitation.get_role_display().lower()}).",
                )
            else:
                messages.success(
                    request,
                    f"Added {participant.user.display_name} as "
                    f"{participant.get_role_display().lower()}.",
                )
            return redirect(f"{case.get_absolute_url()}#participants")
    return case_page(request, case, access, invite_form=form, status=400)


def _participant(case: Case, participant_id: int) -> CaseParticipant:
    return get_object_or_404(
        CaseParticipant.objects.select_related("user", "case"),
        pk=participant_id,
        case=case,
    )


@require_POST
@clinician_required
@translate_errors(back=_participants)
def participant_role(
    request: HttpRequest, pk: int, participant_id: int
) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_manage:
        raise PermissionDenied("Only the case owner can change roles.")
    participant = _participant(case, participant_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose collaborator, consultant or viewer.")
        return redirect(f"{case.get_absolute_url()}#participants")
    services.participant_change_role(
        participant=participant,
        by=request.user,
        role=form.cleaned_data["role"],
        ip=client_ip(request),
    )
    messages.success(request, f"{participant.user.display_name}'s role changed.")
    return redirect(f"{case.get_absolute_url()}#participants")


@require_POST
@clinician_required
@translate_errors(back=_participants)
def participant_remove(
    request: HttpRequest, pk: int, participant_id: int
) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    participant = _participant(case, participant_id)
    leaving = participant.user_id == request.user.pk
    if not (leaving or access.can_manage):
        raise PermissionDenied("Only the case owner can remove participants.")
    services.participant_remove(
        participant=participant, by=request.user, ip=client_ip(request)
    )
    if leaving:
        messages.success(request, "You left the case.")
        return redirect("case_list")
    messages.success(request, f"Removed {participant.user.display_name}.")
    return redirect(f"{case.get_absolute_url()}#participants")


@clinician_required
def case_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An address invitation's link: whoever logs in through it may join, once.

    The page names neither the case nor its content until the visitor is a
    participant.
    """
    invitation = get_object_or_404(
        CaseInvitation.objects.select_related("case", "invited_by"), token=token
    )
    error = ""
    if request.method == "POST":
        try:
            services.case_invitation_accept(
                invitation=invitation, user=request.user, ip=client_ip(request)
            )
        except workspace_services.ServiceError as exc:
            error = str(exc)
        else:
            messages.success(request, "You joined the case.")
            return redirect(invitation.case)
    elif invitation.status != CaseInvitation.Status.PENDING:
        error = "This invitation is no longer open."
    return render(
        request,
        "cases/invitation.html",
        {"invitation": invitation, "error": error},
        status=400 if error else 200,
    )


urlpatterns = [
    path("cases/", case_list, name="case_list"),
    path("cases/new/", case_create, name="case_create"),
    path("cases/new/autosave/", case_create_autosave, name="case_create_autosave"),
    path("cases/phi-scan/", case_phi_scan, name="case_phi_scan"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", case_edit, name="case_edit"),
    path("cases/<int:pk>/autosave/", case_autosave, name="case_autosave"),
    path("cases/<int:pk>/archive/", case_archive, name="case_archive"),
    path("cases/invitations/<str:token>/", case_invitation, name="case_invitation"),
    path(
        "cases/<int:pk>/participants/",
        participant_add,
        name="case_participant_add",
    ),
    path(
        "cases/<int:pk>/participants/<int:participant_id>/role/",
        participant_role,
        name="case_participant_role",
    ),
    path(
        "cases/<int:pk>/participants/<int:participant_id>/remove/",
        participant_remove,
        name="case_participant_remove",
    ),
]
