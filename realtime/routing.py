"""WebSocket routes (the contract is in DESIGN.md)."""

from django.urls import path

from .consumers import CaseConsumer, NotificationConsumer

websocket_urlpatterns = [
    path("ws/cases/<int:case_id>/", CaseConsumer.as_asgi()),
    path("ws/notifications/", NotificationConsumer.as_asgi()),
]
