"""Account, workspace and notification pages. Thin: parse, authorise, call a service.

``access`` holds the decorators other apps' views use (``clinician_required``,
``verified_clinician_required``, ``patient_required``); the pages are in
``accounts``, ``workspaces`` and ``notifications``.
"""

from workspace.views.access import (
    clinician_required,
    patient_required,
    verified_clinician_required,
)
from workspace.views.accounts import (
    email_confirm,
    email_confirmation_resend,
    login_locked_out,
    profile,
    redeem_code,
    request_verification,
    signup_clinician,
    signup_patient,
)
from workspace.views.notifications import notification_list, notification_open
from workspace.views.workspaces import (
    patient_list,
    workspace_detail,
    workspace_invitation,
    workspace_list,
    workspace_member_remove,
)

__all__ = [
    "clinician_required",
    "email_confirm",
    "email_confirmation_resend",
    "login_locked_out",
    "notification_list",
    "notification_open",
    "patient_list",
    "patient_required",
    "profile",
    "redeem_code",
    "request_verification",
    "signup_clinician",
    "signup_patient",
    "verified_clinician_required",
    "workspace_detail",
    "workspace_invitation",
    "workspace_list",
    "workspace_member_remove",
]
