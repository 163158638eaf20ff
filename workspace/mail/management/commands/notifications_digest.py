"""``manage.py notifications_digest``: e-mail unread mentions to people away.

Each mention already queues a delayed task for its recipient's digest; this
command is the backstop for everyone who was online when that task ran (and
for deployments whose task backend cannot delay). Run it from cron every
minute or few; it sends each mention at most once, and forgets mentions
older than a week.
"""

from django.core.management.base import BaseCommand

from workspace.mail.services import mention_digests_send, pending_mentions_prune


class Command(BaseCommand):
    help = "E-mail digests of mentions still unread by people with no page open."

    def handle(self, *args, **options) -> None:
        pending_mentions_prune()
        sent = mention_digests_send()
        self.stdout.write(f"{sent} mention digest(s) sent.")
