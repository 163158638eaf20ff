"""The home page: landing for visitors, patients' page, clinicians' dashboard."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from workspace import selectors as workspace_selectors

from .. import selectors
from ..models import Case
from ..permissions import OPEN_STATUSES
from ..selectors import Feed

DASHBOARD_ROWS = 6


def home(request: HttpRequest) -> HttpResponse:
    """Landing page for visitors, the dashboard for everyone signed in."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "landing.html")
    if user.is_patient:
        return redirect("portal")
    recent = selectors.cases_newest_first(
        selectors.cases_feed(user, Feed.ALL)
        .filter(status__in=OPEN_STATUSES)
        .exclude(owner=user)
    )
    shared = selectors.cases_feed(user, Feed.SHARED).exclude(
        status=Case.Status.ARCHIVED
    )
    drafts = selectors.cases_feed(user, Feed.MINE).filter(status=Case.Status.DRAFT)
    mine = selectors.cases_feed(user, Feed.MINE).filter(status__in=OPEN_STATUSES)
    return render(
        request,
        "cases/dashboard.html",
        {
            "workspaces": workspace_selectors.workspaces_for(user),
            "invitations": workspace_selectors.pending_invitations_for(user),
            "recent_cases": selectors.cases_for_cards(recent)[:DASHBOARD_ROWS],
            "shared_cases": selectors.cases_for_cards(shared.order_by("-updated"))[
                :DASHBOARD_ROWS
            ],
            "draft_cases": selectors.cases_for_cards(drafts.order_by("-updated"))[
                :DASHBOARD_ROWS
            ],
            "my_cases": selectors.cases_for_cards(selectors.cases_newest_first(mine))[
                :DASHBOARD_ROWS
            ],
        },
    )


urlpatterns = [path("", home, name="home")]
