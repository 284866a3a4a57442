"""The rules the desk runs by when nobody is watching: opening hours, holidays, assignment,
auto-close, retention, and SLA targets — with the SLA warnings and breaches recorded once each.

The settings rows are edited by supervisors in the console (livechat.console.settings) and by
admins in Django admin; livechat.policies reads them, every process sees an edit at once.
"""

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from livechat.models.conversations import Conversation
from livechat.models.line_text import PlaceholderValidator, validate_line_text

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def validate_period(opens_at: object, closes_at: object) -> None:
    """A period opens before it closes; 00:00 as the closing time means midnight at the end of
    the day (24:00), so a period may run to the end of the day."""
    if not isinstance(opens_at, time) or not isinstance(closes_at, time):
        return
    if closes_at != time(0) and closes_at <= opens_at:
        raise ValidationError(
            gettext("A period must close after it opens (use 00:00 to close at midnight)."),
            code="period_order",
        )


class BusinessHours(models.Model):
    """One opening period of one weekday, in TIME_ZONE. Several rows per weekday make split
    shifts (09:00–12:00 and 13:00–18:00). No rows at all: the team is always open."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["weekday", "opens_at"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self) -> None:
        validate_period(self.opens_at, self.closes_at)


class Holiday(models.Model):
    """A date the weekly schedule does not apply: closed all day (no hours), or open only during
    its special hours. Several rows for one date make several periods; a row without hours closes
    the whole day whatever the others say."""

    date = models.DateField(_("date"), db_index=True)
    name = models.CharField(_("name"), max_length=200)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(
        _("closes at"), null=True, blank=True, help_text=_("Leave both times empty: closed all day.")
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date", "opens_at"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def clean(self) -> None:
        if (self.opens_at is None) != (self.closes_at is None):
            raise ValidationError(gettext("Give both times for special hours, or neither for a closed day."))
        validate_period(self.opens_at, self.closes_at)


class ServiceSettings(models.Model):
    """How the desk runs by itself; one row (pk=1)."""

    after_hours_message = models.TextField(
        _("after-hours message"),
        max_length=5000,
        validators=[validate_line_text, PlaceholderValidator("next_open_th", "next_open_en")],
        help_text=_(
            "Sent on a handoff outside business hours instead of the queue position. "
            "{next_open_th} and {next_open_en} are filled in with when the team opens next."
        ),
        default="ขณะนี้อยู่นอกเวลาทำการค่ะ 🙏 เจ้าหน้าที่จะตอบกลับเมื่อเปิดทำการ {next_open_th} "
        "ข้อความของคุณอยู่ในคิวแล้วค่ะ\n"
        "We are closed right now. Our team will answer when we open, {next_open_en}. "
        "You are in the queue.",
    )
    auto_assign_enabled = models.BooleanField(
        _("assign new chats automatically"),
        default=False,
        help_text=_(
            "A customer who asks for a human goes to the online operator with the fewest chats, "
            "if they are under their capacity."
        ),
    )
    auto_close_enabled = models.BooleanField(_("close inactive chats"), default=True)
    auto_close_minutes = models.PositiveIntegerField(
        _("close after (minutes without a message)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(30 * 24 * 60)],
    )
    close_warning_enabled = models.BooleanField(_("warn the customer before closing"), default=False)
    close_warning_minutes = models.PositiveIntegerField(
        _("warn this many minutes before"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    close_warning_message = models.TextField(
        _("warning message"),
        max_length=5000,
        validators=[validate_line_text, PlaceholderValidator("minutes")],
        help_text=_("{minutes} is filled in."),
        default="หากไม่ได้รับข้อความจากคุณ เราจะปิดการสนทนานี้ในอีก {minutes} นาทีค่ะ\n"
        "We'll close this chat in {minutes} minutes if we don't hear from you.",
    )
    bot_close_minutes = models.PositiveIntegerField(
        _("close chats with the bot after (minutes)"),
        default=120,
        validators=[MinValueValidator(1), MaxValueValidator(30 * 24 * 60)],
        help_text=_("A quiet chat with the bot is closed so the next message starts afresh."),
    )
    csat_enabled = models.BooleanField(
        _("ask for a rating when a chat closes (CSAT)"),
        default=False,
        help_text=_("The customer gets a card with five rating buttons in LINE after a chat with the team."),
    )
    csat_after_auto_close = models.BooleanField(_("also after an automatic close"), default=False)
    csat_expiry_hours = models.PositiveIntegerField(
        _("ratings accepted for (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
    )
    csat_question = models.CharField(
        _("survey question"),
        max_length=300,
        default="คุณพอใจกับการบริการของเราแค่ไหนคะ? · How satisfied are you with our service?",
    )
    csat_thanks = models.TextField(
        _("thanks after a rating"),
        max_length=5000,
        validators=[validate_line_text],
        default="ขอบคุณสำหรับคะแนนค่ะ 🙏 มีอะไรอยากบอกเพิ่มเติมไหมคะ? พิมพ์มาได้เลยภายใน 10 นาทีค่ะ\n"
        "Thank you for rating us! Anything you'd like to add? Just type it within 10 minutes.",
    )
    csat_comment_thanks = models.TextField(
        _("thanks after a comment"),
        max_length=5000,
        validators=[validate_line_text],
        default="ขอบคุณสำหรับความคิดเห็นค่ะ เราจะนำไปปรับปรุงบริการให้ดียิ่งขึ้น\n"
        "Thank you for your feedback — it helps us do better.",
    )
    retention_days = models.PositiveIntegerField(
        _("keep message contents for (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Empty: kept. Otherwise the text and files of conversations closed longer ago are "
            "removed; their timings stay for analytics."
        ),
    )
    webhook_retention_days = models.PositiveIntegerField(
        _("keep raw LINE events for (days)"), default=30, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self) -> str:
        return "Service settings"


class SlaPolicy(models.Model):
    """Response and resolution targets. One is the default: it applies to every conversation."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    first_response_seconds = models.PositiveIntegerField(
        _("first response within (seconds)"), null=True, blank=True, default=5 * 60
    )
    next_response_seconds = models.PositiveIntegerField(
        _("next response within (seconds)"), null=True, blank=True, default=10 * 60
    )
    resolution_seconds = models.PositiveIntegerField(
        _("resolved within (seconds)"), null=True, blank=True, default=24 * 60 * 60
    )
    business_hours_only = models.BooleanField(_("count business hours only"), default=True)
    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (% of the target)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_sla"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SlaAlert(models.Model):
    """A warning or breach of one SLA target for one conversation, recorded once: the clock that
    started at `started_at` (the handoff, or the customer message awaiting an answer) warns once
    and breaches once."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_alerts", verbose_name=_("conversation")
    )
    kind = models.CharField(_("target"), max_length=16, choices=Kind.choices)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    started_at = models.DateTimeField(_("clock started"))
    due_at = models.DateTimeField(_("due"))
    operator = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("operator"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "kind", "level", "started_at"], name="sla_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.kind} {self.level}"
