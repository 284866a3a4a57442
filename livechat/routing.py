"""WebSocket routes. The console consumer at /ws/live-chat/ arrives with the real-time issue."""

websocket_urlpatterns: list = []
