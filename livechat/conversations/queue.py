"""The queue of customers waiting for a human: positions, wait estimates, and the
queue_update every operator's console shows."""

import threading
import time
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from livechat.jobs import background
from livechat.models import Conversation
from livechat.realtime import frames, groups, publish
from livechat.realtime.payloads import conversation_payload

Status = Conversation.Status

DEFAULT_WAIT_PER_POSITION = timedelta(minutes=2)


def snapshot() -> list[dict[str, Any]]:
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
# at most once per AVERAGE_WAIT_TTL, and shared by every process through the cache.
AVERAGE_WAIT_TTL = 10
AVERAGE_WAIT_KEY = "livechat:average-wait-seconds"


def average_wait() -> timedelta:
    """How long the last 20 claimed customers waited, or a default before there is history."""
    cached: float | None = cache.get(AVERAGE_WAIT_KEY)
    if cached is not None:
        return timedelta(seconds=cached)
    recent = (
        Conversation.objects.filter(claimed_at__isnull=False, handoff_requested_at__isnull=False)
        .order_by("-claimed_at")
        .values("pk")[:20]
    )
    result = Conversation.objects.filter(pk__in=recent).aggregate(
        avg=Avg(F("claimed_at") - F("handoff_requested_at"))
    )["avg"]
    estimate = result if result and result > timedelta(0) else DEFAULT_WAIT_PER_POSITION
    cache.set(AVERAGE_WAIT_KEY, estimate.total_seconds(), AVERAGE_WAIT_TTL)
    return estimate


def forget_average_wait() -> None:
    """Drop the cached estimate (tests; a process that wants it fresh)."""
    cache.delete(AVERAGE_WAIT_KEY)


def position_of(conversation: Conversation) -> int:
    return Conversation.objects.filter(
        status=Status.WAITING, handoff_requested_at__lte=conversation.handoff_requested_at
    ).count()


def estimated_minutes(position: int) -> int:
    return max(1, round((average_wait() * position).total_seconds() / 60))


# A full snapshot costs O(waiting customers) to build and to send to every operator; in a rush
# (dozens of handoffs a second) one every QUEUE_UPDATE_INTERVAL carries the same news.
QUEUE_UPDATE_INTERVAL = 0.5
_queue_update = threading.Lock()
_queue_update_due = False
_queue_update_sent_at = float("-inf")


def publish_on_commit() -> None:
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
    publish.now([(groups.OPERATORS, frames.queue_update(snapshot()))])
