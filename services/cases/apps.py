from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "services.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # an e-filed form opens a case: one explicit callback, registered here (ARCHITECTURE §4)
        from services.forms.actions import FILED_HOOKS

        from .actions import case_from_submission

        if case_from_submission not in FILED_HOOKS:
            FILED_HOOKS.append(case_from_submission)
        # a payment's changes reach the case through one callback (ARCHITECTURE §4)
        from services.payments.actions import PAYMENT_HOOKS

        from .actions import case_payment_changed

        if case_payment_changed not in PAYMENT_HOOKS:
            PAYMENT_HOOKS.append(case_payment_changed)
        # an issued document reaches the case the same way
        from services.documents.actions import DOCUMENT_HOOKS

        from .actions import case_document_issued

        if case_document_issued not in DOCUMENT_HOOKS:
            DOCUMENT_HOOKS.append(case_document_issued)
        # a delivery that ends reaches the case the same way; documents waiting in the inbox stay closed
        from services.delivery.actions import DELIVERY_HOOKS
        from services.documents.selectors import DOWNLOAD_GATES

        from .delivering import case_delivery_done, held_back

        if case_delivery_done not in DELIVERY_HOOKS:
            DELIVERY_HOOKS.append(case_delivery_done)
        if held_back not in DOWNLOAD_GATES:
            DOWNLOAD_GATES.append(held_back)
        # an envelope from another office (a forwarded case, an answer) reaches the case register the same way
        from services.exchange.actions import INBOUND_HOOKS

        from .forwarding import case_from_envelope

        if case_from_envelope not in INBOUND_HOOKS:
            INBOUND_HOOKS.append(case_from_envelope)
        from services.exchange.selectors import CASE_SIGNS

        from .forwarding import case_signs

        if case_signs not in CASE_SIGNS:
            CASE_SIGNS.append(case_signs)
