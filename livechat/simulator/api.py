"""A stand-in for the parts of LINE's Messaging API the app calls.

Who may call: whoever holds the channel access token (`Authorization: Bearer …`), exactly as at
LINE — in practice the app itself. The simulator answers like LINE does and refuses what LINE
refuses, with LINE's status codes and bodies: message objects checked per type (validation.py),
reply tokens once and fresh, retry keys (409 with the first push's sentMessages), the monthly
quota (429), mark-as-read tokens it never handed out, profiles of users who are not friends
(404), video/audio still being prepared (202), wrong method (405), content type (415) or size
(413). Every answer carries `X-Line-Request-Id`. Every call is recorded in SimulatorCall, and
SimulatorFault rows make the next calls fail, or answer late after doing the work — as a
timeout at LINE looks from outside.
"""

import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from livechat.simulator.models import (
    SimulatorCall,
    SimulatorContent,
    SimulatorFault,
    SimulatorProfile,
    SimulatorQuota,
    SimulatorUsedKey,
)
from livechat.simulator.rules import (
    CHAT_ID,
    USER_ID,
    mark_as_read_token_is_known,
    reply_recipient,
    reply_token_is_fresh,
)
from livechat.simulator.validation import MUST_BE_SPECIFIED, Problem, message_problems

MAX_BODY_BYTES = 2 * 1024 * 1024  # LINE refuses larger request bodies with 413
REQUEST_ID = "SIMULATOR_LINE_REQUEST_ID"  # where the view keeps this request's id, in request.META
MONTHLY_LIMIT = "You have reached your monthly limit."
Handler = Callable[..., dict[str, Any] | HttpResponse]


class Answer(Exception):
    """Stop handling and answer with this status and LINE-shaped body."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[Problem] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, **extra}
        if details:
            self.body["details"] = details
        self.headers: dict[str, str] = {}

    def response(self) -> HttpResponse:
        response = JsonResponse(self.body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _invalid(problems: list[Problem]) -> Answer:
    return Answer(400, f"The request body has {len(problems)} error(s)", problems)


def _invalid_property(name: str) -> Answer:
    """LINE's answer to a property whose value it cannot use at all (a `to` that is no id)."""
    return Answer(400, f"The property, '{name}', in the request body is invalid (line: -, column: -)")


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except json.JSONDecodeError as exc:
        raise Answer(
            400, f"The request body could not be parsed as JSON (line: {exc.lineno}, column: {exc.colno})"
        ) from None
    except ValueError:
        raise Answer(400, "The request body could not be parsed as JSON") from None
    if not isinstance(body, dict):
        raise Answer(400, "The request body could not be parsed as JSON")
    return body


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    problems = message_problems(messages)
    if problems:
        raise _invalid(problems)
    return list(messages)


def _sent(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_hex(16)} for _ in messages]


def _use_key(key: str, kind: str, sent: list[dict[str, str]] | None = None, request_id: str = "") -> bool:
    """Spend a single-use key; False if it was spent before (by this or another process)."""
    try:
        with transaction.atomic():
            SimulatorUsedKey.objects.create(key=key, kind=kind, sent_messages=sent, request_id=request_id)
    except IntegrityError:
        return False
    return True


# --- Sending ------------------------------------------------------------------------------------


def reply(request: HttpRequest) -> dict[str, Any]:
    """Free and unlimited, but each reply token works once and only for a minute."""
    body = _json_body(request)
    token = str(body.get("replyToken", ""))
    messages = _check_messages(body.get("messages"))
    if not token or not reply_token_is_fresh(token) or not _use_key(token, "reply_token"):
        raise Answer(400, "Invalid reply token")
    return {"sentMessages": _sent(messages)}


def _already_accepted(retry_key: str) -> Answer:
    """LINE's 409 to a retried push: the first request's sent messages and request id."""
    first = SimulatorUsedKey.objects.filter(key=retry_key).first()
    answer = Answer(
        409, "The retry key is already accepted", sentMessages=(first.sent_messages if first else None) or []
    )
    answer.headers["X-Line-Accepted-Request-Id"] = first.request_id if first and first.request_id else ""
    return answer


def push(request: HttpRequest) -> dict[str, Any]:
    """Counts against the monthly quota; a retry key makes a repeated push a no-op (409)."""
    body = _json_body(request)
    to = body.get("to")
    if to is None or to == "":
        raise _invalid([{"message": MUST_BE_SPECIFIED, "property": "to"}])
    if not isinstance(to, str) or not CHAT_ID.fullmatch(to):
        raise _invalid_property("to")
    messages = _check_messages(body.get("messages"))
    retry_key = request.headers.get("X-Line-Retry-Key", "")
    if retry_key:
        try:
            uuid.UUID(retry_key)
        except ValueError:
            raise Answer(400, "The retry key is not a UUID") from None
        if SimulatorUsedKey.objects.filter(key=retry_key).exists():
            raise _already_accepted(retry_key)
    _check_quota()
    sent = _sent(messages)
    if retry_key and not _use_key(retry_key, "retry_key", sent, request.META.get(REQUEST_ID, "")):
        raise _already_accepted(retry_key)  # a concurrent try with the same key won
    return {"sentMessages": sent}


# --- Quota --------------------------------------------------------------------------------------


def quota_limit() -> int | None:
    row = SimulatorQuota.objects.order_by("id").first()
    return row.limit if row else None


def quota_used() -> int:
    """Pushes LINE accepted this month: one per recipient, however many message objects."""
    month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return SimulatorCall.objects.filter(endpoint="push", response_status=200, created_at__gte=month).count()


def _check_quota() -> None:
    limit = quota_limit()
    if limit is not None and quota_used() >= limit:
        raise Answer(429, MONTHLY_LIMIT)


def quota(request: HttpRequest) -> dict[str, Any]:
    limit = quota_limit()
    return {"type": "none"} if limit is None else {"type": "limited", "value": limit}


def quota_consumption(request: HttpRequest) -> dict[str, Any]:
    return {"totalUsage": quota_used()}


# --- Users and chats ----------------------------------------------------------------------------


def profile(request: HttpRequest, user_id: str) -> dict[str, Any]:
    """Only for a friend: a user LINE does not know, or who blocked the account, is a 404."""
    known = SimulatorProfile.objects.filter(user_id=user_id, is_friend=True).first()
    if known is None:
        raise Answer(404, "Not found")
    result = {"userId": user_id, "displayName": known.display_name, "language": known.language}
    if known.picture_url:
        result["pictureUrl"] = known.picture_url
    if known.status_message:
        result["statusMessage"] = known.status_message
    return result


def loading(request: HttpRequest) -> HttpResponse:
    """The "…" bubble: one-on-one chats only (a group id is refused), 5–60 s in steps of 5."""
    body = _json_body(request)
    chat_id, seconds = body.get("chatId"), body.get("loadingSeconds", 20)
    if chat_id is None or chat_id == "":
        raise _invalid([{"message": MUST_BE_SPECIFIED, "property": "chatId"}])
    if not isinstance(chat_id, str) or not USER_ID.fullmatch(chat_id):
        raise _invalid_property("chatId")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds % 5 or not 5 <= seconds <= 60:
        problem = {"message": "Must be a multiple of 5 between 5 and 60", "property": "loadingSeconds"}
        raise _invalid([problem])
    return JsonResponse({}, status=202)


def mark_as_read(request: HttpRequest) -> dict[str, Any]:
    """Only with a token LINE handed out in a webhook (LINE: 400 for any other)."""
    body = _json_body(request)
    token = body.get("markAsReadToken")
    if token is None or token == "":
        raise _invalid([{"message": MUST_BE_SPECIFIED, "property": "markAsReadToken"}])
    if not isinstance(token, str) or not mark_as_read_token_is_known(token):
        raise _invalid([{"message": "Invalid markAsReadToken", "property": "markAsReadToken"}])
    return {}


# --- What users sent ----------------------------------------------------------------------------


def _content_of(message_id: str) -> SimulatorContent:
    stored = SimulatorContent.objects.filter(message_id=message_id).first()
    if stored is None:
        raise Answer(404, "Not found")
    return stored


def content(request: HttpRequest, message_id: str) -> HttpResponse:
    """The bytes, once LINE has prepared them: 202 (no body) while a video/audio is processing."""
    stored = _content_of(message_id)
    if stored.transcoding == SimulatorContent.Transcoding.PROCESSING:
        return HttpResponse(status=202)
    if stored.transcoding == SimulatorContent.Transcoding.FAILED:
        raise Answer(404, "Not found")  # LINE could not prepare it: there is nothing to get
    return HttpResponse(bytes(stored.data), content_type=stored.content_type)


def transcoding(request: HttpRequest, message_id: str) -> dict[str, Any]:
    return {"status": _content_of(message_id).transcoding}


ROUTES: dict[str, dict[str, Handler]] = {
    "reply": {"POST": reply},
    "push": {"POST": push},
    "profile": {"GET": profile},
    "loading": {"POST": loading},
    "mark_as_read": {"POST": mark_as_read},
    "quota": {"GET": quota},
    "quota_consumption": {"GET": quota_consumption},
    "content": {"GET": content},
    "transcoding": {"GET": transcoding},
}


# --- Faults, checks every request goes through, and recording ---------------------------------


def _take_fault(endpoint: str) -> SimulatorFault | None:
    """Consume one pending failure for this endpoint, if a test asked for one."""
    for fault in SimulatorFault.objects.filter(remaining__gt=0).order_by("id"):
        if fault.endpoint in ("", endpoint):
            if SimulatorFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
                remaining=F("remaining") - 1
            ):
                return fault
    return None


def _fault_response(fault: SimulatorFault) -> HttpResponse:
    if fault.html:  # what LINE's edge or a proxy answers when it, not the API, fails
        title = f"{fault.status} Bad Gateway"
        page = (
            f"<html><head><title>{title}</title></head><body>"
            f"<center><h1>{title}</h1></center><hr><center>nginx</center></body></html>"
        )
        return HttpResponse(page, status=fault.status, content_type="text/html")
    message = (
        "The API rate limit has been exceeded. Try again later."
        if fault.status == 429
        else "Internal server error (simulated)"
    )
    return JsonResponse({"message": message}, status=fault.status)


def _authorized(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "") == f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"


def _check_request(request: HttpRequest) -> None:
    """What LINE refuses before looking at a JSON body: its size and its content type."""
    if request.method != "POST":
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise Answer(413, "Request Entity Too Large")
    if request.content_type != "application/json":
        raise Answer(415, f"The content type, {request.content_type or 'none'}, is not supported")


def _body_of(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig:
        return None
    if not raw or len(raw) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"unparsable": raw.decode(errors="replace")[:2000]}


def _record(request: HttpRequest, endpoint: str, response: HttpResponse, user_id: str = "") -> None:
    body = _body_of(request)
    if not user_id and isinstance(body, dict):
        user_id = str(
            body.get("to") or body.get("chatId") or reply_recipient(str(body.get("replyToken", "")))
        )
    answered = None
    if response.get("Content-Type", "").startswith("application/json") and response.content:
        answered = json.loads(response.content)
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-line")}
    SimulatorCall.objects.create(
        endpoint=endpoint,
        method=request.method or "",
        path=request.path[:300],
        headers=headers,
        body=body,
        user_id=user_id[:64],
        response_status=response.status_code,
        response_body=answered if isinstance(answered, dict) else None,
        request_id=request.META.get(REQUEST_ID, ""),
    )


def _handle(request: HttpRequest, name: str, kwargs: dict[str, str]) -> tuple[HttpResponse, float]:
    """The answer, and how long to hold it back after the work is done (a delay fault)."""
    if not _authorized(request):
        return JsonResponse({"message": "Authentication failed"}, status=401), 0
    methods = ROUTES[name]
    handler = methods.get(request.method or "")
    if handler is None:
        refused = JsonResponse({"message": "Method Not Allowed"}, status=405)
        refused["Allow"] = ", ".join(methods)
        return refused, 0
    fault = _take_fault(name)
    if fault is not None and fault.status:
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)  # a slow failure: nothing was done
        return _fault_response(fault), 0
    response: HttpResponse
    try:
        _check_request(request)
        result = handler(request, **kwargs)
        response = result if isinstance(result, HttpResponse) else JsonResponse(result)
    except Answer as answer:
        response = answer.response()
    return response, fault.delay_seconds if fault is not None else 0


@csrf_exempt
def endpoint(request: HttpRequest, name: str, **kwargs: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    request.META[REQUEST_ID] = request_id
    response, delay = _handle(request, name, kwargs)
    response["X-Line-Request-Id"] = request_id
    _record(request, name, response, kwargs.get("user_id", ""))
    if delay:
        # The work is done and recorded, the answer is late: a caller that gives up first sees a
        # timeout although LINE accepted the request (and a retry with its key gets 409).
        time.sleep(delay)
    return response
