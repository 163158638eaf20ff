"""The rules every discussion action shares: the errors they refuse with,
the per-user rate limit, and the checks on who may act and on what they send.
"""

from __future__ import annotations

from cases.permissions import CaseAccess
from workspace.models import User
from workspace.services import PermissionDenied, ServiceError

from ..models import MAX_BODY_CHARS
from ..ratelimit import rate_limit_retry_after

__all__ = [
    "MAX_DISMISSED_KEYS",
    "BadRequest",
    "BodyTooLong",
    "DiscussionError",
    "NotFound",
    "RateLimited",
    "clean_body",
    "dismissed_keys",
    "rate_limit",
    "require_comment",
    "require_view",
]


class DiscussionError(ServiceError):
    """A refused discussion action; ``code`` is the protocol's error code."""

    code = "bad_request"


class BadRequest(DiscussionError):
    """Refused input (the protocol's ``bad_request``): one message for the
    request, not per form field like ``workspace.errors.InvalidInput``."""

    code = "bad_request"


class BodyTooLong(DiscussionError):
    code = "too_long"


class NotFound(DiscussionError):
    code = "not_found"


class RateLimited(DiscussionError):
    """Too many actions of one kind; ``retry_after`` is the wait in seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# What each rate-limit scope (``realtime.ratelimit``) is called in refusals.
_RATE_WHAT = {
    "message": "sending messages",
    "change": "changing messages",
    "topic": "adding topics",
}


def rate_limit(*, by: User, scope: str) -> None:
    """Count one action of ``scope`` for ``by``; ``RateLimited`` when over."""
    wait = rate_limit_retry_after(user_id=by.pk, scope=scope)
    if wait:
        raise RateLimited(
            f"You are {_RATE_WHAT[scope]} too quickly; try again in "
            f"{wait} second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )


MAX_DISMISSED_KEYS = 200


def dismissed_keys(keys: object) -> list[str]:
    """The ``phi_dismissed`` keys a client sent: a list of strings."""
    if keys is None:
        return []
    if not isinstance(keys, list | tuple | set | frozenset) or not all(
        isinstance(k, str) and len(k) <= 128 for k in keys
    ):
        raise BadRequest("phi_dismissed must be a list of finding keys.")
    if len(keys) > MAX_DISMISSED_KEYS:
        raise BadRequest(
            f"phi_dismissed holds at most {MAX_DISMISSED_KEYS} finding keys."
        )
    return list(keys)


def require_view(access: CaseAccess) -> None:
    if not access.can_view:
        raise PermissionDenied("You no longer have access to this case.")


def require_comment(access: CaseAccess) -> None:
    require_view(access)
    if not access.can_comment:
        raise PermissionDenied("Viewers can read the discussion but not post to it.")


def clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise BadRequest("The message body must be text.")
    if len(body) > MAX_BODY_CHARS:
        raise BodyTooLong(
            f"Messages are at most {MAX_BODY_CHARS:,} characters "
            f"(this one has {len(body):,})."
        )
    if not body.strip():
        raise BadRequest("Write something before sending.")
    return body
