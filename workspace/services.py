"""Actions on accounts, workspaces, care links and notifications.

Every write to these models goes through a function here, so views, the
admin, commands and tests share one set of rules and one audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import audit, text_gate
from .errors import PermissionDenied, ServiceError
from .events import broadcast_on_commit, user_group
from .mail.services import notification_email_on_commit
from .markdown import markdown_to_text
from .models import (
    CareLink,
    ClinicianProfile,
    Membership,
    Notification,
    PatientInvite,
    Specialty,
    User,
    Workspace,
    WorkspaceInvitation,
)
from .tasks import email_send


def require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


# Shown wherever an unverified clinician meets a patient-facing action.
VERIFICATION_NEEDED = (
    "Your registration hasn't been verified yet. Until staff verify it, you "
    "can't create invite codes for patients or open what patients send you. "
    "You can request verification from your profile."
)


def require_verified(user: User) -> None:
    """Patients' material and invitations are for verified clinicians only."""
    require(user.is_authenticated and user.is_verified_clinician, VERIFICATION_NEEDED)


# --- Accounts -----------------------------------------------------------------------


@transaction.atomic
def clinician_sign_up(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    specialties: list[Specialty] | None = None,
    registration_number: str = "",
    registration_body: str = "",
    institution: str = "",
    ip: str | None = None,
    url_builder: Callable[[str], str] | None = None,
) -> User:
    """Create a clinician and their unverified profile; e-mail a confirmation link.

    The address is the account's but unconfirmed until the link is followed,
    and no invitation resolves to it before then.
    """
    user = _create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        kind=User.Kind.CLINICIAN,
    )
    profile = ClinicianProfile.objects.create(
        user=user,
        title=title,
        registration_number=registration_number,
        registration_body=registration_body,
        institution=institution,
    )
    if specialties:
        profile.specialties.set(specialties)
    audit.record(actor=user, verb="account.sign_up", target=user, ip=ip)
    if registration_number:
        verification_request(user=user, ip=ip)
    _send_confirmation(user, url_builder)
    return user


class EmailTaken(ServiceError):
    pass


def _create_user(*, email: str, **fields) -> User:
    email = email.strip()
    if email and User.objects.filter(email__iexact=email).exists():
        raise EmailTaken("An account with this email already exists.")
    try:
        with transaction.atomic():
            return get_user_model().objects.create_user(email=email, **fields)
    except IntegrityError as exc:
        # A sign-up racing for the same address lost to the unique constraint.
        if User.objects.filter(email__iexact=email).exists():
            raise EmailTaken("An account with this email already exists.") from exc
        raise


def _send_confirmation(user: User, url_builder) -> None:
    from .email_addresses import email_confirmation_send

    if user.email:
        email_confirmation_send(user=user, url_builder=url_builder, throttle=False)


class InviteCodeError(ServiceError):
    pass


def normalise_invite_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def invite_code_check(code: str) -> PatientInvite:
    """The usable invite for ``code``, or an InviteCodeError saying why not."""
    invite = (
        PatientInvite.objects.select_related("clinician__clinician_profile")
        .filter(code=normalise_invite_code(code))
        .first()
    )
    if invite is None:
        raise InviteCodeError(
            "That invite code is not valid. Check it against the one your clinician gave you."
        )
    if invite.used_at is not None:
        raise InviteCodeError(
            "That invite code has already been used. Ask your clinician for a new one."
        )
    if invite.is_expired:
        raise InviteCodeError(
            "That invite code has expired. Ask your clinician for a new one."
        )
    if not invite.clinician.is_verified_clinician:
        raise InviteCodeError(
            "Your clinician's account is waiting for verification, so the code "
            "can't be used yet. Please try again later, or ask your clinician."
        )
    return invite


@transaction.atomic
def patient_sign_up(
    *,
    code: str,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
    url_builder: Callable[[str], str] | None = None,
) -> User:
    """Create a patient by redeeming a clinician's one-time invite code.

    Like a clinician, the patient is sent a link to confirm their address.
    """
    invite = invite_code_check(code)
    # Lock the invite so two sign-ups racing on one code cannot both succeed.
    invite = PatientInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.used_at is not None:
        raise InviteCodeError("That invite code has already been used.")
    user = _create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        kind=User.Kind.PATIENT,
    )
    link = _redeem(invite=invite, patient=user)
    audit.record(actor=user, verb="account.sign_up_patient", target=link, ip=ip)
    _send_confirmation(user, url_builder)
    return user


def _redeem(*, invite: PatientInvite, patient: User) -> CareLink:
    invite.used_at = timezone.now()
    invite.used_by = patient
    invite.save(update_fields=["used_at", "used_by"])
    link, _ = CareLink.objects.update_or_create(
        patient=patient,
        clinician=invite.clinician,
        defaults={"invite": invite, "active": True},
    )
    notification_create(
        user=invite.clinician,
        kind=Notification.Kind.OTHER,
        title=f"{patient.display_name} joined as your patient",
        body="They can now send you videos, photos and links.",
        url=reverse("patient_list"),
    )
    return link


@transaction.atomic
def invite_code_redeem(*, patient: User, code: str, ip: str | None = None) -> CareLink:
    """Link an existing patient to another clinician with a fresh code."""
    require(patient.is_patient, "Only patient accounts redeem invite codes.")
    invite = PatientInvite.objects.select_for_update().get(
        pk=invite_code_check(code).pk
    )
    link = _redeem(invite=invite, patient=patient)
    audit.record(actor=patient, verb="carelink.create", target=link, ip=ip)
    return link


@transaction.atomic
def patient_invite_create(*, clinician: User, note: str = "") -> PatientInvite:
    """A one-time code a patient redeems to link to ``clinician`` (verified)."""
    require(clinician.is_clinician, "Only clinicians can invite patients.")
    require_verified(clinician)
    invite = PatientInvite.objects.create(clinician=clinician, note=note)
    audit.record(actor=clinician, verb="patient_invite.create", target=invite)
    return invite


@transaction.atomic
def verification_request(*, user: User, ip: str | None = None) -> ClinicianProfile:
    """Ask staff to verify the clinician's registration.

    Refused (as a ServiceError, never a crash) for anyone without a
    clinician profile, patients included.
    """
    require(user.is_clinician, "Only clinicians ask for verification.")
    profile = ClinicianProfile.objects.select_for_update().filter(user=user).first()
    if profile is None or not profile.registration_number:
        raise ServiceError(
            "Add your registration number before asking for verification."
        )
    if profile.verification == ClinicianProfile.Verification.VERIFIED:
        return profile
    profile.verification = ClinicianProfile.Verification.PENDING
    profile.verification_requested_at = timezone.now()
    profile.save(update_fields=["verification", "verification_requested_at"])
    audit.record(
        actor=user, verb="clinician.verification_request", target=profile, ip=ip
    )
    return profile


@transaction.atomic
def clinician_verify(
    *, profile: ClinicianProfile, by: User, approve: bool = True, ip: str | None = None
) -> ClinicianProfile:
    """Staff approve (or reject) a clinician's credentials."""
    require(by.is_staff, "Only staff verify clinicians.")
    profile = ClinicianProfile.objects.select_for_update().get(pk=profile.pk)
    if approve:
        profile.verification = ClinicianProfile.Verification.VERIFIED
        profile.verified_by = by
        profile.verified_at = timezone.now()
    else:
        profile.verification = ClinicianProfile.Verification.REJECTED
        profile.verified_by = by
        profile.verified_at = None
    profile.save(update_fields=["verification", "verified_by", "verified_at"])
    audit.record(
        actor=by,
        verb="clinician.verify" if approve else "clinician.reject",
        target=profile,
        ip=ip,
    )
    notification_create(
        user=profile.user,
        kind=Notification.Kind.VERIFICATION,
        title="Your credentials are verified"
        if approve
        else "Verification was not approved",
        body=""
        if approve
        else "Check your registration details and ask again, or contact support.",
        url=reverse("profile"),
    )
    return profile


# --- Workspaces ---------------------------------------------------------------------


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


def membership_of(user: User, workspace: Workspace) -> Membership | None:
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
    from .email_addresses import looks_like_email, user_lookup

    membership = membership_of(by, workspace)
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
    mine = membership_of(by, membership.workspace)
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


# --- Notifications --------------------------------------------------------------------


def notification_create(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    data: dict | None = None,
) -> Notification:
    """Store a notification, push it to the user's open pages and queue any
    e-mail it calls for (:mod:`workspace.mail`), all on commit.

    ``body`` may be markdown: it is stored as the plain-text preview.
    """
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        title=title[:200],
        body=markdown_to_text(body),
        url=url,
        data=data or {},
    )
    broadcast_on_commit(
        user_group(user),
        {
            "type": "notification",
            "notification": notification.as_event(),
            "unread": Notification.objects.filter(
                user=user, read_at__isnull=True
            ).count(),
        },
    )
    notification_email_on_commit(notification)
    return notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
