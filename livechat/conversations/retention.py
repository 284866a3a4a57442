"""Forgetting what customers said once the company no longer needs it (PRODUCT §11), one pass at
a time for `manage.py cleanup`.

- Messages: with ServiceSettings.retention_days set, the conversations closed longer ago than
  that lose their messages' contents — text, LINE payload (sticker, location, file name, quote
  token …), reply and read tokens, and media files on storage. The rows stay with their timing
  (created_at, seq, direction, sender, type, status), so analytics do not change; each message's
  content_removed_at tells the console to say "removed by retention policy" instead of showing an
  empty bubble. A conversation's content_removed_at is set once all its messages are done, so the
  next pass does not look at it again.
- Webhook events: raw bodies received longer ago than webhook_retention_days become {}. The rows
  stay (a few small columns each): they keep deduplicating LINE's redeliveries of a
  webhookEventId however late they come — a deleted row would let one in as a new message — and
  keep the event counts and processing errors for diagnosis. An event still waiting for the
  worker keeps its body.

Work goes BATCH rows per statement, each statement its own transaction, so a first run on a big
database holds no long locks. A file is deleted before its row forgets it: a pass that dies
halfway leaves nothing a later pass will not find. Two passes at once at worst do the same batch
twice; nothing is harmed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from livechat.line import hosted_images
from livechat.models import Conversation, Message, WebhookEvent
from livechat.policies import service

BATCH = 500


@dataclass
class Removed:
    """What a pass removed (a dry run: what it would remove)."""

    conversations: int = 0
    messages: int = 0
    files: int = 0
    webhook_events: int = 0

    @property
    def total(self) -> int:
        return self.messages + self.conversations + self.webhook_events


def conversations_due(cutoff: datetime) -> QuerySet[Conversation]:
    """Closed before `cutoff` and still holding contents (partial index conversation_retention_idx)."""
    return Conversation.objects.filter(
        status=Conversation.Status.CLOSED, content_removed_at__isnull=True, closed_at__lt=cutoff
    )


def webhook_events_due(cutoff: datetime) -> QuerySet[WebhookEvent]:
    """Received before `cutoff`, body still kept (partial index webhookevent_raw_kept_idx), and
    not waiting for the worker."""
    return (
        WebhookEvent.objects.filter(received_at__lt=cutoff)
        .exclude(raw={})
        .exclude(processed_at__isnull=True, processing_error="")
    )


def run(
    now: datetime | None = None, *, dry_run: bool = False, stopping: Callable[[], bool] = lambda: False
) -> Removed:
    """One pass at `now`. `stopping()` true ends it between batches."""
    now = now or timezone.now()
    config = service.settings()
    removed = Removed()
    if config.retention_days is not None:
        cutoff = now - timedelta(days=config.retention_days)
        if dry_run:
            due = conversations_due(cutoff)
            held = Message.objects.filter(conversation__in=due, content_removed_at__isnull=True)
            removed.conversations = due.count()
            removed.messages = held.count()
            removed.files = held.exclude(media="").count()
        else:
            _remove_message_contents(cutoff, now, removed, stopping)
    events = webhook_events_due(now - timedelta(days=config.webhook_retention_days))
    if dry_run:
        removed.webhook_events = events.count()
    else:
        while not stopping():
            ids = list(events.order_by("received_at").values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            removed.webhook_events += WebhookEvent.objects.filter(pk__in=ids).exclude(raw={}).update(raw={})
    return removed


def _remove_message_contents(
    cutoff: datetime, now: datetime, removed: Removed, stopping: Callable[[], bool]
) -> None:
    while not stopping():
        conversation_ids = list(
            conversations_due(cutoff).order_by("closed_at").values_list("pk", flat=True)[:BATCH]
        )
        if not conversation_ids:
            return
        held = Message.objects.filter(conversation_id__in=conversation_ids, content_removed_at__isnull=True)
        while True:
            if stopping():
                return
            batch = list(held.order_by("conversation_id", "seq").values_list("pk", "media")[:BATCH])
            if not batch:
                break
            for _pk, name in batch:
                if name:
                    _delete_file(name)
                    removed.files += 1
            removed.messages += Message.objects.filter(
                pk__in=[pk for pk, _name in batch], content_removed_at__isnull=True
            ).update(
                text="",
                payload={},
                media="",
                media_status=Message.MediaStatus.NONE,
                reply_token="",
                mark_as_read_token="",
                content_removed_at=now,
            )
        removed.conversations += Conversation.objects.filter(
            pk__in=conversation_ids, content_removed_at__isnull=True
        ).update(content_removed_at=now)


def _delete_file(name: str) -> None:
    """The message's file; for an image an operator sent, its preview too (LINE fetched both from
    livechat.line.hosted_images, under one token)."""
    prefix = f"{hosted_images.PREFIX}/"
    if name.startswith(prefix) and name.count("/") == 2:
        folder = name.rsplit("/", 1)[0]
        for other in hosted_images.NAMES:
            default_storage.delete(f"{folder}/{other}")
    default_storage.delete(name)
