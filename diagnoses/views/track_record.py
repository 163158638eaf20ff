"""The diagnostic track record page (own and, when shown, colleagues').

``/track-record/`` is the signed-in clinician's own (always visible to them,
with the "Show on my profile" toggle); ``/clinicians/<username>/track-record/``
shows someone else's only once they chose to show it, and answers 404
otherwise, so a private record is indistinguishable from an empty one.
Linked from the profile page (templates/workspace/profile.html).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from diagnoses.scoring import track_record_show_set
from diagnoses.track_record import (
    calibration_svg,
    track_record,
    track_record_shown,
    track_record_visible_to,
)
from workspace.audit import client_ip
from workspace.models import User
from workspace.views import clinician_required


def _page(request: HttpRequest, owner: User, *, own: bool) -> HttpResponse:
    record = track_record(owner)
    return render(
        request,
        "diagnoses/track_record.html",
        {
            "owner": owner,
            "own": own,
            "record": record,
            "plot": calibration_svg(record),
            "shown": track_record_shown(owner),
        },
    )


@clinician_required
def my_track_record(request: HttpRequest) -> HttpResponse:
    return _page(request, request.user, own=True)


@clinician_required
def clinician_track_record(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_object_or_404(User, username=username, is_active=True)
    if owner.pk == request.user.pk:
        return redirect("track_record")
    if not owner.is_clinician or not track_record_visible_to(owner, request.user):
        raise Http404("No such track record.")
    return _page(request, owner, own=False)


class ShowForm(forms.Form):
    shown = forms.BooleanField(required=False)


@require_POST
@clinician_required
def track_record_show(request: HttpRequest) -> HttpResponse:
    form = ShowForm(request.POST)
    form.is_valid()
    shown = bool(form.cleaned_data.get("shown"))
    track_record_show_set(user=request.user, shown=shown, ip=client_ip(request))
    messages.success(
        request,
        "Your track record is shown to colleagues."
        if shown
        else "Your track record is private again.",
    )
    return redirect("track_record")


urlpatterns = [
    path("track-record/", my_track_record, name="track_record"),
    path("track-record/show/", track_record_show, name="track_record_show"),
    path(
        "clinicians/<str:username>/track-record/",
        clinician_track_record,
        name="clinician_track_record",
    ),
]
