"""Consult pages: the specialist's queue, requesting, the consult with its
timeline, and each step (accept, decline, answer, close, cancel).

Thin: a consult is found through ``consult_get_for`` (404 when the user may
not see it), a case through ``case_get_for``; the services decide and raise
``ServiceError``: field problems become form errors, a refusal of rights 403,
anything else a message on the consult page. A PHI refusal re-renders the
form with 400, each finding under its field with a "not identifying" box
(``dismiss``); sending it again with the boxes ticked goes through.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.phi_gate import PHIFound
from cases.selectors import case_get_for
from cases.views.phi_forms import attach_findings, dismissed_keys
from consults import services
from consults.models import ConsultRequest
from consults.selectors import (
    consult_get_for,
    consults_for_queue,
    consults_requested_by,
)
from consults.templatetags.consults import consults_context
from diagnoses.views.differentials import Icd10Field
from workspace import audit
from workspace import services as workspace_services
from workspace.audit import client_ip
from workspace.email_addresses import user_lookup
from workspace.errors import InvalidInput
from workspace.http import form_refusal, translate_errors
from workspace.models import Specialty, User
from workspace.views import clinician_required

# --- Forms --------------------------------------------------------------------------


class ConsultRequestForm(forms.Form):
    specialty = forms.ModelChoiceField(
        queryset=Specialty.objects.all(),
        required=False,
        empty_label="Choose a specialty",
        help_text="Every verified clinician in the specialty sees the request in "
        "their queue.",
    )
    assignee = forms.CharField(
        label="Named specialist",
        required=False,
        max_length=150,
        help_text="Their username, to ask one person. Leave empty to ask the "
        "specialty.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "list": "consult-colleagues",
            }
        ),
    )
    question = forms.CharField(
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What do you want to know? Markdown works. No identifiers.",
    )
    urgency = forms.ChoiceField(
        choices=ConsultRequest.Urgency.choices,
        initial=ConsultRequest.Urgency.ROUTINE,
        widget=forms.RadioSelect,
        help_text="Sets the default due time: routine 72 hours, urgent 24 hours, "
        "emergent 1 hour.",
    )
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Leave empty for the default from the urgency.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["due_at"].help_text += f" Times are {zone}."

    def clean_assignee(self) -> User | None:
        who = self.cleaned_data["assignee"].strip().lstrip("@")
        if not who:
            return None
        # An address counts only once its account confirmed it.
        user = user_lookup(who)
        if user is None or not user.is_clinician:
            raise forms.ValidationError("No clinician with that username or email.")
        return user

    def clean(self):
        data = super().clean()
        if not data.get("specialty") and not data.get("assignee") and not self.errors:
            self.add_error("specialty", "Choose a specialty or name a specialist.")
        return data


class SuggestionForm(forms.Form):
    label = forms.CharField(label="Diagnosis", required=False, max_length=200)
    icd10_code = Icd10Field(label="ICD-10 code", required=False, max_length=12)
    likelihood = forms.IntegerField(
        label="Likelihood (0–100)", required=False, min_value=0, max_value=100
    )
    rationale = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if not data.get("label") and (
            data.get("icd10_code") or data.get("rationale") or data.get("likelihood")
        ):
            self.add_error("label", "Name the diagnosis.")
        return data


SuggestionFormSet = forms.formset_factory(
    SuggestionForm, extra=3, max_num=10, validate_max=True
)


class AnswerForm(forms.Form):
    impression = forms.CharField(
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your overall impression. Markdown works.",
    )
    recommendations = forms.CharField(
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Investigations, treatment, referrals.",
    )
    follow_up = forms.CharField(
        label="Follow-up",
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When and how to follow up, and what should prompt a re-consult.",
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason for declining",
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The requester sees this, e.g. “Better suited to rheumatology”.",
    )


class CloseForm(forms.Form):
    keep_consultant = forms.BooleanField(
        label="Keep the specialist on the case as a consultant",
        required=False,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=2000)


# --- Helpers ------------------------------------------------------------------------


def _back(request: HttpRequest, pk: int) -> str:
    """Where a refused action on consult ``pk`` goes back to."""
    return reverse("consult_detail", args=[pk])


def _detail(
    request: HttpRequest,
    consult: ConsultRequest,
    access,
    *,
    decline_form: DeclineForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    events = list(consult.events.all())
    suggested = list(
        consult.suggested_differentials.select_related("proposed_by").order_by("id")
    )
    return render(
        request,
        "consults/consult_detail.html",
        {
            "consult": consult,
            "access": access,
            "case": consult.case,
            "events": events,
            "suggested": suggested,
            "question_html": consult.html("question"),
            "impression_html": consult.html("impression"),
            "recommendations_html": consult.html("recommendations"),
            "follow_up_html": consult.html("follow_up"),
            "decline_form": decline_form or DeclineForm(),
            "close_form": CloseForm(),
            "cancel_form": cancel_form or CancelForm(),
            "overdue": consult.is_overdue,
        },
        status=status,
    )


# --- Views --------------------------------------------------------------------------


@require_GET
@clinician_required
def consult_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    queue = consults_for_queue(user)
    return render(
        request,
        "consults/consult_queue.html",
        {
            "queue": queue,
            "requested": consults_requested_by(user),
            "verified": user.is_verified_clinician,
            "overdue_count": sum(1 for c in queue if c.overdue),
        },
    )


@clinician_required
@translate_errors
def consult_request(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if access.role is None or not access.can_comment:
        raise PermissionDenied(
            "Only the case's participants who can comment request consults."
        )
    form = ConsultRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consult = services.consult_request(
                case=case,
                by=request.user,
                question=data["question"],
                urgency=data["urgency"],
                specialty=data["specialty"],
                assignee=data["assignee"],
                due_at=data["due_at"],
                dismissed=dismissed_keys(request.POST),
                ip=client_ip(request),
            )
        except PHIFound as exc:
            attach_findings(form, exc, dismissed=dismissed_keys(request.POST))
        except workspace_services.ServiceError as exc:
            form_refusal(form, exc)
        else:
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


@require_GET
@clinician_required
def consult_detail(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    audit.record(
        actor=request.user,
        verb="consult.view",
        target=consult,
        case_id=consult.case_id,
        request=request,
    )
    return _detail(request, consult, access)


@require_POST
@clinician_required
@translate_errors(back=_back)
def consult_accept(request: HttpRequest, pk: int) -> HttpResponse:
    consult, _ = consult_get_for(request.user, pk)
    services.consult_accept(consult=consult, by=request.user, ip=client_ip(request))
    messages.success(
        request, "Accepted. You can now open the case; answer when you're ready."
    )
    return redirect(consult)


@require_POST
@clinician_required
@translate_errors(back=_back)
def consult_decline(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.consult_decline(
                consult=consult,
                by=request.user,
                reason=form.cleaned_data["reason"],
                dismissed=dismissed_keys(request.POST),
                ip=client_ip(request),
            )
        except PHIFound as exc:
            attach_findings(form, exc, dismissed=dismissed_keys(request.POST))
        except InvalidInput as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, "Declined. The requester has been told why.")
            return redirect(consult)
    if not access.can_decline:
        raise PermissionDenied("You can't decline this consult.")
    return _detail(request, consult, access, decline_form=form, status=400)


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
        dismissed = dismissed_keys(request.POST)
        try:
            services.consult_answer(
                consult=consult,
                by=request.user,
                impression=form.cleaned_data["impression"],
                recommendations=form.cleaned_data["recommendations"],
                follow_up=form.cleaned_data["follow_up"],
                suggestions=suggestions,
                dismissed=dismissed,
                ip=client_ip(request),
            )
        except PHIFound as exc:
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
        except workspace_services.ServiceError as exc:
            form_refusal(form, exc)
        else:
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


@require_POST
@clinician_required
@translate_errors(back=_back)
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


@require_POST
@clinician_required
@translate_errors(back=_back)
def consult_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    consult, access = consult_get_for(request.user, pk)
    form = CancelForm(request.POST)
    form.is_valid()
    dismissed = dismissed_keys(request.POST)
    try:
        services.consult_cancel(
            consult=consult,
            by=request.user,
            reason=form.cleaned_data.get("reason", ""),
            dismissed=dismissed,
            ip=client_ip(request),
        )
    except PHIFound as exc:
        attach_findings(form, exc, dismissed=dismissed)
        return _detail(request, consult, access, cancel_form=form, status=400)
    messages.success(request, "Consult cancelled.")
    return redirect(consult)


@require_GET
@clinician_required
def consults_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's consult list, re-fetched when a consult changes."""
    case, access = case_get_for(request.user, pk)
    html = render_to_string(
        "consults/_consults_list.html", consults_context(case, access), request=request
    )
    return HttpResponse(html)


urlpatterns = [
    path("consults/", consult_queue, name="consult_queue"),
    path("consults/<int:pk>/", consult_detail, name="consult_detail"),
    path("consults/<int:pk>/accept/", consult_accept, name="consult_accept"),
    path("consults/<int:pk>/decline/", consult_decline, name="consult_decline"),
    path("consults/<int:pk>/answer/", consult_answer, name="consult_answer"),
    path("consults/<int:pk>/close/", consult_close, name="consult_close"),
    path("consults/<int:pk>/cancel/", consult_cancel, name="consult_cancel"),
    path("cases/<int:pk>/consults/", consults_fragment, name="consults_fragment"),
    path("cases/<int:pk>/consults/new/", consult_request, name="consult_request"),
]
