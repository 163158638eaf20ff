"""E-mail preferences (signed in) and one-click unsubscribe (signed link, no login)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from workspace.audit import client_ip
from workspace.models import User

from .forms import EmailPreferenceForm
from .models import EmailKind
from .sending import preference_for, unsubscribe_read
from .services import email_preference_update, email_unsubscribe


@login_required
def email_preferences(request: HttpRequest) -> HttpResponse:
    # An all-unticked form posts nothing, which is still a submission.
    data = request.POST if request.method == "POST" else None
    form = EmailPreferenceForm(
        data, instance=preference_for(request.user), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        email_preference_update(
            user=request.user, changes=form.cleaned_data, ip=client_ip(request)
        )
        messages.success(request, "E-mail preferences saved.")
        return redirect("email_preferences")
    return render(request, "workspace/email_preferences.html", {"form": form})


# No CSRF token: a mail provider's one-click POST (RFC 8058) carries none. The
# signed token in the URL is what authorises the change, and GET changes nothing
# (link scanners follow GETs).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user_id, kind = unsubscribe_read(token)
    except signing.BadSignature:
        user_id, kind = None, None
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return render(
            request, "workspace/email_unsubscribe.html", {"invalid": True}, status=400
        )
    context = {"token": token, "kind_label": EmailKind(kind).label, "email": user.email}
    if request.method == "POST":
        everything = request.POST.get("scope") == "all"
        email_unsubscribe(
            user=user, kind=None if everything else kind, ip=client_ip(request)
        )
        context.update(done=True, everything=everything)
    return render(request, "workspace/email_unsubscribe.html", context)
