import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workspace.audit_keys import DERIVED_KEY_ID, KEY_ID_RE, derived_key, keyring


class Command(BaseCommand):
    help = (
        "Print the environment lines that rotate the audit chain's HMAC key: a new "
        "AUDIT_HMAC_KEY and id, with the current key kept in AUDIT_HMAC_PREVIOUS_KEYS "
        "so the events it sealed still verify. Changes nothing by itself."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--key-id", help="Id for the new key (default: next number)."
        )

    def handle(self, *args, key_id=None, **options):
        ring = keyring()
        previous = dict(settings.AUDIT_HMAC_PREVIOUS_KEYS)
        if DERIVED_KEY_ID not in previous:
            # Pin the derived key, so a later SECRET_KEY rotation can't orphan
            # the events it sealed.
            previous = {DERIVED_KEY_ID: derived_key().decode(), **previous}
        if ring.current_id != DERIVED_KEY_ID:
            previous[ring.current_id] = ring.current.decode()
        if key_id is None:
            numbers = [int(k) for k in ring.keys if k.isdigit()]
            key_id = str(max(numbers, default=0) + 1)
        if not KEY_ID_RE.match(key_id) or key_id in ring.keys:
            raise CommandError(
                f"Key id {key_id!r} is taken or invalid: use 1-16 letters, digits, "
                f"- or _, other than {', '.join(ring.keys)}."
            )
        pairs = ",".join(f"{k}:{v}" for k, v in previous.items())
        self.stdout.write(
            "# Put these in the environment of every process, restart them all,\n"
            "# then run `manage.py verify_audit`. Keep the old keys: without them\n"
            "# the events they sealed can't be verified.\n"
            f"AUDIT_HMAC_KEY={secrets.token_urlsafe(48)}\n"
            f"AUDIT_HMAC_KEY_ID={key_id}\n"
            f"AUDIT_HMAC_PREVIOUS_KEYS={pairs}\n"
        )
