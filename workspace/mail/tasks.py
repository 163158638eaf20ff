"""Background e-mail work (Django's Tasks API): each task is retry-safe."""

from django.tasks import task


@task
def notification_email(*, notification_id: int) -> bool:
    """E-mail one consult step or patient reply; sends at most once per notification."""
    from .services import notification_email_send

    return notification_email_send(notification_id=notification_id)


@task
def mention_digest(*, user_id: int) -> int:
    """Send ``user_id``'s mention digest if it is due (queued with ``run_after``)."""
    from .services import mention_digests_send

    return mention_digests_send(user_id=user_id)
