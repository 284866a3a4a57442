"""State changes of a conversation. The webhook, the REST API and the socket all call these.

Each action changes rows with a conditional UPDATE (so of two racing callers exactly one wins),
records a ConversationEvent, and publishes to operators after the transaction commits.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from livechat import bot, delivery, realtime
from livechat.models import Conversation, ConversationEvent, Message
from livechat.payloads import conversation_payload

Status = Conversation.Status
Kind = ConversationEvent.Kind
ActorKind = ConversationEvent.ActorKind

DEFAULT_WAIT_PER_POSITION = timedelta(minutes=2)


class ActionRefused(Exception):
    """The action does not apply to the conversation as it is now."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def queue_snapshot() -> list[dict[str, Any]]:
    """Waiting conversations in queue order, with position and estimated wait."""
    waiting = list(
        Conversation.objects.filter(status=Status.WAITING)
        .select_related("contact", "assigned_operator")
        .order_by("handoff_requested_at", "id")
    )
    per_position = average_wait()
    now = timezone.now()
    return [
        {
            "conversation_id": c.pk,
            "position": position,
            "contact": {
                "display_name": c.contact.display_name or c.contact.line_user_id,
                "picture_url": c.contact.picture_url,
            },
            "waiting_since": c.handoff_requested_at.isoformat() if c.handoff_requested_at else None,
            "waited_seconds": int((now - c.handoff_requested_at).total_seconds())
            if c.handoff_requested_at
            else 0,
            "estimated_wait_seconds": int((per_position * position).total_seconds()),
            "conversation": conversation_payload(c),
        }
        for position, c in enumerate(waiting, start=1)
    ]


def average_wait() -> timedelta:
    """How long the last 20 claimed customers waited, or a default before there is history."""
    recent = (
        Conversation.objects.filter(claimed_at__isnull=False, handoff_requested_at__isnull=False)
        .order_by("-claimed_at")
        .values_list("pk", flat=True)[:20]
    )
    result = Conversation.objects.filter(pk__in=list(recent)).aggregate(
        avg=Avg(F("claimed_at") - F("handoff_requested_at"))
    )["avg"]
    return result if result and result > timedelta(0) else DEFAULT_WAIT_PER_POSITION


def queue_position(conversation: Conversation) -> int:
    return Conversation.objects.filter(
        status=Status.WAITING, handoff_requested_at__lte=conversation.handoff_requested_at
    ).count()


def publish_queue_on_commit() -> None:
    """queue_update to every operator, computed after commit so it shows the committed queue."""
    transaction.on_commit(
        lambda: realtime.publish_now(
            [(realtime.OPERATORS_GROUP, "queue_update", {"waiting": queue_snapshot()})]
        )
    )


def publish_conversation_on_commit(conversation: Conversation, *extra: realtime.Publication) -> None:
    payload = {"conversation": conversation_payload(conversation), "messages": []}
    realtime.publish_on_commit(
        (realtime.OPERATORS_GROUP, "conversation_update", payload),
        (realtime.conversation_group(conversation.pk), "conversation_update", payload),
        *extra,
    )


def request_handoff(
    conversation: Conversation, *, actor_kind: str = ActorKind.CUSTOMER, reply_token: str = ""
) -> bool:
    """The customer asks for a human: bot → waiting, and tell them their place in the queue.

    Returns False (and reassures the customer) if they were already waiting or being served.
    """
    now = timezone.now()
    moved = Conversation.objects.filter(pk=conversation.pk, status=Status.BOT).update(
        status=Status.WAITING, handoff_requested_at=now
    )
    config = bot.config()
    if not moved:
        conversation.refresh_from_db(fields=["status", "handoff_requested_at"])
        if conversation.status == Status.WAITING and reply_token:
            position = queue_position(conversation)
            text = config.still_waiting_message.format(position=position, wait_minutes=_minutes(position))
            delivery.queue_outbound(
                conversation,
                delivery.line_message_for_text(text),
                sender_kind=Message.SenderKind.BOT,
                reply_token=reply_token,
            )
        return False
    conversation.status = Status.WAITING
    conversation.handoff_requested_at = now
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=Kind.HANDOFF,
        actor_kind=actor_kind,
        from_status=Status.BOT,
        to_status=Status.WAITING,
    )
    position = queue_position(conversation)
    text = config.handoff_message.format(position=position, wait_minutes=_minutes(position))
    delivery.queue_outbound(
        conversation,
        delivery.line_message_for_text(text),
        sender_kind=Message.SenderKind.BOT,
        reply_token=reply_token,
    )
    publish_conversation_on_commit(conversation)
    publish_queue_on_commit()
    return True


def _minutes(position: int) -> int:
    return max(1, round((average_wait() * position).total_seconds() / 60))
