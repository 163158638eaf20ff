"""Differential and track-record URLs."""

from diagnoses.views import case_actions, differentials, track_record

urlpatterns = [
    *differentials.urlpatterns,
    *case_actions.urlpatterns,
    *track_record.urlpatterns,
]
