from django.apps import AppConfig


class DiagnosesConfig(AppConfig):
    """Differential diagnoses, votes, rankings, independent rounds, scores, ICD-10."""

    name = "diagnoses"
