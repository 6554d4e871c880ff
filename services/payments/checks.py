"""Deployment checks of the payment gateways (`gisportal check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("payments", deploy=True)
def gateways(app_configs=None, **kwargs) -> list:
    out = []
    providers = settings.GISPORTAL_PAYMENT_PROVIDERS
    unknown = [p for p in providers if p not in ("sandbox", "przelewy24")]
    if unknown:
        out.append(
            Error(
                f"GISPORTAL_PAYMENT_PROVIDERS names unknown gateways: {', '.join(unknown)}",
                hint="Use sandbox and/or przelewy24.",
                id="payments.E001",
            )
        )
    if "sandbox" in providers:
        out.append(
            Warning(
                "The sandbox payment gateway is on: anyone paying can choose success without paying.",
                hint="Remove `sandbox` from GISPORTAL_PAYMENT_PROVIDERS outside demos and tests.",
                id="payments.W001",
            )
        )
    if "przelewy24" in providers:
        missing = [
            name
            for name in ("GISPORTAL_P24_MERCHANT_ID", "GISPORTAL_P24_API_KEY", "GISPORTAL_P24_CRC")
            if not getattr(settings, name)
        ]
        if missing or not settings.GISPORTAL_P24_URL.startswith("https://"):
            out.append(
                Error(
                    "Przelewy24 is on but not configured: "
                    + ", ".join(missing or ["GISPORTAL_P24_URL (https)"]),
                    hint="Set the merchant id, REST API key and CRC key from the Przelewy24 panel.",
                    id="payments.E002",
                )
            )
    return out
