"""Steering the simulator: what was sent, faults to inject, the monthly quota, content that LINE
is still preparing, a clean slate.

Who may call: with DEBUG on, anyone who can reach the app while the simulator is enabled. With
DEBUG off (the benches, the browser tests, a demo server): a signed-in staff user, or a caller
sending `X-Simulator-Control-Token: <SIMULATOR_CONTROL_TOKEN>`. With the simulator off these URLs
are 404.
"""

import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from livechat.simulator import api
from livechat.simulator.models import (
    SimulatorCall,
    SimulatorContent,
    SimulatorFault,
    SimulatorQuota,
    SimulatorUsedKey,
)


def controllers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _may_control(request):
            return JsonResponse(
                {"error": "Sign in as staff, or send X-Simulator-Control-Token (DEBUG is off)."}, status=403
            )
        return view(request, *args, **kwargs)

    return wrapped


def _may_control(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return True
    token = settings.SIMULATOR_CONTROL_TOKEN
    given = request.headers.get("X-Simulator-Control-Token", "")
    if token and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return bool(request.user.is_authenticated and request.user.is_staff)


@require_GET
def calls(request: HttpRequest) -> JsonResponse:
    """Calls after `since` (an id), optionally for one `user_id` or `endpoint`."""
    try:
        since = int(request.GET.get("since", "0"))
    except ValueError:
        return JsonResponse({"error": "since must be a number"}, status=400)
    qs = SimulatorCall.objects.filter(id__gt=since)
    if request.GET.get("user_id"):
        qs = qs.filter(user_id=request.GET["user_id"])
    if request.GET.get("endpoint"):
        qs = qs.filter(endpoint=request.GET["endpoint"])
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "endpoint": c.endpoint,
            "user_id": c.user_id,
            "status": c.response_status,
            "body": c.body,
            "headers": c.headers,
            "response": c.response_body,
            "created_at": c.created_at.isoformat(),
        }
        for c in qs.order_by("id")[:500]
    ]
    return JsonResponse({"calls": rows})


@csrf_exempt
@require_POST
def fail(request: HttpRequest) -> JsonResponse:
    """{"status": 429|500|…|0, "count": N, "endpoint": "push"?, "delay": seconds?, "html": bool?}

    `html`: answer with an HTML error page, as LINE's edge or a proxy in front of it does.
    """
    try:
        spec = json.loads(request.body or b"{}")
        fault = SimulatorFault.objects.create(
            endpoint=str(spec.get("endpoint", "")),
            status=int(spec.get("status", 500)),
            remaining=int(spec.get("count", 1)),
            delay_seconds=float(spec.get("delay", 0)),
            html=bool(spec.get("html", False)),
        )
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": "Expected {status, count, endpoint?, delay?, html?}"}, status=400)
    return JsonResponse({"id": fault.pk})


@csrf_exempt
@require_POST
def reset(request: HttpRequest) -> JsonResponse:
    SimulatorFault.objects.all().delete()
    SimulatorCall.objects.all().delete()
    SimulatorUsedKey.objects.all().delete()
    SimulatorQuota.objects.all().delete()
    return JsonResponse({})


def _quota_state() -> dict[str, Any]:
    return {"limit": api.quota_limit(), "used": api.quota_used()}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def quota(request: HttpRequest) -> JsonResponse:
    """GET: {"limit", "used"}. POST {"limit": N} sets this month's push limit; {"limit": null}
    lifts it (LINE's quota type "none"). Pushes beyond it answer LINE's 429 "monthly limit"."""
    if request.method == "POST":
        try:
            spec = json.loads(request.body or b"{}")
            limit = spec["limit"]
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
                raise ValueError(limit)
        except (ValueError, TypeError, KeyError):
            return JsonResponse({"error": 'Expected {"limit": N} (N ≥ 0) or {"limit": null}'}, status=400)
        SimulatorQuota.objects.all().delete()
        if limit is not None:
            SimulatorQuota.objects.create(limit=limit)
    return JsonResponse(_quota_state())


@csrf_exempt
@require_POST
def transcoding(request: HttpRequest) -> JsonResponse:
    """{"message_id": …, "status": "processing"|"succeeded"|"failed"}: how far LINE is with
    preparing a video or audio a user sent (its content answers 202 while processing)."""
    try:
        spec = json.loads(request.body or b"{}")
        message_id, status = str(spec["message_id"]), str(spec["status"])
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"error": "Expected {message_id, status}"}, status=400)
    if status not in SimulatorContent.Transcoding.values:
        return JsonResponse({"error": "status is processing, succeeded or failed"}, status=400)
    if not SimulatorContent.objects.filter(message_id=message_id).update(transcoding=status):
        return JsonResponse({"error": "No content with this message id"}, status=404)
    return JsonResponse({"message_id": message_id, "status": status})
