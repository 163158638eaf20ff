"""Case models, one module per concern; Django finds them all through here."""

from .case import AgeBand, Case, CaseInvitation, CaseParticipant, JoinRequest, Sex, Tag
from .media import *  # noqa: F403

__all__ = [
    "AgeBand",
    "Case",
    "CaseInvitation",
    "CaseParticipant",
    "JoinRequest",
    "Sex",
    "Tag",
]
