"""How long every HTTP request through Django takes: a histogram by method, route and status class.

The route is the URL pattern that matched ("api/v1/conversations/<id:conversation_id>/claim"), never the raw
path, so that the number of label combinations stays small whatever callers ask for; a request
no pattern matched (a 404, a static file) is "unmatched". The histogram lives in this process:
Prometheus scrapes each daphne process (docs/metrics.md). Under daphne the LINE webhook does not
pass through Django (livechat/line/webhook.py); it has a histogram of its own.
"""

import time
from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import cast

from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware
from prometheus_client import Histogram

REQUEST_SECONDS = Histogram(
    "livechat_http_request_duration_seconds",
    "Time from a request reaching Django to its response, by method, route pattern and status class.",
    ["method", "route", "status"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _observe(request: HttpRequest, response: HttpResponseBase, seconds: float) -> None:
    match = request.resolver_match
    route = match.route if match is not None and match.route else "unmatched"
    method = request.method if request.method in METHODS else "other"
    status = f"{response.status_code // 100}xx"
    REQUEST_SECONDS.labels(method=method, route=route, status=status).observe(seconds)


Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@sync_and_async_middleware
def request_timing(get_response: Handler | AsyncHandler) -> Handler | AsyncHandler:
    """First in MIDDLEWARE, so the time includes every other middleware (sessions, auth, …).
    Both flavours, so that under ASGI it adds no hop between threads."""
    if iscoroutinefunction(get_response):
        async_get_response = cast(AsyncHandler, get_response)

        async def timed_async(request: HttpRequest) -> HttpResponseBase:
            started = time.perf_counter()
            response = await async_get_response(request)
            _observe(request, response, time.perf_counter() - started)
            return response

        return timed_async

    sync_get_response = cast(Handler, get_response)

    def timed(request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = sync_get_response(request)
        _observe(request, response, time.perf_counter() - started)
        return response

    return timed
