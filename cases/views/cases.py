"""Case pages: the list and feeds, the case page, archive; with the create
and edit views (:mod:`cases.views.case_form`) and the participants' views
(:mod:`cases.views.participants`), whose URLs ``urlpatterns`` includes.

Thin: parse with a form, look the case up through ``case_get_for`` (404 for
a case the user may not see), call a service, render. A user who may see a
case but not do the action gets 403; services' refusals become messages or
field errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from cases import selectors
from cases.forms import CaseFilterForm
from cases.models import Case, Tag
from cases.search import cases_search
from cases.selectors import Feed, case_get_for
from cases.services import cases as services
from workspace.audit import client_ip
from workspace.views import clinician_required

from . import case_form, participants
from .case_page import SECTIONS, case_page

__all__ = [
    "PAGE_SIZE",
    "SECTIONS",
    "case_archive",
    "case_detail",
    "case_list",
    "case_page",
]

PAGE_SIZE = 20


# --- List -----------------------------------------------------------------------------


@clinician_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Feeds, filters, search and pages, in a fixed number of queries."""
    form = CaseFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    feed = data.get("feed") or Feed.ALL
    cases = selectors.cases_feed(request.user, feed)
    cases = selectors.cases_filter(
        cases,
        specialty=data.get("specialty"),
        tag=data.get("tag") or "",
        status=data.get("status") or "",
        age_band=data.get("age_band") or "",
    )
    query = data.get("q") or ""
    cases = cases_search(cases, query) if query else selectors.cases_newest_first(cases)
    page = Paginator(selectors.cases_for_cards(cases), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    popular_tags = (
        Tag.objects.filter(
            cases__in=selectors.cases_feed(request.user, feed).exclude(
                status=Case.Status.ARCHIVED
            )
        )
        .annotate(uses=Count("id"))
        .order_by("-uses", "name")[:12]
    )
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "feed": feed,
            "feeds": Feed.choices,
            "page": page,
            "query": query,
            "popular_tags": popular_tags,
            "filtered": any(
                data.get(k) for k in ("q", "specialty", "tag", "status", "age_band")
            ),
        },
    )


@clinician_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    return case_page(request, case, access)


@require_POST
@clinician_required
def case_archive(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = case_get_for(request.user, pk)
    if not access.can_manage:
        raise PermissionDenied("Only the case owner can archive it.")
    services.case_archive(case=case, by=request.user, ip=client_ip(request))
    messages.success(request, "Case archived. Only its participants can see it now.")
    return redirect(case)


urlpatterns = [
    path("cases/", case_list, name="case_list"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/archive/", case_archive, name="case_archive"),
    *case_form.urlpatterns,
    *participants.urlpatterns,
]
