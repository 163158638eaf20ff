"""``{% load track_record %}{% track_record_summary user %}``: the profile's
track-record panel, rendered by cases so workspace never imports it. Shows
the viewer's own record, or another clinician's once they chose to show it
(nothing otherwise). Two queries."""

from __future__ import annotations

from typing import Any

from django import template

from diagnoses.track_record import (
    calibration_svg,
    track_record,
    track_record_shown,
    track_record_visible_to,
)
from workspace.models import User

register = template.Library()


@register.inclusion_tag("diagnoses/_track_record_summary.html", takes_context=True)
def track_record_summary(context, owner: User) -> dict[str, Any]:
    viewer = context["request"].user
    if not track_record_visible_to(owner, viewer):
        return {"record": None, "hide": True}
    record = track_record(owner)
    return {
        "owner": owner,
        "own": owner.pk == viewer.pk,
        "record": record,
        "plot": calibration_svg(record, element_id=f"calibration-{owner.pk}"),
        "shown": track_record_shown(owner),
        "request": context["request"],
    }
