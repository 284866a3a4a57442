"""The service settings (auto-assignment, auto-close, retention, after-hours text) and the
default SLA policy, as every process sees them (reloaded everywhere within a second of an edit)."""

from django.db.models.signals import post_delete, post_save

from livechat.models import ServiceSettings, SlaPolicy
from livechat.policies import shared


def _load_settings() -> ServiceSettings:
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    return row


def _load_sla() -> SlaPolicy:
    """The default policy; made (with the model's defaults) the first time it is asked for."""
    policy = SlaPolicy.objects.filter(is_default=True).first()
    if policy is None:
        policy, _ = SlaPolicy.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    return policy


_settings = shared.Shared("livechat:service-settings-version", _load_settings)
_sla = shared.Shared("livechat:sla-policy-version", _load_sla)
forget_settings = _settings.forget
forget_sla = _sla.forget


def settings() -> ServiceSettings:
    """The one ServiceSettings row. Read-only: edit the row in the database, not this copy."""
    return _settings.get()


def sla_policy() -> SlaPolicy:
    """The default SLA policy. Read-only, like settings()."""
    return _sla.get()


post_save.connect(forget_settings, sender=ServiceSettings, dispatch_uid="service-settings")
post_save.connect(forget_sla, sender=SlaPolicy, dispatch_uid="sla-policy")
post_delete.connect(forget_sla, sender=SlaPolicy, dispatch_uid="sla-policy-del")
