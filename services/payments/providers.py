"""Which gateways are on, and their adapters, from settings (GISPORTAL_PAYMENT_PROVIDERS, a comma list
of `sandbox`, `przelewy24`). A bank transfer booked by a clerk is always possible and is not a gateway."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .adapters import Provider

KNOWN = ("sandbox", "przelewy24")


def gateways_enabled() -> tuple[str, ...]:
    return tuple(p for p in settings.GISPORTAL_PAYMENT_PROVIDERS if p in KNOWN)


def gateway(name: str) -> Provider:
    if name not in gateways_enabled():
        raise KeyError(name)
    return _build(name, settings.GISPORTAL_P24_URL)


@cache
def _build(name: str, p24_url: str) -> Provider:
    if name == "sandbox":
        from .adapters.sandbox import Sandbox

        return Sandbox()
    from .adapters.przelewy24 import Przelewy24

    return Przelewy24(
        p24_url,
        merchant_id=settings.GISPORTAL_P24_MERCHANT_ID,
        pos_id=settings.GISPORTAL_P24_POS_ID,
        api_key=settings.GISPORTAL_P24_API_KEY,
        crc=settings.GISPORTAL_P24_CRC,
    )
