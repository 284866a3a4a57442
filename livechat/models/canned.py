"""Prepared answers for operators: shared ones (no owner; supervisors and admins edit them) and
each operator's own. A canned response is a text with variables filled in when it is sent, and
optionally an image or a sticker, and quick reply buttons under the last message."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from livechat.models.line_text import PlaceholderValidator, validate_line_text

# What a canned response's text may use; livechat.conversations.canned fills them in when sent.
VARIABLES = ("customer_name", "operator_name", "queue_position", "business_hours_today", "conversation_id")

# LINE's limits for quick reply buttons.
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_QUICK_REPLY_TEXT = 300  # a message action's text


def validate_quick_replies(items: Any) -> None:
    """Model and form validator: a list of {"label", "text"} LINE accepts as quick replies."""
    if not isinstance(items, list):
        raise ValidationError(gettext("Quick replies must be a list."), code="invalid")
    if len(items) > MAX_QUICK_REPLIES:
        raise ValidationError(
            gettext("LINE shows at most %(limit)d quick replies; there are %(count)d.")
            % {"limit": MAX_QUICK_REPLIES, "count": len(items)},
            code="too_many_quick_replies",
        )
    for item in items:
        label = item.get("label", "") if isinstance(item, dict) else ""
        text = item.get("text", "") if isinstance(item, dict) else ""
        if not isinstance(label, str) or not isinstance(text, str) or not label.strip() or not text.strip():
            raise ValidationError(
                gettext("Each quick reply needs a label and a text."), code="quick_reply_empty"
            )
        if len(label) > MAX_QUICK_REPLY_LABEL:
            raise ValidationError(
                gettext("The quick reply label “%(label)s” is longer than LINE's %(limit)d characters.")
                % {"label": label, "limit": MAX_QUICK_REPLY_LABEL},
                code="quick_reply_label_too_long",
            )
        if len(text) > MAX_QUICK_REPLY_TEXT:
            raise ValidationError(
                gettext("A quick reply's text is longer than LINE's %(limit)d characters.")
                % {"limit": MAX_QUICK_REPLY_TEXT},
                code="quick_reply_text_too_long",
            )


class CannedResponse(models.Model):
    """A prepared answer operators insert with "/" in the composer."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text=_("Empty: shared with the whole team."),
    )
    title = models.CharField(_("title"), max_length=100)
    shortcut = models.SlugField(_("shortcut"), max_length=50, allow_unicode=True)
    text = models.TextField(
        _("text"),
        max_length=5000,
        blank=True,
        validators=[validate_line_text, PlaceholderValidator(*VARIABLES)],
    )
    # An image stored by livechat.line.hosted_images (its public URLs, as LINE fetches them).
    image_path = models.CharField(_("image"), max_length=200, blank=True)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    image_preview_url = models.URLField(_("image preview URL"), max_length=500, blank=True)
    sticker_package_id = models.CharField(_("sticker package ID"), max_length=20, blank=True)
    sticker_id = models.CharField(_("sticker ID"), max_length=20, blank=True)
    quick_replies = models.JSONField(
        _("quick replies"), default=list, blank=True, validators=[validate_quick_replies]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]
        constraints = [
            # A shortcut names one response among the shared ones, and one among each operator's own.
            models.UniqueConstraint(
                fields=["shortcut"], condition=Q(owner__isnull=True), name="canned_shared_shortcut_unique"
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut"],
                condition=Q(owner__isnull=False),
                name="canned_personal_shortcut_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.title}"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    @property
    def has_sticker(self) -> bool:
        return bool(self.sticker_package_id and self.sticker_id)

    def clean(self) -> None:
        super().clean()
        if self.image_path and (self.sticker_package_id or self.sticker_id):
            raise ValidationError(
                gettext("Attach an image or a sticker, not both."), code="image_and_sticker"
            )
        if bool(self.sticker_package_id) != bool(self.sticker_id):
            raise ValidationError(
                gettext("A sticker needs both its package ID and its sticker ID."), code="sticker_incomplete"
            )
        if not self.text.strip() and not self.image_path and not self.has_sticker:
            raise ValidationError(
                gettext("Write a text, or attach an image or a sticker."), code="canned_empty"
            )
