"""Who takes part in a case: inviting (a clinician or an address), changing
roles, removing or leaving, and the page an address invitation's link opens.

Only the owner invites, changes roles and removes others (403 otherwise);
anyone may leave. A refused invitation re-renders the case page with the
bound form.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from cases.forms import (
    InviteForm,
    RoleForm,
)
from cases.models import Case, CaseInvitation, CaseParticipant
from cases.selectors import case_get_for
from cases.services import cases as services
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.http import form_refusal, translate_errors
from workspace.views import clinician_required

from .case_page import case_page


def _participants(request: HttpRequest, pk: int, *args, **kwargs) -> str:
    """Where a refused change to case ``pk``'s participants goes back to."""
    return reverse("case_detail", args=[pk]) + "#participants"


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
