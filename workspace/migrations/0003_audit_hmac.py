"""Seal the audit chain with HMAC: add AuditEvent.key_id and reseal old events.

Events written before this migration were hashed with plain SHA-256, which
anyone able to write the table can recompute. The migration checks that old
chain first (and stops if it is broken, so tampering is never laundered into
a freshly sealed chain), then reseals every event under the current audit
key. The canonical forms are frozen here, as they were at each step.
"""

import hashlib
import hmac
import json

from django.db import migrations, models


def _legacy_canonical(event) -> bytes:
    payload = {
        "created": event.created.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "verb": event.verb,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "case_id": event.case_id,
        "ip": event.ip,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def _keyed_canonical(event) -> bytes:
    payload = json.loads(_legacy_canonical(event))
    payload["key_id"] = event.key_id
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def _rechain(apps, *, seal, check, key_id):
    AuditEvent = apps.get_model("workspace", "AuditEvent")
    AuditChainHead = apps.get_model("workspace", "AuditChainHead")
    previous = ""
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != previous or not check(event):
            raise RuntimeError(
                f"The audit chain is already broken at event {event.pk}; "
                "investigate it (manage.py verify_audit on the previous release) "
                "before migrating, so the break is not resealed."
            )
        previous = event.hash
    previous = ""
    last_id = None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        event.prev_hash = previous
        event.key_id = key_id
        event.hash = seal(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            prev_hash=event.prev_hash, key_id=event.key_id, hash=event.hash
        )
        previous, last_id = event.hash, event.pk
    AuditChainHead.objects.filter(pk=1).update(
        last_hash=previous, last_event_id=last_id
    )


def reseal_with_hmac(apps, schema_editor):
    from workspace.audit_keys import keyring

    ring = keyring()

    def legacy_ok(event):
        return hashlib.sha256(_legacy_canonical(event)).hexdigest() == event.hash

    def seal(event):
        return hmac.new(ring.current, _keyed_canonical(event), hashlib.sha256).hexdigest()

    _rechain(apps, seal=seal, check=legacy_ok, key_id=ring.current_id)


def unseal_to_sha256(apps, schema_editor):
    from workspace.audit_keys import keyring

    ring = keyring()

    def keyed_ok(event):
        key = ring.keys.get(event.key_id)
        return key is not None and hmac.compare_digest(
            hmac.new(key, _keyed_canonical(event), hashlib.sha256).hexdigest(),
            event.hash,
        )

    def seal(event):
        return hashlib.sha256(_legacy_canonical(event)).hexdigest()

    _rechain(apps, seal=seal, check=keyed_ok, key_id="")


class Migration(migrations.Migration):
    dependencies = [("workspace", "0002_specialties")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.RunPython(reseal_with_hmac, unseal_to_sha256),
    ]
