"""The home page: landing for visitors, patients' page, clinicians' dashboard."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from cases.selectors_dashboard import dashboard_for
from workspace import selectors as workspace_selectors


def home(request: HttpRequest) -> HttpResponse:
    """Landing page for visitors; the patient's portal; the clinician's
    dashboard: what needs them now (with counts), then recent activity."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "landing.html")
    if user.is_patient:
        return redirect("portal")
    return render(
        request,
        "cases/dashboard.html",
        {
            "dash": dashboard_for(user),
            "workspaces": list(workspace_selectors.workspaces_for(user)),
            "invitations": list(workspace_selectors.pending_invitations_for(user)),
        },
    )


urlpatterns = [path("", home, name="home")]
