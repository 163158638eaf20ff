"""Workspaces: creating one, inviting clinicians, joining and leaving."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from .. import audit, text_gate
from ..errors import ServiceError
from ..models import Membership, Notification, User, Workspace, WorkspaceInvitation
from ..tasks import email_send
from .notifications import notification_create
from .rules import require


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def workspace_create(
    *,
    name: str,
    by: User,
    description: str = "",
    dismissed: Collection[str] = (),
) -> Workspace:
    """Create a workspace owned by ``by``.

    Its members and everyone invited (by e-mail too) read the name and the
    description, so both pass the PHI gate (surface ``workspace.create``):
    ``PHIFound`` while a finding is neither fixed nor in ``dismissed``; a
    dismissal is audited.
    """
    require(by.is_clinician, "Only clinicians create workspaces.")
    text_gate.gate().check(
        fields={"name": name, "description": description},
        dismissed=dismissed,
        by=by,
        surface="workspace.create",
    )
    workspace = Workspace.objects.create(
        name=name, slug=_unique_slug(name), description=description, created_by=by
    )
    Membership.objects.create(workspace=workspace, user=by, role=Membership.Role.OWNER)
    audit.record(actor=by, verb="workspace.create", target=workspace)
    return workspace


def membership_of(*, user: User, workspace: Workspace) -> Membership | None:
    """``user``'s membership of ``workspace``, or None (also when logged out)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(workspace=workspace, user=user).first()


@dataclass(frozen=True)
class InviteOutcome:
    invitation: WorkspaceInvitation
    emailed: bool


@transaction.atomic
def workspace_invite(
    *,
    workspace: Workspace,
    by: User,
    who: str,
    role: str = Membership.Role.MEMBER,
    accept_url_builder: Callable[[str], str] | None = None,
) -> InviteOutcome:
    """Invite a clinician by username or e-mail address.

    An address resolves to an account only if that account confirmed it;
    otherwise the invitation goes to the address as a token link that
    whichever clinician logs in through it may accept. A known invitee also
    gets a notification, and an e-mail only at a confirmed address.
    """
    from ..email_addresses import looks_like_email, user_lookup

    membership = membership_of(user=by, workspace=workspace)
    require(
        bool(membership and membership.can_manage), "Only owners and admins can invite."
    )
    require(role in Membership.Role.values, "Unknown role.")
    require(
        role != Membership.Role.OWNER or membership.role == Membership.Role.OWNER,
        "Only an owner can invite another owner.",
    )
    who = who.strip()
    if not who:
        raise ServiceError("Enter a username or an email address.")
    by_email = looks_like_email(who)
    invitee = user_lookup(who)
    if invitee is not None and by_email and not invitee.is_clinician:
        # Saying so would tell the inviter whose address belongs to a patient.
        invitee = None
    if invitee is not None:
        if not invitee.is_clinician:
            raise ServiceError("Only clinicians can join a workspace.")
        if Membership.objects.filter(workspace=workspace, user=invitee).exists():
            raise ServiceError(f"{invitee.username} is already a member.")
    elif not by_email:
        raise ServiceError(
            f"No clinician is called {who!r}. Invite them by email instead."
        )
    pending = WorkspaceInvitation.objects.filter(
        workspace=workspace, status=WorkspaceInvitation.Status.PENDING
    )
    existing = (
        pending.filter(invitee=invitee).first()
        if invitee
        else pending.filter(invitee__isnull=True, email__iexact=who).first()
    )
    invitation = existing or WorkspaceInvitation.objects.create(
        workspace=workspace,
        invited_by=by,
        invitee=invitee,
        email=(invitee.email if invitee.email_confirmed else "") if invitee else who,
        role=role,
    )
    accept_path = reverse("workspace_invitation", args=[invitation.token])
    accept_url = accept_url_builder(accept_path) if accept_url_builder else accept_path
    emailed = False
    if invitation.email:
        subject = f"Join {workspace.name} on Consilium"
        body = (
            f"{by.display_name} invited you to the {workspace.name} workspace on "
            f"Consilium as {invitation.get_role_display().lower()}.\n\n"
            f"Accept: {accept_url}\n"
        )
        to = [invitation.email]
        transaction.on_commit(
            lambda: email_send.enqueue(subject=subject, body=body, to=to)
        )
        emailed = True
    if invitee is not None:
        notification_create(
            user=invitee,
            kind=Notification.Kind.WORKSPACE_INVITE,
            title=f"{by.display_name} invited you to {workspace.name}",
            url=accept_path,
        )
    audit.record(
        actor=by,
        verb="workspace.invite",
        target=workspace,
        data={"invitee": invitee.username if invitee else who, "role": role},
    )
    return InviteOutcome(invitation=invitation, emailed=emailed)


@transaction.atomic
def workspace_invitation_respond(
    *, invitation: WorkspaceInvitation, user: User, accept: bool
) -> Membership | None:
    """Accept or decline an open invitation; accepting makes ``user`` a member.

    A membership that already exists (a racing accept) is returned, not doubled.
    """
    invitation = WorkspaceInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != WorkspaceInvitation.Status.PENDING:
        raise ServiceError("This invitation is no longer open.")
    # An invitation to a known account is that account's alone; one sent to
    # an address is a token link, accepted by whoever logs in through it.
    addressed_to_user = invitation.invitee_id in (None, user.pk)
    require(addressed_to_user, "This invitation was sent to someone else.")
    require(user.is_clinician, "Only clinicians can join a workspace.")
    invitation.status = (
        WorkspaceInvitation.Status.ACCEPTED
        if accept
        else WorkspaceInvitation.Status.DECLINED
    )
    invitation.responded_at = timezone.now()
    invitation.invitee = user
    invitation.save(update_fields=["status", "responded_at", "invitee"])
    membership = None
    if accept:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    workspace=invitation.workspace, user=user, role=invitation.role
                )
        except IntegrityError:
            membership = Membership.objects.get(
                workspace=invitation.workspace, user=user
            )
    audit.record(
        actor=user,
        verb="workspace.join" if accept else "workspace.decline",
        target=invitation.workspace,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    """Owners and admins remove members, anyone may leave; the last owner stays."""
    mine = membership_of(user=by, workspace=membership.workspace)
    require(
        bool(mine and mine.can_manage) or membership.user_id == by.pk,
        "Only owners and admins can remove members.",
    )
    if membership.role == Membership.Role.OWNER:
        owners = Membership.objects.filter(
            workspace=membership.workspace, role=Membership.Role.OWNER
        ).count()
        require(owners > 1, "A workspace must keep at least one owner.")
    audit.record(
        actor=by,
        verb="workspace.remove_member",
        target=membership.workspace,
        data={"user": membership.user.username},
    )
    membership.delete()
