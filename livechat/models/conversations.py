"""Conversations, what happened to them, and how far each operator has read them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from livechat.models.contacts import Contact


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
    # When the bot last spoke unasked (a fallback, a "still waiting" acknowledgement, the queue
    # position on handoff): it does so at most once per BotSettings interval, and the webhook's
    # one-statement path reads this to know that the bot has nothing to say.
    bot_nudged_at = models.DateTimeField(null=True, blank=True)
    # When the customer was told the chat closes soon for inactivity (ServiceSettings): set once
    # per quiet spell, so the warning goes out once; any later message makes it stale.
    close_warned_at = models.DateTimeField(null=True, blank=True)
    # When the CSAT survey went out (livechat.conversations.csat): answers count only after it
    # and until it expires; analytics count surveys sent by it.
    csat_sent_at = models.DateTimeField(null=True, blank=True)
    # When the retention policy removed its messages' contents (livechat.conversations.retention):
    # the rows and their timing stay for analytics; set once every message of it is done.
    content_removed_at = models.DateTimeField(null=True, blank=True)

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
            # cleanup's retention: closed conversations whose messages still hold their contents,
            # by when they closed.
            models.Index(
                fields=["closed_at"],
                condition=Q(status="closed", content_removed_at__isnull=True),
                name="conversation_retention_idx",
            ),
            # Analytics (analytics.metrics): a period's conversations, by when they were created.
            models.Index(fields=["created_at"], name="conversation_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.contact} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


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
        SUPERVISOR = "supervisor", _("Supervisor")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
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
