"""A stand-in for the parts of LINE's Messaging API the app calls.

Who may call: whoever holds the channel access token (`Authorization: Bearer …`), exactly as at
LINE — in practice the app itself. The simulator answers like LINE does, records every call in
SimulatorCall, enforces the rules that matter (1–5 messages, 5000-character text, reply token
once and fresh, retry key → 409), and obeys SimulatorFault rows (fail or delay the next calls).
"""

import json
import re
import secrets
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from livechat.models.line_text import MAX_TEXT_UNITS, line_length
from livechat.simulator.models import (
    SimulatorCall,
    SimulatorContent,
    SimulatorFault,
    SimulatorProfile,
    SimulatorUsedKey,
)
from livechat.simulator.rules import reply_recipient, reply_token_is_fresh

MESSAGE_TYPES = {"text", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex"}
MAX_MESSAGES = 5
MAX_TEXT = MAX_TEXT_UNITS  # UTF-16 code units, as LINE counts


class Answer(Exception):
    """Stop handling and answer with this status and LINE-shaped body."""

    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if details:
            self.body["details"] = details


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise Answer(400, "The request body could not be parsed as JSON") from None
    if not isinstance(body, dict):
        raise Answer(400, "The request body must be a JSON object")
    return body


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise Answer(
            400,
            "The request body has 1 error(s)",
            [{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}],
        )
    errors = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("type") not in MESSAGE_TYPES:
            errors.append(
                {
                    "message": "Must be one of the following values: " + ", ".join(sorted(MESSAGE_TYPES)),
                    "property": f"messages[{i}].type",
                }
            )
        elif m["type"] == "text" and not 1 <= line_length(str(m.get("text", ""))) <= MAX_TEXT:
            errors.append(
                {"message": f"Length must be between 1 and {MAX_TEXT}", "property": f"messages[{i}].text"}
            )
    if errors:
        raise Answer(400, f"The request body has {len(errors)} error(s)", errors)


def _sent(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "sentMessages": [
            {"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_hex(16)} for _ in messages
        ]
    }


def _use_key(key: str, kind: str) -> bool:
    try:
        with transaction.atomic():
            SimulatorUsedKey.objects.create(key=key, kind=kind)
    except IntegrityError:
        return False
    return True


def reply(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    token = str(body.get("replyToken", ""))
    _check_messages(body.get("messages"))
    if not token or not reply_token_is_fresh(token) or not _use_key(token, "reply_token"):
        raise Answer(400, "Invalid reply token")
    return _sent(body["messages"])


def push(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    if not str(body.get("to", "")):
        raise Answer(
            400, "The request body has 1 error(s)", [{"message": "Must not be empty", "property": "to"}]
        )
    _check_messages(body.get("messages"))
    retry_key = request.headers.get("X-Line-Retry-Key", "")
    if retry_key:
        try:
            uuid.UUID(retry_key)
        except ValueError:
            raise Answer(400, "The retry key is not a UUID") from None
        if not _use_key(retry_key, "retry_key"):
            raise Answer(409, "The retry key is already accepted")
    return _sent(body["messages"])


def profile(request: HttpRequest, user_id: str) -> dict[str, Any]:
    known = SimulatorProfile.objects.filter(user_id=user_id).first()
    if known is None and not re.fullmatch(r"U[0-9a-f]{32}", user_id):
        raise Answer(404, "Not found")
    if known is None:
        return {"userId": user_id, "displayName": f"LINE user {user_id[-4:]}", "language": "th"}
    result = {"userId": user_id, "displayName": known.display_name, "language": known.language}
    if known.picture_url:
        result["pictureUrl"] = known.picture_url
    if known.status_message:
        result["statusMessage"] = known.status_message
    return result


def loading(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    seconds = body.get("loadingSeconds", 20)
    if (
        not str(body.get("chatId", ""))
        or not isinstance(seconds, int)
        or seconds % 5
        or not 5 <= seconds <= 60
    ):
        raise Answer(
            400,
            "The request body has 1 error(s)",
            [{"message": "Invalid chatId or loadingSeconds", "property": "loadingSeconds"}],
        )
    return {}


def mark_as_read(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    if not str(body.get("markAsReadToken", "")):
        raise Answer(
            400,
            "The request body has 1 error(s)",
            [{"message": "Must not be empty", "property": "markAsReadToken"}],
        )
    return {}


def quota(request: HttpRequest) -> dict[str, Any]:
    return {"type": "limited", "value": 1000}


def quota_consumption(request: HttpRequest) -> dict[str, Any]:
    return {"totalUsage": SimulatorCall.objects.filter(endpoint="push", response_status=200).count()}


ROUTES: dict[tuple[str, str], Any] = {
    ("POST", "reply"): reply,
    ("POST", "push"): push,
    ("GET", "profile"): profile,
    ("POST", "loading"): loading,
    ("POST", "mark_as_read"): mark_as_read,
    ("GET", "quota"): quota,
    ("GET", "quota_consumption"): quota_consumption,
}


def _take_fault(endpoint: str) -> SimulatorFault | None:
    """Consume one pending failure for this endpoint, if a test asked for one."""
    for fault in SimulatorFault.objects.filter(remaining__gt=0).order_by("id"):
        if fault.endpoint in ("", endpoint):
            if SimulatorFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
                remaining=F("remaining") - 1
            ):
                return fault
    return None


def _fault_response(fault: SimulatorFault, body: dict[str, Any]) -> HttpResponse:
    if fault.html:  # what LINE's edge or a proxy answers when it, not the API, fails
        title = f"{fault.status} Bad Gateway"
        page = (
            f"<html><head><title>{title}</title></head><body>"
            f"<center><h1>{title}</h1></center><hr><center>nginx</center></body></html>"
        )
        return HttpResponse(page, status=fault.status, content_type="text/html")
    return JsonResponse(body, status=fault.status)


def _authorized(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "") == f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"


def _record(request: HttpRequest, endpoint: str, status: int, response: Any, user_id: str = "") -> None:
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        body = {"unparsable": request.body.decode(errors="replace")[:2000]}
    if not user_id and isinstance(body, dict):
        user_id = str(
            body.get("to") or body.get("chatId") or reply_recipient(str(body.get("replyToken", "")))
        )
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-line")}
    SimulatorCall.objects.create(
        endpoint=endpoint,
        method=request.method or "",
        path=request.path[:300],
        headers=headers,
        body=body,
        user_id=user_id[:64],
        response_status=status,
        response_body=response if isinstance(response, dict) else None,
    )


@csrf_exempt
def endpoint(request: HttpRequest, name: str, **kwargs: str) -> HttpResponse:
    if not _authorized(request):
        _record(request, name, 401, {"message": "Authentication failed"})
        return JsonResponse({"message": "Authentication failed"}, status=401)
    fault = _take_fault(name)
    if fault is not None:
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.status:
            body = {
                "message": "The API rate limit has been exceeded"
                if fault.status == 429
                else "Internal server error (simulated)"
            }
            _record(request, name, fault.status, body, kwargs.get("user_id", ""))
            return _fault_response(fault, body)
    handler = ROUTES.get((request.method or "", name))
    if handler is None:
        return JsonResponse({"message": "Not found"}, status=404)
    try:
        result, status = handler(request, **kwargs), 200
    except Answer as answer:
        result, status = answer.body, answer.status
    _record(request, name, status, result, kwargs.get("user_id", ""))
    response = JsonResponse(result, status=status)
    if name == "push" and status in (200, 409):
        response["X-Line-Accepted-Request-Id"] = str(uuid.uuid4())
    return response


@csrf_exempt
def content(request: HttpRequest, message_id: str) -> HttpResponse:
    if not _authorized(request):
        return JsonResponse({"message": "Authentication failed"}, status=401)
    fault = _take_fault("content")
    if fault is not None:
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.status:
            _record(request, "content", fault.status, None)
            return _fault_response(fault, {"message": "Internal server error (simulated)"})
    stored = SimulatorContent.objects.filter(message_id=message_id).first()
    if stored is None:
        _record(request, "content", 404, {"message": "Not found"})
        return JsonResponse({"message": "Not found"}, status=404)
    _record(request, "content", 200, None)
    return HttpResponse(bytes(stored.data), content_type=stored.content_type)
