"""WebSocket routes: the console's socket."""

from django.urls import path

from livechat.console.consumer import LiveChatConsumer

websocket_urlpatterns = [path("ws/live-chat/", LiveChatConsumer.as_asgi())]
