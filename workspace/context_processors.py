from .selectors import unread_notification_count


def navigation(request):
    """Unread count for the header badge; one cheap query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_notification_count(user)}
