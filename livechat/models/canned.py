"""Prepared answers for operators."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from livechat.models.line_text import validate_line_text


class CannedResponse(models.Model):
    """A prepared answer operators insert with "/" in the composer."""

    title = models.CharField(_("title"), max_length=100)
    shortcut = models.SlugField(_("shortcut"), max_length=50, unique=True, allow_unicode=True)
    text = models.TextField(_("text"), max_length=5000, validators=[validate_line_text])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.title}"
