"""The consultant access accepting a consult gives the specialist on its case,
and taking it back when the consult ends (unless something still needs it).
"""

from __future__ import annotations

from cases.models import CaseParticipant
from cases.services.cases import case_announce
from consults.models import ConsultEvent, ConsultRequest
from consults.selectors import consultant_still_needed
from consults.services._common import _event
from workspace import audit
from workspace.models import User


def _grant_access(consult: ConsultRequest, specialist: User, by: User) -> None:
    participant = CaseParticipant.objects.filter(
        case=consult.case, user=specialist
    ).first()
    if participant is None:
        CaseParticipant.objects.create(
            case=consult.case,
            user=specialist,
            role=CaseParticipant.Role.CONSULTANT,
            added_by=by,
        )
        consult.granted_access = True
    elif participant.role == CaseParticipant.Role.VIEWER:
        consult.previous_role = participant.role
        participant.role = CaseParticipant.Role.CONSULTANT
        participant.save(update_fields=["role"])
        consult.granted_access = True
    elif participant.role == CaseParticipant.Role.CONSULTANT:
        # Already a consultant through another active consult: share that
        # grant, so the access lasts until the last of them ends.
        sharing = (
            ConsultRequest.objects.filter(
                case=consult.case,
                assignee=specialist,
                status__in=ConsultRequest.ACTIVE_STATUSES,
                granted_access=True,
            )
            .exclude(pk=consult.pk)
            .first()
        )
        if sharing is not None:
            consult.granted_access = True
            consult.previous_role = sharing.previous_role


def _end_access(consult: ConsultRequest, by: User, ip: str | None) -> bool:
    """Undo what accepting granted, unless something else still needs it.

    When it ends, the case's group hears it the way ``participant_remove``
    announces a removal, so an open ``/ws/cases/<id>/`` socket of the
    specialist re-checks access on commit and is closed with 4403 if the
    consult was their only way in.
    """
    if not consult.granted_access or consult.assignee_id is None:
        return False
    specialist = consult.assignee
    if consultant_still_needed(consult.case, specialist, excluding=consult.pk):
        return False
    participant = CaseParticipant.objects.filter(
        case=consult.case, user=specialist, role=CaseParticipant.Role.CONSULTANT
    ).first()
    if participant is None:  # the owner already changed or removed them
        return False
    if consult.previous_role:
        participant.role = consult.previous_role
        participant.save(update_fields=["role"])
    else:
        participant.delete()
    _event(consult, ConsultEvent.Kind.ACCESS_ENDED, by)
    audit.record(
        actor=by,
        verb="case.participant_remove",
        target=consult.case,
        case_id=consult.case_id,
        ip=ip,
        data={
            "user": specialist.username,
            "role": CaseParticipant.Role.CONSULTANT,
            "consult": consult.pk,
            "restored_role": consult.previous_role,
        },
    )
    case_announce(consult.case, participants=True)
    return True
