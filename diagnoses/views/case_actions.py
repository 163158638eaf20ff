"""The case-level steps of the differential panel: independent mode (submit
one's round, reveal the consensus, turn the mode on or off), asking to join
the case, and resolving it with its final diagnosis.

They answer like the rest of the panel (:mod:`diagnoses.views.panel`);
resolving re-renders the case page with the form when refused.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from cases.selectors import case_get_for
from cases.views.cases import case_page
from diagnoses import services
from diagnoses.forms import IndependentForm, JoinForm, ResolveForm
from diagnoses.views.panel import done, invalid, panel_post
from diagnoses.views.refusals import refused_on_form
from workspace.audit import client_ip
from workspace.http import translate_errors, wants_json
from workspace.views import clinician_required


@panel_post
def differential_round_submit(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    services.differential_round_submit(
        case=case, by=request.user, ip=client_ip(request)
    )
    return done(
        request, case, "Your differential is submitted: the consensus is shown."
    )


@panel_post
def differential_consensus_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    services.differential_consensus_reveal(
        case=case, by=request.user, ip=client_ip(request)
    )
    return done(request, case, "The consensus is now shown to everyone.")


@panel_post
def differential_independent_set(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    form = IndependentForm(request.POST)
    form.is_valid()
    on = bool(form.cleaned_data.get("independent"))
    services.differential_independent_set(
        case=case, by=request.user, on=on, ip=client_ip(request)
    )
    return done(
        request,
        case,
        "Independent differentials are on."
        if on
        else "Independent differentials are off.",
    )


@panel_post
def case_join_request(request: HttpRequest, pk: int) -> HttpResponse:
    from cases.services import cases as case_services

    case, _ = case_get_for(request.user, pk)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return invalid(request, case, form)
    # A PHI refusal keeps the message and lists each finding with its "not
    # identifying" box, like the other forms of the panel.
    with refused_on_form(request, form, catch=(), json=wants_json(request)) as refused:
        case_services.case_join_request(
            case=case,
            by=request.user,
            message=form.cleaned_data["message"],
            dismissed=refused.dismissed,
            ip=client_ip(request),
        )
    if refused:
        return refused.response or render(
            request,
            "cases/_join_form.html",
            {"case": case, "form": form},
            status=400,
        )
    return done(request, case, "The owner has been asked to add you to the case.")


@require_POST
@clinician_required
@translate_errors(back=lambda request, pk: reverse("case_detail", args=[pk]))
def case_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve the case with its final diagnosis (editors); see the service."""
    case, access = case_get_for(request.user, pk)
    if not access.can_edit:
        raise PermissionDenied("You can't resolve this case.")
    form = ResolveForm(request.POST, case=case)
    if form.is_valid():
        with refused_on_form(request, form) as refused:
            services.case_resolve(
                case=case,
                by=request.user,
                final_diagnosis=form.cleaned_data["final_diagnosis"],
                confirmed=form.cleaned_data["confirmed"],
                dismissed=refused.dismissed,
                ip=client_ip(request),
            )
        if not refused:
            messages.success(request, "Case resolved.")
            return redirect(case)
    return case_page(request, case, access, extra={"resolve_form": form}, status=400)


urlpatterns = [
    path("cases/<int:pk>/resolve/", case_resolve, name="case_resolve"),
    path(
        "cases/<int:pk>/differentials/round/",
        differential_round_submit,
        name="differential_round_submit",
    ),
    path(
        "cases/<int:pk>/differentials/reveal/",
        differential_consensus_reveal,
        name="differential_consensus_reveal",
    ),
    path(
        "cases/<int:pk>/differentials/independent/",
        differential_independent_set,
        name="differential_independent_set",
    ),
    path("cases/<int:pk>/join/", case_join_request, name="case_join_request"),
]
