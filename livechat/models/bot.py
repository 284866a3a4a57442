"""What the bot says and listens for."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from livechat.models.line_text import validate_line_text


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
    reply_text = models.TextField(max_length=5000, validators=[validate_line_text])
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
        validators=[validate_line_text],
        default='สวัสดีค่ะ ยินดีต้อนรับ 🙏 พิมพ์ "คุยกับเจ้าหน้าที่" เพื่อคุยกับทีมงานได้เลยค่ะ\n'
        'Hello and welcome! Type "agent" to talk to our team.',
    )
    handoff_message = models.TextField(
        max_length=5000,
        validators=[validate_line_text],
        help_text="{position} and {wait_minutes} are filled in.",
        default="รับทราบค่ะ กำลังส่งต่อให้เจ้าหน้าที่ คุณอยู่ลำดับที่ {position} "
        "รอประมาณ {wait_minutes} นาที\n"
        "Connecting you to our team: you are number {position} in the queue, "
        "about {wait_minutes} min.",
    )
    still_waiting_message = models.TextField(
        max_length=5000,
        validators=[validate_line_text],
        help_text="{position} and {wait_minutes} are filled in.",
        default="เจ้าหน้าที่จะติดต่อกลับโดยเร็วค่ะ (ลำดับที่ {position})\n"
        "An agent will be with you shortly (number {position} in the queue).",
    )

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return "Bot settings"
