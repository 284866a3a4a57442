from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from analytics import signals
        from livechat.jobs.signals import cleanup_pass

        cleanup_pass.connect(signals.count_recent_days, dispatch_uid="analytics-rollup")
