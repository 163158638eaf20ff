"""The viewer's time zone: which one applies, and the middleware that activates it.

A user's zone is, in order: the one chosen on their profile, else the one
their browser reports (the ``tz`` cookie that ``static/js/app.js`` sets), else
``settings.TIME_ZONE``. Templates then show every time in that zone through
Django's ``date`` filter, and the page exposes it as ``<html
data-time-zone>`` so JavaScript formats live times the same way.

Anything rendered for a user outside their request (an e-mail) uses
:func:`zone_override_for`, which knows only the profile zone.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE_NAME = "tz"

# Older names that browsers (ICU) and some systems still report, and the
# current name tzdata keeps for each zone. A name not listed here that
# ``zoneinfo`` knows is used as it is.
LEGACY_NAMES = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Mendoza": "America/Argentina/Mendoza",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Macao": "Asia/Macau",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Ujung_Pandang": "Asia/Makassar",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Europe/Kiev": "Europe/Kyiv",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
    "Etc/UTC": "UTC",
    "Etc/GMT": "UTC",
    "Etc/Universal": "UTC",
    "Etc/Zulu": "UTC",
    "GMT": "UTC",
    "Universal": "UTC",
    "Zulu": "UTC",
}

# The regions offered in the profile's zone list (tzdata's own areas).
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_canonical(name: str | None) -> str | None:
    """The current tzdata name for ``name``, or None if it is no known zone."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name not in _available():
        return None
    current = LEGACY_NAMES.get(name, name)
    return current if current in _available() else name


def validate_time_zone(value: str) -> None:
    """Model validator: blank (follow the browser) or a zone ``zoneinfo`` knows."""
    if value and zone_canonical(value) is None:
        raise ValidationError(
            "“%(value)s” is not a time zone.", params={"value": value}
        )


@cache
def zone_choices() -> list[tuple[str, object]]:
    """Choices for a select: follow the browser, UTC, then zones by region."""
    grouped: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for name in sorted(_available()):
        region, _, place = name.partition("/")
        if region in grouped and place and name not in LEGACY_NAMES:
            grouped[region].append((name, place.replace("_", " ").replace("/", " / ")))
    return [
        ("", "Follow my browser"),
        ("UTC", "UTC"),
        *((region, zones) for region, zones in grouped.items() if zones),
    ]


def zone_for_request(request: HttpRequest) -> str:
    """The zone to show ``request``'s page in: profile, then browser, then default."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = zone_canonical(getattr(user, "time_zone", ""))
        if chosen:
            return chosen
    browser = unquote(request.COOKIES.get(COOKIE_NAME, ""))
    return zone_canonical(browser) or settings.TIME_ZONE


def zone_override_for(user) -> AbstractContextManager:
    """Render inside this to show times as ``user`` would see them away from a page."""
    return timezone.override(
        zone_canonical(getattr(user, "time_zone", "")) or settings.TIME_ZONE
    )


class TimeZoneMiddleware:
    """Activate the viewer's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_for_request(request)
        request.time_zone = zone
        with timezone.override(zone):
            return self.get_response(request)
