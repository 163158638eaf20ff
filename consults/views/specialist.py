"""The specialist's steps on a consult: accept, decline (with a reason), and
answer (impression, recommendations, follow-up and suggested diagnoses).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cases.phi_gate import PHIFound
from cases.views.phi_forms import attach_findings
from consults import services
from consults.forms import AnswerForm, DeclineForm, SuggestionFormSet
from consults.models import ConsultRequest
from consults.selectors import consult_get_for
from consults.views.pages import consult_post, detail
from diagnoses.views.refusals import refused_on_form
from workspace.audit import client_ip
from workspace.errors import ServiceError
from workspace.http import translate_errors
from workspace.views import clinician_required


@consult_post
def consult_accept(request: HttpRequest, pk: int) -> HttpResponse:
    consult, _ = consult_get_for(request.user, pk)
    services.consult_accept(consult=consult, by=request.user, ip=client_ip(request))
    messages.success(
        request, "Accepted. You can now open the case; answer when you're ready."
    )
    return redirect(consult)


@consult_post
def consult_decline(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        with refused_on_form(request, form) as refused:
            services.consult_decline(
                consult=consult,
                by=request.user,
                reason=form.cleaned_data["reason"],
                dismissed=refused.dismissed,
                ip=client_ip(request),
            )
        if not refused:
            messages.success(request, "Declined. The requester has been told why.")
            return redirect(consult)
    if not access.can_decline:
        raise PermissionDenied("You can't decline this consult.")
    return detail(request, consult, access, decline_form=form, status=400)


@clinician_required
@translate_errors
def consult_answer(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    if not access.can_answer:
        if consult.status != ConsultRequest.Status.ACCEPTED and access.is_eligible:
            messages.error(
                request,
                "Accept this consult before answering it."
                if consult.status == ConsultRequest.Status.REQUESTED
                else f"This consult is {consult.get_status_display().lower()}.",
            )
            return redirect(consult)
        raise PermissionDenied("Only the specialist who accepted it can answer.")
    form = AnswerForm(request.POST or None)
    formset = SuggestionFormSet(request.POST or None, prefix="dx")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        # The service names a suggestion's fields by its index in the list
        # it gets; ``sources`` maps that index back to the formset's form.
        sources = [f for f in formset if f.cleaned_data.get("label")]
        suggestions = [
            {
                "label": f.cleaned_data["label"],
                "icd10_code": f.cleaned_data.get("icd10_code", ""),
                "rationale": f.cleaned_data.get("rationale", ""),
                "likelihood": f.cleaned_data.get("likelihood"),
            }
            for f in sources
        ]

        def findings(exc: PHIFound, dismissed: set[str]) -> None:
            attach_findings(form, exc, dismissed=dismissed, orphans=False)
            for i, source in enumerate(sources):
                attach_findings(
                    source,
                    exc,
                    dismissed=dismissed,
                    field_name=lambda name, i=i: _suggestion_field(name, i),
                    orphans=False,
                    message=False,
                )

        with refused_on_form(
            request, form, catch=ServiceError, findings=findings
        ) as refused:
            services.consult_answer(
                consult=consult,
                by=request.user,
                impression=form.cleaned_data["impression"],
                recommendations=form.cleaned_data["recommendations"],
                follow_up=form.cleaned_data["follow_up"],
                suggestions=suggestions,
                dismissed=refused.dismissed,
                ip=client_ip(request),
            )
        if not refused:
            messages.success(
                request, "Answer sent. Your suggestions are on the case's list."
            )
            return redirect(consult)
    return render(
        request,
        "consults/consult_answer.html",
        {
            "consult": consult,
            "case": consult.case,
            "form": form,
            "formset": formset,
            "question_html": consult.html("question"),
        },
        status=400 if request.method == "POST" else 200,
    )


def _suggestion_field(gate_field: str, index: int) -> str | None:
    prefix = f"suggestions.{index}."
    return gate_field.removeprefix(prefix) if gate_field.startswith(prefix) else None
