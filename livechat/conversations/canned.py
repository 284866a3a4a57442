"""Canned responses as a conversation sees them: who sees and edits which, the "/" picker's search,
and the LINE messages one becomes when an operator sends it (its variables filled in for the
customer, the operator and the moment).

Variables (livechat.models.canned.VARIABLES) are checked when a response is saved; here they are
only filled in. A filled-in text can outgrow LINE's 5,000 units (a long customer name in a text
near the limit): sending is then refused with a reason, nothing is queued.
"""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from livechat.conversations import queue
from livechat.conversations.permissions import ActionRefused
from livechat.delivery import outbox
from livechat.line import hosted_images
from livechat.models import CannedResponse, Conversation
from livechat.models.line_text import MAX_TEXT_UNITS, fill_in, line_length
from livechat.policies import business_hours

PICKER_LIMIT = 20  # responses the picker lists at once; a longer query narrows them


def visible_to(user: User) -> "QuerySet[CannedResponse]":
    """What the user's picker offers: the shared responses and the user's own, active ones."""
    return CannedResponse.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True)


def may_edit(user: User, canned: CannedResponse) -> bool:
    """Shared responses: supervisors and admins. Personal ones: their owner only."""
    if canned.owner_id is None:
        return bool(user.is_supervisor)
    return canned.owner_id == user.pk


def search(user: User, query: str) -> "QuerySet[CannedResponse]":
    """The user's responses whose shortcut, title or text contains `query`, ignoring case
    (PostgreSQL's UPPER: Thai has no case, so a Thai query matches as a plain substring)."""
    found = visible_to(user)
    query = query.strip().lstrip("/")
    if query:
        found = found.filter(
            Q(shortcut__icontains=query) | Q(title__icontains=query) | Q(text__icontains=query)
        )
    # By shortcut; an operator's own before a shared one with the same shortcut (NULLs sort last).
    return found.order_by("shortcut", "owner_id")


def _language(conversation: Conversation) -> str:
    """The customer's language as LINE's profile says, Thai unless it says English."""
    return "en" if conversation.contact.language.lower().startswith("en") else "th"


def hours_today(now: datetime | None = None) -> str:
    """Today's opening hours in the current language: "09:00–12:00, 13:00–18:00", or closed."""
    schedule = business_hours.schedule()
    now = now or timezone.now()
    if schedule.always_open:
        return gettext("open 24 hours")
    today = now.astimezone(schedule.zone).date()
    periods = schedule.periods_on(today)
    if not periods:
        return gettext("closed today")
    spans = []
    for start, end in periods:
        closes = "24:00" if end.date() > today else f"{end:%H:%M}"  # open to midnight
        spans.append(f"{start:%H:%M}–{closes}")
    return ", ".join(spans)


def variables(conversation: Conversation, operator: User) -> dict[str, str]:
    """What each variable stands for in this conversation, sent by this operator now."""
    with translation.override(_language(conversation)):
        waiting = conversation.status == Conversation.Status.WAITING and conversation.handoff_requested_at
        return {
            "customer_name": conversation.contact.display_name or gettext("customer"),
            "operator_name": operator.name,
            "queue_position": str(queue.position_of(conversation)) if waiting else "-",
            "business_hours_today": hours_today(),
            "conversation_id": str(conversation.pk),
        }


def render(canned: CannedResponse, conversation: Conversation, operator: User) -> str:
    return fill_in(canned.text, **variables(conversation, operator))


def too_long(text: str) -> str:
    """Why the filled-in text cannot go to LINE ("" when it can)."""
    length = line_length(text)
    if length <= MAX_TEXT_UNITS:
        return ""
    return (
        f"Filled in for this conversation, the canned response is {length} characters as LINE counts "
        f"(an emoji counts as 2); LINE accepts at most {MAX_TEXT_UNITS}."
    )


def line_messages(canned: CannedResponse, conversation: Conversation, operator: User) -> list[dict[str, Any]]:
    """The LINE message objects the response becomes, in order: its text, then its image or
    sticker; its quick replies on the last. Raises ActionRefused when the text cannot be sent."""
    messages: list[dict[str, Any]] = []
    if canned.text.strip():
        text = render(canned, conversation, operator)
        if reason := too_long(text):
            raise ActionRefused("invalid", reason)
        try:
            messages.append(outbox.text_message(text))
        except outbox.OutboundRefused as exc:
            raise ActionRefused("invalid", str(exc)) from exc
    if canned.image_path:
        messages.append(
            {
                "type": "image",
                "originalContentUrl": canned.image_url,
                "previewImageUrl": canned.image_preview_url,
            }
        )
    elif canned.has_sticker:
        messages.append(outbox.sticker_message(canned.sticker_package_id, canned.sticker_id))
    if not messages:
        raise ActionRefused("invalid", gettext_lazy("The canned response has nothing to send."))
    buttons = [outbox.quick_reply_message(item["label"], item["text"]) for item in canned.quick_replies]
    messages[-1] = outbox.with_quick_replies(messages[-1], buttons)
    return messages


def own_copy_of_image(canned: CannedResponse, image_message: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The image message pointing at a copy of the response's image, and the copy's path (the
    message's media: retention and erasure then remove the copy, not the response's image)."""
    try:
        copied = hosted_images.copy(canned.image_path)
    except (hosted_images.UploadRefused, OSError) as exc:
        raise ActionRefused(
            "invalid", gettext_lazy("The canned response's image is missing; attach it again.")
        ) from exc
    old_token = canned.image_path.split("/")[1]

    def moved(url: str) -> str:
        return url.replace(f"/{old_token}/", f"/{copied.token}/").replace(
            f"/{canned.image_path.rsplit('/', 1)[1]}", f"/{copied.original_name}"
        )

    message = {
        **image_message,
        "originalContentUrl": moved(canned.image_url),
        "previewImageUrl": moved(canned.image_url),
    }
    return message, copied.original_path


def picker_item(canned: CannedResponse, filled: dict[str, str] | None) -> dict[str, Any]:
    """One row of the "/" picker; with a conversation's `variables`, its text as the customer
    would get it."""
    item: dict[str, Any] = {
        "id": canned.pk,
        "shortcut": canned.shortcut,
        "title": canned.title,
        "text": canned.text,
        "shared": canned.owner_id is None,
        "image_url": canned.image_preview_url,
        "sticker": (
            {"package_id": canned.sticker_package_id, "sticker_id": canned.sticker_id}
            if canned.has_sticker
            else None
        ),
        "quick_replies": [item["label"] for item in canned.quick_replies],
    }
    if filled is not None:
        preview = fill_in(canned.text, **filled)
        item["preview"] = preview
        item["error"] = too_long(preview)
    return item
