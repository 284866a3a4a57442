"""Which WebSocket origins are accepted.

Browsers always send Origin, and a page on another site must not open a socket riding on our
session cookie (cross-site WebSocket hijacking): its Origin must match ALLOWED_HOSTS, as in
Channels' AllowedHostsOriginValidator. Non-browser clients send no Origin and carry no cookie;
they authenticate with an API token in their first frame, so they are let through.
"""

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def allowed_hosts_origin_validator(application: Any) -> BrowserOriginValidator:
    return BrowserOriginValidator(application, AllowedHostsOriginValidator(application).allowed_origins)
