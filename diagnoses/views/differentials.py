"""Differential pages and endpoints: add, edit, vote, decide, reorder, history,
the live fragment of the case page's list, and ICD-10 search-as-you-type.

Thin: parse with a form, find the case through ``case_get_for`` (404 when
the user may not see it), call a service. Every POST answers JSON to a
``fetch`` that sends ``Accept: application/json`` (``{"ok": true, "version":
n, "message": ...}`` or ``{"ok": false, "errors": {...}}`` with 400/403), and
otherwise redirects back to the case page with a message, so the page works
without JavaScript too. A service's ``PermissionDenied`` becomes 403.

Labels, rationales and decision notes pass the PHI gate in the services. A
refusal answers 400 with ``{"code": "phi_found", "findings": [...]}`` to a
``fetch`` (differentials.js lists them in the form with "not identifying"
boxes named ``dismiss``), and re-renders the form with the findings otherwise.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from cases.models import Case
from cases.phi_gate import PHIFound
from cases.selectors import case_get_for
from cases.views.cases import case_page
from cases.views.phi_forms import attach_findings, dismissed_keys, phi_json
from diagnoses import icd10, services
from diagnoses.forms import ResolveForm
from diagnoses.models import Differential, RankingSnapshot
from diagnoses.selectors import consensus_hidden
from diagnoses.templatetags.diagnoses import differentials_context
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.errors import InvalidInput
from workspace.http import form_refusal, translate_errors, wants_json
from workspace.views import clinician_required

# --- Forms --------------------------------------------------------------------------


class Icd10Field(forms.CharField):
    def to_python(self, value):
        return icd10.normalise_icd10(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        icd10.validate_icd10(value)


class DifferentialForm(forms.Form):
    label = forms.CharField(
        label="Diagnosis",
        max_length=services.MAX_LABEL,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    icd10_code = Icd10Field(
        label="ICD-10 code",
        required=False,
        max_length=12,
        help_text="For example J18.9. Start typing a diagnosis or code for suggestions.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    rationale = forms.CharField(
        required=False,
        max_length=services.MAX_RATIONALE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it fits, or what would confirm or exclude it.",
    )
    likelihood = forms.IntegerField(
        label="Your likelihood (0–100)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Optional: shown as the proposer's estimate.",
    )


class DifferentialEditForm(DifferentialForm):
    likelihood = None


class VoteForm(forms.Form):
    # Only the likelihood is read: the voter is always the signed-in user.
    likelihood = forms.IntegerField(required=False, min_value=0, max_value=100)
    withdraw = forms.BooleanField(required=False)


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("rule_out", "Rule out"),
            ("reconsider", "Reconsider"),
            ("confirm", "Confirm"),
        ],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=services.MAX_RATIONALE,
        help_text="Why it was ruled out or how it was confirmed. Everyone on the "
        "case reads it.",
    )
    resolve_case = forms.BooleanField(label="Also resolve the case", required=False)


class ReorderForm(forms.Form):
    order = forms.CharField(required=False)
    move = forms.IntegerField(required=False)
    direction = forms.ChoiceField(
        required=False, choices=[("up", "Up"), ("down", "Down")]
    )

    def clean_order(self):
        raw = self.cleaned_data["order"].strip()
        if not raw:
            return None
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(
                "Send the ids as a comma-separated list."
            ) from exc

    def clean(self):
        data = super().clean()
        if data.get("order") is None and not (
            data.get("move") and data.get("direction")
        ):
            raise forms.ValidationError("Say which entry moves where.")
        return data


# --- Helpers ------------------------------------------------------------------------


def _case_url(case: Case) -> str:
    return _back(None, case.pk)


def _back(request: HttpRequest | None, pk: int, *args, **kwargs) -> str:
    """Where a refused form post on case ``pk``'s differentials goes back to."""
    return reverse("case_detail", args=[pk]) + "#differentials"


def _latest_version(case: Case) -> int | None:
    return (
        RankingSnapshot.objects.filter(case=case)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


def _done(request: HttpRequest, case: Case, message: str, **data) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {"ok": True, "message": message, "version": _latest_version(case), **data}
        )
    messages.success(request, message)
    return redirect(_case_url(case))


def _invalid(request: HttpRequest, case: Case, form: forms.Form) -> HttpResponse:
    errors = {f: " ".join(e) for f, e in form.errors.items()}
    if wants_json(request):
        return JsonResponse(
            {"ok": False, "errors": errors, "message": " ".join(errors.values())},
            status=400,
        )
    messages.error(request, " ".join(errors.values()))
    return redirect(_case_url(case))


def _entry(case: Case, differential_id: int) -> Differential:
    return get_object_or_404(
        Differential.objects.select_related("case"), pk=differential_id, case=case
    )


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


# --- Views --------------------------------------------------------------------------


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
@translate_errors(back=_back)
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
        if wants_json(request):
            return _invalid(request, case, form)
        return _form_page(request, case, form, status=400)
    data = form.cleaned_data
    try:
        entry = services.differential_add(
            case=case,
            by=request.user,
            label=data["label"],
            icd10_code=data["icd10_code"],
            rationale=data["rationale"],
            likelihood=data["likelihood"],
            dismissed=dismissed_keys(request.POST),
            ip=client_ip(request),
        )
    except PHIFound as exc:
        if wants_json(request):
            return phi_json(exc)
        attach_findings(form, exc, dismissed=dismissed_keys(request.POST))
        return _form_page(request, case, form, status=400)
    except InvalidInput as exc:
        if wants_json(request):
            raise
        form_refusal(form, exc)
        return _form_page(request, case, form, status=400)
    return _done(request, case, f"Added {entry.label}.", id=entry.pk)


@clinician_required
@translate_errors(back=_back)
def differential_edit(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    entry = _entry(case, differential_id)
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
        if wants_json(request):
            return _invalid(request, case, form)
        return _form_page(request, case, form, entry=entry, status=400)
    try:
        services.differential_update(
            differential=entry,
            by=request.user,
            label=form.cleaned_data["label"],
            icd10_code=form.cleaned_data["icd10_code"],
            rationale=form.cleaned_data["rationale"],
            dismissed=dismissed_keys(request.POST),
            ip=client_ip(request),
        )
    except PHIFound as exc:
        if wants_json(request):
            return phi_json(exc)
        attach_findings(form, exc, dismissed=dismissed_keys(request.POST))
        return _form_page(request, case, form, entry=entry, status=400)
    except InvalidInput as exc:
        if wants_json(request):
            raise
        form_refusal(form, exc)
        return _form_page(request, case, form, entry=entry, status=400)
    return _done(request, case, "Saved.")


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_delete(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    entry = _entry(case, differential_id)
    label = entry.label
    services.differential_delete(
        differential=entry, by=request.user, ip=client_ip(request)
    )
    return _done(request, case, f"Removed {label}.")


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_vote(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    entry = _entry(case, differential_id)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, form)
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
    return _done(request, case, message, my_vote=likelihood, id=entry.pk)


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_decide(
    request: HttpRequest, pk: int, differential_id: int
) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    entry = _entry(case, differential_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, form)
    data = form.cleaned_data
    ip = client_ip(request)
    dismissed = dismissed_keys(request.POST)
    try:
        if data["action"] == "rule_out":
            services.differential_rule_out(
                differential=entry,
                by=request.user,
                reason=data["note"],
                dismissed=dismissed,
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
                dismissed=dismissed,
                ip=ip,
            )
            message = f"{entry.label} confirmed as the final diagnosis." + (
                " The case is resolved." if data["resolve_case"] else ""
            )
    except PHIFound as exc:
        if wants_json(request):
            return phi_json(exc)
        attach_findings(form, exc, dismissed=dismissed)
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
                "back_url": _case_url(case),
            },
            status=400,
        )
    return _done(request, case, message)


def _decision_title(action: str, entry: Differential) -> str:
    verb = "Confirm" if action == "confirm" else "Rule out"
    return f"{verb} “{entry.label}”"


@require_POST
@clinician_required
@translate_errors(back=_back)
def differentials_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, form)
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
    response = _done(request, case, "Order saved.")
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


# --- Independent mode and joining ---------------------------------------------------


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_round_submit(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    services.differential_round_submit(
        case=case, by=request.user, ip=client_ip(request)
    )
    return _done(
        request, case, "Your differential is submitted: the consensus is shown."
    )


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_consensus_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    services.differential_consensus_reveal(
        case=case, by=request.user, ip=client_ip(request)
    )
    return _done(request, case, "The consensus is now shown to everyone.")


class IndependentForm(forms.Form):
    independent = forms.BooleanField(required=False)


@require_POST
@clinician_required
@translate_errors(back=_back)
def differential_independent_set(request: HttpRequest, pk: int) -> HttpResponse:
    case, _ = case_get_for(request.user, pk)
    form = IndependentForm(request.POST)
    form.is_valid()
    on = bool(form.cleaned_data.get("independent"))
    services.differential_independent_set(
        case=case, by=request.user, on=on, ip=client_ip(request)
    )
    return _done(
        request,
        case,
        "Independent differentials are on."
        if on
        else "Independent differentials are off.",
    )


class JoinForm(forms.Form):
    message = forms.CharField(
        label="Message to the owner", required=False, max_length=500
    )


@require_POST
@clinician_required
@translate_errors(back=_back)
def case_join_request(request: HttpRequest, pk: int) -> HttpResponse:
    from cases.services import cases as case_services

    case, _ = case_get_for(request.user, pk)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, form)
    dismissed = dismissed_keys(request.POST)
    try:
        case_services.case_join_request(
            case=case,
            by=request.user,
            message=form.cleaned_data["message"],
            dismissed=dismissed,
            ip=client_ip(request),
        )
    except PHIFound as exc:
        if wants_json(request):
            return phi_json(exc)
        # The message is kept and each finding listed with its "not
        # identifying" box, like the other forms of the panel.
        attach_findings(form, exc, dismissed=dismissed)
        return render(
            request,
            "cases/_join_form.html",
            {"case": case, "form": form},
            status=400,
        )
    return _done(request, case, "The owner has been asked to add you to the case.")


# --- Resolving the case ---------------------------------------------------------------


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
        try:
            services.case_resolve(
                case=case,
                by=request.user,
                final_diagnosis=form.cleaned_data["final_diagnosis"],
                confirmed=form.cleaned_data["confirmed"],
                dismissed=dismissed_keys(request.POST),
                ip=client_ip(request),
            )
        except InvalidInput as exc:
            form_refusal(form, exc)
        except PHIFound as exc:
            attach_findings(form, exc, dismissed=dismissed_keys(request.POST))
        else:
            messages.success(request, "Case resolved.")
            return redirect(case)
    return case_page(request, case, access, extra={"resolve_form": form}, status=400)


urlpatterns = [
    path("cases/<int:pk>/resolve/", case_resolve, name="case_resolve"),
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
