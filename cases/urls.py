"""Case URLs: each feature's views module contributes its own patterns."""

from .views import cases, consults, dashboard, differentials

urlpatterns = [
    *dashboard.urlpatterns,
    *cases.urlpatterns,
    *differentials.urlpatterns,
    *consults.urlpatterns,
]
