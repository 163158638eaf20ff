"""Case URLs: each feature's views module contributes its own patterns."""

from cases.views import cases, dashboard, dicom, media

urlpatterns = [
    *dashboard.urlpatterns,
    *cases.urlpatterns,
    *media.urlpatterns,
    *dicom.urlpatterns,
]
