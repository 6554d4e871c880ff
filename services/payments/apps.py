from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "services.payments"
    label = "payments"
    verbose_name = _("Fees and payments")

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the deployment checks)
