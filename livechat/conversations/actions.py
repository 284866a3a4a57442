"""State changes of a conversation. The webhook, the REST API and the socket all call these.

Each action changes rows with a conditional UPDATE (so of two racing callers exactly one wins),
records a ConversationEvent, and publishes to operators after the transaction commits.
"""

import threading
import time
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from livechat.conversations import bot
from livechat.delivery import sender
from livechat.jobs import background
from livechat.models import Conversation, ConversationEvent, Message
from livechat.realtime import publish
from livechat.realtime.payloads import conversation_payload, operator_payload

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


# The estimate moves slowly, and every handoff and queue snapshot asks for it: it is computed
# at most once per AVERAGE_WAIT_TTL in each process.
AVERAGE_WAIT_TTL = 10.0
_average_wait: tuple[float, timedelta] | None = None


def average_wait() -> timedelta:
    """How long the last 20 claimed customers waited, or a default before there is history."""
    global _average_wait
    if _average_wait is not None and time.monotonic() - _average_wait[0] < AVERAGE_WAIT_TTL:
        return _average_wait[1]
    recent = (
        Conversation.objects.filter(claimed_at__isnull=False, handoff_requested_at__isnull=False)
        .order_by("-claimed_at")
        .values("pk")[:20]
    )
    result = Conversation.objects.filter(pk__in=recent).aggregate(
        avg=Avg(F("claimed_at") - F("handoff_requested_at"))
    )["avg"]
    estimate = result if result and result > timedelta(0) else DEFAULT_WAIT_PER_POSITION
    _average_wait = (time.monotonic(), estimate)
    return estimate


def forget_average_wait() -> None:
    """Drop the cached estimate (tests; a process that wants it fresh)."""
    global _average_wait
    _average_wait = None


def queue_position(conversation: Conversation) -> int:
    return Conversation.objects.filter(
        status=Status.WAITING, handoff_requested_at__lte=conversation.handoff_requested_at
    ).count()


# A full snapshot costs O(waiting customers) to build and to send to every operator; in a rush
# (dozens of handoffs a second) one every QUEUE_UPDATE_INTERVAL carries the same news.
QUEUE_UPDATE_INTERVAL = 0.5
_queue_update = threading.Lock()
_queue_update_due = False
_queue_update_sent_at = float("-inf")


def publish_queue_on_commit() -> None:
    """queue_update to every operator, once the change committed.

    The snapshot is built in a background thread, not in the request that changed the queue.
    The first change after a quiet spell goes out at once; changes within QUEUE_UPDATE_INTERVAL
    of the last snapshot are coalesced into one more at the interval's end. A change that
    commits after a snapshot started always schedules another one, so none is missed.
    """
    transaction.on_commit(_schedule_queue_update)


def _schedule_queue_update() -> None:
    global _queue_update_due
    with _queue_update:
        if _queue_update_due:
            return
        _queue_update_due = True
        delay = _queue_update_sent_at + QUEUE_UPDATE_INTERVAL - time.monotonic()
    background.submit(_send_queue_update, max(0.0, delay))


def _send_queue_update(delay: float = 0.0) -> None:
    global _queue_update_due, _queue_update_sent_at
    if delay:
        time.sleep(delay)  # in a pool thread; at most one such wait at a time (the due flag)
    with _queue_update:
        _queue_update_due = False
        _queue_update_sent_at = time.monotonic()
    publish.publish_now([(publish.OPERATORS_GROUP, "queue_update", {"waiting": queue_snapshot()})])


def publish_conversation_on_commit(conversation: Conversation, *extra: publish.Publication) -> None:
    payload = {"conversation": conversation_payload(conversation), "messages": []}
    publish.publish_on_commit(
        (publish.OPERATORS_GROUP, "conversation_update", payload),
        (publish.conversation_group(conversation.pk), "conversation_update", payload),
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
            _tell_queue_position(conversation, config.still_waiting_message, reply_token)
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
    _tell_queue_position(conversation, config.handoff_message, reply_token)
    publish_conversation_on_commit(conversation)
    publish_queue_on_commit()
    return True


def _tell_queue_position(conversation: Conversation, template: str, reply_token: str) -> None:
    """The bot's answer with {position} and {wait_minutes} filled in, by the reply token."""
    position = queue_position(conversation)
    text = template.format(position=position, wait_minutes=_minutes(position))
    sender.queue_outbound(
        conversation,
        sender.line_message_for_text(text),
        sender_kind=Message.SenderKind.BOT,
        reply_token=reply_token,
    )


def _minutes(position: int) -> int:
    return max(1, round((average_wait() * position).total_seconds() / 60))


# --- Operators' actions -------------------------------------------------------------------------


def _locked(conversation_id: int) -> Conversation:
    try:
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "assigned_operator")
            .get(pk=conversation_id)
        )
    except Conversation.DoesNotExist:
        raise ActionRefused("not_found", f"Conversation {conversation_id} does not exist.") from None


def _holds(operator: Any, conversation: Conversation) -> bool:
    return conversation.assigned_operator_id == operator.pk


def _require_holder(operator: Any, conversation: Conversation, doing: str) -> None:
    if not (_holds(operator, conversation) or operator.is_supervisor):
        raise ActionRefused("forbidden", f"Only the operator holding the conversation may {doing}.")


def _session_publication(frame_type: str, conversation: Conversation, **extra: Any) -> publish.Publication:
    return (
        publish.OPERATORS_GROUP,
        frame_type,
        {"conversation": conversation_payload(conversation), **extra},
    )


def claim(conversation_id: int, operator: Any) -> Conversation:
    """Take a waiting (or bot) conversation. Of two simultaneous claims exactly one wins."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.ACTIVE:
            holder = conversation.assigned_operator
            raise ActionRefused(
                "already_claimed", f"Already claimed by {holder.name if holder else 'someone'}."
            )
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", "The conversation is closed.")
        now = timezone.now()
        previous = conversation.status
        conversation.status = Status.ACTIVE
        conversation.assigned_operator = operator
        conversation.claimed_at = now
        conversation.handoff_requested_at = conversation.handoff_requested_at or now
        conversation.save(update_fields=["status", "assigned_operator", "claimed_at", "handoff_requested_at"])
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=Kind.CLAIMED,
            actor_kind=ActorKind.OPERATOR,
            actor=operator,
            from_status=previous,
            to_status=Status.ACTIVE,
            to_operator=operator,
        )
        publish.publish_on_commit(
            _session_publication("session_claimed", conversation, operator=_operator(operator))
        )
        publish_queue_on_commit()
    return conversation


def close(conversation_id: int, operator: Any, reason: str = "") -> Conversation:
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", "The conversation is already closed.")
        if conversation.status == Status.ACTIVE:
            _require_holder(operator, conversation, "close it")
        previous = conversation.status
        conversation.status = Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.close_reason = reason[:200]
        conversation.save(update_fields=["status", "closed_at", "close_reason"])
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=Kind.CLOSED,
            actor_kind=ActorKind.OPERATOR,
            actor=operator,
            from_status=previous,
            to_status=Status.CLOSED,
            from_operator=conversation.assigned_operator,
            note=reason,
        )
        publish.publish_on_commit(
            _session_publication("session_closed", conversation, operator=_operator(operator), reason=reason)
        )
        if previous == Status.WAITING:
            publish_queue_on_commit()
    return conversation


def transfer(
    conversation_id: int,
    operator: Any,
    *,
    to_operator_id: int | None = None,
    to_queue: bool = False,
    note: str = "",
) -> Conversation:
    """Hand an active conversation to another operator, or back to the queue."""
    from accounts.models import User

    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.ACTIVE:
            raise ActionRefused("invalid_state", "Only an active conversation can be transferred.")
        _require_holder(operator, conversation, "transfer it")
        previous_operator = conversation.assigned_operator
        target = None
        if not to_queue:
            target = User.objects.filter(pk=to_operator_id, is_active=True).first()
            if target is None:
                raise ActionRefused("not_found", f"Operator {to_operator_id} does not exist or is inactive.")
            if target.pk == conversation.assigned_operator_id:
                raise ActionRefused("invalid_state", "The conversation is already theirs.")
            conversation.assigned_operator = target
            conversation.claimed_at = timezone.now()
            conversation.save(update_fields=["assigned_operator", "claimed_at"])
        else:
            conversation.status = Status.WAITING
            conversation.assigned_operator = None
            conversation.save(update_fields=["status", "assigned_operator"])
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=Kind.RETURNED if to_queue else Kind.TRANSFERRED,
            actor_kind=ActorKind.OPERATOR,
            actor=operator,
            from_status=Status.ACTIVE,
            to_status=conversation.status,
            from_operator=previous_operator,
            to_operator=target,
            note=note,
        )
        publication = _session_publication(
            "session_transferred",
            conversation,
            from_operator=_operator(previous_operator),
            to_operator=_operator(target),
            to_queue=to_queue,
            note=note,
            by=_operator(operator),
        )
        publish.publish_on_commit(publication)
        if to_queue:
            publish_queue_on_commit()
    return conversation


def send_operator_message(
    conversation_id: int,
    operator: Any,
    *,
    client_id: str,
    text: str | None = None,
    sticker: dict[str, str] | None = None,
    canned_id: int | None = None,
    image: dict[str, str] | None = None,
) -> tuple[Message, bool]:
    """Accept an operator's message: stored `pending`, delivered after commit.

    `image` is {"originalContentUrl", "previewImageUrl"} (livechat.line.hosted_images stores it).

    Returns (message, created). The same client_id again returns the first message unchanged,
    so a client that resends after a lost ack never produces a duplicate.
    """
    from livechat.models import CannedResponse

    existing = (
        Message.objects.select_related("operator")
        .filter(conversation_id=conversation_id, client_id=client_id)
        .first()
    )
    if existing is not None:
        return existing, False
    with transaction.atomic():
        conversation = _locked(conversation_id)
        # Two tabs resending the same queued message at once: the second waited for the lock
        # above, and now finds the first one's message.
        existing = Message.objects.select_related("operator").filter(
            conversation_id=conversation_id, client_id=client_id
        )
        if (first := existing.first()) is not None:
            return first, False
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", "The conversation is closed.")
        if not (_holds(operator, conversation) or operator.is_supervisor):
            raise ActionRefused("forbidden", "Only the operator holding the conversation may reply.")
        if not conversation.contact.is_following:
            raise ActionRefused(
                "invalid_state", "The customer unfollowed the account; LINE will not deliver."
            )
        if canned_id is not None:
            canned = CannedResponse.objects.filter(pk=canned_id, is_active=True).first()
            if canned is None:
                raise ActionRefused("not_found", f"Canned response {canned_id} does not exist.")
            text = canned.text
        try:
            if sticker:
                line_message = sender.line_message_for_sticker(sticker["package_id"], sticker["sticker_id"])
            elif image:
                line_message = {"type": "image", **image}
            else:
                line_message = sender.line_message_for_text(text or "")
        except sender.OutboundRefused as exc:
            raise ActionRefused("invalid", str(exc)) from exc
        if conversation.first_response_at is None:
            conversation.first_response_at = timezone.now()
            conversation.save(update_fields=["first_response_at"])
        message = sender.queue_outbound(
            conversation,
            line_message,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            client_id=client_id,
        )
    return message, True


def mark_read(conversation_id: int, operator: Any, seq: int) -> list[str]:
    """Record how far the operator read; returns LINE mark-as-read tokens not yet used."""
    from livechat.models import ReadMarker

    with transaction.atomic():
        if not Conversation.objects.filter(pk=conversation_id).exists():
            raise ActionRefused("not_found", f"Conversation {conversation_id} does not exist.")
        marker, _ = ReadMarker.objects.select_for_update().get_or_create(
            operator=operator, conversation_id=conversation_id
        )
        if seq > marker.last_read_seq:
            marker.last_read_seq = seq
            marker.save(update_fields=["last_read_seq", "updated_at"])
        unread = Message.objects.filter(
            conversation_id=conversation_id,
            direction=Message.Direction.IN,
            seq__lte=seq,
            marked_read_at__isnull=True,
        ).exclude(mark_as_read_token="")
        # LINE marks everything up to a message read with that message's token: the newest is enough.
        tokens = list(unread.order_by("-seq").values_list("mark_as_read_token", flat=True)[:1])
        unread.update(marked_read_at=timezone.now())
    return tokens


def history(conversation_id: int, *, before_seq: int | None = None, limit: int = 50) -> list[Message]:
    """The latest `limit` messages (before `before_seq`), oldest first."""
    qs = Message.objects.select_related("operator").filter(conversation_id=conversation_id)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    return list(reversed(qs.order_by("-seq")[:limit]))


def messages_after(conversation_id: int, after_seq: int, limit: int = 200) -> list[Message]:
    return list(
        Message.objects.select_related("operator")
        .filter(conversation_id=conversation_id, seq__gt=after_seq)
        .order_by("seq")[:limit]
    )


def _operator(user: Any) -> dict[str, Any] | None:
    return operator_payload(user)
