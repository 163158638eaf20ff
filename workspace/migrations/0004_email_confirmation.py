"""Confirmed, unique e-mail addresses.

Existing addresses were never confirmed, so every account starts unconfirmed.
Where several accounts share an address (case-insensitively), the oldest
account keeps it; the others lose it from ``email`` and keep it only as
``pending_email``, so none of them can receive invitations for it until the
address is confirmed (which the unique constraint allows only one account).
"""

import django.db.models.functions.text
from django.db import migrations, models


def split_duplicate_emails(apps, schema_editor):
    User = apps.get_model("workspace", "User")
    seen: set[str] = set()
    for user in (
        User.objects.exclude(email="")
        .order_by("date_joined", "pk")
        .iterator()
    ):
        address = user.email.lower()
        if address in seen:
            User.objects.filter(pk=user.pk).update(email="", pending_email=user.email)
        else:
            seen.add(address)


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('workspace', '0003_audit_hmac'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='email_confirmed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='user',
            name='pending_email',
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.RunPython(split_duplicate_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('email'), condition=models.Q(('email', ''), _negated=True), name='unique_user_email_ci'),
        ),
    ]
