from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from workspace.audit import verify_chain
from workspace.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's keyed hash chain; exit 1 at the first broken link."

    def handle(self, *args, **options):
        count, broken = verify_chain()
        if broken:
            raise CommandError(
                f"Audit chain broken at event {broken.event_id}: {broken.reason} "
                f"({count} events checked)."
            )
        keys = ", ".join(
            f"{row['key_id']}: {row['n']}"
            for row in AuditEvent.objects.values("key_id")
            .annotate(n=Count("id"))
            .order_by("key_id")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {count} audit events, chain intact."
                + (f" Events per key: {keys}." if keys else "")
            )
        )
