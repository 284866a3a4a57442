"""Messages of a conversation, inbound and outbound; also the outbound work queue."""

import mimetypes
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from livechat.models.conversations import Conversation


class Message(models.Model):
    """One LINE message in a conversation, inbound or outbound."""

    class Direction(models.TextChoices):
        IN = "in", _("Inbound")
        OUT = "out", _("Outbound")

    class SenderKind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        OPERATOR = "operator", _("Operator")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        STICKER = "sticker", _("Sticker")
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        FILE = "file", _("File")
        LOCATION = "location", _("Location")
        FLEX = "flex", _("Flex")
        TEMPLATE = "template", _("Template")
        POSTBACK = "postback", _("Postback")
        UNKNOWN = "unknown", _("Unknown")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class MediaStatus(models.TextChoices):
        NONE = "", _("No media")
        PENDING = "pending", _("Download pending")
        STORED = "stored", _("Stored")
        FAILED = "failed", _("Download failed")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    seq = models.PositiveIntegerField(verbose_name=_("number in the conversation"))
    # Stable identity for outbound sends: it is the X-Line-Retry-Key of the push that carries it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("UUID"))
    direction = models.CharField(max_length=3, choices=Direction.choices, verbose_name=_("direction"))
    sender_kind = models.CharField(max_length=8, choices=SenderKind.choices, verbose_name=_("sender"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("operator"),
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT, verbose_name=_("type"))
    text = models.TextField(blank=True, verbose_name=_("text"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("LINE message object"))
    media = models.FileField(upload_to="line-media/%Y/%m/", blank=True, verbose_name=_("media file"))
    media_status = models.CharField(
        max_length=8,
        choices=MediaStatus.choices,
        default=MediaStatus.NONE,
        blank=True,
        verbose_name=_("media status"),
    )
    line_message_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("LINE message ID")
    )
    client_id = models.CharField(max_length=64, null=True, blank=True, verbose_name=_("client ID"))
    status = models.CharField(max_length=8, choices=Status.choices, verbose_name=_("status"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # Outbound work queue: when the next attempt is due, and until when a sender holds it.
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("being sent until"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    # Messages sent to LINE in one request share this (the first one's uuid, also the push's
    # retry key): every attempt sends the same batch again (livechat.delivery.sender).
    batch_uuid = models.UUIDField(null=True, blank=True, verbose_name=_("batch UUID"))

    class SentVia(models.TextChoices):
        NOT_SENT = "", _("Not sent")
        REPLY = "reply", _("Reply (free)")
        PUSH = "push", _("Push (counts against the quota)")

    # Inbound: the event's token. Outbound: the token this message went out (or tried to) with.
    reply_token = models.CharField(max_length=64, blank=True, verbose_name=_("reply token"))
    reply_token_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reply token used at"))
    # Set before a reply call is made: a reply whose answer was lost (a timeout, a 5xx, the
    # process died) must be settled by asking LINE again with the same token, never by a push.
    reply_attempted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reply attempted at"))
    sent_via = models.CharField(
        max_length=5,
        choices=SentVia.choices,
        default=SentVia.NOT_SENT,
        blank=True,
        verbose_name=_("sent via"),
    )
    mark_as_read_token = models.CharField(max_length=128, blank=True, verbose_name=_("mark-as-read token"))
    marked_read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("marked read at"))
    is_unsent = models.BooleanField(default=False, verbose_name=_("unsent by the customer"))
    unsent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unsent at"))
    # The retention policy removed its text, payload and file (livechat.conversations.retention):
    # the console says so instead of showing an empty bubble.
    content_removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("content removed at"))
    line_timestamp = models.DateTimeField(null=True, blank=True, verbose_name=_("LINE timestamp"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["conversation_id", "seq"]
        constraints = [
            # Also the index behind "a conversation's messages by seq" (history, sync).
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]
        indexes = [
            # The delivery worker's scan for due outbound work.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="message_pending_idx",
            ),
            # A batch's members, for its retries.
            models.Index(
                fields=["batch_uuid"], condition=Q(batch_uuid__isnull=False), name="message_batch_idx"
            ),
            # The worker's scan for media still to download.
            models.Index(
                fields=["created_at"],
                condition=Q(media_status="pending"),
                name="message_media_pending_idx",
            ),
            # Console unread counts: a conversation's customer messages after a read marker's seq.
            models.Index(
                fields=["conversation", "seq"], condition=Q(direction="in"), name="message_inbound_seq_idx"
            ),
            # /metrics on every scrape: outbound messages pending or failed, without reading the
            # rest of the table.
            models.Index(
                fields=["status"],
                condition=Q(direction="out", status__in=["pending", "failed"]),
                name="message_outbound_trouble_idx",
            ),
            # Analytics' LINE sends: outbound messages sent in a period, by reply or push.
            models.Index(
                fields=["sent_at", "sent_via"],
                condition=Q(direction="out", sent_at__isnull=False),
                name="message_sent_out_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.type}"

    @property
    def media_content_type(self) -> str:
        """The stored media's type, from its file name (what the console serves it as)."""
        guessed, _ = mimetypes.guess_type(self.media.name or "")
        return guessed or "application/octet-stream"
