"""Patient portal and clinician inbox URLs."""

from portal.views import inbox, portal

urlpatterns = [*portal.urlpatterns, *inbox.urlpatterns]
