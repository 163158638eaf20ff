"""The requester's side of a consult: asking for one (from the case), then
closing it once answered or cancelling it while open.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cases.selectors import case_get_for
from consults import services
from consults.forms import CancelForm, CloseForm, ConsultRequestForm
from consults.models import ConsultRequest
from consults.selectors import consult_get_for
from consults.views.pages import consult_post, detail
from diagnoses.views.refusals import refused_on_form
from workspace.audit import client_ip
from workspace.errors import ServiceError
from workspace.http import translate_errors
from workspace.models import User
from workspace.views import clinician_required


@clinician_required
@translate_errors
def consult_request(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if access.role is None or not access.can_comment:
        raise PermissionDenied(
            "Only the case's participants who can comment request consults."
        )
    if case.is_draft:
        messages.error(request, services.DRAFT_REFUSAL)
        return redirect(case)
    form = ConsultRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refused_on_form(request, form, catch=ServiceError) as refused:
            consult = services.consult_request(
                case=case,
                by=request.user,
                question=data["question"],
                urgency=data["urgency"],
                specialty=data["specialty"],
                assignee=data["assignee"],
                due_at=data["due_at"],
                dismissed=refused.dismissed,
                ip=client_ip(request),
            )
        if not refused:
            messages.success(
                request, "Consult requested. You'll be notified of replies."
            )
            return redirect(consult)
    return render(
        request,
        "consults/consult_request.html",
        {
            "case": case,
            "form": form,
            "due_defaults": _due_defaults(),
            "colleagues": _colleagues(request.user, case),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _colleagues(user: User, case) -> list[User]:
    """Verified clinicians to suggest by name: the case's workspace, or the
    requester's workspaces for a personal case (at most 100, one query)."""
    from workspace.models import Membership

    if case.workspace_id:
        workspaces = [case.workspace_id]
    else:
        workspaces = Membership.objects.filter(user=user).values("workspace_id")
    return list(
        User.objects.filter(
            memberships__workspace_id__in=workspaces,
            kind=User.Kind.CLINICIAN,
            is_active=True,
            clinician_profile__verification="verified",
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "last_name", "username")[:100]
    )


def _due_defaults() -> dict[str, int]:
    return {
        str(urgency): int(delta.total_seconds() // 60)
        for urgency, delta in ConsultRequest.DEFAULT_DUE.items()
    }


@consult_post
def consult_close(request: HttpRequest, pk: int) -> HttpResponse:
    consult, _ = consult_get_for(request.user, pk)
    form = CloseForm(request.POST)
    form.is_valid()
    keep = bool(form.cleaned_data.get("keep_consultant"))
    services.consult_close(
        consult=consult,
        by=request.user,
        keep_consultant=keep,
        ip=client_ip(request),
    )
    messages.success(
        request,
        "Consult closed; the specialist stays on as a consultant."
        if keep
        else "Consult closed.",
    )
    return redirect(consult)


@consult_post
def consult_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    form = CancelForm(request.POST)
    form.is_valid()
    with refused_on_form(request, form, catch=()) as refused:
        services.consult_cancel(
            consult=consult,
            by=request.user,
            reason=form.cleaned_data.get("reason", ""),
            dismissed=refused.dismissed,
            ip=client_ip(request),
        )
    if refused:
        return detail(request, consult, access, cancel_form=form, status=400)
    messages.success(request, "Consult cancelled.")
    return redirect(consult)
