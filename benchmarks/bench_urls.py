"""Consilium's URLs plus the page baseline: a view that returns a page of a
given size without touching the database, through the same middleware."""

from functools import cache

from django.http import HttpRequest, HttpResponse
from django.urls import path

from workspace.urls import handler403 as handler403
from workspace.urls import urlpatterns as consilium_urlpatterns


@cache
def _page(size: int) -> bytes:
    head = b"<!doctype html><html><head><title>baseline</title></head><body><main>"
    tail = b"</main></body></html>"
    filler = b"<p>lorem ipsum dolor sit amet</p>\n"
    body = (filler * (size // len(filler) + 1))[: max(0, size - len(head) - len(tail))]
    return head + body + tail


def baseline_page(request: HttpRequest, size: int) -> HttpResponse:
    return HttpResponse(_page(min(size, 20 * 1024 * 1024)), content_type="text/html")


urlpatterns = [
    path("bench/baseline/<int:size>/", baseline_page),
    *consilium_urlpatterns,
]
