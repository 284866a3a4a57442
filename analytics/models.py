"""Daily rollups that analytics reads instead of counting millions of rows (analytics.rollup)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailySends(models.Model):
    """Outbound LINE sends of one past local day, by reply token and by push, counted from the
    messages once the day was over (`manage.py analytics_rollup`, kept current by `cleanup`)."""

    day = models.DateField(_("day"))
    # The TIME_ZONE the day was counted in: a day of another zone is another span of time.
    zone = models.CharField(_("time zone"), max_length=64)
    reply_sends = models.PositiveIntegerField(_("reply sends"))
    push_sends = models.PositiveIntegerField(_("push sends"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("daily LINE sends")
        verbose_name_plural = _("daily LINE sends")
        constraints = [models.UniqueConstraint(fields=["zone", "day"], name="daily_sends_unique")]

    def __str__(self) -> str:
        return f"{self.day} ({self.zone}): {self.reply_sends} reply, {self.push_sends} push"
