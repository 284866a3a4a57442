"""The simulator's phone page: play one or more LINE users against the app.

Who may call: anyone who can reach the app while the simulator is enabled (never in production;
urls.py makes every view a 404 otherwise). Writes are CSRF-protected like any form.

Every customer action leaves here as a real webhook: the event is built with
`livechat.simulator.events`, signed with the channel secret and POSTed over HTTP to the app's own
`/webhooks/line/` — the same path LINE's servers take. What the app sends back is read from the
calls the simulated Messaging API recorded (`SimulatorCall`), so the page shows exactly what LINE
accepted, nothing the app merely meant to send.
"""

import json
import random
import struct
import zlib
from typing import Any, TypedDict

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from livechat.simulator import events
from livechat.simulator.models import SimulatorCall, SimulatorContent, SimulatorProfile
from livechat.simulator.rules import USER_ID

OA_NAME = "LINE OA Live Chat"
DEFAULT_STICKER = ("446", "1988")
# Stickers from LINE's list of stickers any bot may send (package, sticker, fallback when offline).
STICKERS = [
    ("446", "1988", "😊"),
    ("446", "1989", "😆"),
    ("446", "1990", "😘"),
    ("446", "1993", "😭"),
    ("789", "10855", "👋"),
    ("789", "10857", "🙏"),
    ("11537", "52002734", "🎉"),
    ("11537", "52002738", "👍"),
]


class Place(TypedDict):
    """A location the phone can share: `events.location_event`'s keyword arguments."""

    title: str
    address: str
    latitude: float
    longitude: float


BANGKOK_PLACES: list[Place] = [
    {
        "title": "สยามพารากอน (Siam Paragon)",
        "address": "991 ถ. พระรามที่ 1 แขวงปทุมวัน เขตปทุมวัน กรุงเทพมหานคร 10330",
        "latitude": 13.746210,
        "longitude": 100.534830,
    },
    {
        "title": "พระบรมมหาราชวัง (The Grand Palace)",
        "address": "ถ. หน้าพระลาน แขวงพระบรมมหาราชวัง เขตพระนคร กรุงเทพมหานคร 10200",
        "latitude": 13.750004,
        "longitude": 100.491289,
    },
    {
        "title": "ตลาดนัดจตุจักร (Chatuchak Weekend Market)",
        "address": "ถ. กำแพงเพชร 2 แขวงจตุจักร เขตจตุจักร กรุงเทพมหานคร 10900",
        "latitude": 13.799890,
        "longitude": 100.550030,
    },
    {
        "title": "ไอคอนสยาม (ICONSIAM)",
        "address": "299 ถ. เจริญนคร แขวงคลองต้นไทร เขตคลองสาน กรุงเทพมหานคร 10600",
        "latitude": 13.726575,
        "longitude": 100.510589,
    },
    {
        "title": "สวนลุมพินี (Lumphini Park)",
        "address": "ถ. พระรามที่ 4 แขวงลุมพินี เขตปทุมวัน กรุงเทพมหานคร 10330",
        "latitude": 13.731418,
        "longitude": 100.541394,
    },
]
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}  # never SVG: it can carry script
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_NAME = 200
INBOX_ENDPOINTS = ("reply", "push", "loading")
ACCEPTED = (200, 202)  # LINE answers a loading animation with 202
INBOX_PAGE = 200


class Refused(Exception):
    """The request cannot become a webhook event; the message says why."""


# --- Fake users -------------------------------------------------------------------------------


def profile_payload(profile: SimulatorProfile) -> dict[str, str]:
    return {"userId": profile.user_id, "name": profile.display_name, "pictureUrl": profile.picture_url}


def save_profile(name: str, picture_url: str = "", user_id: str = "") -> SimulatorProfile:
    """Create a fake LINE user (a fresh id unless one is given), or rename an existing one."""
    name = " ".join(name.split())[:MAX_NAME]
    picture_url = picture_url.strip()
    if user_id and not USER_ID.fullmatch(user_id):
        raise Refused(_("A LINE user id is “U” followed by 32 hexadecimal digits."))
    if picture_url:
        try:
            URLValidator(schemes=["http", "https"])(picture_url)
        except ValidationError:
            raise Refused(_("The picture must be an http(s) URL.")) from None
    if not user_id:
        if not name:
            raise Refused(_("Give the user a name."))
        return SimulatorProfile.objects.create(
            user_id=events.new_user_id(), display_name=name, picture_url=picture_url
        )
    profile, created = SimulatorProfile.objects.get_or_create(
        user_id=user_id,
        defaults={"display_name": name or f"LINE user {user_id[-4:]}", "picture_url": picture_url},
    )
    if not created:
        wanted = {"display_name": name, "picture_url": picture_url}
        changed = [field for field, value in wanted.items() if value and getattr(profile, field) != value]
        for field in changed:
            setattr(profile, field, wanted[field])
        if changed:
            profile.save(update_fields=changed)
    return profile


# --- Building the customer's events -------------------------------------------------------------


def generated_png(width: int = 360, height: int = 240) -> bytes:
    """A small gradient PNG in a random colour, so every generated image looks different."""
    r, g, b = (random.randrange(40, 216) for _ in range(3))
    rows = bytearray()
    for y in range(height):
        shade = y / height
        row = bytes(
            channel
            for x in range(width)
            for channel in (
                int(r + (255 - r) * shade * x / width),
                int(g * (1 - shade / 2)),
                int(b + (255 - b) * (1 - x / width) * shade),
            )
        )
        rows += b"\x00" + row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def image_message_event(user_id: str, data: bytes, content_type: str) -> dict[str, Any]:
    """Keep the bytes where the simulated content API serves them, and announce them."""
    message_id = events.new_message_id()
    SimulatorContent.objects.create(message_id=message_id, content_type=content_type, data=data)
    return events.message_event(
        user_id, {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}
    )


def event_for(user_id: str, kind: str, form: Any, upload: Any = None) -> dict[str, Any]:
    """The webhook event for one action on the phone (`form` is the POSTed fields)."""
    if kind == "text":
        text = str(form.get("text", ""))
        if not text.strip():
            raise Refused(_("Type a message first."))
        return events.text_event(user_id, text[:5000])
    if kind == "sticker":
        package_id = str(form.get("package_id") or DEFAULT_STICKER[0])
        sticker_id = str(form.get("sticker_id") or DEFAULT_STICKER[1])
        if not (package_id.isdigit() and sticker_id.isdigit()):
            raise Refused(_("Unknown sticker."))
        return events.sticker_event(user_id, package_id, sticker_id)
    if kind == "image":
        if upload is None:
            return image_message_event(user_id, generated_png(), "image/png")
        if upload.content_type not in IMAGE_TYPES:
            raise Refused(_("Send a JPEG, PNG, GIF or WebP image."))
        if upload.size > MAX_IMAGE_BYTES:
            raise Refused(_("The image is larger than 4 MB."))
        return image_message_event(user_id, upload.read(), upload.content_type)
    if kind == "location":
        try:
            place = BANGKOK_PLACES[int(form.get("place", 0))]
        except (ValueError, IndexError):
            raise Refused(_("Unknown place.")) from None
        return events.location_event(user_id, **place)
    if kind == "postback":
        # What LINE sends for a tap on a postback action: its data, and a picker's params. The
        # action's displayText is drawn in the user's own chat by the page, never sent.
        data = str(form.get("data", ""))
        if not data:
            raise Refused(_("A postback needs data."))
        return events.postback_event(user_id, data[:300], _postback_params(form.get("params")))
    if kind == "follow":
        befriend(user_id, True)
        return events.follow_event(user_id)
    if kind == "unfollow":
        befriend(user_id, False)
        return events.unfollow_event(user_id)
    raise Refused(_("Unknown action."))


def _postback_params(params: Any) -> dict[str, str] | None:
    """A datetime picker's answer: {"date": …} / {"time": …} / {"datetime": …}."""
    if not params:
        return None
    try:
        return {str(k): str(v) for k, v in json.loads(params).items()}
    except (ValueError, AttributeError):
        raise Refused(_("Bad postback parameters.")) from None


def befriend(user_id: str, is_friend: bool) -> None:
    """The user adds (or blocks) the account on LINE: from now on LINE answers their profile
    (or a 404). LINE knows this before it tells the app, so it is noted before the webhook."""
    SimulatorProfile.objects.filter(user_id=user_id).update(is_friend=is_friend)


def deliver(request: HttpRequest, event: dict[str, Any]) -> int:
    """POST the signed event to our own webhook, over HTTP, as LINE would. Returns its status."""
    body = events.webhook_body(event)
    response = httpx.post(
        request.build_absolute_uri(reverse("livechat:line-webhook")),
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Line-Signature": events.sign(body, settings.LINE_CHANNEL_SECRET),
        },
        timeout=10,
    )
    return response.status_code


# --- Views --------------------------------------------------------------------------------------


def _strings() -> dict[str, str]:
    """What the page's script shows, translated here (the script has no catalogue of its own)."""
    return {
        "sendFailed": _("Not delivered (webhook answered {status})"),
        "networkError": _("Could not reach the server"),
        "followed": _("You added {oa} as a friend"),
        "unfollowed": _("You blocked {oa}"),
        "postbackSent": _("Sent postback: {data}"),
        "sticker": _("Sticker"),
        "image": _("Photo"),
        "video": _("Video"),
        "audio": _("Audio message"),
        "location": _("Location"),
        "openMap": _("Open map"),
        "unsupported": _("This message type is not shown in the simulator: {type}"),
        "today": _("Today"),
        "noUsers": _("Create a LINE user to start chatting."),
        "closeTab": _("Close tab"),
    }


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """The phone. `?user=<id>&name=<name>` opens (creating if needed) that user directly: one who
    has the account as a friend already (no follow event is sent, as if they added it earlier)."""
    initial: dict[str, str] | None = None
    error = ""
    user_id, name = request.GET.get("user", "").strip(), request.GET.get("name", "").strip()
    if user_id or name:
        try:
            initial = profile_payload(save_profile(name, request.GET.get("picture", ""), user_id))
        except Refused as refused:
            error = str(refused)
    known = [profile_payload(p) for p in SimulatorProfile.objects.order_by("-id")[:30]]
    data = {
        "oaName": OA_NAME,
        "initialUser": initial,
        "knownUsers": known,
        "stickers": [{"packageId": p, "stickerId": s, "fallback": f} for p, s, f in STICKERS],
        "places": [place["title"] for place in BANGKOK_PLACES],
        "strings": _strings(),
        "urls": {
            "users": reverse("simulator:phone-users"),
            "send": reverse("simulator:phone-send"),
            "inbox": reverse("simulator:phone-inbox"),
            "content": reverse("simulator:phone-content", args=["MESSAGE_ID"]),
        },
    }
    return render(request, "simulator/phone.html", {"data": data, "error": error, "oa_name": OA_NAME})


@require_POST
def users(request: HttpRequest) -> JsonResponse:
    """Create a fake user (`name`, `picture_url`), or update one (`user_id`).

    A new user adds the account as a friend, as one does on LINE to start chatting: the app gets
    their follow event (answered in `follow`: the webhook's status, when, and the event).
    """
    user_id = request.POST.get("user_id", "").strip()
    try:
        profile = save_profile(request.POST.get("name", ""), request.POST.get("picture_url", ""), user_id)
    except Refused as refused:
        return JsonResponse({"error": str(refused)}, status=400)
    payload: dict[str, Any] = profile_payload(profile)
    if not user_id:
        payload["follow"] = _deliver_reporting(request, events.follow_event(profile.user_id))
    return JsonResponse(payload)


def _deliver_reporting(request: HttpRequest, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver the event; what the page shows about it (a webhook that failed is not hidden)."""
    at = timezone.now()
    try:
        status = deliver(request, event)
    except httpx.HTTPError as exc:
        return {"webhook_status": 0, "error": f"{type(exc).__name__}: {exc}", "event": event}
    return {"webhook_status": status, "at": at.isoformat(), "event": event}


@require_POST
def send(request: HttpRequest) -> JsonResponse:
    """One customer action → one signed webhook. Answers the webhook's status and the event."""
    at = timezone.now()
    user_id = request.POST.get("user_id", "")
    if not USER_ID.fullmatch(user_id):
        return JsonResponse({"error": _("Unknown LINE user.")}, status=400)
    try:
        event = event_for(user_id, request.POST.get("kind", ""), request.POST, request.FILES.get("file"))
    except Refused as refused:
        return JsonResponse({"error": str(refused)}, status=400)
    try:
        status = deliver(request, event)
    except httpx.HTTPError as exc:
        return JsonResponse(
            {"error": f"{type(exc).__name__}: {exc}", "webhook_status": 0, "event": event}, status=502
        )
    return JsonResponse(
        {"webhook_status": status, "at": at.isoformat(), "event": event},
        status=200 if status == 200 else 502,
    )


@require_GET
def inbox(request: HttpRequest) -> JsonResponse:
    """What LINE accepted for these users after call `since`: replies, pushes, loading dots."""
    try:
        since = int(request.GET.get("since", "0"))
    except ValueError:
        return JsonResponse({"error": "since must be a number"}, status=400)
    user_ids = [u for u in request.GET.getlist("user_id") if USER_ID.fullmatch(u)]
    calls = SimulatorCall.objects.filter(
        id__gt=since, user_id__in=user_ids, endpoint__in=INBOX_ENDPOINTS, response_status__in=ACCEPTED
    ).order_by("id")[:INBOX_PAGE]
    items = [
        {
            "id": call.id,
            "userId": call.user_id,
            "endpoint": call.endpoint,
            "at": call.created_at.isoformat(),
            "messages": (call.body or {}).get("messages", []) if call.endpoint != "loading" else [],
            "loadingSeconds": (call.body or {}).get("loadingSeconds", 0) if call.endpoint == "loading" else 0,
        }
        for call in calls
    ]
    return JsonResponse({"items": items, "last": items[-1]["id"] if items else since})


@require_GET
def content(request: HttpRequest, message_id: str) -> HttpResponse:
    """The bytes of an image a fake user sent, for the phone to show its own message."""
    stored = SimulatorContent.objects.filter(message_id=message_id).first()
    if stored is None or stored.content_type not in IMAGE_TYPES:
        raise Http404("No such image.")
    response = HttpResponse(bytes(stored.data), content_type=stored.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
