"""WebSocket routes (the contract is in DESIGN.md)."""

websocket_urlpatterns: list = []
