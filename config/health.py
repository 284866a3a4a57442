"""Liveness, readiness and metrics (prometheus_client's registry: see docs/metrics.md).

Who may call: /healthz and /readyz, anyone (load balancers); they reveal nothing but "ok".
/metrics, with DEBUG off, only a scraper with the METRICS_TOKEN bearer token or one calling from
METRICS_ALLOWED_ADDRESSES (default: this machine).
"""

import asyncio
import hmac
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

from config import live_metrics  # noqa: F401  (registers the gauges read at scrape time)

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


async def _layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    channel = await asyncio.wait_for(layer.new_channel("readyz."), 2)
    await asyncio.wait_for(layer.send(channel, {"type": "readyz.ping"}), 2)
    message = await asyncio.wait_for(layer.receive(channel), 2)
    return message.get("type") == "readyz.ping"


def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["channel_layer"] = "ok" if async_to_sync(_layer_ok)() else "error"
    except Exception as exc:
        checks["channel_layer"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _may_read_metrics(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return True
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_ADDRESSES


def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_read_metrics(request):
        return HttpResponse(
            "Metrics need the METRICS_TOKEN bearer token or an address in METRICS_ALLOWED_ADDRESSES.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    # Prometheus asks for OpenMetrics in its Accept header; anything else gets the classic text.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(REGISTRY), content_type=content_type)
