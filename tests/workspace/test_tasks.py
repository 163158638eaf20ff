"""Background tasks run through Django's Tasks API on django-tasks-db."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from workspace.tasks import email_send

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_db_worker_runs_a_queued_batch(mailoutbox):
    with override_settings(TASKS=DB_TASKS):
        result = email_send.enqueue(
            subject="Hello", body="From the queue", to=["a@example.org"]
        )
        assert DBTaskResult.objects.get(id=result.id).status == "READY"
        assert mailoutbox == []
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        result.refresh()
        assert result.status == "SUCCESSFUL"
        assert result.return_value == 1
    assert mailoutbox[0].subject == "Hello"


def test_immediate_backend_is_used_in_tests(mailoutbox):
    result = email_send.enqueue(subject="Now", body="b", to=["b@example.org"])
    assert result.status == "SUCCESSFUL"
    assert mailoutbox[0].subject == "Now"
