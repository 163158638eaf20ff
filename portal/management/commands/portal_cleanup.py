"""``manage.py portal_cleanup``: delete patients' uploads that were never sent.

Run it from cron next to ``media_cleanup`` (hourly is plenty). A patient's
file is uploaded as soon as they pick it; if they leave without sending it,
it is deleted once it is older than ``--hours`` (default 24).
"""

from datetime import timedelta

from django.core.management.base import BaseCommand

from portal.submission_media import unsent_uploads_delete


class Command(BaseCommand):
    help = "Delete patients' uploads that were never sent to a clinician."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=24,
            help="Delete unsent uploads older than this (default 24).",
        )

    def handle(self, *args, hours: int, **options) -> None:
        count = unsent_uploads_delete(older_than=timedelta(hours=hours))
        self.stdout.write(f"{count} unsent upload(s) deleted.")
