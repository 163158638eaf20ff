"""Background work for accounts and workspaces (Django's Tasks API)."""

from django.core.mail import send_mail
from django.tasks import task


@task
def email_send(*, subject: str, body: str, to: list[str]) -> int:
    """Send one plain-text email; returns how many were accepted by the backend."""
    return send_mail(subject=subject, message=body, from_email=None, recipient_list=to)
