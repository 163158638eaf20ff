"""Read queries for accounts and workspaces that respect who is asking."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from .models import (
    CareLink,
    Membership,
    Notification,
    User,
    Workspace,
    WorkspaceInvitation,
)


def workspaces_for(user: User) -> QuerySet[Workspace]:
    if not user.is_authenticated:
        return Workspace.objects.none()
    return (
        Workspace.objects.filter(memberships__user=user)
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name")
    )


def workspace_get_for(user: User, slug: str) -> tuple[Workspace, Membership]:
    """The workspace and the user's membership, or 404 for non-members."""
    membership = (
        Membership.objects.select_related("workspace")
        .filter(workspace__slug=slug, user=user)
        .first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership.workspace, membership


def workspace_ids_for(user: User) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user).values_list("workspace_id", flat=True)
    )


def members_of(workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "user__clinician_profile")
        .prefetch_related("user__clinician_profile__specialties")
        .order_by("role", "user__last_name", "user__username")
    )


def pending_invitations_for(user: User) -> QuerySet[WorkspaceInvitation]:
    return WorkspaceInvitation.objects.filter(
        invitee=user, status=WorkspaceInvitation.Status.PENDING
    ).select_related("workspace", "invited_by")


def patients_of(clinician: User) -> QuerySet[CareLink]:
    return CareLink.objects.filter(clinician=clinician, active=True).select_related(
        "patient"
    )


def clinicians_of(patient: User) -> QuerySet[CareLink]:
    return CareLink.objects.filter(patient=patient, active=True).select_related(
        "clinician", "clinician__clinician_profile"
    )


def unread_notification_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
