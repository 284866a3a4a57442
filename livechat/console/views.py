"""The operator console (`/console/`): the page, and the JSON it reads besides the socket.

Who may call: active staff users only. The page itself sends anonymous visitors to the login
page; the JSON endpoints answer 401/403 instead (they are called by the page's scripts).
Everything a view shows comes from livechat.console.queries, in a fixed number of queries.
"""

from typing import Any, cast

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from accounts.models import User
from livechat.console import access, queries
from livechat.conversations import permissions
from livechat.delivery import circuit, usage
from livechat.models import Message
from livechat.realtime import protocol
from livechat.realtime.payloads import operator_payload

# A few common LINE stickers operators may send (sendable by any account: LINE's basic sets).
STICKER_PACKAGES: list[dict[str, Any]] = [
    {"package_id": "446", "sticker_ids": [str(i) for i in range(1988, 2028)]},
    {"package_id": "11537", "sticker_ids": [str(i) for i in range(52002734, 52002774)]},
]

console_page = access.staff_page()
console_json = access.staff_json()


def _me(request: HttpRequest) -> User:
    """The signed-in team member (console_page / console_json let no one else through)."""
    return cast(User, request.user)


def _not_found(conversation_id: int) -> JsonResponse:
    return JsonResponse(
        {
            "code": "not_found",
            "message": gettext("Conversation %(id)s does not exist.") % {"id": conversation_id},
        },
        status=404,
    )


@require_GET
@console_page
def console(request: HttpRequest) -> HttpResponse:
    """The three-pane console. `?c=<id>` opens that conversation straight away."""
    operator = _me(request)
    selected = None
    selected_id = request.GET.get("c", "")
    if selected_id.isdigit():
        selected = queries.conversation_detail(operator, int(selected_id))
    # The first rows of the operator's worklists; the socket's queue_update brings the whole queue.
    queue, _ = queries.conversation_rows(operator, "queue")
    mine, _ = queries.conversation_rows(operator, "mine")
    data = {
        "me": {**operator_payload(operator), "is_supervisor": operator.is_supervisor},
        "counts": queries.tab_counts(operator),
        "lists": {"queue": queue, "mine": mine},
        "selected": selected,
        "canned": queries.canned_responses(operator),
        "labels": queries.labels(),
        "stickers": STICKER_PACKAGES,
        "time_zone": settings.TIME_ZONE,
        "language": request.LANGUAGE_CODE,
        "heartbeat_seconds": protocol.HEARTBEAT_SECONDS,
        "history_page": protocol.HISTORY_PAGE,
        # Who may do what, as data: the buttons the script shows follow the server's own rules.
        "rules": permissions.rules_for_console(),
        "urls": {
            "socket": "/ws/live-chat/",
            "list": reverse("console:conversations"),
            "counts": reverse("console:counts"),
            "line_usage": reverse("console:line-usage"),
            "detail": reverse("console:conversation", args=[0]),
            "panel": reverse("console:panel", args=[0]),
            "canned": reverse("console:canned-picker", args=[0]),
            "messages": reverse("api:messages", args=[0]),
            "send": reverse("api:send", args=[0]),
            "send_image": reverse("api:send-image", args=[0]),
            "claim": reverse("api:claim", args=[0]),
            "close": reverse("api:close", args=[0]),
            "transfer": reverse("api:transfer", args=[0]),
            "retry": reverse("api:retry", args=[0]),
            "contact_export": reverse("api:contact-export", args=[0]),
            "contact_erase": reverse("api:contact-erase", args=[0]),
            "queue": reverse("api:queue"),
            "login": settings.LOGIN_URL,
            "sound": static("console/sounds/notify.wav"),
        },
    }
    return render(
        request,
        "console/console.html",
        {
            "console_data": data,
            "selected": selected,
            "can_send": bool(selected and selected["capabilities"]["can_send"]),
            "line_down": circuit.state() != "closed",
            "handles_personal_data": permissions.may_handle_personal_data(operator),
        },
    )


@require_GET
@console_json
def conversations(request: HttpRequest) -> JsonResponse:
    """One page of a tab: ?tab=queue|mine|open|closed&q=<search>&cursor=<next_cursor>&label=<id>."""
    tab = request.GET.get("tab", "open")
    if tab not in queries.TABS:
        return JsonResponse({"code": "invalid", "message": f"tab must be one of {queries.TABS}"}, status=400)
    label = request.GET.get("label", "")
    if label and not (label.isdigit() and len(label) <= 18):
        return JsonResponse({"code": "invalid", "message": "label must be a label id."}, status=400)
    query = request.GET.get("q", "").strip()[:100]
    try:
        rows, next_cursor = queries.conversation_rows(
            _me(request),
            tab,
            query=query,
            cursor=request.GET.get("cursor", ""),
            limit=queries.WORKLIST_LIMIT if tab in ("queue", "mine") else queries.PAGE_SIZE,
            label=int(label) if label else None,
        )
    except ValueError:
        return JsonResponse({"code": "invalid", "message": "Bad cursor."}, status=400)
    return JsonResponse(
        {
            "tab": tab,
            "query": query,
            "label": int(label) if label else None,
            "rows": rows,
            "next_cursor": next_cursor,
        }
    )


@require_GET
@console_json
def line_usage(request: HttpRequest) -> JsonResponse:
    """LINE's monthly quota and our sends by path (free reply / paid push) — supervisors only."""
    if not _me(request).is_supervisor:
        return JsonResponse({"code": "forbidden", "message": "Supervisors only."}, status=403)
    return JsonResponse(usage.line_usage())


@require_GET
@console_json
def counts(request: HttpRequest) -> JsonResponse:
    return JsonResponse(queries.tab_counts(_me(request)))


@require_GET
@console_json
def conversation(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The conversation, the caller's capabilities on it and its latest messages."""
    detail = queries.conversation_detail(_me(request), conversation_id)
    if detail is None:
        return _not_found(conversation_id)
    return JsonResponse(detail)


@require_GET
@console_json
def panel(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The customer panel: profile, past conversations, this conversation's events."""
    data = queries.customer_panel(conversation_id)
    if data is None:
        return _not_found(conversation_id)
    return JsonResponse(data)


@console_page
def media(request: HttpRequest, message_id: int) -> HttpResponseBase:
    """A customer's image/video/audio/file. Who may call: team members (anonymous → login page)."""
    message = get_object_or_404(Message, pk=message_id)
    if message.media_status != Message.MediaStatus.STORED or message.is_unsent:
        raise Http404("No media for this message.")
    is_file = message.type == Message.Type.FILE
    response = FileResponse(
        message.media.open("rb"),
        content_type=message.media_content_type,
        as_attachment=is_file,
        # The customer's own file name (FileResponse quotes it safely, Thai included).
        filename=str(message.payload.get("fileName") or "") if is_file else "",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
