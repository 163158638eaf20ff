"""``manage.py rerender_markdown [--all]``: refill the stored HTML of Markdown.

Pages print the HTML stored at save time and never render Markdown on a
view. Run this after ``workspace.markdown`` changes its output (bump
``cases.models.case.RENDER_VERSION``) or after a deploy that adds a stored
field: it renders cases whose cached HTML is missing or of another version
and consults with a text but no HTML (``--all``: every row), one row at a
time, each rendered before its own short write.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.models import Case, ConsultRequest
from cases.models.case import RENDER_VERSION


class Command(BaseCommand):
    help = "Re-render the stored HTML of case and consult Markdown fields."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="every row, not just stale ones"
        )

    def handle(self, *args, **options):
        every = options["all"]
        cases = 0
        for case in Case.objects.only("pk", "rendered", *Case.MARKDOWN_FIELDS):
            current = case.rendered.get("_v") == RENDER_VERSION and all(
                name in case.rendered for name in Case.MARKDOWN_FIELDS
            )
            if every or not current:
                case.render_markdown_fields()
                Case.objects.filter(pk=case.pk).update(rendered=case.rendered)
                cases += 1
        consults = 0
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
                consults += 1
        self.stdout.write(f"Re-rendered {cases} case(s) and {consults} consult(s).")
