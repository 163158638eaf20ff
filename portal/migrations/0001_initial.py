"""Social links, submissions and findings, moved from cases: the tables exist
already (``cases_*``), so only Django's state is created."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0014_move_to_feature_apps'),
        ('diagnoses', '0001_initial'),
        ('media_handling', '0002_upload_session_purpose_parts_done'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='SocialLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('platform', models.CharField(choices=[('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('instagram', 'Instagram'), ('reddit', 'Reddit'), ('x', 'X (Twitter)'), ('facebook', 'Facebook'), ('other', 'Website')], max_length=16)),
                        ('url', models.CharField(max_length=2048)),
                        ('canonical_url', models.CharField(blank=True, max_length=2048)),
                        ('content_id', models.CharField(blank=True, max_length=100)),
                        ('embed_url', models.CharField(blank=True, max_length=2048)),
                        ('hashtags', models.JSONField(blank=True, default=list)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'cases_sociallink',
                        'indexes': [models.Index(fields=['canonical_url'], name='sociallink_canonical')],
                    },
                ),
                migrations.CreateModel(
                    name='Submission',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('description', models.TextField(max_length=4000)),
                        ('consent_text', models.TextField()),
                        ('consent_at', models.DateTimeField()),
                        ('status', models.CharField(choices=[('submitted', 'Submitted'), ('reviewed', 'Reviewed'), ('attached', 'Added to a case'), ('dismissed', 'Dismissed'), ('withdrawn', 'Withdrawn')], default='submitted', max_length=12)),
                        ('credibility', models.CharField(choices=[('unrated', 'Not rated'), ('credible', 'Credible'), ('uncertain', 'Uncertain'), ('misinformation', 'Misinformation')], default='unrated', max_length=16)),
                        ('credibility_note', models.TextField(blank=True, max_length=4000)),
                        ('clinician_note', models.TextField(blank=True, max_length=4000)),
                        ('clinician_note_at', models.DateTimeField(blank=True, null=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('asset', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='submission', to='media_handling.mediaasset')),
                        ('clinician', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='received_submissions', to=settings.AUTH_USER_MODEL)),
                        ('link', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='submission', to='portal.sociallink')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='submissions', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_submission',
                        'ordering': ['-created', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='FindingLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('relation', models.CharField(choices=[('supports', 'Supports'), ('refutes', 'Refutes'), ('context', 'Context')], max_length=10)),
                        ('note', models.TextField(blank=True, max_length=4000)),
                        ('blur_faces', models.BooleanField(default=True)),
                        ('platform', models.CharField(blank=True, choices=[('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('instagram', 'Instagram'), ('reddit', 'Reddit'), ('x', 'X (Twitter)'), ('facebook', 'Facebook'), ('other', 'Website')], max_length=16)),
                        ('canonical_url', models.CharField(blank=True, max_length=2048)),
                        ('embed_url', models.CharField(blank=True, max_length=2048)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True)),
                        ('asset', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='findings', to='media_handling.mediaasset')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='cases.case')),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('differential', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='diagnoses.differential')),
                        ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='portal.submission')),
                    ],
                    options={
                        'db_table': 'cases_findinglink',
                        'ordering': ['created', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='submission',
                    index=models.Index(fields=['clinician', '-created'], name='submission_inbox'),
                ),
                migrations.AddIndex(
                    model_name='submission',
                    index=models.Index(fields=['clinician', 'read_at'], name='submission_unread'),
                ),
                migrations.AddIndex(
                    model_name='submission',
                    index=models.Index(fields=['patient', '-created'], name='submission_patient'),
                ),
                migrations.AddConstraint(
                    model_name='submission',
                    constraint=models.CheckConstraint(condition=models.Q(('asset__isnull', False), ('link__isnull', False), ('status', 'withdrawn'), _connector='OR'), name='submission_has_content', violation_error_message='A submission needs a file or a link.'),
                ),
                migrations.AddIndex(
                    model_name='findinglink',
                    index=models.Index(fields=['case', 'created'], name='finding_case'),
                ),
                migrations.AddConstraint(
                    model_name='findinglink',
                    constraint=models.UniqueConstraint(fields=('submission', 'differential'), name='one_finding_per_submission_differential', violation_error_message='This is already attached to that diagnosis.'),
                ),
            ],
        ),
    ]
