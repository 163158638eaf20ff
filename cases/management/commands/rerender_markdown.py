"""``manage.py rerender_markdown [--all]``: refill the stored HTML of Markdown.

Pages print the HTML stored at save time and never render Markdown on a
view. Run this after ``workspace.markdown`` changes its output (bump
``cases.models.case.RENDER_VERSION``) or after a deploy that adds a stored
field. Each app with stored Markdown has a ``stored_markdown.py`` with
``rerender(*, every: bool) -> tuple[str, int]`` (found through
:func:`cases.panels.contributions`): it renders its stale rows (``--all``:
every row), one row at a time, each rendered before its own short write.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.panels import contributions


class Command(BaseCommand):
    help = "Re-render the stored HTML of every app's Markdown fields."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="every row, not just stale ones"
        )

    def handle(self, *args, **options):
        done = [
            rerender(every=options["all"])
            for rerender in contributions("stored_markdown", "rerender")
        ]
        self.stdout.write(
            "Re-rendered " + " and ".join(f"{n} {what}" for what, n in done) + "."
        )
