"""Case URLs: each feature's views module contributes its own patterns."""

from .views import dashboard

urlpatterns = [*dashboard.urlpatterns]
