"""Case URLs: each feature's views module contributes its own patterns."""

from .views import cases, dashboard

urlpatterns = [*dashboard.urlpatterns, *cases.urlpatterns]
