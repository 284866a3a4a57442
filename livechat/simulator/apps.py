from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimulatorConfig(AppConfig):
    """The LINE simulator: installed only when LINE_SIMULATOR is on (development and tests)."""

    name = "livechat.simulator"
    label = "simulator"
    verbose_name = _("LINE simulator")
