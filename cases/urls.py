"""Case URLs: each feature's views module contributes its own patterns."""

from .views import (
    cases,
    consults,
    dashboard,
    dicom,
    differentials,
    inbox,
    media,
    portal,
    track_record,
)

urlpatterns = [
    *dashboard.urlpatterns,
    *cases.urlpatterns,
    *differentials.urlpatterns,
    *consults.urlpatterns,
    *portal.urlpatterns,
    *inbox.urlpatterns,
    *media.urlpatterns,
    *dicom.urlpatterns,
    *track_record.urlpatterns,
]
