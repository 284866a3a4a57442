from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of the support team: operator, supervisor or admin."""

    class Role(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        SUPERVISOR = "supervisor", _("Supervisor")
        ADMIN = "admin", _("Admin")

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    # The role decides what someone may do (livechat.conversations.permissions): blank = no team
    # role (e.g. an account kept for Django admin only), which opens none of the team's tools.
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OPERATOR, blank=True)

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may act on any conversation."""
        return self.role in (self.Role.SUPERVISOR, self.Role.ADMIN) or self.is_superuser


class AvailabilityPeriod(models.Model):
    """A stretch of time an operator was online or away (open while `ended_at` is null)."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")

    operator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="availability")
    status = models.CharField(max_length=8, choices=Status.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("availability period")
        verbose_name_plural = _("availability periods")
        indexes = [
            # Closing an operator's open period.
            models.Index(
                fields=["operator"], condition=models.Q(ended_at__isnull=True), name="availability_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.status} from {self.started_at:%Y-%m-%d %H:%M}"
