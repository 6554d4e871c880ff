"""The kinds of documents the offices issue, and what every one of them prints: the title block.
Pure data; the builders (mapextract.py, registers.py, zoning.py) turn a request and a TitleBlock into
an unsigned PDF, `pades.py` seals it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

# kind -> (label, personal data inside, issued without a clerk once paid)
KINDS: dict[str, tuple[object, bool, bool]] = {
    "egib_wyrys": (_("cadastral map extract (wyrys)"), False, True),
    "egib_wypis": (_("land register extract without personal data (wypis)"), False, True),
    "egib_wypis_full": (_("land register extract with personal data (wypis)"), True, False),
    "zoning_extract": (_("extract from the local zoning plan (wypis i wyrys)"), False, False),
    "zoning_certificate": (_("certificate of the zoning designation"), False, False),
}
SCALES = (500, 1000, 2000, 5000)


@dataclass(frozen=True)
class TitleBlock:
    """What every issued document prints, on every page: who issued it, its number and code."""

    office_name: str
    office_address: str
    kind_label: str  # Polish
    number: str  # e.g. "GK.6640.1.2026/W/1"
    case_sign: str
    issued_at: datetime  # aware
    issued_by: str  # the clerk's name; "" = issued automatically
    verification_code: str  # 24 characters
    verify_url: str  # absolute, /verify/<code>
