"""The language a console socket speaks: the one the console page was shown in.

Django's LocaleMiddleware picks the page's language from the language cookie (set by the console's
ไทย/EN switch), else the browser's Accept-Language, else LANGUAGE_CODE. The WebSocket handshake
carries the same cookie and header, so the socket's `error` frames follow the page.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def _supported(code: str) -> str | None:
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def language_of(scope: dict[str, Any]) -> str:
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie and (chosen := _supported(cookie)):
        return chosen
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    for code, _quality in parse_accept_lang_header(accept):
        if code != "*" and (chosen := _supported(code)):
            return chosen
    return settings.LANGUAGE_CODE
