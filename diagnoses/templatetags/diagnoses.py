"""The case page's differential panel.

``{% load diagnoses %}`` then ``{% case_differentials case access %}``. It needs
``request`` in the context (the case page has it). The number of queries is
fixed, whatever the number of entries, votes or findings.
"""

from __future__ import annotations

from typing import Any

from django import template

from cases.models import Case, JoinRequest
from cases.permissions import CaseAccess
from diagnoses.models import Differential
from diagnoses.selectors import (
    consensus_hidden,
    differential_ranking,
    ranking_history,
    round_voters,
)
from workspace.models import User

register = template.Library()

HISTORY_ON_PAGE = 8
ORDERS = ("consensus", "working")


def differentials_context(
    case: Case, access: CaseAccess, *, user: User, order: str = ""
) -> dict[str, Any]:
    """Everything the list partial needs; shared with the live fragment view."""
    order = order if order in ORDERS else "consensus"
    submitted = round_voters(case) if case.independent else []
    hidden = consensus_hidden(case, user, submitted)
    ranked = differential_ranking(case, user=user, with_trend=not hidden)
    if hidden:
        # Independent mode: no consensus order, no one else's numbers.
        order = "working"
        for r in ranked:
            r.mean = r.spread = r.proposer_estimate = r.pooled = None
            r.pooled_rank = None
            r.voters = 0
            r.trend = []
    if order == "working":
        ranked = sorted(
            ranked, key=lambda r: (r.differential.position, r.differential.pk)
        )
    if hidden:
        for i, r in enumerate(ranked, start=1):
            r.rank = i
    history = ranking_history(case, limit=HISTORY_ON_PAGE)
    confirmed = next((r for r in ranked if r.differential.is_confirmed), None)
    writable = case.status != Case.Status.ARCHIVED
    my_round = user.pk in submitted
    voted = any(r.my_vote is not None for r in ranked)
    return {
        "independent": case.independent,
        "hidden": hidden,
        "my_round": my_round,
        "rounds_submitted": len(submitted),
        "can_submit_round": case.independent
        and access.can_vote
        and case.status == Case.Status.PUBLISHED
        and not my_round,
        "has_voted": voted,
        "can_reveal": case.independent
        and access.can_manage
        and case.consensus_revealed_at is None
        and case.status == Case.Status.PUBLISHED,
        "can_toggle_independent": access.can_manage
        and case.status == Case.Status.PUBLISHED,
        "may_ask_to_join": access.role is None
        and access.can_view
        and case.status == Case.Status.PUBLISHED
        and user.is_verified_clinician,
        "asked_to_join": access.role is None
        and JoinRequest.objects.filter(case=case, user=user).exists(),
        "case": case,
        "access": access,
        "ranked": ranked,
        "order": order,
        "history": history,
        "version": history[0].pk if history else 0,
        "confirmed": confirmed,
        "can_vote": access.can_vote and writable,
        "can_edit": access.can_edit and writable,
        "can_resolve": access.can_edit and case.status == Case.Status.PUBLISHED,
        "viewer_id": user.pk,
    }


@register.inclusion_tag("diagnoses/_differentials.html", takes_context=True)
def case_differentials(context, case: Case, access: CaseAccess) -> dict[str, Any]:
    request = context["request"]
    ctx = differentials_context(
        case, access, user=request.user, order=request.GET.get("dx_order", "")
    )
    ctx.update(
        {
            "request": request,
            "csrf_token": context.get("csrf_token"),
            "csp_nonce": context.get("csp_nonce"),
        }
    )
    return ctx


@register.filter
def percent(value: float | None) -> str:
    """``62.5`` → ``"62.5"``, ``62.0`` → ``"62"``, ``None`` → ``"–"``."""
    if value is None:
        return "–"
    return f"{value:.1f}".removesuffix(".0")


@register.filter
def dx_status(value: str) -> str:
    """A differential status value as its label ("ruled_out" → "Ruled out")."""
    return dict(Differential.Status.choices).get(value, value)
