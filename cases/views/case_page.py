"""The case page: what every viewer ``case_get_for`` let through sees.

Feature apps render it too (a refused form shown on the page) and add to
its context through their ``case_page.py`` (:func:`cases.panels.case_page_context`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases import selectors
from cases.forms import (
    InviteForm,
    RoleForm,
)
from cases.models import Case, CaseInvitation, JoinRequest
from cases.panels import case_page_context
from cases.permissions import CaseAccess
from cases.services import cases as services
from workspace.audit import client_ip

__all__ = ["SECTIONS", "case_page"]

SECTIONS = (
    ("presenting_complaint", "Presenting complaint"),
    ("history", "History"),
    ("examination", "Examination"),
    ("investigations", "Investigations"),
    ("working_notes", "Working notes"),
)


def case_page(
    request: HttpRequest,
    case: Case,
    access: CaseAccess,
    *,
    invite_form: InviteForm | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the case page for a viewer ``case_get_for`` let through.

    Feature apps add to its context through their ``case_page.py``
    (:func:`cases.panels.case_page_context`); ``extra`` overrides that, e.g.
    with a feature's bound form after a refusal.
    """
    services.case_view_record(case=case, user=request.user, ip=client_ip(request))
    participants = list(selectors.case_participants(case))
    my_participation = next(
        (p for p in participants if p.user_id == request.user.pk), None
    )
    sections = [
        (name, label, case.html(name))
        for name, label in SECTIONS
        if (getattr(case, name) or "").strip()
    ]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "access": access,
            "sections": sections,
            "tags": list(case.tags.all()),
            "participants": participants,
            "my_participation": my_participation,
            "invite_form": invite_form or (InviteForm() if access.can_manage else None),
            "join_requests": (
                list(
                    JoinRequest.objects.filter(case=case)
                    .exclude(user__case_participations__case=case)
                    .select_related("user")
                )
                if access.can_manage
                else []
            ),
            "pending_invitations": (
                list(case.invitations.filter(status=CaseInvitation.Status.PENDING))
                if access.can_manage
                else []
            ),
            "role_choices": RoleForm.base_fields["role"].choices,
            **case_page_context(request=request, case=case, access=access),
            **(extra or {}),
        },
        status=status,
    )
