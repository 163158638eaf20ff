"""Actions on accounts, workspaces, care links and notifications.

Every write to these models goes through a function here, so views, the
admin, commands and tests share one set of rules and one audit trail.

Grouped by what they act on: :mod:`.rules` (shared checks), :mod:`.accounts`,
:mod:`.workspaces` and :mod:`.notifications`. Import from this package; the
domain errors (:mod:`workspace.errors`) are re-exported here too.
"""

from ..errors import PermissionDenied, ServiceError
from .accounts import (
    EmailTaken,
    InviteCodeError,
    clinician_sign_up,
    clinician_verify,
    invite_code_check,
    invite_code_redeem,
    normalise_invite_code,
    patient_invite_create,
    patient_sign_up,
    verification_request,
)
from .notifications import notification_create, notifications_mark_read
from .rules import VERIFICATION_NEEDED, require, require_verified
from .workspaces import (
    InviteOutcome,
    membership_of,
    membership_remove,
    workspace_create,
    workspace_invitation_respond,
    workspace_invite,
)

__all__ = [
    "VERIFICATION_NEEDED",
    "EmailTaken",
    "InviteCodeError",
    "InviteOutcome",
    "PermissionDenied",
    "ServiceError",
    "clinician_sign_up",
    "clinician_verify",
    "invite_code_check",
    "invite_code_redeem",
    "membership_of",
    "membership_remove",
    "normalise_invite_code",
    "notification_create",
    "notifications_mark_read",
    "patient_invite_create",
    "patient_sign_up",
    "require",
    "require_verified",
    "verification_request",
    "workspace_create",
    "workspace_invitation_respond",
    "workspace_invite",
]
