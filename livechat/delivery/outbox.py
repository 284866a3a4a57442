"""What may go out to LINE, and what is waiting to.

LINE message objects are built and checked here before a message is queued (a text LINE would
refuse is refused at once, with a reason the operator can act on), and the worker asks here for
the sends that are due.
"""

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from livechat.line import messaging_api
from livechat.models import Message
from livechat.models.line_text import line_length


class OutboundRefused(ValueError):
    """The message can never be sent as it is (e.g. text over LINE's 5000 characters)."""


def text_message(text: str) -> dict[str, Any]:
    if not text.strip():
        raise OutboundRefused("The message is empty.")
    length = line_length(text)
    if length > messaging_api.MAX_TEXT_LENGTH:
        raise OutboundRefused(
            f"LINE counts the message as {length} characters (an emoji counts as 2) and accepts at most "
            f"{messaging_api.MAX_TEXT_LENGTH}. Split it into shorter messages."
        )
    return {"type": "text", "text": text}


SENDER_NAME_LENGTH = 20  # LINE's limit for `sender.name`
_WORD_LINE = re.compile(r"(?<![^\W_])line(?![^\W_])", re.IGNORECASE)


def with_sender(line_message: dict[str, Any], name: str) -> dict[str, Any]:
    """The message with LINE's `sender` (the name shown above it on the customer's phone, instead
    of the account's), or as it is for an empty name. LINE refuses the word "LINE" in a sender
    name, so it is left out (as a word only: "Caroline" stays "Caroline")."""
    name = " ".join(_WORD_LINE.sub(" ", name).split())[:SENDER_NAME_LENGTH].strip()
    if not name or "sender" in line_message:
        return line_message
    return {**line_message, "sender": {"name": name}}


def sticker_message(package_id: str, sticker_id: str) -> dict[str, Any]:
    return {"type": "sticker", "packageId": str(package_id), "stickerId": str(sticker_id)}


def quick_reply_postback(label: str, data: str, *, display_text: str) -> dict[str, Any]:
    """A quick reply button that sends us `data`; LINE shows `display_text` in the chat as the
    customer's message."""
    action = {"type": "postback", "label": label, "data": data, "displayText": display_text}
    return {"type": "action", "action": action}


def quick_reply_message(label: str, text: str) -> dict[str, Any]:
    """A quick reply button that sends `text` as the customer's message."""
    return {"type": "action", "action": {"type": "message", "label": label, "text": text}}


def with_quick_replies(line_message: dict[str, Any], items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The message with quick reply buttons under it (LINE shows them until the next message)."""
    if not items:
        return line_message
    return {**line_message, "quickReply": {"items": list(items)}}


def checked(line_message: dict[str, Any]) -> dict[str, Any]:
    """The message object, if LINE can take it (raises OutboundRefused otherwise)."""
    if line_message.get("type") == "text":
        text_message(line_message.get("text", ""))
    return line_message


def due_message_ids(limit: int = 100) -> list[int]:
    """Pending messages whose next attempt is due and that nobody holds (for the worker)."""
    now = timezone.now()
    return list(
        Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
