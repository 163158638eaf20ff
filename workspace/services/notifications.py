"""Notifications: stored, pushed to open pages and e-mailed, all on commit."""

from __future__ import annotations

from django.utils import timezone

from ..events import broadcast_on_commit, user_group
from ..mail.services import notification_email_on_commit
from ..markdown import markdown_to_text
from ..models import Notification, User


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
    """Mark ``user``'s unread notifications read (only ``ids`` if given); the count."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
