from django.core.management.base import BaseCommand, CommandError

from workspace.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 at the first broken link."

    def handle(self, *args, **options):
        count, broken = verify_chain()
        if broken:
            raise CommandError(
                f"Audit chain broken at event {broken.event_id}: {broken.reason} "
                f"({count} events checked)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK: {count} audit events, chain intact.")
        )
