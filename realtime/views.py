"""The discussion without JavaScript: a topic page whose form posts through
``services.message_post`` like the WebSocket does, plus topic creation and
edit/delete of one's own messages. Cases the user may not see are 404s.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from cases.phi import scan_fields
from cases.selectors import case_get_for
from cases.services.cases import finding_as_dict
from workspace import audit
from workspace.services import PermissionDenied, ServiceError

from . import services
from .forms import MessageEditForm, MessageForm, ThreadForm
from .models import Message, Thread
from .panel import discussion_context
from .selectors import mentionable_users


def case_url(case) -> str | None:
    """The case page, once the cases app serves it."""
    try:
        return reverse("case_detail", args=[case.pk])
    except NoReverseMatch:
        return None


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _dismissed(request: HttpRequest) -> list[str]:
    """The findings ticked "not identifying" (the ``dismiss`` boxes)."""
    return request.POST.getlist("dismiss")[: services.MAX_DISMISSED_KEYS]


def findings_for(field: str, text: str, dismissed: list[str]) -> list[dict]:
    """Every finding in the refused ``text``, ticked when already dismissed,
    with an excerpt (for ``cases/_phi_list.html``)."""
    given = set(dismissed)
    return [
        finding_as_dict(f, dismissed=given, text=text)
        for f in scan_fields({field: text})
    ]


def _refused_on_form(
    form: forms.Form,
    field: str,
    refused: ServiceError,
    *,
    text: str,
    dismissed: list[str],
) -> tuple[int, list[dict]]:
    """Show a service's refusal on ``field`` of the form that asked: the
    status to answer with (429 when rate limited, else 400) and, when the PHI
    gate refused ``text``, its findings to list (else none)."""
    form.add_error(field, str(refused))
    if isinstance(refused, services.RateLimited):
        return 429, []
    if isinstance(refused, services.PHIFound):
        return 400, findings_for(field, text, dismissed)
    return 400, []


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isdigit() else None


@login_required
def discussion(request: HttpRequest, case_id: int) -> HttpResponse:
    case, _access = case_get_for(request.user, case_id)
    thread = services.thread_default(case=case)
    return redirect("discussion_thread", case.pk, thread.pk)


@login_required
@require_http_methods(["GET", "POST"])
def thread_page(request: HttpRequest, case_id: int, thread_id: int) -> HttpResponse:
    case, access = case_get_for(request.user, case_id)
    thread = get_object_or_404(Thread, pk=thread_id, case=case)
    form = None
    status = 200
    phi_findings = None
    if request.method == "POST":
        status = 400
        form = MessageForm(request.POST)
        if form.is_valid():
            dismissed = _dismissed(request)
            try:
                result = services.message_post(
                    case=case,
                    thread=thread,
                    by=request.user,
                    body=form.cleaned_data["body"],
                    client_id=form.cleaned_data["client_id"],
                    phi_dismissed=dismissed,
                    ip=audit.client_ip(request),
                )
            except PermissionDenied as refused:
                flash.error(request, str(refused))
                status = 403
            except ServiceError as refused:
                status, phi_findings = _refused_on_form(
                    form,
                    "body",
                    refused,
                    text=form.cleaned_data["body"],
                    dismissed=dismissed,
                )
            else:
                anchor = f"#m{result.message.pk}"
                target = _safe_next(
                    request, reverse("discussion_thread", args=[case.pk, thread.pk])
                )
                return redirect(target.split("#")[0] + anchor)
    else:
        audit.record(
            actor=request.user,
            verb="discussion.view",
            target=thread,
            case_id=case.pk,
            request=request,
        )
    context = discussion_context(
        request=request,
        case=case,
        access=access,
        thread=thread,
        before=_before(request),
        form=form,
        next_url=reverse("discussion_thread", args=[case.pk, thread.pk]),
        phi_findings=phi_findings,
    )
    context["case_url"] = case_url(case)
    return render(request, "realtime/thread.html", context, status=status)


@login_required
@require_POST
def thread_create(request: HttpRequest, case_id: int) -> HttpResponse:
    case, access = case_get_for(request.user, case_id)
    form = ThreadForm(request.POST)
    status = 400
    phi_findings = None
    if form.is_valid():
        dismissed = _dismissed(request)
        try:
            thread = services.thread_create(
                case=case,
                by=request.user,
                title=form.cleaned_data["title"],
                phi_dismissed=dismissed,
                ip=audit.client_ip(request),
            )
        except ServiceError as refused:
            status, phi_findings = _refused_on_form(
                form,
                "title",
                refused,
                text=" ".join(form.cleaned_data["title"].split()),
                dismissed=dismissed,
            )
        else:
            return redirect("discussion_thread", case.pk, thread.pk)
    context = discussion_context(
        request=request,
        case=case,
        access=access,
        thread_form=form,
        next_url=reverse("discussion", args=[case.pk]),
        topic_phi_findings=phi_findings,
    )
    context["case_url"] = case_url(case)
    return render(request, "realtime/thread.html", context, status=status)


def _own_message(request: HttpRequest, case_id: int, message_id: int):
    case, _access = case_get_for(request.user, case_id)
    message = get_object_or_404(
        Message.objects.select_related("thread", "author"), pk=message_id, case=case
    )
    if message.is_deleted:
        raise Http404("That message was deleted.")
    return case, message


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    case, message = _own_message(request, case_id, message_id)
    back = reverse("discussion_thread", args=[case.pk, message.thread_id])
    if message.author_id != request.user.pk:
        flash.error(request, "Only the author can edit a message.")
        return redirect(back)
    form = MessageEditForm(request.POST or None, initial={"body": message.body})
    phi_findings = []
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        dismissed = _dismissed(request)
        try:
            services.message_edit(
                message=message,
                by=request.user,
                body=form.cleaned_data["body"],
                case=case,
                ip=audit.client_ip(request),
                phi_dismissed=dismissed,
            )
        except ServiceError as refused:
            status, phi_findings = _refused_on_form(
                form,
                "body",
                refused,
                text=form.cleaned_data["body"],
                dismissed=dismissed,
            )
        else:
            return redirect(f"{back}#m{message.pk}")
    return render(
        request,
        "realtime/message_edit.html",
        {
            "case": case,
            "message": message,
            "form": form,
            "back": back,
            "phi_findings": phi_findings,
        },
        status=status,
    )


@login_required
@require_POST
def message_delete(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    case, message = _own_message(request, case_id, message_id)
    back = reverse("discussion_thread", args=[case.pk, message.thread_id])
    try:
        services.message_delete(
            message=message, by=request.user, case=case, ip=audit.client_ip(request)
        )
    except ServiceError as refused:
        flash.error(request, str(refused))
    else:
        flash.success(request, "Message deleted.")
    return redirect(_safe_next(request, back))


@login_required
@require_http_methods(["GET"])
def viewer_css(request: HttpRequest) -> HttpResponse:
    """Shows the viewer's own Edit and Delete when JavaScript is off.

    Message markup is the same for every reader (``realtime/_message.html``),
    with the author's controls hidden; ``discussion.js`` shows them on the
    viewer's messages. Without it, the panel loads this rule instead (in a
    ``<noscript>``: the CSP allows no inline styles). Showing a control
    grants nothing: the edit and delete views check the author.
    """
    rule = (
        f'.msg[data-author-id="{int(request.user.pk)}"] > '
        ".msg__actions[data-own][hidden] { display: flex !important; }\n"
    )
    response = HttpResponse(rule, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie"
    return response


def _initials(user) -> str:
    letters = (user.first_name[:1] + user.last_name[:1]) or user.username[:1]
    return letters.upper()


def _specialties(user) -> str:
    profile = getattr(user, "clinician_profile", None)
    if profile is None:
        return ""
    return ", ".join(s.name for s in profile.specialties.all())


@login_required
@require_http_methods(["GET"])
def mentionable(request: HttpRequest, case_id: int) -> JsonResponse:
    """Who the composer can offer after ``@``: ``?q=`` is the typed prefix.

    Only someone who may post in the discussion asks; others get 404 (cannot
    see the case) or 403 (a viewer).
    """
    case, access = case_get_for(request.user, case_id)
    if not access.can_comment:
        return JsonResponse(
            {"error": "You cannot post in this discussion."}, status=403
        )
    people = mentionable_users(
        case=case, by=request.user, prefix=request.GET.get("q", "")[:150]
    )
    return JsonResponse(
        [
            {
                "username": user.username,
                "name": user.display_name,
                "specialty": _specialties(user),
                "avatar_initials": _initials(user),
            }
            for user in people
        ],
        safe=False,
        headers={"Cache-Control": "private, no-store"},
    )
