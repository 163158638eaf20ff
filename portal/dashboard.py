"""The inbox section of the dashboard (see :mod:`cases.selectors_dashboard`).

Unread submissions through ``submissions_for_inbox`` (verified clinicians
only; an unverified clinician gets the count and the reason, as on the inbox
page).
"""

from __future__ import annotations

from typing import Any

from cases.selectors_dashboard import Section, section_of
from portal.models import Submission
from portal.selectors import INBOX_FILTERS, submissions_for_inbox
from workspace.models import User
from workspace.services import VERIFICATION_NEEDED

__all__ = ["sections"]


def sections(user: User) -> dict[str, Any]:
    return {"inbox_unread": _inbox_unread(user)}


def _inbox_unread(user: User) -> Section:
    if not user.is_clinician:
        return Section()
    if not user.is_verified_clinician:
        # As on the inbox page: the count, never what a patient sent.
        count = Submission.objects.filter(
            INBOX_FILTERS["unread"], clinician=user
        ).count()
        return Section(count=count, blocked=VERIFICATION_NEEDED)
    return section_of(submissions_for_inbox(user, show="unread"))
