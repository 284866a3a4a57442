"""Which WebSocket origins are accepted.

Browsers always send Origin, and a page on another site must not open a socket riding on our
session cookie (cross-site WebSocket hijacking): its Origin must match ALLOWED_HOSTS, as with
Channels' AllowedHostsOriginValidator. Non-browser clients send no Origin and carry no cookie;
they authenticate with an API token in their first frame, so they are let through.
"""

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, [])

    @property  # read per connection, so settings changes (and test hosts) apply
    def allowed_origins(self) -> list[str]:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        return hosts

    @allowed_origins.setter
    def allowed_origins(self, value: list[str]) -> None:
        pass

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)
