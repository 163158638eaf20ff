"""``manage.py consults_escalate``: due-soon reminders and overdue escalation.

Run it from cron every five minutes (emergent consults are due within the
hour). It is idempotent: each consult gets each reminder once, however often
it runs. See :mod:`consults.reminders` for who is told what.
"""

from django.core.management.base import BaseCommand

from consults.reminders import consults_escalate


class Command(BaseCommand):
    help = "Remind specialists of consults nearly due; escalate overdue ones."

    def handle(self, *args, **options) -> None:
        report = consults_escalate()
        self.stdout.write(
            f"{report.due_soon} due-soon reminder(s), "
            f"{report.overdue} overdue escalation(s) sent."
        )
