from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
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
    # Auto-assignment (livechat.conversations.assignment) gives an operator new chats only while
    # they hold fewer active ones than this; the longest since their last assignment goes first.
    max_chats = models.PositiveSmallIntegerField(_("capacity (active chats)"), default=5)
    last_assigned_at = models.DateTimeField(_("last assigned a chat"), null=True, blank=True)

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

    operator = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="availability", verbose_name=_("operator")
    )
    status = models.CharField(max_length=8, choices=Status.choices, verbose_name=_("status"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

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


class AuditLog(models.Model):
    """Who did what, when, from where — sign-ins, account and settings changes, exports,
    erasures (conversation state changes are ConversationEvents). Only ever added to: the app
    offers no way to change or delete a row."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        LOGOUT = "logout", _("Signed out")
        USER_CHANGED = "user_changed", _("User changed")
        USER_CREATED = "user_created", _("User created")
        USER_DELETED = "user_deleted", _("User deleted")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        SETTINGS_CHANGED = "settings_changed", _("Settings changed")
        EXPORT = "export", _("Export")
        ERASURE = "erasure", _("Erasure")

    created_at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # The user, while their account exists; their name as it was (or the name typed at a failed
    # sign-in) stays either way.
    actor = models.ForeignKey(
        User, verbose_name=_("who"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    target = models.CharField(_("what"), max_length=200, blank=True)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["-created_at"], name="auditlog_created_idx"),
            models.Index(fields=["actor", "-created_at"], name="auditlog_actor_idx"),
            models.Index(fields=["kind", "-created_at"], name="auditlog_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.kind}"
