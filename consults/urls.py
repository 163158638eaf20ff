"""Consult URLs."""

from consults.views import urlpatterns

__all__ = ["urlpatterns"]
