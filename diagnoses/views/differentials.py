"""Differential pages and endpoints: add, edit, vote, decide, reorder, history,
the live fragment of the case page's list, and ICD-10 search-as-you-type.
The case-level steps (independent mode, joining, resolving) are in
:mod:`diagnoses.views.case_actions`; how the endpoints answer, in
:mod:`diagnoses.views.panel`.

Thin: parse with a form, find the case through ``case_get_for`` (404 when
the user may not see it), call a service.

Labels, rationales and decision notes pass the PHI gate in the services. A
refusal answers 400 with ``{"code": "phi_found", "findings": [...]}`` to a
``fetch`` (differentials.js lists them in the form with "not identifying"
boxes named ``dismiss``), and re-renders the form with the findings otherwise
(:class:`diagnoses.views.refusals.refused_on_form`).
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from cases.models import Case
from cases.selectors import case_get_for
from diagnoses import icd10, services
from diagnoses.forms import (
    DecisionForm,
    DifferentialEditForm,
    DifferentialForm,
    ReorderForm,
    VoteForm,
)
from diagnoses.models import Differential, RankingSnapshot
from diagnoses.selectors import consensus_hidden
from diagnoses.templatetags.diagnoses import differentials_context
from diagnoses.views.panel import back, case_entry, case_url, done, invalid, panel_post
from diagnoses.views.refusals import refused_on_form
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.errors import InvalidInput
from workspace.http import translate_errors, wants_json
from workspace.views import clinician_required


def _form_page(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    entry: Differential | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "diagnoses/_differentials_form.html",
        {"case": case, "form": form, "entry": entry},
        status=status,
    )


def _form_again(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    entry: Differential | None = None,
) -> HttpResponse:
    """An entry form that did not go through: its errors as JSON to a
    ``fetch``, otherwise the form page again with 400."""
    if wants_json(request):
        return invalid(request, case, form)
    return _form_page(request, case, form, entry=entry, status=400)


@require_GET
@clinician_required
def differentials_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the case page's list, re-fetched after each change."""
    case, access = case_get_for(request.user, pk)
    context = differentials_context(
        case, access, user=request.user, order=request.GET.get("order", "")
    )
    html = render_to_string(
        "diagnoses/_differentials_list.html", context, request=request
    )
    return HttpResponse(html)


@clinician_required
@translate_errors(back=back)
def differential_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_vote:
        raise workspace_services.PermissionDenied(
            "Only the case's owner, collaborators and consultants propose diagnoses."
        )
    if request.method != "POST":
        return _form_page(request, case, DifferentialForm())
    form = DifferentialForm(request.POST)
    if not form.is_valid():
        return _form_again(request, case, form)
    data = form.cleaned_data
    with refused_on_form(request, form, json=wants_json(request)) as refused:
        entry = services.differential_add(
            case=case,
            by=request.user,
            label=data["label"],
            icd10_code=data["icd10_code"],
            rationale=data["rationale"],
            likelihood=data["likelihood"],
            dismissed=refused.dismissed,
            ip=client_ip(request),
        )
    if refused:
        return refused.response or _form_again(request, case, form)
    return done(request, case, f"Added {entry.label}.", id=entry.pk)


@clinician_required
@translate_errors(back=back)
def differential_edit(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, access, entry = case_entry(request, pk, differential_id)
    if not (
        access.can_edit or (access.can_vote and entry.proposed_by_id == request.user.pk)
    ):
        raise workspace_services.PermissionDenied("You can't edit this diagnosis.")
    if request.method != "POST":
        form = DifferentialEditForm(
            initial={
                "label": entry.label,
                "icd10_code": entry.icd10_code,
                "rationale": entry.rationale,
            }
        )
        return _form_page(request, case, form, entry=entry)
    form = DifferentialEditForm(request.POST)
    if not form.is_valid():
        return _form_again(request, case, form, entry=entry)
    with refused_on_form(request, form, json=wants_json(request)) as refused:
        services.differential_update(
            differential=entry,
            by=request.user,
            label=form.cleaned_data["label"],
            icd10_code=form.cleaned_data["icd10_code"],
            rationale=form.cleaned_data["rationale"],
            dismissed=refused.dismissed,
            ip=client_ip(request),
        )
    if refused:
        return refused.response or _form_again(request, case, form, entry=entry)
    return done(request, case, "Saved.")


@panel_post
def differential_delete(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _, entry = case_entry(request, pk, differential_id)
    label = entry.label
    services.differential_delete(
        differential=entry, by=request.user, ip=client_ip(request)
    )
    return done(request, case, f"Removed {label}.")


@panel_post
def differential_vote(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _, entry = case_entry(request, pk, differential_id)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return invalid(request, case, form)
    likelihood = form.cleaned_data["likelihood"]
    if form.cleaned_data["withdraw"]:
        likelihood = None
    elif likelihood is None:
        raise InvalidInput({"likelihood": "Choose a likelihood from 0 to 100."})
    services.differential_vote(
        differential=entry,
        by=request.user,
        likelihood=likelihood,
        ip=client_ip(request),
    )
    message = (
        f"Your vote on {entry.label} was withdrawn."
        if likelihood is None
        else f"You gave {entry.label} {likelihood}%."
    )
    return done(request, case, message, my_vote=likelihood, id=entry.pk)


@panel_post
def differential_decide(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _, entry = case_entry(request, pk, differential_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return invalid(request, case, form)
    data = form.cleaned_data
    ip = client_ip(request)
    with refused_on_form(request, form, catch=(), json=wants_json(request)) as refused:
        if data["action"] == "rule_out":
            services.differential_rule_out(
                differential=entry,
                by=request.user,
                reason=data["note"],
                dismissed=refused.dismissed,
                ip=ip,
            )
            message = f"{entry.label} ruled out."
        elif data["action"] == "reconsider":
            services.differential_reconsider(differential=entry, by=request.user, ip=ip)
            message = f"{entry.label} is under consideration again."
        else:
            services.differential_confirm(
                differential=entry,
                by=request.user,
                resolve_case=data["resolve_case"],
                note=data["note"],
                dismissed=refused.dismissed,
                ip=ip,
            )
            message = f"{entry.label} confirmed as the final diagnosis." + (
                " The case is resolved." if data["resolve_case"] else ""
            )
    if refused.response:
        return refused.response
    if refused:
        if data["action"] != "confirm":
            del form.fields["resolve_case"]
        return render(
            request,
            "cases/phi_resubmit.html",
            {
                "case": case,
                "form": form,
                "title": _decision_title(data["action"], entry),
                "action_url": request.path,
                "back_url": case_url(case),
            },
            status=400,
        )
    return done(request, case, message)


def _decision_title(action: str, entry: Differential) -> str:
    verb = "Confirm" if action == "confirm" else "Rule out"
    return f"{verb} “{entry.label}”"


@panel_post
def differentials_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return invalid(request, case, form)
    order = form.cleaned_data["order"]
    if order is None:
        order = list(
            Differential.objects.filter(case=case)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )
        moving = form.cleaned_data["move"]
        if moving not in order:
            raise workspace_services.ServiceError(
                "That diagnosis is no longer on the list."
            )
        i = order.index(moving)
        j = i - 1 if form.cleaned_data["direction"] == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    services.differentials_reorder(
        case=case, by=request.user, order=order, ip=client_ip(request)
    )
    response = done(request, case, "Order saved.")
    if not wants_json(request):
        return redirect(
            reverse("case_detail", args=[case.pk]) + "?dx_order=working#differentials"
        )
    return response


@require_GET
@clinician_required
def differentials_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to the ranking, newest first, with the ranking after it."""
    case, access = case_get_for(request.user, pk)
    snapshots = (
        RankingSnapshot.objects.filter(case=case)
        .select_related("actor")
        .order_by("-id")
    )
    page = Paginator(snapshots, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "diagnoses/_differentials_history.html",
        {
            "case": case,
            "access": access,
            "page": page,
            "hidden": consensus_hidden(case, request.user),
        },
    )


@require_GET
@clinician_required
def icd10_search(request: HttpRequest) -> JsonResponse:
    """``?q=`` → ``{"results": [{"code", "title"}, ...]}`` from the bundled list."""
    query = request.GET.get("q", "")[:80]
    results = [c.as_dict() for c in icd10.search(query, limit=10)]
    return JsonResponse({"query": query, "results": results})


urlpatterns = [
    path("icd10/search/", icd10_search, name="icd10_search"),
    path(
        "cases/<int:pk>/differentials/",
        differentials_fragment,
        name="differentials_fragment",
    ),
    path(
        "cases/<int:pk>/differentials/add/", differential_add, name="differential_add"
    ),
    path(
        "cases/<int:pk>/differentials/reorder/",
        differentials_reorder,
        name="differentials_reorder",
    ),
    path(
        "cases/<int:pk>/differentials/history/",
        differentials_history,
        name="differentials_history",
    ),
    path(
        "cases/<int:pk>/differentials/<int:differential_id>/edit/",
        differential_edit,
        name="differential_edit",
    ),
    path(
        "cases/<int:pk>/differentials/<int:differential_id>/delete/",
        differential_delete,
        name="differential_delete",
    ),
    path(
        "cases/<int:pk>/differentials/<int:differential_id>/vote/",
        differential_vote,
        name="differential_vote",
    ),
    path(
        "cases/<int:pk>/differentials/<int:differential_id>/decide/",
        differential_decide,
        name="differential_decide",
    ),
]
