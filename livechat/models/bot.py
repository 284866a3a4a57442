"""What the bot says and listens for."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from livechat.models.line_text import PlaceholderValidator, line_length, validate_line_text

# LINE's limits for quick reply buttons: at most 13 per message, a label of at most 20 characters
# and a message action's text of at most 300. One button is always "talk to a human".
MAX_QUICK_REPLIES = 13
MAX_EXTRA_QUICK_REPLIES = MAX_QUICK_REPLIES - 1
MAX_LABEL_UNITS = 20
MAX_ACTION_TEXT_UNITS = 300


def validate_label(label: str) -> None:
    if not label.strip():
        raise ValidationError(gettext("A button needs a label."), code="empty_label")
    if line_length(label) > MAX_LABEL_UNITS:
        raise ValidationError(
            gettext("LINE shows at most %(limit)d characters on a button (emoji count 2): %(label)s")
            % {"limit": MAX_LABEL_UNITS, "label": label},
            code="label_too_long",
        )


def validate_quick_replies(items: Any) -> None:
    """A list of {"label": …, "text": …}: buttons that send `text` as the customer's message."""
    if not isinstance(items, list):
        raise ValidationError(gettext('Give a list, e.g. [{"label": "เวลาทำการ", "text": "เวลาทำการ"}].'))
    if len(items) > MAX_EXTRA_QUICK_REPLIES:
        raise ValidationError(
            gettext("At most %(limit)d buttons (LINE shows 13, one is “talk to a human”).")
            % {"limit": MAX_EXTRA_QUICK_REPLIES}
        )
    for item in items:
        if not isinstance(item, dict) or set(item) != {"label", "text"}:
            raise ValidationError(gettext('Each button is {"label": …, "text": …}.'))
        label, text = item["label"], item["text"]
        if not isinstance(label, str) or not isinstance(text, str):
            raise ValidationError(gettext('Each button is {"label": …, "text": …}.'))
        validate_label(label)
        if not text.strip() or line_length(text) > MAX_ACTION_TEXT_UNITS:
            raise ValidationError(
                gettext("A button sends 1 to %(limit)d characters: %(label)s")
                % {"limit": MAX_ACTION_TEXT_UNITS, "label": label}
            )


class HandoffKeyword(models.Model):
    """A phrase that, sent by a customer in the bot stage, asks for a human."""

    keyword = models.CharField(max_length=100, unique=True, verbose_name=_("keyword"))
    is_active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("handoff keyword")
        verbose_name_plural = _("handoff keywords")

    def __str__(self) -> str:
        return self.keyword


class AutoReply(models.Model):
    """A keyword the bot answers by itself while a conversation is in the bot stage."""

    keyword = models.CharField(
        max_length=100,
        unique=True,
        help_text=_(
            "Found within what the customer writes: Thai anywhere, English as whole words. Case, "
            "punctuation, emoji and polite particles (ครับ, ค่ะ, นะคะ …) do not matter. If several "
            "keywords are found, the longest wins."
        ),
        verbose_name=_("keyword"),
    )
    reply_text = models.TextField(
        max_length=5000, validators=[validate_line_text], verbose_name=_("reply text")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("auto-reply")
        verbose_name_plural = _("auto-replies")

    def __str__(self) -> str:
        return self.keyword


class BotSettings(models.Model):
    """The bot's texts; one row (pk=1), edited in admin."""

    welcome_message = models.TextField(
        max_length=5000,
        validators=[validate_line_text],
        default='สวัสดีค่ะ ยินดีต้อนรับ 🙏 พิมพ์ "คุยกับเจ้าหน้าที่" เพื่อคุยกับทีมงานได้เลยค่ะ\n'
        'Hello and welcome! Type "agent" to talk to our team.',
        verbose_name=_("welcome message"),
    )
    handoff_message = models.TextField(
        max_length=5000,
        validators=[validate_line_text, PlaceholderValidator("position", "wait_minutes")],
        help_text="{position} and {wait_minutes} are filled in.",
        default="รับทราบค่ะ กำลังส่งต่อให้เจ้าหน้าที่ คุณอยู่ลำดับที่ {position} "
        "รอประมาณ {wait_minutes} นาที\n"
        "Connecting you to our team: you are number {position} in the queue, "
        "about {wait_minutes} min.",
        verbose_name=_("handoff message"),
    )
    still_waiting_message = models.TextField(
        max_length=5000,
        validators=[validate_line_text, PlaceholderValidator("position", "wait_minutes")],
        help_text="{position} and {wait_minutes} are filled in.",
        default="เจ้าหน้าที่จะติดต่อกลับโดยเร็วค่ะ (ลำดับที่ {position})\n"
        "An agent will be with you shortly (number {position} in the queue).",
        verbose_name=_("still waiting message"),
    )
    waiting_ack_enabled = models.BooleanField(
        _("acknowledge waiting customers"),
        default=True,
        help_text=_(
            "A customer who writes while waiting for a human gets the still-waiting message, "
            "with their place in the queue."
        ),
    )
    waiting_ack_minutes = models.PositiveIntegerField(
        _("acknowledge at most every (minutes)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("At most one acknowledgement per conversation in this many minutes."),
    )
    fallback_enabled = models.BooleanField(
        _("answer what the bot does not understand"),
        default=True,
        help_text=_(
            "While the bot holds a conversation, a text that no auto-reply or handoff keyword "
            "matches gets the fallback message, with quick reply buttons."
        ),
    )
    fallback_message = models.TextField(
        _("fallback message"),
        max_length=5000,
        validators=[validate_line_text],
        default="ขอบคุณสำหรับข้อความค่ะ 🙏 เรื่องนี้ขอให้ทีมงานช่วยตอบนะคะ "
        'กด "คุยกับเจ้าหน้าที่" ด้านล่างได้เลยค่ะ\n'
        "Thanks for your message! Our team can help with this: "
        'tap "คุยกับเจ้าหน้าที่" (talk to an agent) below.',
    )
    fallback_minutes = models.PositiveIntegerField(
        _("fallback at most every (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("At most one fallback per conversation in this many minutes."),
    )
    handoff_button_label = models.CharField(
        _("“talk to a human” button"),
        max_length=20,
        default="คุยกับเจ้าหน้าที่",
        validators=[validate_label],
        help_text=_(
            "Quick reply button under the welcome and fallback messages; a tap puts the customer "
            "in the queue. LINE shows the label in the chat as the customer's message."
        ),
    )
    quick_replies = models.JSONField(
        _("more quick reply buttons"),
        default=list,
        blank=True,
        validators=[validate_quick_replies],
        help_text=_(
            'After “talk to a human”: [{"label": "เวลาทำการ", "text": "เวลาทำการ"}, …]. A tap '
            "sends the text as the customer's message, so an auto-reply can answer it. "
            "Labels: at most 20 characters."
        ),
    )

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return "Bot settings"
