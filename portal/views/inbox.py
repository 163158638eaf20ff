"""The clinician's inbox of patient submissions, and the review page.

Thin: look the submission up through ``portal.selectors`` (404 for
one sent to someone else), call a service, redirect with a message. New
submissions arrive live: the service notifies the clinician, and the inbox
page refreshes its list when a ``submission`` notification comes in.

``finding_media`` serves a finding's case-grade copy to anyone who may see
the case, never the patient's copy.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from cases.models import CaseAsset
from cases.phi import scan_fields
from cases.phi_gate import PHIFound
from cases.services.cases import finding_as_dict
from diagnoses.models import Differential
from media_handling import storage as media_storage
from portal import selectors, services
from portal.forms import AttachForm, DismissForm, RateForm, ReplyForm
from portal.models import FindingLink, Submission
from portal.views.common import form_errors_json
from workspace import audit
from workspace import services as workspace_services
from workspace.errors import InvalidInput
from workspace.http import form_refusal, translate_errors, wants_json
from workspace.views import clinician_required, verified_clinician_required

PAGE_SIZE = 25
SHOW_CHOICES = (
    ("open", "Open"),
    ("unread", "Unread"),
    ("attached", "Attached"),
    ("closed", "Dismissed and withdrawn"),
    ("all", "All"),
)
FINDING_ROLES = {"video", "poster", "thumb", "display"}


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "open")
    return show if show in dict(SHOW_CHOICES) else "open"


def _inbox_context(request: HttpRequest) -> dict:
    show = _show(request)
    if not request.user.is_verified_clinician:
        # Counts only: nothing a patient sent is shown before verification.
        return {
            "page": None,
            "show": show,
            "show_choices": SHOW_CHOICES,
            "counts": selectors.inbox_counts(request.user),
            "verified": False,
            "verification_needed": workspace_services.VERIFICATION_NEEDED,
        }
    page = Paginator(
        selectors.submissions_for_inbox(request.user, show=show), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return {
        "page": page,
        "show": show,
        "show_choices": SHOW_CHOICES,
        "counts": selectors.inbox_counts(request.user),
        "verified": True,
    }


@require_GET
@clinician_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Submissions from the clinician's patients, newest first."""
    template = (
        "portal/inbox_list.html"
        if request.GET.get("partial") == "1"
        else "portal/inbox_home.html"
    )
    return render(request, template, _inbox_context(request))


def _forms(submission: Submission, groups, **bound) -> dict:
    return {
        "rate_form": bound.get("rate_form")
        or RateForm(
            initial={
                "credibility": submission.credibility
                if submission.credibility != Submission.Credibility.UNRATED
                else None,
                "credibility_note": submission.credibility_note,
            }
        ),
        "reply_form": bound.get("reply_form")
        or ReplyForm(initial={"reply": submission.clinician_note}),
        "dismiss_form": bound.get("dismiss_form") or DismissForm(),
        "attach_form": bound.get("attach_form")
        or AttachForm(groups=groups, has_media=submission.asset_id is not None),
    }


def _review(
    request: HttpRequest,
    submission: Submission,
    status: int = 200,
    *,
    phi_form: str = "",
    phi_findings: list[dict] | None = None,
    **bound,
):
    groups = selectors.attachable_differentials(request.user)
    findings = list(
        FindingLink.objects.filter(submission=submission)
        .select_related("differential", "case", "asset")
        .order_by("created")
    )
    return render(
        request,
        "portal/inbox_review.html",
        {
            "submission": submission,
            "groups": groups,
            "findings": findings,
            "counts": selectors.inbox_counts(request.user),
            "phi_form": phi_form,
            "phi_findings": phi_findings or [],
            **_forms(submission, groups, **bound),
        },
        status=status,
    )


@require_GET
@verified_clinician_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission: watch or open it, rate, reply, dismiss or attach."""
    submission = selectors.submission_get_for_clinician(request.user, pk)
    services.submission_open(
        submission=submission, by=request.user, ip=audit.client_ip(request)
    )
    return _review(request, submission)


def _back(request: HttpRequest, pk: int, *args, **kwargs) -> str:
    """Where a refused triage of submission ``pk`` goes back to."""
    return reverse("inbox_review", args=[pk])


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "message": message})
    messages.success(request, message)
    return redirect("inbox_review", pk=pk)


def _dismissed(request: HttpRequest) -> list[str]:
    return [key for key in request.POST.getlist("dismiss") if key][:200]


def _phi_findings(exc: PHIFound, dismissed: list[str]) -> list[dict]:
    """Every finding on the text as sent, dismissed ones marked, for
    ``cases/_phi_list.html`` (so earlier dismissals survive the resubmit)."""
    return [
        finding_as_dict(f, dismissed=dismissed, text=exc.texts.get(f.field, ""))
        for f in scan_fields(exc.texts)
    ]


def _invalid(request, submission, form_key: str, form, status: int = 400, **extra):
    if wants_json(request):
        return form_errors_json(form, status=status)
    return _review(request, submission, status=status, **{form_key: form}, **extra)


def _phi_refused(request, submission, form_key: str, form, exc: PHIFound):
    """The form again (400) with each finding inline and a dismiss box; JSON
    clients get ``{"code": "phi_found", "findings": [...]}``."""
    dismissed = _dismissed(request)
    if wants_json(request):
        return JsonResponse(
            {
                "ok": False,
                "code": "phi_found",
                "error": str(exc),
                "findings": [
                    finding_as_dict(
                        f, dismissed=dismissed, text=exc.texts.get(f.field, "")
                    )
                    | {"text": f.text}
                    for f in exc.findings
                ],
            },
            status=400,
        )
    form.add_error(None, str(exc))
    return _review(
        request,
        submission,
        status=400,
        **{form_key: form},
        phi_form=form_key,
        phi_findings=_phi_findings(exc, dismissed),
    )


@translate_errors(back=_back)
def _triage(
    request, pk, *, form_class, form_key, action, success, form_kwargs=None
) -> HttpResponse:
    """Validate one triage form, run its service, and come back to the review.

    ``form_kwargs(submission)`` gives the form's extra arguments;
    ``action(submission, cleaned_data, ip)`` runs the service; ``success`` is
    the message, or makes it from what ``action`` returned.
    """
    submission = selectors.submission_get_for_clinician(request.user, pk)
    form = form_class(request.POST, **(form_kwargs(submission) if form_kwargs else {}))
    if not form.is_valid():
        return _invalid(request, submission, form_key, form)
    try:
        result = action(submission, form.cleaned_data, audit.client_ip(request))
    except PHIFound as exc:
        return _phi_refused(request, submission, form_key, form, exc)
    except InvalidInput as exc:
        form_refusal(form, exc)
        return _invalid(request, submission, form_key, form)
    return _done(request, pk, success(result) if callable(success) else success)


def _patient_note(service, request: HttpRequest):
    """The action of a triage that sends the patient a note: reply, dismiss."""
    return lambda submission, data, ip: service(
        submission=submission,
        by=request.user,
        note=data["reply"],
        dismissed=_dismissed(request),
        ip=ip,
    )


@require_POST
@verified_clinician_required
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    return _triage(
        request,
        pk,
        form_class=RateForm,
        form_key="rate_form",
        success="Rating saved.",
        action=lambda submission, data, ip: services.submission_rate(
            submission=submission,
            by=request.user,
            credibility=data["credibility"],
            note=data["credibility_note"],
            ip=ip,
        ),
    )


@require_POST
@verified_clinician_required
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _triage(
        request,
        pk,
        form_class=ReplyForm,
        form_key="reply_form",
        success="Your patient can now see your note.",
        action=_patient_note(services.submission_reply, request),
    )


@require_POST
@verified_clinician_required
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _triage(
        request,
        pk,
        form_class=DismissForm,
        form_key="dismiss_form",
        success="Dismissed.",
        action=_patient_note(services.submission_dismiss, request),
    )


@require_POST
@verified_clinician_required
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    def attach_to(submission, data, ip) -> FindingLink:
        differential = Differential.objects.filter(pk=data["differential"]).first()
        if differential is None:
            raise Http404("No such differential.")
        return services.submission_attach(
            submission=submission,
            by=request.user,
            differential=differential,
            relation=data["relation"],
            note=data["note"],
            blur_faces=data.get("blur_faces", False),
            dismissed=_dismissed(request),
            ip=ip,
        )

    return _triage(
        request,
        pk,
        form_class=AttachForm,
        form_key="attach_form",
        form_kwargs=lambda submission: {
            "groups": selectors.attachable_differentials(request.user),
            "has_media": submission.asset_id is not None,
        },
        action=attach_to,
        success=lambda finding: (
            f"Attached to “{finding.differential.label}” as "
            f"{finding.get_relation_display().lower()}."
        ),
    )


def finding_media(request: HttpRequest, case_id: int, pk: int, role: str):
    """A finding's case-grade copy, for anyone who may see the case (audited).

    Every response is audited, each byte range of a playback included.
    """
    if role not in FINDING_ROLES:
        raise Http404("No such file.")
    finding = selectors.finding_get_for_media(request.user, case_id, pk)
    asset = finding.asset
    # A finding's copy is shown only through a gallery item of the case that
    # ``request.user`` may see: released and ready, or their own upload. With no
    # item (never attached, or removed from the gallery) there is nothing to show.
    item = CaseAsset.objects.filter(case_id=finding.case_id, asset=asset).first()
    if not asset.is_ready or item is None or not item.visible_to(request.user):
        raise Http404("Not ready yet.")
    return media_storage.serve_rendition(
        request,
        asset,
        role,
        audit=media_storage.MediaAudit(
            actor=request.user,
            verb="finding.media_view",
            target=finding,
            case_id=finding.case_id,
        ),
    )


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/", review, name="inbox_review"),
    path("inbox/<int:pk>/rate/", rate, name="inbox_rate"),
    path("inbox/<int:pk>/reply/", reply, name="inbox_reply"),
    path("inbox/<int:pk>/dismiss/", dismiss, name="inbox_dismiss"),
    path("inbox/<int:pk>/attach/", attach, name="inbox_attach"),
    path(
        "cases/<int:case_id>/findings/<int:pk>/media/<str:role>/",
        finding_media,
        name="finding_media",
    ),
]
