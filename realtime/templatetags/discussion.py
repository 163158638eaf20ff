"""``{% case_discussion case access %}``: the live discussion panel on a case page.

Renders server-side (the page works without JavaScript) in a constant number
of queries; ``static/js/discussion.js`` then makes it live.
"""

from __future__ import annotations

import json

from django import template
from django.urls import reverse

from ..anchors import anchor_frame
from ..panel import discussion_context

register = template.Library()


@register.inclusion_tag("realtime/_panel.html", takes_context=True)
def case_discussion(context, case, access):
    request = context["request"]
    panel = discussion_context(request=request, case=case, access=access)
    panel["csp_nonce"] = context.get("csp_nonce", "")
    panel["csrf_token"] = context.get("csrf_token")
    panel["request"] = request
    panel["user"] = request.user
    return panel


def _clock(seconds: float) -> str:
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def anchor_label(anchor: dict | None) -> str:
    """The chip's text without the gallery number (the page's script adds
    it): "Image · box", "Video · 0:12", "CT slice 34"."""
    if not anchor:
        return ""
    if anchor.get("media") is None:
        return "Removed media"
    kind = anchor.get("kind")
    if kind == "region":
        return f"Image · {anchor.get('shape')}"
    if kind == "time":
        return f"Video · {_clock(float(anchor.get('t') or 0))}"
    return f"{anchor.get('modality') or 'DICOM'} slice {anchor.get('frame')}"


def anchor_href(case_id: int, anchor: dict) -> str:
    """Where the chip leads without JavaScript: the media on the case page,
    or the viewer at the slice."""
    media = anchor.get("media")
    if media is None:
        return reverse("case_detail", args=[case_id]) + "#media"
    if anchor.get("kind") == "slice":
        return (
            reverse("case_dicom_viewer", args=[case_id, media])
            + f"?frame={anchor.get('frame')}"
        )
    return reverse("case_detail", args=[case_id]) + f"#media-{media}"


@register.inclusion_tag("realtime/_anchor_chip.html")
def anchor_chip(message):
    """The chip on an anchored message (``realtime/_message.html``)."""
    anchor = anchor_frame(message)
    if anchor is None:
        return {"anchor": None}
    return {
        "message": message,
        "anchor": anchor,
        "anchor_json": json.dumps(anchor, separators=(",", ":")),
        "label": anchor_label(anchor),
        "href": anchor_href(message.case_id, anchor),
    }
