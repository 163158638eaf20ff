import itertools

import pytest
from django.core.management import CommandError, call_command

from workspace import audit
from workspace.models import AuditEvent

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
