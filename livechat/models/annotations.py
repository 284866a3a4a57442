"""What the team writes about conversations and customers for itself: labels and private notes.

None of it is ever sent to LINE: the customer never sees a label or a note.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

validate_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}\Z", _("Enter a colour as # and six hexadecimal digits, e.g. #1f8a4c.")
)


class Label(models.Model):
    """A tag supervisors define (e.g. "billing", "complaint") that operators put on conversations."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    colour = models.CharField(_("colour"), max_length=7, default="#6b7280", validators=[validate_colour])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    """A private note in a conversation's timeline: staff only, never sent to the customer."""

    conversation = models.ForeignKey(
        "livechat.Conversation",
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        related_name="notes",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"), max_length=5000)
    # Operators named with @username or @display name: each was told on their sockets.
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mentions"), blank=True, related_name="mentioned_in_notes"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("private note")
        verbose_name_plural = _("private notes")
        ordering = ["created_at", "id"]
        indexes = [
            # A conversation's timeline: its notes by time.
            models.Index(fields=["conversation", "created_at"], name="note_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.conversation_id}"
