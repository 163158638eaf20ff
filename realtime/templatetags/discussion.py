"""``{% case_discussion case access %}``: the live discussion panel on a case page.

Renders server-side (the page works without JavaScript) in a constant number
of queries; ``static/js/discussion.js`` then makes it live.
"""

from __future__ import annotations

from django import template

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
