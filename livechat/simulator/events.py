"""Building LINE webhook events and signing them, as LINE does.

Used by the phone page, the tests and the benchmarks: every simulated customer action reaches
the app as a real signed POST to /webhooks/line/.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from livechat.simulator.rules import new_mark_as_read_token, new_reply_token


def sign(body: bytes, channel_secret: str) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def new_user_id() -> str:
    return "U" + secrets.token_hex(16)


def new_message_id() -> str:
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def _base(
    event_type: str, user_id: str, *, with_reply_token: bool = True, redelivery: bool = False
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": event_type,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if with_reply_token:
        event["replyToken"] = new_reply_token(user_id=user_id)
    return event


def message_event(user_id: str, message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    event = _base("message", user_id, **kwargs)
    event["message"] = {
        "id": new_message_id(),
        "quoteToken": secrets.token_hex(16),
        "markAsReadToken": new_mark_as_read_token(),
        **message,
    }
    return event


def text_event(user_id: str, text: str, **kwargs: Any) -> dict[str, Any]:
    return message_event(user_id, {"type": "text", "text": text}, **kwargs)


def sticker_event(
    user_id: str, package_id: str = "446", sticker_id: str = "1988", **kwargs: Any
) -> dict[str, Any]:
    return message_event(
        user_id,
        {
            "type": "sticker",
            "packageId": package_id,
            "stickerId": sticker_id,
            "stickerResourceType": "STATIC",
            "keywords": ["Happy"],
        },
        **kwargs,
    )


def image_event(user_id: str, **kwargs: Any) -> dict[str, Any]:
    return message_event(user_id, {"type": "image", "contentProvider": {"type": "line"}}, **kwargs)


def location_event(
    user_id: str, title: str, address: str, latitude: float, longitude: float, **kwargs: Any
) -> dict[str, Any]:
    return message_event(
        user_id,
        {
            "type": "location",
            "title": title,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
        },
        **kwargs,
    )


def postback_event(
    user_id: str, data: str, params: dict[str, str] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A tap on a postback action. LINE sends only `data` (and a picker's `params`): the
    action's displayText is shown in the user's chat as their message, never put in the webhook."""
    event = _base("postback", user_id, **kwargs)
    event["postback"] = {"data": data}
    if params:
        event["postback"]["params"] = params
    return event


def follow_event(user_id: str, **kwargs: Any) -> dict[str, Any]:
    event = _base("follow", user_id, **kwargs)
    event["follow"] = {"isUnblocked": False}
    return event


def unfollow_event(user_id: str, **kwargs: Any) -> dict[str, Any]:
    return _base("unfollow", user_id, with_reply_token=False, **kwargs)


def unsend_event(user_id: str, message_id: str, **kwargs: Any) -> dict[str, Any]:
    event = _base("unsend", user_id, with_reply_token=False, **kwargs)
    event["unsend"] = {"messageId": message_id}
    return event


def webhook_body(*events: dict[str, Any], destination: str = "Usimulatorbot00000000000000000000") -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()
