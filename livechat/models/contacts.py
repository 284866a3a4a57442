"""LINE users who talk to the Official Account."""

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
    profile_fetched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("profile fetched at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # What the team keeps about the customer across conversations (the customer panel): free text,
    # and named values such as a customer number ({"customer number": "C-1042"}).
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

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
