"""Accounts: sign-up, patient invite codes and care links, clinician verification."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .. import audit
from ..errors import ServiceError
from ..models import (
    CareLink,
    ClinicianProfile,
    Notification,
    PatientInvite,
    Specialty,
    User,
)
from .notifications import notification_create
from .rules import require, require_verified


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


def _create_user(*, email: str, **fields: str) -> User:
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


def _send_confirmation(user: User, url_builder: Callable[[str], str] | None) -> None:
    from ..email_addresses import email_confirmation_send

    if user.email:
        email_confirmation_send(user=user, url_builder=url_builder, throttle=False)


class InviteCodeError(ServiceError):
    pass


def normalise_invite_code(code: str) -> str:
    """``code`` as stored: letters and digits, upper-cased, in groups of four."""
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
