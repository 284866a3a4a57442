"""The CSAT survey: the card with five rating buttons sent on close, and what a tap on it means.

The buttons are postbacks whose data is exactly `action=csat&conversation=<id>&rating=<n>`
(also as quick replies under the card, for phones that show those first). A tap is only a
rating when it is for a conversation of the same customer, between 1 and 5, after the survey
went out and before it expired; the first one counts (CsatResponse is one per conversation).
The recording itself is an action (livechat.conversations.actions.rate / .comment_on_rating).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from livechat.delivery import outbox
from livechat.models import Conversation, ConversationEvent, ServiceSettings

# What each rating says, in the customer's two languages, best first (as the card shows them).
RATINGS: dict[int, tuple[str, str, str]] = {
    5: ("😍", "ดีมาก", "Excellent"),
    4: ("🙂", "ดี", "Good"),
    3: ("😐", "พอใช้", "OK"),
    2: ("🙁", "ควรปรับปรุง", "Poor"),
    1: ("😞", "แย่", "Bad"),
}
# After a rating, the customer's next text within this long is their comment on it.
COMMENT_WINDOW = timedelta(minutes=10)
MAX_COMMENT = 2000
ALT_TEXT = "ให้คะแนนการบริการของเรา (1–5) · Rate our service (1–5)"
BRAND_GREEN = "#06C755"  # LINE's own green: the best ratings stand out, the rest stay quiet


def postback_data(conversation_id: int, rating: int) -> str:
    return f"action=csat&conversation={conversation_id}&rating={rating}"


@dataclass(frozen=True)
class Tap:
    conversation_id: int
    rating: int


def parse(data: str) -> Tap | None:
    """The tap a postback's data describes, or None when it is no valid survey answer (another
    action, a missing or non-numeric id, a rating outside 1–5)."""
    fields = parse_qs(data, keep_blank_values=True)

    def one(name: str) -> str:
        values = fields.get(name, [])
        return values[0] if len(values) == 1 else ""

    if one("action") != "csat":
        return None
    conversation, rating = one("conversation"), one("rating")
    if not (conversation.isdigit() and rating.isdigit()) or len(conversation) > 18:
        return None
    if int(rating) not in RATINGS:
        return None
    return Tap(int(conversation), int(rating))


def survey_message(conversation_id: int, question: str) -> dict[str, Any]:
    """The Flex card with five rating buttons, and the same five as quick replies."""
    buttons = [
        {
            "type": "button",
            "style": "primary" if rating >= 4 else "secondary",
            **({"color": BRAND_GREEN} if rating == 5 else {}),
            "height": "sm",
            "action": {
                "type": "postback",
                "label": f"{emoji} {rating} · {th} · {en}",
                "data": postback_data(conversation_id, rating),
                "displayText": f"{rating} ⭐ {th}",
            },
        }
        for rating, (emoji, th, en) in RATINGS.items()
    ]
    card = {
        "type": "flex",
        "altText": ALT_TEXT,
        "contents": {
            "type": "bubble",
            "body": {
                "type": "box",
                "layout": "vertical",
                "spacing": "sm",
                "contents": [
                    {"type": "text", "text": question[:300], "wrap": True, "weight": "bold", "size": "md"},
                    {"type": "separator", "margin": "md"},
                    *buttons,
                ],
            },
        },
    }
    quick = [
        outbox.quick_reply_postback(
            f"{rating}⭐ {th}", postback_data(conversation_id, rating), display_text=f"{rating} ⭐ {th}"
        )
        for rating, (_emoji, th, _en) in RATINGS.items()
    ]
    return outbox.with_quick_replies(card, quick)


def survey_due(conversation: Conversation, actor_kind: str, settings: ServiceSettings) -> bool:
    """Whether closing `conversation` (by `actor_kind`) sends the survey: CSAT is on, someone of
    the team served the customer, the customer can still receive messages, and an automatic
    close sends it only if the supervisors said so."""
    if not settings.csat_enabled or conversation.claimed_at is None or conversation.csat_sent_at:
        return False
    if not conversation.contact.is_following:
        return False
    return actor_kind != ConversationEvent.ActorKind.SYSTEM or settings.csat_after_auto_close


def still_open(conversation: Conversation, now: datetime, settings: ServiceSettings) -> bool:
    """The survey went out and has not expired."""
    sent = conversation.csat_sent_at
    return sent is not None and sent <= now <= sent + timedelta(hours=settings.csat_expiry_hours)
