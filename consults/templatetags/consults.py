"""The case page's consult panel.

``{% load consults %}`` then ``{% case_consults case access %}``. It needs
``request`` in the context (the case page has it).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from cases.models import Case
from cases.permissions import CaseAccess
from consults.models import ConsultRequest
from consults.selectors import consults_for_case

register = template.Library()


def consults_context(case: Case, access: CaseAccess) -> dict[str, Any]:
    return {
        "case": case,
        "access": access,
        "consults": consults_for_case(case),
        # Only a published or resolved case takes a consult (see the service).
        "can_request": bool(access.role) and access.can_comment and case.is_open,
        "draft_hint": bool(access.role) and access.can_comment and case.is_draft,
    }


@register.inclusion_tag("consults/_consults.html", takes_context=True)
def case_consults(context, case: Case, access: CaseAccess) -> dict[str, Any]:
    ctx = consults_context(case, access)
    ctx.update(
        {
            "request": context["request"],
            "csrf_token": context.get("csrf_token"),
            "csp_nonce": context.get("csp_nonce"),
        }
    )
    return ctx


@register.simple_tag
def consult_url(consult: ConsultRequest) -> str:
    return reverse("consult_detail", args=[consult.pk])


@register.simple_tag
def consult_html(consult: ConsultRequest, name: str) -> str:
    """The stored, sanitised HTML of a consult's markdown field ``name``."""
    return consult.html(name)
