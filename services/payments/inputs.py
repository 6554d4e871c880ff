"""What a clerk types about money, read once for every page that books it (payments, the case page)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError


def parse_amount(value) -> Decimal:
    """An amount in złoty as people type it ("150,00", "1 200.5"); a clear error otherwise."""
    try:
        amount = Decimal(str(value or "").replace(",", ".").replace(" ", "").strip())
    except InvalidOperation:
        raise GisportalError(_("Give the amount in złoty, e.g. 150,00.")) from None
    if not amount.is_finite():
        raise GisportalError(_("Give the amount in złoty, e.g. 150,00."))
    return amount


def parse_day(value) -> date:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise GisportalError(_("Give the date as YYYY-MM-DD.")) from None
