"""Re-rendering the stored Markdown of cases (``manage.py rerender_markdown``)."""

from __future__ import annotations

from cases.models import Case
from cases.models.case import RENDER_VERSION

__all__ = ["rerender"]


def rerender(*, every: bool) -> tuple[str, int]:
    """Cases whose cached HTML is missing or of another version (or all)."""
    count = 0
    for case in Case.objects.only("pk", "rendered", *Case.MARKDOWN_FIELDS):
        current = case.rendered.get("_v") == RENDER_VERSION and all(
            name in case.rendered for name in Case.MARKDOWN_FIELDS
        )
        if every or not current:
            case.render_markdown_fields()
            Case.objects.filter(pk=case.pk).update(rendered=case.rendered)
            count += 1
    return "case(s)", count
