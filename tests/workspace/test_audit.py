import hashlib
import hmac
import itertools
from importlib import import_module

import pytest
from django.core.management import CommandError, call_command

from workspace import audit
from workspace.audit_keys import derived_key, parse_previous_keys
from workspace.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def make_events(user, n=5):
    return [
        audit.record(actor=user, verb=f"test.event{i}", target=user, data={"i": i})
        for i in range(n)
    ]


def test_events_form_a_hash_chain(clinician):
    events = make_events(clinician)
    assert events[0].prev_hash == ""
    for prev, event in itertools.pairwise(events):
        assert event.prev_hash == prev.hash
    count, broken = audit.verify_chain()
    assert (count, broken) == (5, None)


def test_verify_audit_command_reports_ok(clinician, capsys):
    make_events(clinician, 3)
    call_command("verify_audit")
    assert "OK: 3 audit events" in capsys.readouterr().out


def test_edited_event_is_detected_at_its_position(clinician):
    events = make_events(clinician)
    AuditEvent.objects.filter(pk=events[2].pk).update(verb="test.innocent")
    with pytest.raises(
        CommandError, match=f"broken at event {events[2].pk}: its content"
    ):
        call_command("verify_audit")


def test_deleted_event_breaks_the_next_link(clinician):
    events = make_events(clinician)
    AuditEvent.objects.filter(pk=events[1].pk)._raw_delete(AuditEvent.objects.db)
    _count, broken = audit.verify_chain()
    assert broken.event_id == events[2].pk
    assert "link" in broken.reason


def test_truncating_the_newest_events_is_detected(clinician):
    events = make_events(clinician)
    AuditEvent.objects.filter(pk=events[-1].pk)._raw_delete(AuditEvent.objects.db)
    _, broken = audit.verify_chain()
    assert broken is not None and "removed from the end" in broken.reason


def test_events_cannot_be_changed_or_deleted_through_the_orm(clinician):
    event = make_events(clinician, 1)[0]
    event.verb = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_record_uses_remote_addr_and_ignores_spoofable_forwarded_header(rf, clinician):
    request = rf.get(
        "/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="198.51.100.4"
    )
    event = audit.record(actor=clinician, verb="test.ip", request=request)
    assert event.ip == "198.51.100.4"


def test_admin_shows_audit_read_only(admin_client, clinician):
    event = make_events(clinician, 1)[0]
    assert admin_client.get("/admin/workspace/auditevent/").status_code == 200
    response = admin_client.post(
        f"/admin/workspace/auditevent/{event.pk}/change/", {"verb": "x"}
    )
    assert response.status_code == 403
    assert admin_client.get("/admin/workspace/auditevent/add/").status_code == 403


# --- Keyed chain (HMAC) ---------------------------------------------------------------

KEY_A = "a" * 20 + "-first-audit-key-for-tests-0123456789"
KEY_B = "b" * 20 + "-second-audit-key-for-tests-987654321"


def _rewrite_from(events, index, *, seal):
    """What an attacker with table access does: edit one row, re-link the rest."""
    rows = list(AuditEvent.objects.order_by("id"))
    rows[index].verb = "test.innocent"
    previous = rows[index - 1].hash if index else ""
    for row in rows[index:]:
        row.prev_hash = previous
        row.hash = seal(row)
        AuditEvent.objects.filter(pk=row.pk).update(
            verb=row.verb, prev_hash=row.prev_hash, key_id=row.key_id, hash=row.hash
        )
        previous = row.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=previous)


def test_rewrite_recomputed_with_plain_sha256_fails_verification(clinician):
    events = make_events(clinician)
    _rewrite_from(
        events, 2, seal=lambda row: hashlib.sha256(row.canonical()).hexdigest()
    )
    _count, broken = audit.verify_chain()
    assert broken is not None and broken.event_id == events[2].pk
    assert "does not match its hash" in broken.reason
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk}"):
        call_command("verify_audit")


def test_rewrite_recomputed_under_a_guessed_key_fails_verification(clinician):
    events = make_events(clinician)
    _rewrite_from(events, 1, seal=lambda row: row.compute_hash(b"guessed"))
    _count, broken = audit.verify_chain()
    assert broken.event_id == events[1].pk


def test_rewrite_claiming_an_unknown_key_id_fails_verification(clinician):
    events = make_events(clinician)

    def seal(row):
        row.key_id = ""
        return hashlib.sha256(row.canonical()).hexdigest()

    _rewrite_from(events, 3, seal=seal)
    _count, broken = audit.verify_chain()
    assert broken.event_id == events[3].pk
    assert "not configured" in broken.reason


def test_the_keyed_chain_verifies_and_names_its_key(clinician, settings, capsys):
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_A, "a"
    events = make_events(clinician, 3)
    assert {e.key_id for e in events} == {"a"}
    assert (
        events[0].hash
        == hmac.new(KEY_A.encode(), events[0].canonical(), hashlib.sha256).hexdigest()
    )
    call_command("verify_audit")
    assert "Events per key: a: 3." in capsys.readouterr().out


def test_without_a_configured_key_events_use_the_key_derived_from_secret_key(
    clinician, settings
):
    settings.AUDIT_HMAC_KEY = ""
    event = make_events(clinician, 1)[0]
    assert event.key_id == "sk"
    assert event.hash == event.compute_hash(derived_key())
    assert event.hash != event.compute_hash(settings.SECRET_KEY.encode())
    settings.SECRET_KEY = "another-secret-key-entirely-" + "x" * 30
    _count, broken = audit.verify_chain()
    assert broken is not None and broken.event_id == event.pk


def test_rotation_keeps_events_sealed_by_the_old_key_verifiable(clinician, settings):
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_A, "a"
    old = make_events(clinician, 3)
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_B, "b"
    settings.AUDIT_HMAC_PREVIOUS_KEYS = {"a": KEY_A}
    new = make_events(clinician, 2)
    assert [e.key_id for e in old + new] == ["a", "a", "a", "b", "b"]
    assert audit.verify_chain() == (5, None)

    settings.AUDIT_HMAC_PREVIOUS_KEYS = {}
    _count, broken = audit.verify_chain()
    assert broken.event_id == old[0].pk and "'a'" in broken.reason


def test_a_retired_key_cannot_seal_events_after_its_successor(clinician, settings):
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_A, "a"
    make_events(clinician, 2)
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_B, "b"
    settings.AUDIT_HMAC_PREVIOUS_KEYS = {"a": KEY_A}
    newer = make_events(clinician, 2)
    # Someone holding only the leaked old key rewrites the newest event.

    def seal(row):
        row.key_id = "a"
        return row.compute_hash(KEY_A.encode())

    _rewrite_from(newer, 3, seal=seal)
    _count, broken = audit.verify_chain()
    assert broken.event_id == newer[1].pk and "retired" in broken.reason


def test_audit_key_rotate_prints_settings_that_keep_the_chain_verifiable(
    clinician, settings, capsys
):
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = KEY_A, "1"
    make_events(clinician, 2)
    call_command("audit_key_rotate")
    lines = dict(
        line.split("=", 1)
        for line in capsys.readouterr().out.splitlines()
        if line and not line.startswith("#")
    )
    assert lines["AUDIT_HMAC_KEY_ID"] == "2"
    assert len(lines["AUDIT_HMAC_KEY"]) >= 32 and lines["AUDIT_HMAC_KEY"] != KEY_A
    settings.AUDIT_HMAC_KEY = lines["AUDIT_HMAC_KEY"]
    settings.AUDIT_HMAC_KEY_ID = lines["AUDIT_HMAC_KEY_ID"]
    settings.AUDIT_HMAC_PREVIOUS_KEYS = parse_previous_keys(
        lines["AUDIT_HMAC_PREVIOUS_KEYS"]
    )
    assert list(settings.AUDIT_HMAC_PREVIOUS_KEYS) == ["sk", "1"]
    make_events(clinician, 1)
    assert audit.verify_chain() == (3, None)


def test_migration_reseals_a_legacy_sha256_chain_and_refuses_a_broken_one(clinician):
    from django.apps import apps

    reseal = import_module("workspace.migrations.0003_audit_hmac").reseal_with_hmac
    unseal = import_module("workspace.migrations.0003_audit_hmac").unseal_to_sha256
    events = make_events(clinician, 3)
    unseal(apps, None)
    legacy = list(AuditEvent.objects.order_by("id"))
    assert {e.key_id for e in legacy} == {""}
    assert audit.verify_chain()[1] is not None
    reseal(apps, None)
    assert audit.verify_chain() == (3, None)

    unseal(apps, None)
    AuditEvent.objects.filter(pk=events[1].pk).update(verb="test.innocent")
    with pytest.raises(RuntimeError, match=f"broken at event {events[1].pk}"):
        reseal(apps, None)
