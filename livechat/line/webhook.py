"""`POST /webhooks/line/` — who may call: LINE, proven by X-Line-Signature. Nobody else.

The signature is checked before anything is parsed or stored. Each event is then stored in its
own transaction (see inbound.py); slow work runs after the response, so LINE's 2-second limit
is never at risk.

`receive_webhook` is the whole endpoint. Under daphne it is reached through
`LineWebhookEndpoint`, a lean ASGI app that skips Django's request stack (sessions, CSRF,
locale, auth — none of which a signed machine-to-machine call needs, and which with the
per-request threads of Django's ASGI handler cost about as much CPU as the work itself). The
Django view `line_webhook` serves the same function to WSGI servers and the test client.
"""

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from livechat.jobs import database
from livechat.line import inbound, messaging_api, webhook_metrics

logger = logging.getLogger(__name__)


@dataclass
class WebhookResult:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status: int, message: str) -> WebhookResult:
    return WebhookResult(status, {"error": message})


def receive_webhook(body: bytes, signature: str) -> WebhookResult:
    """Verify, store and act on one webhook delivery; the result is what LINE is answered."""
    with webhook_metrics.timed() as answer:
        result = _receive(body, signature)
        answer.status = result.status
    return result


def _receive(body: bytes, signature: str) -> WebhookResult:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if len(body) > limit:
        return _error(413, f"Body over {limit} bytes.")
    if not signature:
        return _error(400, "Missing X-Line-Signature.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "Body is not UTF-8.")
    try:
        events = messaging_api.parse_webhook(text, signature)
    except messaging_api.InvalidSignatureError:
        return _error(400, "Invalid X-Line-Signature.")
    except ValueError:  # signed but not LINE's JSON shape
        return _error(400, "Malformed webhook body.")
    webhook_metrics.count_events(events)
    try:
        inbound.process_body(events, settings.WEBHOOK_INLINE_SECONDS)
    except database.UNREACHABLE:
        # What is stored stays stored (each event commits on its own); LINE delivers the body
        # again, and the events already stored are recognised by their webhookEventId.
        logger.warning("database unreachable: asking LINE to redeliver", exc_info=True)
        database.after_unreachable()
        return _error(503, "The database is unavailable; please redeliver.")
    return WebhookResult(200)


def _declared_length_error(value: str | None) -> WebhookResult | None:
    """Refuse an oversized body from its Content-Length, before reading it."""
    try:
        declared = int(value or 0)
    except ValueError:
        return _error(400, "Bad Content-Length.")
    if declared > settings.WEBHOOK_MAX_BODY_BYTES:
        return _error(413, f"Body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes.")
    return None


@csrf_exempt
@require_POST
def line_webhook(request: HttpRequest) -> JsonResponse:
    result = _declared_length_error(request.headers.get("Content-Length")) or receive_webhook(
        request.body, request.headers.get("X-Line-Signature", "")
    )
    return JsonResponse(result.body, status=result.status)


# A fixed pool: Django's ASGI handler would start new threads for every request.
_webhook_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")


def _receive_in_thread(body: bytes, signature: str) -> WebhookResult:
    close_old_connections()
    try:
        return receive_webhook(body, signature)
    finally:
        close_old_connections()  # with CONN_MAX_AGE=0: give the connection back to the pool


class LineWebhookEndpoint:
    """The webhook as a bare ASGI app; everything else goes to `application`."""

    PATH = "/webhooks/line/"

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.PATH:
            await self.application(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self._respond(send, WebhookResult(405, {"error": "Use POST."}), allow="POST")
            return
        headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope["headers"]}
        refusal = _declared_length_error(headers.get("content-length"))
        if refusal is not None:
            await self._respond(send, refusal)
            return
        body = await self._read_body(receive)
        if body is None:
            await self._respond(send, _error(413, f"Body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes."))
            return
        try:
            # A plain executor hop: asgiref's SyncToAsync adds context and thread bookkeeping
            # this self-contained call does not need.
            result = await asyncio.get_running_loop().run_in_executor(
                _webhook_threads, _receive_in_thread, body, headers.get("x-line-signature", "")
            )
        except Exception:
            logger.exception("webhook failed")  # e.g. the database is down: LINE may redeliver
            result = _error(500, "Could not store the events; please redeliver.")
        await self._respond(send, result)

    async def _read_body(self, receive: Any) -> bytes | None:
        """The request body, or None as soon as it grows past the limit."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > settings.WEBHOOK_MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _respond(self, send: Any, result: WebhookResult, allow: str = "") -> None:
        body = json.dumps(result.body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if allow:
            headers.append((b"allow", allow.encode()))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
