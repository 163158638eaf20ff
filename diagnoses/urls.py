"""Differential and track-record URLs."""

from diagnoses.views import differentials, track_record

urlpatterns = [*differentials.urlpatterns, *track_record.urlpatterns]
