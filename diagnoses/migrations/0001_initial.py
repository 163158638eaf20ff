"""Differentials, votes, ranking snapshots, rounds, scores and track-record
preferences, moved from cases: the tables exist already (``cases_*``), so
only Django's state is created."""

import diagnoses.icd10
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0014_move_to_feature_apps'),
        ('consults', '0001_initial'),
        ('workspace', '0005_user_time_zone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Differential',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('label', models.CharField(max_length=200, verbose_name='diagnosis')),
                        ('icd10_code', models.CharField(blank=True, max_length=8, validators=[diagnoses.icd10.validate_icd10], verbose_name='ICD-10 code')),
                        ('rationale', models.TextField(blank=True)),
                        ('status', models.CharField(choices=[('considered', 'Considered'), ('ruled_out', 'Ruled out'), ('confirmed', 'Confirmed')], default='considered', max_length=12)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_note', models.TextField(blank=True)),
                        ('position', models.PositiveIntegerField(default=0)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='differentials', to='cases.case')),
                        ('consult', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='suggested_differentials', to='consults.consultrequest')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('proposed_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='proposed_differentials', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_differential',
                        'ordering': ['case', 'position', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='DiagnosisScore',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('brier', models.FloatField()),
                        ('log_score', models.FloatField()),
                        ('entries', models.PositiveIntegerField()),
                        ('top1', models.BooleanField(default=False)),
                        ('independent', models.BooleanField(default=False)),
                        ('forecasts', models.JSONField(default=list)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='diagnosis_scores', to='cases.case')),
                        ('specialty', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workspace.specialty')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='diagnosis_scores', to=settings.AUTH_USER_MODEL)),
                        ('confirmed', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='diagnoses.differential')),
                    ],
                    options={
                        'db_table': 'cases_diagnosisscore',
                        'ordering': ['-created', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='DifferentialRound',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('submitted', models.DateTimeField(auto_now_add=True)),
                        ('likelihoods', models.JSONField(default=dict)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='differential_rounds', to='cases.case')),
                        ('voter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='differential_rounds', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_differentialround',
                        'ordering': ['case', 'submitted', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='DifferentialVote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('likelihood', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)])),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('differential', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='diagnoses.differential')),
                        ('voter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='differential_votes', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_differentialvote',
                    },
                ),
                migrations.CreateModel(
                    name='RankingSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('reason', models.CharField(max_length=24)),
                        ('summary', models.CharField(max_length=300)),
                        ('ranking', models.JSONField(default=list)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ranking_snapshots', to='cases.case')),
                    ],
                    options={
                        'db_table': 'cases_rankingsnapshot',
                        'ordering': ['-created', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TrackRecordPreference',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('shown', models.BooleanField(default=False)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='track_record_preference', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_trackrecordpreference',
                    },
                ),
                migrations.AddConstraint(
                    model_name='differential',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'confirmed')), fields=('case',), name='one_confirmed_differential_per_case', violation_error_message='Another diagnosis is already confirmed.'),
                ),
                migrations.AddConstraint(
                    model_name='differential',
                    constraint=models.UniqueConstraint(models.F('case'), django.db.models.functions.text.Lower('label'), name='unique_differential_label_per_case', violation_error_message='That diagnosis is already on the list.'),
                ),
                migrations.AddConstraint(
                    model_name='diagnosisscore',
                    constraint=models.UniqueConstraint(fields=('user', 'case'), name='one_score_per_voter_per_case'),
                ),
                migrations.AddConstraint(
                    model_name='differentialround',
                    constraint=models.UniqueConstraint(fields=('case', 'voter'), name='one_round_per_voter_per_case'),
                ),
                migrations.AddConstraint(
                    model_name='differentialvote',
                    constraint=models.UniqueConstraint(fields=('differential', 'voter'), name='one_vote_per_differential'),
                ),
                migrations.AddConstraint(
                    model_name='differentialvote',
                    constraint=models.CheckConstraint(condition=models.Q(('likelihood__gte', 0), ('likelihood__lte', 100)), name='likelihood_0_to_100'),
                ),
                migrations.AddIndex(
                    model_name='rankingsnapshot',
                    index=models.Index(fields=['case', '-id'], name='ranking_history'),
                ),
            ],
        ),
    ]
