"""Liveness, readiness and metrics.

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
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse

from livechat.delivery import circuit
from livechat.models import Conversation, Message

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
    lines = [
        "# HELP livechat_conversations Conversations by status.",
        "# TYPE livechat_conversations gauge",
    ]
    by_status = dict(Conversation.objects.values_list("status").annotate(n=Count("id")))
    for status in Conversation.Status.values:
        lines.append(f'livechat_conversations{{status="{status}"}} {by_status.get(status, 0)}')
    lines += [
        "# HELP livechat_outbound_messages Outbound messages by delivery status.",
        "# TYPE livechat_outbound_messages gauge",
    ]
    outbound = dict(
        Message.objects.filter(direction=Message.Direction.OUT, status__in=["pending", "failed"])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    for status in ("pending", "failed"):
        lines.append(f'livechat_outbound_messages{{status="{status}"}} {outbound.get(status, 0)}')
    lines += [
        "# HELP livechat_line_circuit_open 1 while LINE is not answering and sends wait (circuit open).",
        "# TYPE livechat_line_circuit_open gauge",
        f"livechat_line_circuit_open {0 if circuit.state() == 'closed' else 1}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
