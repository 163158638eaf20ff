"""The consult pages: the specialist's queue, the consult with its timeline,
and the case page's consult list; also what the step views share (where a
refused step goes back to, and the consult page re-rendered with a form).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases.selectors import case_get_for
from consults.forms import CancelForm, CloseForm, DeclineForm
from consults.models import ConsultRequest
from consults.selectors import (
    consult_get_for,
    consults_for_queue,
    consults_requested_by,
)
from consults.templatetags.consults import consults_context
from workspace import audit
from workspace.http import translate_errors
from workspace.views import clinician_required

__all__ = ["consult_detail", "consult_post", "consult_queue", "consults_fragment"]


def back(request: HttpRequest, pk: int) -> str:
    """Where a refused action on consult ``pk`` goes back to."""
    return reverse("consult_detail", args=[pk])


def consult_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A step posted from the consult page: clinicians only, a refusal flashed
    back on the consult page (:func:`back`)."""
    return require_POST(clinician_required(translate_errors(back=back)(view)))


def detail(
    request: HttpRequest,
    consult: ConsultRequest,
    access,
    *,
    decline_form: DeclineForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The consult page, with a refused step's form when there is one."""
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
    return detail(request, consult, access)


@require_GET
@clinician_required
def consults_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's consult list, re-fetched when a consult changes."""
    case, access = case_get_for(request.user, pk)
    html = render_to_string(
        "consults/_consults_list.html", consults_context(case, access), request=request
    )
    return HttpResponse(html)
