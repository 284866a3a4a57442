"""`POST /webhooks/line/` — who may call: LINE, proven by X-Line-Signature. Nobody else.

The signature is checked before anything is parsed or stored. Each event is then stored in its
own transaction (see inbound.py); slow work runs after the response, so LINE's 2-second limit
is never at risk.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from livechat import inbound, line_api

logger = logging.getLogger(__name__)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def line_webhook(request: HttpRequest) -> JsonResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "Bad Content-Length.")
    if declared > limit:
        return _error(413, f"Body over {limit} bytes.")
    body = request.body
    if len(body) > limit:
        return _error(413, f"Body over {limit} bytes.")
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return _error(400, "Missing X-Line-Signature.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "Body is not UTF-8.")
    try:
        events = line_api.parse_webhook(text, signature)
    except line_api.InvalidSignatureError:
        return _error(400, "Invalid X-Line-Signature.")
    except ValueError:  # signed but not LINE's JSON shape
        return _error(400, "Malformed webhook body.")
    for event in events:
        inbound.process_event(event)
    return JsonResponse({})
