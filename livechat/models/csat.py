"""Customers' ratings of a conversation (CSAT), given in LINE on the survey sent at close."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livechat.models.conversations import Conversation


class CsatResponse(models.Model):
    """The first valid rating of a conversation's survey, and the comment that may follow it."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="csat", verbose_name=_("conversation")
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now, db_index=True)
    commented_at = models.DateTimeField(_("commented at"), null=True, blank=True)

    class Meta:
        verbose_name = _("CSAT response")
        verbose_name_plural = _("CSAT responses")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="csat_rating_1_to_5")
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.rating}/5"
