"""The live-chat domain: LINE users, their conversations, messages and what happened to them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Contact(models.Model):
    """One LINE user who talks to the Official Account."""

    line_user_id = models.CharField(_("LINE user ID"), max_length=64, unique=True)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    picture_url = models.URLField(_("picture URL"), max_length=1000, blank=True)
    status_message = models.TextField(_("status message"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    is_following = models.BooleanField(_("following"), default=True)
    followed_at = models.DateTimeField(_("followed at"), null=True, blank=True)
    unfollowed_at = models.DateTimeField(_("unfollowed at"), null=True, blank=True)
    # Null until LINE's profile API answered; the worker retries contacts still null.
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            # The worker's "profiles still to fetch" scan.
            models.Index(
                fields=["created_at"],
                condition=Q(profile_fetched_at__isnull=True),
                name="contact_profile_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.line_user_id


class Conversation(models.Model):
    """A contact's stretch of talk with the OA, from first message to close."""

    class Status(models.TextChoices):
        BOT = "bot", _("Bot")
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.BOT)
    assigned_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handoff_requested_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    # The highest Message.seq handed out; bumped with UPDATE … RETURNING under the row lock,
    # which is what makes seq gap-free and unique under concurrent inserts.
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=~Q(status="closed"),
                name="one_open_conversation_per_contact",
            )
        ]
        indexes = [
            # Console list: open conversations of a status, newest activity first.
            models.Index(fields=["status", "-last_message_at"], name="conversation_status_idx"),
            # "Mine": an operator's conversations by status.
            models.Index(fields=["assigned_operator", "status"], name="conversation_operator_idx"),
            # Console "All open" tab: every open conversation, newest activity first.
            models.Index(
                fields=["-last_message_at", "-id"],
                condition=~Q(status="closed"),
                name="conversation_open_activity_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.contact} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


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

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    # Stable identity for outbound sends: it is the X-Line-Retry-Key of the push that carries it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    sender_kind = models.CharField(max_length=8, choices=SenderKind.choices)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    media = models.FileField(upload_to="line-media/%Y/%m/", blank=True)
    media_status = models.CharField(
        max_length=8, choices=MediaStatus.choices, default=MediaStatus.NONE, blank=True
    )
    line_message_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Outbound work queue: when the next attempt is due, and until when a sender holds it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reply_token = models.CharField(max_length=64, blank=True)
    reply_token_used_at = models.DateTimeField(null=True, blank=True)
    mark_as_read_token = models.CharField(max_length=128, blank=True)
    marked_read_at = models.DateTimeField(null=True, blank=True)
    is_unsent = models.BooleanField(default=False)
    unsent_at = models.DateTimeField(null=True, blank=True)
    line_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.type}"


class WebhookEvent(models.Model):
    """Every event LINE delivered, raw, deduplicated on its webhookEventId."""

    webhook_event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=40)
    source_type = models.CharField(max_length=10, blank=True)
    raw = models.JSONField()
    is_redelivery = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [models.Index(fields=["-received_at"], name="webhookevent_received_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_event_id}"


class ConversationEvent(models.Model):
    """A change of a conversation's status or owner: the audit trail and analytics source."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        HANDOFF = "handoff", _("Handoff requested")
        CLAIMED = "claimed", _("Claimed")
        TRANSFERRED = "transferred", _("Transferred")
        RETURNED = "returned", _("Returned to queue")
        CLOSED = "closed", _("Closed")

    class ActorKind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        OPERATOR = "operator", _("Operator")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=8, blank=True)
    to_status = models.CharField(max_length=8, blank=True)
    from_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.kind} {self.from_status}→{self.to_status}"


class HandoffKeyword(models.Model):
    """A phrase that, sent by a customer in the bot stage, asks for a human."""

    keyword = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("handoff keyword")
        verbose_name_plural = _("handoff keywords")

    def __str__(self) -> str:
        return self.keyword


class AutoReply(models.Model):
    """A keyword the bot answers by itself while a conversation is in the bot stage."""

    keyword = models.CharField(max_length=100, unique=True)
    reply_text = models.TextField(max_length=5000)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("auto-reply")
        verbose_name_plural = _("auto-replies")

    def __str__(self) -> str:
        return self.keyword


class BotSettings(models.Model):
    """The bot's texts; one row (pk=1), edited in admin."""

    welcome_message = models.TextField(
        max_length=5000,
        default='สวัสดีค่ะ ยินดีต้อนรับ 🙏 พิมพ์ "คุยกับเจ้าหน้าที่" เพื่อคุยกับทีมงานได้เลยค่ะ\n'
        'Hello and welcome! Type "agent" to talk to our team.',
    )
    handoff_message = models.TextField(
        max_length=5000,
        help_text="{position} and {wait_minutes} are filled in.",
        default="รับทราบค่ะ กำลังส่งต่อให้เจ้าหน้าที่ คุณอยู่ลำดับที่ {position} "
        "รอประมาณ {wait_minutes} นาที\n"
        "Connecting you to our team: you are number {position} in the queue, "
        "about {wait_minutes} min.",
    )
    still_waiting_message = models.TextField(
        max_length=5000,
        help_text="{position} and {wait_minutes} are filled in.",
        default="เจ้าหน้าที่จะติดต่อกลับโดยเร็วค่ะ (ลำดับที่ {position})\n"
        "An agent will be with you shortly (number {position} in the queue).",
    )

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return "Bot settings"


class CannedResponse(models.Model):
    """A prepared answer operators insert with "/" in the composer."""

    title = models.CharField(_("title"), max_length=100)
    shortcut = models.SlugField(_("shortcut"), max_length=50, unique=True, allow_unicode=True)
    text = models.TextField(_("text"), max_length=5000)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.title}"


class ReadMarker(models.Model):
    """How far an operator has read a conversation (for unread counts)."""

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="read_markers")
    last_read_seq = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operator", "conversation"], name="read_marker_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} read {self.conversation_id} to {self.last_read_seq}"


from livechat.simulator.models import (  # noqa: E402,F401
    SimulatorCall,
    SimulatorContent,
    SimulatorFault,
    SimulatorProfile,
    SimulatorUsedKey,
)
