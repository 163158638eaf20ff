"""Case models, one module per concern; Django finds them all through here."""

from .case import AgeBand, Case, CaseInvitation, CaseParticipant, Sex, Tag
from .consult import *  # noqa: F403
from .differential import *  # noqa: F403
from .media import *  # noqa: F403
from .submission import *  # noqa: F403
from .track_record import *  # noqa: F403

__all__ = ["AgeBand", "Case", "CaseInvitation", "CaseParticipant", "Sex", "Tag"]
