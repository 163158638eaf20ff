"""``manage.py media_cleanup``: expire abandoned uploads, requeue stuck assets.

Run it from cron (hourly is plenty): open upload sessions older than
``MEDIA_UPLOAD_SESSION_TTL_SECONDS`` are aborted and their bytes deleted;
assets left uploaded/processing for an hour (a worker crashed) are queued
again, and their processing deletes the original as usual.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand

from media_handling import services


class Command(BaseCommand):
    help = "Expire abandoned upload sessions and requeue stuck media processing."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stale-minutes",
            type=int,
            default=60,
            help="Requeue assets pending for longer than this (default 60).",
        )

    def handle(self, *args, stale_minutes: int, **options) -> None:
        expired = services.upload_sessions_expire()
        requeued = services.assets_requeue_stale(
            older_than=timedelta(minutes=stale_minutes)
        )
        self.stdout.write(
            f"{expired} upload session(s) expired, {requeued} asset(s) requeued."
        )
