from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from workspace import selectors as workspace_selectors


def home(request: HttpRequest) -> HttpResponse:
    """Landing page for visitors, the dashboard for everyone signed in."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "landing.html")
    if user.is_patient:
        return render(
            request,
            "cases/patient_home.html",
            {"links": workspace_selectors.clinicians_of(user)},
        )
    return render(
        request,
        "cases/dashboard.html",
        {
            "workspaces": workspace_selectors.workspaces_for(user),
            "invitations": workspace_selectors.pending_invitations_for(user),
        },
    )


urlpatterns = [path("", home, name="home")]
