"""Read queries for cases that enforce visibility. Views and consumers use these."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from workspace.models import User

from .models import Case
from .permissions import CaseAccess, case_access, visible_cases_q


def cases_visible_to(user: User) -> QuerySet[Case]:
    return Case.objects.filter(visible_cases_q(user))


def case_get_for(user: User, pk: int) -> tuple[Case, CaseAccess]:
    """The case and the user's access to it; 404 when it is not theirs to see.

    A case the user may not see answers exactly like one that does not exist,
    so ids never leak.
    """
    case = (
        Case.objects.select_related("owner", "workspace", "specialty")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    access = case_access(user, case)
    if not access.can_view:
        raise Http404("No such case.")
    return case, access
