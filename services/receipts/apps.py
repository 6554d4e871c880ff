from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiptsConfig(AppConfig):
    name = "services.receipts"
    label = "receipts"
    verbose_name = _("Receipts")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the start-up check of the office seals
