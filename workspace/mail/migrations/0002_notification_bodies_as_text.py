"""Notification previews are plain text: flatten the markdown of stored ones.

New notifications are stored as text by ``notification_create``; this brings
the ones stored before to the same form. Irreversible in spirit (the markdown
is gone), so going back leaves the text as it is.
"""

from django.db import migrations

from workspace.markdown import markdown_to_text

BATCH = 500


def flatten(apps, schema_editor):
    Notification = apps.get_model("workspace", "Notification")
    batch = []
    for notification in Notification.objects.exclude(body="").only("id", "body"):
        text = markdown_to_text(notification.body)
        if text != notification.body:
            notification.body = text
            batch.append(notification)
        if len(batch) >= BATCH:
            Notification.objects.bulk_update(batch, ["body"])
            batch = []
    if batch:
        Notification.objects.bulk_update(batch, ["body"])


class Migration(migrations.Migration):
    dependencies = [
        ("workspace_mail", "0001_initial"),
        ("workspace", "0001_initial"),
    ]

    operations = [migrations.RunPython(flatten, migrations.RunPython.noop)]
