"""Who takes part in a case: asking to join, invitations (to a clinician or to
an address), accepting one, removing a participant and changing roles.

Only the owner invites, removes others and changes roles; anyone may leave;
the owner's own participation is permanent. Every change is audited and
announced to the case's group with ``participants: true``.

A draft is shared only once its text as it stands passes the PHI scan (each
finding fixed or dismissed): the people invited read it at once, before any
publishing check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    Case,
    CaseInvitation,
    CaseParticipant,
    JoinRequest,
)
from cases.permissions import case_access
from cases.phi import findings_unresolved
from workspace.errors import InvalidInput
from workspace.models import Notification, User
from workspace.services import ServiceError, notification_create, require
from workspace.tasks import email_send

from .common import case_announce, case_event, case_locked, case_text_gate
from .findings import KIND_LABELS, case_phi_scan

INVITABLE_ROLES = (
    CaseParticipant.Role.COLLABORATOR,
    CaseParticipant.Role.CONSULTANT,
    CaseParticipant.Role.VIEWER,
)


def _require_shareable(case: Case) -> None:
    """Archived cases take nobody new; a draft only once its text is clear."""
    require(
        case.status != Case.Status.ARCHIVED, "Archived cases take no new participants."
    )
    if not case.is_draft:
        return
    unresolved = findings_unresolved(case_phi_scan(case), case.phi_dismissed)
    if unresolved:
        kinds = sorted({KIND_LABELS.get(f.kind, f.kind).lower() for f in unresolved})
        raise ServiceError(
            f"This draft still has {len(unresolved)} possible identifier"
            f"{'s' if len(unresolved) != 1 else ''} ({', '.join(kinds)}): fix or "
            "dismiss them on its edit page before you share it."
        )


@transaction.atomic
def case_join_request(
    *,
    case: Case,
    by: User,
    message: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> JoinRequest:
    """Ask the owner of a case one can see (but not take part in) to join it.

    The owner gets a notification linking to the case's participants, where
    they invite the requester if they agree. Asking again is refused, so an
    owner is not pestered; the request is audited. The message goes to the
    owner, so it passes the PHI gate (surface ``case.join_request``):
    refused while a finding is neither fixed nor in ``dismissed``.
    """
    access = case_access(by, case)
    require(access.can_view, "You can't see this case.")
    require(by.is_verified_clinician, "Only verified clinicians can join a case.")
    case = case_locked(case)
    if case.status != Case.Status.PUBLISHED:
        raise ServiceError("Only an open (published) case takes new participants.")
    if access.role is not None:
        raise ServiceError("You already take part in this case.")
    message = " ".join((message or "").split())[:500]
    if message:
        case_text_gate(
            by=by,
            case=case,
            surface="case.join_request",
            fields={"message": message},
            dismissed=dismissed,
            ip=ip,
        )
    request, created = JoinRequest.objects.get_or_create(
        case=case, user=by, defaults={"message": message}
    )
    if not created:
        raise ServiceError(
            "You already asked to join; the owner has been told and decides."
        )
    notification_create(
        user=case.owner,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{by.display_name} asks to join your case as a voter",
        body=(message or case.title),
        url=reverse("case_detail", args=[case.pk]) + "#participants",
        data={"case": case.pk, "join_request": request.pk, "user": by.username},
    )
    case_event(
        by=by, verb="case.join_request", case=case, ip=ip, data={"message": message}
    )
    return request


@transaction.atomic
def participant_invite(
    *, case: Case, by: User, invitee: User, role: str, ip: str | None = None
) -> CaseParticipant:
    """Add a verified clinician to the case and notify them.

    Only the owner invites; roles are collaborator, consultant or viewer;
    archived cases take no new participants.
    """
    require(case_access(by, case).can_manage, "Only the case owner can invite.")
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    if not invitee.is_verified_clinician:
        raise InvalidInput(
            {"who": "Only verified clinicians can be invited to a case."}
        )
    case = case_locked(case)
    _require_shareable(case)
    if CaseParticipant.objects.filter(case=case, user=invitee).exists():
        raise InvalidInput(
            {"who": f"{invitee.display_name} already takes part in this case."}
        )
    participant = CaseParticipant.objects.create(
        case=case, user=invitee, role=role, added_by=by
    )
    JoinRequest.objects.filter(case=case, user=invitee).delete()
    notification_create(
        user=invitee,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{by.display_name} added you to a case as {participant.get_role_display().lower()}",
        body=case.title,
        url=reverse("case_detail", args=[case.pk]),
        data={"case": case.pk, "role": role},
    )
    case_event(
        by=by,
        verb="case.participant_add",
        case=case,
        ip=ip,
        data={"user": invitee.username, "role": role},
    )
    case_announce(case, participants=True)
    return participant


@transaction.atomic
def participant_invite_email(
    *,
    case: Case,
    by: User,
    email: str,
    role: str,
    ip: str | None = None,
    url_builder: Callable[[str], str] | None = None,
) -> CaseInvitation:
    """Invite by an address no verified clinician has confirmed: mail a token link.

    The same rules as ``participant_invite``. The mail names neither the case
    nor its content: nobody knows yet who reads that mailbox. Inviting the
    same address again re-sends the open invitation with the new role.
    """
    require(case_access(by, case).can_manage, "Only the case owner can invite.")
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    case = case_locked(case)
    _require_shareable(case)
    email = email.strip()
    invitation = CaseInvitation.objects.filter(
        case=case, email__iexact=email, status=CaseInvitation.Status.PENDING
    ).first()
    if invitation is None:
        invitation = CaseInvitation.objects.create(
            case=case, invited_by=by, email=email, role=role
        )
    elif invitation.role != role:
        invitation.role = role
        invitation.save(update_fields=["role"])
    path = invitation.get_absolute_url()
    url = url_builder(path) if url_builder else path
    subject = f"{by.display_name} invited you to a case on Consilium"
    body = (
        f"{by.display_name} invited you to take part in a de-identified case on "
        f"Consilium as {invitation.get_role_display().lower()}.\n\n"
        f"Open the invitation (log in or sign up as a clinician first):\n{url}\n\n"
        "Only verified clinicians can join. The link works once.\n"
    )
    transaction.on_commit(
        lambda: email_send.enqueue(subject=subject, body=body, to=[email])
    )
    case_event(
        by=by,
        verb="case.invite_email",
        case=case,
        ip=ip,
        data={"email": email, "role": role},
    )
    return invitation


@transaction.atomic
def case_invitation_accept(
    *, invitation: CaseInvitation, user: User, ip: str | None = None
) -> CaseParticipant:
    """Whoever follows an address invitation's link joins the case, once.

    Only a verified clinician, only while the invitation is open and the case
    not archived. Someone who already takes part keeps their role.
    """
    invitation = CaseInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != CaseInvitation.Status.PENDING:
        raise ServiceError("This invitation is no longer open.")
    require(user.is_verified_clinician, "Only verified clinicians can join a case.")
    case = case_locked(invitation.case)
    require(
        case.status != Case.Status.ARCHIVED, "Archived cases take no new participants."
    )
    invitation.status = CaseInvitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "responded_at"])
    participant = CaseParticipant.objects.filter(case=case, user=user).first()
    if participant is not None:
        return participant
    participant = CaseParticipant.objects.create(
        case=case, user=user, role=invitation.role, added_by=invitation.invited_by
    )
    notification_create(
        user=invitation.invited_by,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{user.display_name} accepted your invitation to a case",
        body=case.title,
        url=reverse("case_detail", args=[case.pk]),
        data={"case": case.pk, "role": invitation.role},
    )
    case_event(
        by=user,
        verb="case.participant_add",
        case=case,
        ip=ip,
        data={
            "user": user.username,
            "role": invitation.role,
            "invitation": invitation.pk,
        },
    )
    case_announce(case, participants=True)
    return participant


@transaction.atomic
def participant_remove(
    *, participant: CaseParticipant, by: User, ip: str | None = None
) -> None:
    """Remove a participant; the owner removes anyone else, anyone may leave.

    The owner's own participation is permanent.
    """
    case = participant.case
    leaving = participant.user_id == by.pk
    require(
        leaving or case_access(by, case).can_manage,
        "Only the case owner can remove participants.",
    )
    require(
        participant.role != CaseParticipant.Role.OWNER,
        "The owner can't be removed from their case.",
    )
    case_event(
        by=by,
        verb="case.participant_leave" if leaving else "case.participant_remove",
        case=case,
        ip=ip,
        data={"user": participant.user.username, "role": participant.role},
    )
    participant.delete()
    case_announce(case, participants=True)


@transaction.atomic
def participant_change_role(
    *, participant: CaseParticipant, by: User, role: str, ip: str | None = None
) -> CaseParticipant:
    """Change a participant's role (owner only; the owner's role is fixed)."""
    case = participant.case
    require(case_access(by, case).can_manage, "Only the case owner can change roles.")
    require(
        participant.role != CaseParticipant.Role.OWNER,
        "The owner's role can't be changed.",
    )
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    participant = CaseParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.role == role:
        return participant
    previous = participant.role
    participant.role = role
    participant.save(update_fields=["role"])
    case_event(
        by=by,
        verb="case.participant_role",
        case=case,
        ip=ip,
        data={"user": participant.user.username, "from": previous, "to": role},
    )
    case_announce(case, participants=True)
    return participant
