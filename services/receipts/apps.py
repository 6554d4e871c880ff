from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiptsConfig(AppConfig):
    name = "services.receipts"
    label = "receipts"
    verbose_name = _("Receipts")
