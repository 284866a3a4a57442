"""Downloading what customers send (images, video, audio, files) from LINE's content API.

LINE keeps the bytes only for a while, so they are copied to Django's storage right after the
webhook is answered; a failed download stays `pending` and the worker tries again.
"""

import logging
import mimetypes
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from livechat.conversations import actions
from livechat.line import messaging_api
from livechat.models import Message

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# LINE prepares a video or audio before its bytes can be fetched: while it says "processing",
# look again this much later (the worker does), for at most PREPARING_FOR_AT_MOST.
PREPARING_RECHECK = timedelta(seconds=10)
PREPARING_FOR_AT_MOST = timedelta(hours=1)
TRANSCODED_TYPES = {Message.Type.VIDEO, Message.Type.AUDIO}
DEFAULT_EXTENSIONS = {"image": ".jpg", "video": ".mp4", "audio": ".m4a", "file": ""}


def download(message_id: int) -> bool:
    """Fetch and store one message's content. Returns True once it is stored."""
    # Claim this attempt: a download running elsewhere right now has bumped `attempts` and set
    # the lease; of two workers only one gets the row.
    now = timezone.now()
    claimed = (
        Message.objects.filter(pk=message_id, media_status=Message.MediaStatus.PENDING)
        .exclude(claimed_until__gt=now)
        .update(attempts=F("attempts") + 1, claimed_until=now + timedelta(seconds=60))
    )
    if not claimed:
        return False
    message = Message.objects.select_related("operator").get(pk=message_id)
    if message.type in TRANSCODED_TYPES and not _prepared_by_line(message):
        return False
    try:
        content = messaging_api.get_message_content(message.line_message_id or "")
    except messaging_api.LineError as exc:
        # A 404 is retried too: right after the webhook the content may not be ready yet
        # (LINE still preparing a video; the simulator's phone page still uploading).
        worth_retrying = exc.is_retryable or exc.status == 404
        give_up = not worth_retrying or message.attempts >= MAX_ATTEMPTS
        Message.objects.filter(pk=message_id).update(
            claimed_until=None,
            error=f"media: {exc.message}",
            media_status=Message.MediaStatus.FAILED if give_up else Message.MediaStatus.PENDING,
        )
        logger.warning("media download for message %s failed: %s", message_id, exc)
        return False
    actions.store_media(message, _file_name(message, content.content_type), content.data)
    return True


def _prepared_by_line(message: Message) -> bool:
    """Ask LINE whether a video or audio is ready; if not, leave it for a later look (without
    spending an attempt) or, when LINE gave up on it, mark it failed."""
    try:
        status = messaging_api.transcoding_status(message.line_message_id or "")
    except messaging_api.LineError as exc:
        logger.info("transcoding status of message %s unknown (%s): fetching it anyway", message.pk, exc)
        return True  # the download itself will say whether the bytes are there
    if status == "succeeded":
        return True
    now = timezone.now()
    rows = Message.objects.filter(pk=message.pk)
    if status == "failed":
        rows.update(
            claimed_until=None,
            media_status=Message.MediaStatus.FAILED,
            error="media: LINE could not prepare this video or audio (transcoding failed).",
        )
    elif now - message.created_at > PREPARING_FOR_AT_MOST:
        rows.update(
            claimed_until=None,
            media_status=Message.MediaStatus.FAILED,
            error="media: LINE was still preparing this video or audio after an hour.",
        )
    else:  # "processing": not an attempt; the worker looks again once the lease runs out
        rows.update(claimed_until=now + PREPARING_RECHECK, attempts=F("attempts") - 1)
    return False


def _file_name(message: Message, content_type: str) -> str:
    """The stored file's name, its extension from what the bytes are — the file's own name for a
    file, else the type LINE gave (a PNG stays .png and is served as image/png), else a default
    for the message type. The media view serves the file with the type its name says."""
    original = str(message.payload.get("fileName", ""))
    extension = ""
    if "." in original:
        extension = "." + original.rsplit(".", 1)[1][:10]
    if not extension and content_type not in ("", "application/octet-stream"):
        extension = mimetypes.guess_extension(content_type) or ""
    extension = extension or DEFAULT_EXTENSIONS.get(message.type, "")
    return f"{message.line_message_id or message.pk}{extension}"


def pending_ids(limit: int = 50) -> list[int]:
    now = timezone.now()
    return list(
        Message.objects.filter(media_status=Message.MediaStatus.PENDING)
        .exclude(claimed_until__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
