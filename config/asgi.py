"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.origin import BrowserOriginValidator  # noqa: E402
from livechat.realtime import BindEventLoop  # noqa: E402
from livechat.routing import websocket_urlpatterns  # noqa: E402
from livechat.webhook import LineWebhookEndpoint  # noqa: E402

application = BindEventLoop(
    ProtocolTypeRouter(
        {
            "http": LineWebhookEndpoint(django_asgi_app),
            "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
