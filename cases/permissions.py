"""Who may do what on a case. The single source of the access rules.

- Patients and anonymous users never see a case.
- An unverified clinician sees only the cases they own.
- Participants (owner, collaborator, consultant, viewer) see the case in any
  status. Everyone else sees only published or resolved cases: workspace
  cases if they are a member of the case's workspace, community cases if they
  are a verified clinician.
- Owner and collaborators edit; the owner also publishes and manages
  participants. Owner, collaborators and consultants vote on differentials.
  Everyone who can see the case may comment, except viewers, who only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from cases.models import Case, CaseParticipant
from workspace.models import ClinicianProfile, Membership, User

OPEN_STATUSES = (Case.Status.PUBLISHED, Case.Status.RESOLVED)
EDIT_ROLES = {CaseParticipant.Role.OWNER, CaseParticipant.Role.COLLABORATOR}
VOTE_ROLES = EDIT_ROLES | {CaseParticipant.Role.CONSULTANT}


@dataclass(frozen=True)
class CaseAccess:
    role: str | None  # the participant role, None for a non-participant
    can_view: bool
    can_edit: bool = False
    can_manage: bool = False
    can_comment: bool = False
    can_vote: bool = False

    NONE: CaseAccess | None = None  # filled in below


CaseAccess.NONE = CaseAccess(role=None, can_view=False)


def visible_cases_q(user: User) -> Q:
    """A filter on Case matching exactly the cases ``user`` may see."""
    if not user.is_authenticated or not user.is_clinician:
        return Q(pk__in=[])
    if not user.is_verified_clinician:
        return Q(owner=user)
    member_workspaces = Membership.objects.filter(user=user).values("workspace_id")
    participating = CaseParticipant.objects.filter(user=user).values("case_id")
    shared = Q(status__in=OPEN_STATUSES) & (
        Q(visibility=Case.Visibility.COMMUNITY)
        | Q(visibility=Case.Visibility.WORKSPACE, workspace_id__in=member_workspaces)
    )
    return Q(owner=user) | Q(pk__in=participating) | shared


def case_viewers_q(case: Case) -> Q:
    """A filter on User matching exactly the users who may see ``case``.

    The counterpart of ``case_access(user, case).can_view`` for many users at
    once (who can be mentioned, for instance); tests keep the two in step.
    """
    verified = Q(clinician_profile__verification=ClinicianProfile.Verification.VERIFIED)
    participants = CaseParticipant.objects.filter(case=case).values("user_id")
    sees = Q(pk=case.owner_id) | (verified & Q(pk__in=participants))
    if case.status in OPEN_STATUSES:
        if case.visibility == Case.Visibility.COMMUNITY:
            sees |= verified
        elif case.visibility == Case.Visibility.WORKSPACE and case.workspace_id:
            members = Membership.objects.filter(workspace_id=case.workspace_id).values(
                "user_id"
            )
            sees |= verified & Q(pk__in=members)
    return Q(kind=User.Kind.CLINICIAN) & sees


def case_access(user: User, case: Case, *, role: str | None = ...) -> CaseAccess:
    """Everything ``user`` may do on ``case`` (one query at most).

    Pass ``role`` when it is already known (``None`` for a non-participant)
    to skip the participant lookup.
    """
    if not user.is_authenticated or not user.is_clinician:
        return CaseAccess.NONE
    if role is ...:
        if case.owner_id == user.pk:
            role = CaseParticipant.Role.OWNER
        else:
            role = (
                CaseParticipant.objects.filter(case=case, user=user)
                .values_list("role", flat=True)
                .first()
            )
    if not user.is_verified_clinician and case.owner_id != user.pk:
        return CaseAccess.NONE
    if role is not None:
        return CaseAccess(
            role=role,
            can_view=True,
            can_edit=role in EDIT_ROLES,
            can_manage=role == CaseParticipant.Role.OWNER,
            can_comment=role != CaseParticipant.Role.VIEWER,
            can_vote=role in VOTE_ROLES,
        )
    if case.status not in OPEN_STATUSES:
        return CaseAccess.NONE
    if case.visibility == Case.Visibility.COMMUNITY:
        sees = True
    elif case.visibility == Case.Visibility.WORKSPACE and case.workspace_id:
        sees = Membership.objects.filter(
            workspace_id=case.workspace_id, user=user
        ).exists()
    else:
        sees = False
    if not sees:
        return CaseAccess.NONE
    return CaseAccess(role=None, can_view=True, can_comment=True)
