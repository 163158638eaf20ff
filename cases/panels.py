"""What the feature apps add to cases' pages, found rather than imported.

cases sits below diagnoses, consults and portal (README, "Apps"), so it
discovers what they contribute here instead of importing them, in
INSTALLED_APPS order:

- ``<app>/case_page.py``: ``context(*, request, case, access) -> dict``,
  merged into the case page's context;
- ``<app>/dashboard.py``: ``sections(user) -> dict``, the dashboard's
  sections for that feature (:mod:`cases.selectors_dashboard`).

Panels that need no view-side state compose in the template instead, through
each app's template tags (``{% case_differentials %}``, ``{% case_consults %}``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

from django.apps import apps
from django.http import HttpRequest

from cases.models import Case
from cases.permissions import CaseAccess

__all__ = ["case_page_context", "contributions"]


@cache
def contributions(module: str, function: str) -> tuple[Callable[..., Any], ...]:
    """``<app>.<module>.<function>`` of every installed app that has one."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{module}"
        try:
            imported = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.append(getattr(imported, function))
    return tuple(found)


def case_page_context(
    *, request: HttpRequest, case: Case, access: CaseAccess
) -> dict[str, Any]:
    """The feature apps' additions to the case page's context."""
    context: dict[str, Any] = {}
    for contribute in contributions("case_page", "context"):
        context.update(contribute(request=request, case=case, access=access))
    return context
