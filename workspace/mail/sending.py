"""Build and send one notification e-mail: recipient checks, once-only, headers.

Every notification e-mail goes through :func:`mail_send`, which guarantees:

- it only goes to an active user with an address (and, once e-mail
  confirmation exists, a confirmed one: see :func:`email_deliverable`) whose
  preferences allow its kind;
- a ``key`` is claimed in :class:`~workspace.mail.models.EmailDelivery` in the
  same transaction as the send, so a retried task or a second run of a command
  sends nothing twice (a failed send rolls the claim back to try again);
- it carries ``List-Unsubscribe`` with a signed one-click URL and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), plus a
  plain-text and an HTML body from ``templates/email/<template>.{txt,html}``,
  with times in the recipient's zone (:func:`workspace.time_zones.zone_override_for`).

What goes into the context is the caller's job, and the rule is strict: a
clinician's e-mail may name the (PHI-gated) case title and link to it, never
quote clinical text; a patient's names nothing but Consilium and their portal.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from workspace.models import User
from workspace.time_zones import zone_override_for

from .models import EmailDelivery, EmailKind, EmailPreference

UNSUBSCRIBE_SALT = "consilium.mail.unsubscribe"


def absolute(path: str) -> str:
    """``path`` on the public site (settings.SITE_URL); full URLs pass through."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + (path if path.startswith("/") else "/" + path)


def email_deliverable(user: User) -> bool:
    """Whether ``user`` may be e-mailed at all: active, with a confirmed address.

    An unconfirmed address may belong to someone else (anyone can type any
    address into a profile), so it gets no notification mail.
    """
    return bool(user.is_active and user.email_confirmed)


def preference_for(user: User) -> EmailPreference:
    """The user's preferences (unsaved defaults when they never changed them)."""
    pref = EmailPreference.objects.filter(user=user).first()
    return pref or EmailPreference(user=user)


def unsubscribe_token(user: User, kind: str) -> str:
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_read(token: str) -> tuple[int, str]:
    """``(user id, kind)`` from a token; ``signing.BadSignature`` when forged."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("k") not in EmailKind.values:
        raise signing.BadSignature("Unknown e-mail kind.")
    return int(data["u"]), data["k"]


def unsubscribe_url(user: User, kind: str) -> str:
    return absolute(reverse("email_unsubscribe", args=[unsubscribe_token(user, kind)]))


def _message(
    *, user: User, kind: str, subject: str, template: str, context: dict
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(user, kind)
    context = {
        **context,
        "user": user,
        "subject": subject,
        "kind_label": EmailKind(kind).label,
        "site_url": settings.SITE_URL,
        "preferences_url": absolute(reverse("email_preferences")),
        "unsubscribe_url": unsubscribe,
    }
    # Times read as the recipient sees them on the site (their profile's zone).
    with zone_override_for(user):
        text = render_to_string(f"email/{template}.txt", context)
        html = render_to_string(f"email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def mail_send(
    *,
    user: User,
    kind: str,
    key: str,
    subject: str,
    template: str,
    context: dict,
) -> bool:
    """Send one e-mail of ``kind`` to ``user`` unless refused; True when sent."""
    if not email_deliverable(user) or not preference_for(user).allows(kind):
        return False
    try:
        with transaction.atomic():
            EmailDelivery.objects.create(key=key, user=user, kind=kind)
            _message(
                user=user,
                kind=kind,
                subject=subject,
                template=template,
                context=context,
            ).send()
    except IntegrityError:
        return False
    return True


def once_claim(*, key: str, kind: str) -> bool:
    """Claim ``key`` for a step that must happen once (True for the first caller).

    Call it inside the transaction doing the step, so a step that fails
    releases its claim.
    """
    try:
        with transaction.atomic():
            EmailDelivery.objects.create(key=key, kind=kind)
    except IntegrityError:
        return False
    return True
