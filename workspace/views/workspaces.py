"""Workspaces, their members and invitations, and a clinician's patients."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workspace import selectors, services, text_gate
from workspace.forms import PatientInviteForm, WorkspaceForm, WorkspaceInviteForm
from workspace.models import Membership, PatientInvite, WorkspaceInvitation
from workspace.views.access import clinician_required


@clinician_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    gate = text_gate.gate()
    form = WorkspaceForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        dismissed = gate.dismissed_keys(request.POST)
        try:
            workspace = services.workspace_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                by=request.user,
                dismissed=dismissed,
            )
        except gate.refused as exc:
            gate.attach_findings(form, exc, dismissed=dismissed)
            status = 400
        else:
            messages.success(request, f"Created {workspace.name}.")
            return redirect(workspace)
    return render(
        request,
        "workspace/workspace_list.html",
        {
            "workspaces": selectors.workspaces_for(request.user),
            "invitations": selectors.pending_invitations_for(request.user),
            "form": form,
        },
        status=status,
    )


@clinician_required
def workspace_detail(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, membership = selectors.workspace_get_for(request.user, slug)
    form = WorkspaceInviteForm(request.POST or None)
    if request.method == "POST":
        if not membership.can_manage:
            return HttpResponseForbidden("Only owners and admins can invite.")
        if form.is_valid():
            try:
                outcome = services.workspace_invite(
                    workspace=workspace,
                    by=request.user,
                    who=form.cleaned_data["who"],
                    role=form.cleaned_data["role"],
                    accept_url_builder=request.build_absolute_uri,
                )
            except services.ServiceError as exc:
                form.add_error("who", str(exc))
            else:
                target = outcome.invitation.invitee or outcome.invitation.email
                messages.success(request, f"Invitation sent to {target}.")
                return redirect(workspace)
    pending = workspace.invitations.filter(status=WorkspaceInvitation.Status.PENDING)
    return render(
        request,
        "workspace/workspace_detail.html",
        {
            "workspace": workspace,
            "membership": membership,
            "members": selectors.members_of(workspace),
            "pending": pending.select_related("invitee"),
            "form": form,
        },
    )


@require_POST
@clinician_required
def workspace_member_remove(
    request: HttpRequest, slug: str, member_id: int
) -> HttpResponse:
    workspace, _ = selectors.workspace_get_for(request.user, slug)
    membership = get_object_or_404(Membership, workspace=workspace, pk=member_id)
    try:
        services.membership_remove(membership=membership, by=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(workspace)
    messages.success(request, f"Removed {membership.user.display_name}.")
    if membership.user_id == request.user.pk:
        return redirect("workspace_list")
    return redirect(workspace)


@login_required
def workspace_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(
        WorkspaceInvitation.objects.select_related("workspace", "invited_by"),
        token=token,
    )
    if request.method == "POST":
        accept = request.POST.get("action") == "accept"
        try:
            services.workspace_invitation_respond(
                invitation=invitation, user=request.user, accept=accept
            )
        except services.ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("workspace_list")
        if accept:
            messages.success(request, f"You joined {invitation.workspace.name}.")
            return redirect(invitation.workspace)
        messages.info(request, "Invitation declined.")
        return redirect("workspace_list")
    return render(request, "workspace/invitation.html", {"invitation": invitation})


@clinician_required
def patient_list(request: HttpRequest) -> HttpResponse:
    """Linked patients, and (verified clinicians only) new invite codes."""
    verified = request.user.is_verified_clinician
    if request.method == "POST" and not verified:
        raise PermissionDenied(services.VERIFICATION_NEEDED)
    form = PatientInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite = services.patient_invite_create(
            clinician=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, f"New invite code: {invite.code}")
        return redirect("patient_list")
    invites = PatientInvite.objects.filter(
        clinician=request.user, used_at__isnull=True
    )[:20]
    return render(
        request,
        "workspace/patient_list.html",
        {
            "links": selectors.patients_of(request.user),
            "invites": invites,
            "form": form,
            "verified": verified,
            "verification_needed": services.VERIFICATION_NEEDED,
            "signup_path": "/accounts/signup/patient/",
        },
    )
