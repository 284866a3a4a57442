from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LivechatConfig(AppConfig):
    name = "livechat"
    verbose_name = _("Live chat")

    def ready(self) -> None:
        from livechat.realtime import sessions  # noqa: F401  (connects the signal receivers)
