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

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("customer")
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.BOT, verbose_name=_("status")
    )
    assigned_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        verbose_name=_("assigned operator"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    handoff_requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("handoff requested at"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first response at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    last_message_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last message at"))
    close_reason = models.CharField(max_length=200, blank=True, verbose_name=_("close reason"))
    # The highest Message.seq handed out; bumped with UPDATE … RETURNING under the row lock,
    # which is what makes seq gap-free and unique under concurrent inserts.
    last_seq = models.PositiveIntegerField(default=0, verbose_name=_("last message number"))
    # When the bot last spoke unasked (a fallback, a "still waiting" acknowledgement, the queue
    # position on handoff): it does so at most once per BotSettings interval, and the webhook's
    # one-statement path reads this to know that the bot has nothing to say.
    bot_nudged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("bot reminder sent at"))
    # When the customer was told the chat closes soon for inactivity (ServiceSettings): set once
    # per quiet spell, so the warning goes out once; any later message makes it stale.
    close_warned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closing warning sent at"))
    # When the CSAT survey went out (livechat.conversations.csat): answers count only after it
    # and until it expires; analytics count surveys sent by it.
    csat_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("CSAT survey sent at"))
    # When the retention policy removed its messages' contents (livechat.conversations.retention):
    # the rows and their timing stay for analytics; set once every message of it is done.
    content_removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("content removed at"))
    labels = models.ManyToManyField(
        "livechat.Label", verbose_name=_("labels"), blank=True, related_name="conversations"
    )

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
            # /metrics on every scrape: conversations by status and the oldest handoff among
            # those waiting, read from this index alone.
            models.Index(fields=["status", "handoff_requested_at"], name="conversation_metrics_idx"),
            # Analytics (analytics.metrics): a period's conversations, by when they were created.
            models.Index(fields=["created_at"], name="conversation_created_idx"),
            # Analytics' first contact resolution: did the contact hand off again within 72 h?
            models.Index(
                fields=["contact", "created_at"],
                condition=Q(handoff_requested_at__isnull=False),
                name="conversation_rehandoff_idx",
            ),
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

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="events", verbose_name=_("conversation")
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, verbose_name=_("done by (kind)"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    from_status = models.CharField(max_length=8, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=8, blank=True, verbose_name=_("to status"))
    from_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("from operator"),
    )
    to_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("to operator"),
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        ordering = ["created_at", "id"]
        indexes = [
            # Analytics: a conversation's transfers and returns (a few percent of the events).
            models.Index(
                fields=["conversation"],
                condition=Q(kind__in=["transferred", "returned"]),
                name="event_transfer_idx",
            ),
            # Analytics' first claimer: a conversation's earliest `claimed` event.
            models.Index(
                fields=["conversation", "created_at", "id"],
                condition=Q(kind="claimed"),
                name="event_claim_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.kind} {self.from_status}→{self.to_status}"


class ReadMarker(models.Model):
    """How far an operator has read a conversation (for unread counts)."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("operator")
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_markers", verbose_name=_("conversation")
    )
    last_read_seq = models.PositiveIntegerField(default=0, verbose_name=_("last message read"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("read marker")
        verbose_name_plural = _("read markers")
        constraints = [
            models.UniqueConstraint(fields=["operator", "conversation"], name="read_marker_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} read {self.conversation_id} to {self.last_read_seq}"
