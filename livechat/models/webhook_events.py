"""Every event LINE delivered, kept raw."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """Every event LINE delivered, raw, deduplicated on its webhookEventId."""

    webhook_event_id = models.CharField(max_length=64, unique=True, verbose_name=_("webhook event ID"))
    event_type = models.CharField(max_length=40, verbose_name=_("event type"))
    source_type = models.CharField(max_length=10, blank=True, verbose_name=_("source type"))
    raw = models.JSONField(verbose_name=_("event as received"))
    is_redelivery = models.BooleanField(default=False, verbose_name=_("redelivery"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    # Empty while deferred (stored, to be processed after the response) or kept unprocessable.
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    processing_error = models.TextField(blank=True, verbose_name=_("processing error"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(fields=["-received_at"], name="webhookevent_received_idx"),
            # The worker's look for deferred events (the tail of a huge body) still to process.
            models.Index(
                fields=["id"],
                condition=models.Q(processed_at__isnull=True, processing_error=""),
                name="webhookevent_deferred_idx",
            ),
            # cleanup's retention: events whose raw body is still kept, by age (the emptied ones
            # drop out, so a pass with nothing to do reads nothing).
            models.Index(
                fields=["received_at"], condition=~models.Q(raw={}), name="webhookevent_raw_kept_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_event_id}"
