from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "services.surveys"
    label = "surveys"
    verbose_name = _("Surveying work")

    def ready(self) -> None:
        # a paid work notification's fee requests its materials package: one callback (ARCHITECTURE §4)
        from services.payments.actions import PAYMENT_HOOKS

        from .actions import package_payment_changed

        if package_payment_changed not in PAYMENT_HOOKS:
            PAYMENT_HOOKS.append(package_payment_changed)
        # "My case" shows the package when the case register offers panels to other apps
        from services.cases import applicant

        panels = getattr(applicant, "MY_CASE_PANELS", None)
        if panels is not None:
            from .review import results_panel
            from .views import package_panel

            for panel in (package_panel, results_panel):
                if panel not in panels:
                    panels.append(panel)
