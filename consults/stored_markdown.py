"""Re-rendering the stored Markdown of consults (``manage.py rerender_markdown``)."""

from __future__ import annotations

from consults.models import ConsultRequest

__all__ = ["rerender"]


def rerender(*, every: bool) -> tuple[str, int]:
    """Consults with a text but no stored HTML (or all)."""
    count = 0
    names = ConsultRequest.MARKDOWN_FIELDS
    html_names = [f"{name}_html" for name in names]
    for consult in ConsultRequest.objects.only("pk", *names, *html_names):
        stale = any(
            (getattr(consult, name) or "").strip()
            and not getattr(consult, f"{name}_html")
            for name in names
        )
        if every or stale:
            consult.render_markdown_fields()
            ConsultRequest.objects.filter(pk=consult.pk).update(
                **{html: getattr(consult, html) for html in html_names}
            )
            count += 1
    return "consult(s)", count
