"""Consult requests and their events, moved from cases: the tables exist
already (``cases_*``), so only Django's state is created."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0014_move_to_feature_apps'),
        ('workspace', '0005_user_time_zone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ConsultRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('question', models.TextField()),
                        ('urgency', models.CharField(choices=[('routine', 'Routine'), ('urgent', 'Urgent'), ('emergent', 'Emergent')], default='routine', max_length=10)),
                        ('due_at', models.DateTimeField(db_index=True)),
                        ('status', models.CharField(choices=[('requested', 'Requested'), ('accepted', 'Accepted'), ('answered', 'Answered'), ('closed', 'Closed'), ('declined', 'Declined'), ('cancelled', 'Cancelled')], db_index=True, default='requested', max_length=12)),
                        ('impression', models.TextField(blank=True)),
                        ('recommendations', models.TextField(blank=True)),
                        ('follow_up', models.TextField(blank=True)),
                        ('decline_reason', models.TextField(blank=True)),
                        ('question_html', models.TextField(blank=True, editable=False)),
                        ('impression_html', models.TextField(blank=True, editable=False)),
                        ('recommendations_html', models.TextField(blank=True, editable=False)),
                        ('follow_up_html', models.TextField(blank=True, editable=False)),
                        ('granted_access', models.BooleanField(default=False)),
                        ('previous_role', models.CharField(blank=True, max_length=16)),
                        ('kept_as_consultant', models.BooleanField(default=False)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('accepted_at', models.DateTimeField(blank=True, null=True)),
                        ('answered_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='consults_assigned', to=settings.AUTH_USER_MODEL)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='consults', to='cases.case')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consults_requested', to=settings.AUTH_USER_MODEL)),
                        ('specialty', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='consults', to='workspace.specialty')),
                    ],
                    options={
                        'db_table': 'cases_consultrequest',
                        'ordering': ['-created', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ConsultEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('requested', 'Requested'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('answered', 'Answered'), ('closed', 'Closed'), ('cancelled', 'Cancelled'), ('access_ended', 'Consultant access ended'), ('kept', 'Kept as consultant')], max_length=16)),
                        ('note', models.TextField(blank=True)),
                        ('created', models.DateTimeField(default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('consult', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='consults.consultrequest')),
                    ],
                    options={
                        'db_table': 'cases_consultevent',
                        'ordering': ['created', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='consultrequest',
                    index=models.Index(fields=['status', 'specialty'], name='consult_queue'),
                ),
                migrations.AddConstraint(
                    model_name='consultrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('specialty__isnull', False), ('assignee__isnull', False), _connector='OR'), name='consult_has_specialty_or_assignee'),
                ),
            ],
        ),
    ]
