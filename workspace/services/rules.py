"""The checks services share: refuse unless a condition holds, and verification."""

from __future__ import annotations

from ..errors import PermissionDenied
from ..models import User


def require(condition: bool, message: str) -> None:
    """Refuse with ``message`` (a PermissionDenied) unless ``condition`` holds."""
    if not condition:
        raise PermissionDenied(message)


# Shown wherever an unverified clinician meets a patient-facing action.
VERIFICATION_NEEDED = (
    "Your registration hasn't been verified yet. Until staff verify it, you "
    "can't create invite codes for patients or open what patients send you. "
    "You can request verification from your profile."
)


def require_verified(user: User) -> None:
    """Patients' material and invitations are for verified clinicians only."""
    require(user.is_authenticated and user.is_verified_clinician, VERIFICATION_NEEDED)
