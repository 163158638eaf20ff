"""Confirmed e-mail addresses: the only addresses invitations resolve to.

An address counts as an account's only once its owner followed a signed link
sent to it. A changed address waits in ``User.pending_email`` and replaces
``User.email`` only when confirmed, so nobody receives invitations for an
address by typing it into a profile. Lookups of people by address go through
``user_by_confirmed_email`` / ``user_lookup``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from . import audit
from .models import User
from .services import ServiceError
from .tasks import email_send

_SALT = "consilium.email-confirm"
RESEND_INTERVAL_SECONDS = 60


class EmailError(ServiceError):
    """The address or link can't be used; the message says why."""


# --- Lookups ----------------------------------------------------------------------------


def user_by_confirmed_email(address: str) -> User | None:
    """The account that confirmed ``address``, or None (unconfirmed counts as none)."""
    address = address.strip()
    if not address:
        return None
    return User.objects.filter(
        email__iexact=address, email_confirmed_at__isnull=False
    ).first()


def looks_like_email(who: str) -> bool:
    return "@" in who


def user_lookup(who: str) -> User | None:
    """Resolve what an inviter typed: a username, or an address someone confirmed.

    Anything with an ``@`` is treated only as an address: otherwise an account
    named after someone's address would receive that person's invitations.
    """
    who = who.strip()
    if not who:
        return None
    if looks_like_email(who):
        return user_by_confirmed_email(who)
    return User.objects.filter(username__iexact=who).first()


def email_taken(address: str, *, by_other_than: User | None = None) -> bool:
    others = User.objects.filter(email__iexact=address.strip())
    if by_other_than is not None:
        others = others.exclude(pk=by_other_than.pk)
    return others.exists()


# --- Tokens -----------------------------------------------------------------------------


def confirmation_token(user: User, address: str) -> str:
    return signing.dumps({"u": user.pk, "e": address.lower()}, salt=_SALT)


def _read_token(token: str) -> tuple[int, str]:
    try:
        data = signing.loads(
            token,
            salt=_SALT,
            max_age=settings.EMAIL_CONFIRM_MAX_AGE_DAYS * 24 * 3600,
        )
    except signing.SignatureExpired as exc:
        raise EmailError(
            "This confirmation link has expired. Send yourself a new one from your profile."
        ) from exc
    except signing.BadSignature as exc:
        raise EmailError("This confirmation link is not valid.") from exc
    return int(data["u"]), str(data["e"])


def address_to_confirm(user: User) -> str:
    """The address waiting for confirmation: a pending change, else an unconfirmed email."""
    if user.pending_email:
        return user.pending_email
    if user.email and user.email_confirmed_at is None:
        return user.email
    return ""


# --- Actions ----------------------------------------------------------------------------


def email_confirmation_send(
    *,
    user: User,
    url_builder: Callable[[str], str] | None = None,
    throttle: bool = True,
) -> str:
    """E-mail a confirmation link for the address waiting on ``user``; returns it.

    Throttled to one message a minute per account, so the resend button can't
    be used to flood someone's mailbox.
    """
    address = address_to_confirm(user)
    if not address:
        raise EmailError("Your email address is already confirmed.")
    if throttle and not cache.add(
        f"email-confirm-sent:{user.pk}", 1, RESEND_INTERVAL_SECONDS
    ):
        raise EmailError(
            "A confirmation link was sent less than a minute ago. Check your inbox, "
            "or try again in a minute."
        )
    path = reverse("email_confirm", args=[confirmation_token(user, address)])
    url = url_builder(path) if url_builder else path
    days = settings.EMAIL_CONFIRM_MAX_AGE_DAYS
    subject = "Confirm your email address for Consilium"
    body = (
        f"Hello {user.display_name},\n\n"
        f"Confirm that {address} is your address on Consilium (account "
        f"{user.username}):\n\n{url}\n\n"
        f"The link works for {days} days. Until you confirm, invitations sent to "
        "this address don't reach your account. If you didn't ask for this, "
        "ignore this message.\n"
    )
    transaction.on_commit(
        lambda: email_send.enqueue(subject=subject, body=body, to=[address])
    )
    return address


@transaction.atomic
def email_change_request(
    *,
    user: User,
    address: str,
    url_builder: Callable[[str], str] | None = None,
    ip: str | None = None,
) -> bool:
    """Ask to change ``user``'s address; True when a confirmation link went out.

    ``email`` keeps the old address until the new one is confirmed. Typing the
    current address again cancels a pending change.
    """
    address = address.strip()
    user = User.objects.select_for_update().get(pk=user.pk)
    if address.lower() == user.email.lower():
        if user.pending_email:
            user.pending_email = ""
            user.save(update_fields=["pending_email"])
        return False
    if email_taken(address, by_other_than=user):
        raise EmailError("An account with this email already exists.")
    if address.lower() == user.pending_email.lower():
        return False
    user.pending_email = address
    user.save(update_fields=["pending_email"])
    audit.record(actor=user, verb="account.email_change_request", target=user, ip=ip)
    email_confirmation_send(user=user, url_builder=url_builder, throttle=False)
    return True


@transaction.atomic
def email_confirm(*, token: str, ip: str | None = None) -> User:
    """Confirm the address a link was sent to; the account then owns it.

    The link names the account and the address, so it confirms nothing else:
    not an address the account has since changed again, and not an address
    another account confirmed first.
    """
    user_id, address = _read_token(token)
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise EmailError("This confirmation link is not valid.")
    if address == user.pending_email.lower():
        if email_taken(user.pending_email, by_other_than=user):
            raise EmailError(
                "Another account already uses this address, so it can't be confirmed for yours."
            )
        previous = user.email
        user.email = user.pending_email
        user.pending_email = ""
        user.email_confirmed_at = timezone.now()
        try:
            with transaction.atomic():
                user.save(
                    update_fields=["email", "pending_email", "email_confirmed_at"]
                )
        except IntegrityError as exc:
            raise EmailError(
                "Another account already uses this address, so it can't be confirmed for yours."
            ) from exc
        audit.record(
            actor=user,
            verb="account.email_confirm",
            target=user,
            ip=ip,
            data={"changed_from": previous} if previous else {},
        )
        return user
    if address == user.email.lower():
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            audit.record(actor=user, verb="account.email_confirm", target=user, ip=ip)
        return user
    raise EmailError(
        "This link is for an address that is no longer waiting on your account. "
        "Send yourself a new one from your profile."
    )


def confirmation_preview(token: str) -> tuple[User, str]:
    """The account and address a link would confirm (for the page that asks)."""
    user_id, address = _read_token(token)
    user = User.objects.filter(pk=user_id).first()
    if user is None or address not in (
        user.pending_email.lower(),
        user.email.lower(),
    ):
        raise EmailError(
            "This link is for an address that is no longer waiting on your account. "
            "Send yourself a new one from your profile."
        )
    return user, address
