"""The notifications page and opening one notification."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from workspace import selectors, services
from workspace.models import Notification


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
        services.notifications_mark_read(user=request.user, ids=ids)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(
                {"unread": selectors.unread_notification_count(request.user)}
            )
        return redirect("notification_list")
    page = Paginator(Notification.objects.filter(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "workspace/notification_list.html", {"page": page})


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url or "notification_list"
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notification_list")
