"""The domain error every service raises, and the 403 page Django renders.

A service refuses an action by raising :class:`ServiceError` (or a subclass):
its message is safe to show the user, ``errors`` maps form field names to
messages when the problem is one the user can fix field by field, and
``status`` is the HTTP status a view answers with. ``workspace.http`` turns
one raised by a view into a response.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.shortcuts import render


class ServiceError(Exception):
    """A rule refused the action; the message is safe to show the user."""

    status = 400

    def __init__(
        self,
        message: str = "",
        *,
        errors: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        self.errors: dict[str, str] = dict(errors or {})
        self.message = message or " ".join(self.errors.values())
        if status is not None:
            self.status = status
        super().__init__(self.message)


class PermissionDenied(ServiceError):
    """The user may not do this (HTTP 403)."""

    status = 403


class InvalidInput(ServiceError):
    """Input the user can fix; ``errors`` maps form field names to messages."""

    def __init__(self, errors: Mapping[str, str], message: str = "") -> None:
        super().__init__(message, errors=errors)


def permission_denied(request, exception=None):
    reason = (
        str(exception)
        if exception and str(exception)
        else "You do not have access to this page."
    )
    return render(request, "403.html", {"reason": reason}, status=403)
