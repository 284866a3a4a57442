"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.origin import BrowserOriginValidator  # noqa: E402
from livechat.console.socket_urls import websocket_urlpatterns  # noqa: E402
from livechat.line.webhook import LineWebhookEndpoint  # noqa: E402
from livechat.realtime.publish import BindEventLoop  # noqa: E402

application = BindEventLoop(
    ProtocolTypeRouter(
        {
            "http": LineWebhookEndpoint(django_asgi_app),
            "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)

# Everything loaded so far lives as long as the process: take it out of the cyclic garbage
# collector's reach. Otherwise each full collection walks all of Django, Twisted and the app —
# pauses of 100–180 ms that set the webhook's p99 at 100 requests/s to ~110 ms instead of ~30
# (bench/webhook.py), and a tenth of its CPU.
gc.collect()
gc.freeze()
