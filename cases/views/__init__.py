"""Case pages, one module per concern; each module exposes ``urlpatterns``."""
