"""The land-register extract (wypis z rejestru gruntów) as a PDF, with or without personal data.

Two steps, as for every document builder here: `wypis_data` reads the register into plain values (a
dict of str/int/list, JSON-ready, so a case can keep what was stated), `wypis_pdf` lays those values
out with the title block (office, number, verification code, QR). Only `wypis_data` touches the
database, and personal data (owners, shares, KW numbers) is read exclusively through
`layers.selectors.restricted_parcel_data`, which checks the reader's role and appends each read to the
hash-chained access log (DOMAIN.md §11) — this module never queries a `Restricted*` model itself.

The layout helpers (`title_context`, `render_html`, `pdf_bytes`, `format_decimal`) are shared with
`zoning.py`, so that every extract prints the same title block and page footer.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gisportal.core.errors import Forbidden, InvalidInput
from gisportal.core.identifiers import parse_parcel_id
from layers.models import KstType, LandUseCode, Parcel
from layers.selectors import RESTRICTED_CAPABILITY, restricted_parcel_data

from .kinds import TitleBlock

MAX_PARCELS = 50  # one request; a larger one is a bulk export, not an extract
HA = Decimal("0.0001")
M2_PER_HA = Decimal(10000)


# ---------------------------------------------------------------- reading
def parcels_requested(parcel_ids: Iterable[str]) -> list[str]:
    """The identifiers as given, trimmed, without repeats (order kept), each well-formed: a wypis for
    the same parcel twice would log the personal-data read twice for one disclosure."""
    if isinstance(parcel_ids, str):
        parcel_ids = [parcel_ids]
    seen: dict[str, None] = {}
    for raw in parcel_ids or ():
        value = (raw or "").strip() if isinstance(raw, str) else ""
        if not value:
            continue
        parse_parcel_id(value)  # InvalidInput with the expected form
        seen.setdefault(value, None)
    ids = list(seen)
    if not ids:
        raise InvalidInput(_("Give at least one parcel identifier."), code="parcels_required")
    if len(ids) > MAX_PARCELS:
        raise InvalidInput(
            _("One extract may cover at most %(max)d parcels.") % {"max": MAX_PARCELS},
            code="too_many_parcels",
        )
    return ids


def current_parcels(ids: list[str]) -> list[Parcel]:
    """The current parcels, in the order asked, with what the public part of a wypis prints; an id
    that is unknown or retired is refused before anything (a log entry above all) is written."""
    rows = (
        Parcel.objects.current()
        .filter(parcel_id__in=ids)
        .select_related("precinct", "precinct__unit")
        .prefetch_related("land_uses", "buildings")
    )
    found = {p.parcel_id: p for p in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            _("There is no current parcel %(id)s in the register.") % {"id": ", ".join(missing[:5])},
            code="parcel_unknown",
        )
    return [found[i] for i in ids]


def _area_ha(value: Decimal) -> str:
    return str(Decimal(value).quantize(HA, rounding=ROUND_HALF_UP))


def _parcel_public(parcel: Parcel) -> dict[str, Any]:
    """What anyone may read of a parcel (PGiK art. 24): no owner, no KW number."""
    precinct, unit = parcel.precinct, parcel.precinct.unit
    area = Decimal(parcel.area_ha)
    return {
        "unit": {"id": unit.unit_id, "name": unit.name},
        "precinct": {"id": precinct.precinct_id, "number": precinct.number, "name": precinct.name},
        "parcel_id": parcel.parcel_id,
        "number": parcel.number,
        "sheet": parcel.sheet,
        "area_ha": _area_ha(area),
        "area_m2": int((area * M2_PER_HA).to_integral_value(rounding=ROUND_HALF_UP)),
        "land_uses": [
            {"label": lu.label, "ofu": lu.ofu, "ozu": lu.ozu, "ozk": lu.ozk, "area_ha": _area_ha(lu.area_ha)}
            for lu in sorted(parcel.land_uses.all(), key=lambda lu: (-lu.area_ha, lu.label))
        ],
        "registration_unit": parcel.registration_unit,
        "registration_group": parcel.registration_group,
        "buildings": [
            {
                "id": b.building_id,
                "kst": b.kst_type,
                "kst_code": b.kst_code,
                "storeys_above": b.storeys_above,
                "storeys_below": b.storeys_below,
                "footprint_m2": str(Decimal(b.built_up_area_m2).quantize(Decimal("0.01"))),
            }
            for b in sorted(parcel.buildings.all(), key=lambda b: b.building_id)
            if b.end_object is None
        ],
    }


def _check_personal_request(user, legal_basis: str) -> None:
    """Everything `restricted_parcel_data` would refuse, refused before the first read, so that a
    refused request leaves no entry in the access log."""
    if user is None or not user.has_perm(RESTRICTED_CAPABILITY):
        raise Forbidden(_("You are not allowed to see personal data from the register."))
    if not (legal_basis or "").strip():
        raise InvalidInput(_("A legal basis is required to read personal data."), code="legal_basis_required")


def wypis_data(
    parcel_ids: Iterable[str],
    *,
    with_personal_data: bool,
    user=None,
    case_sign: str = "",
    legal_basis: str = "",
) -> dict[str, Any]:
    """The land-register extract's content for these parcels. Without personal data: public attributes
    only (unit, precinct, number, area, land-use classes, JRG number, buildings). With personal data:
    also `personal` per parcel ({"kw": [...], "owners": [{name, kind, right, share}]}), each parcel read
    through `restricted_parcel_data(user, ...)`, i.e. one access-log entry per parcel carrying the
    clerk-accepted `legal_basis` and the `case_sign`. Raises InvalidInput (unknown or retired parcel,
    malformed id, no legal basis) or Forbidden (a user whose role may not read personal data)."""
    ids = parcels_requested(parcel_ids)
    parcels = current_parcels(ids)
    out: dict[str, Any] = {
        "with_personal_data": bool(with_personal_data),
        "case_sign": case_sign or "",
        "legal_basis": "",
        "parcels": [_parcel_public(p) for p in parcels],
    }
    if not with_personal_data:
        return out
    _check_personal_request(user, legal_basis)
    out["legal_basis"] = legal_basis.strip()
    with transaction.atomic():  # all parcels read and logged, or none
        for entry in out["parcels"]:
            restricted = restricted_parcel_data(
                user, entry["parcel_id"], legal_basis=legal_basis, case_sign=case_sign or ""
            )
            entry["personal"] = {"kw": list(restricted["kw"]), "owners": list(restricted["owners"])}
    return out


# ---------------------------------------------------------------- layout (shared with zoning.py)
def format_decimal(value: Any, places: int) -> str:
    """A number as a Polish document prints it: decimal comma, non-breaking thin groups of three
    ("1 234,5678"), so that a figure never breaks across lines."""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign, text = ("-", str(-q)) if q < 0 else ("", str(q))
    whole, _dot, frac = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    number = "\u00a0".join([whole, *groups])
    return sign + (f"{number},{frac}" if frac else number)


def css_string(text: str) -> SafeString:
    """Text as a quoted CSS string for the page-margin boxes (the footer repeats the number and code on
    every page): quotes, backslashes, line breaks and '<' escaped, so nothing can close the string or
    the <style> element whatever an office or clerk typed."""
    out = []
    for ch in text or "":
        if ch in '"\\<>&' or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return mark_safe('"' + "".join(out) + '"')  # noqa: S308 - every special character escaped above


def title_context(title: TitleBlock) -> dict[str, Any]:
    """What `_title_block.html` and the page footer print. A draft (no code yet) gets no QR code."""
    from services.offices.sealing import format_code

    code = format_code(title.verification_code) if title.verification_code else ""
    qr = ""
    if title.verify_url:
        import segno

        qr = segno.make(title.verify_url, error="m").svg_data_uri(scale=3)
    footer = f"{_('no.')} {title.number}"
    if code:
        footer += f" · {_('Verification code')}: {code}"
    return {
        "title": title,
        "code": code,
        "qr": qr,
        "footer_css": css_string(footer),
        "page_word_css": css_string(pgettext("page numbering", "page")),
        "of_word_css": css_string(pgettext("page numbering", "of")),
    }


def png_data_uri(png: bytes | None) -> str:
    """An image embedded in the page (WeasyPrint never fetches anything from outside)."""
    if not png:
        return ""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InvalidInput(_("The map image is not a PNG file."), code="map_not_png")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(template: str, context: dict[str, Any]) -> str:
    """The document's HTML, always in Polish: an office's document is Polish whatever language the
    reader browses in."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("pl"):
        return render_to_string(template, context)


def render_document(page: str):
    """The laid-out WeasyPrint document (what the PDF writes, and what tests read)."""
    import weasyprint  # heavy: loaded on first use
    from django.conf import settings

    return weasyprint.HTML(string=page, base_url=str(settings.BASE_DIR)).render()


def pdf_bytes(page: str) -> bytes:
    """A tagged PDF (headings, tables, language), so that a screen reader reads what the HTML says."""
    return render_document(page).write_pdf(pdf_tags=True)


# ---------------------------------------------------------------- the wypis
def _land_use_rows(entry: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for lu in entry["land_uses"]:
        try:
            name = str(LandUseCode(lu["ofu"]).label)
        except ValueError:
            name = ""
        rows.append({"label": lu["label"], "name": name, "area_ha": format_decimal(lu["area_ha"], 4)})
    return rows


def _building_rows(entry: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for b in entry["buildings"]:
        try:
            function = str(KstType(b["kst"]).label)
        except ValueError:
            function = b["kst"]
        rows.append(
            {
                "id": b["id"],
                "function": function,
                "storeys_above": b["storeys_above"],
                "storeys_below": b["storeys_below"],
                "footprint_m2": format_decimal(b["footprint_m2"], 2),
            }
        )
    return rows


def wypis_context(data: dict[str, Any], title: TitleBlock) -> dict[str, Any]:
    """The template's values, numbers formatted the Polish way and codes named in Polish."""
    parcels = []
    total = Decimal(0)
    for entry in data["parcels"]:
        total += Decimal(entry["area_ha"])
        parcels.append(
            {
                **entry,
                "area_ha_text": format_decimal(entry["area_ha"], 4),
                "area_m2_text": format_decimal(entry["area_m2"], 0),
                "land_use_rows": _land_use_rows(entry),
                "building_rows": _building_rows(entry),
            }
        )
    return {
        **title_context(title),
        "full": bool(data.get("with_personal_data")),
        "case_sign": data.get("case_sign", ""),
        "legal_basis": data.get("legal_basis", ""),
        "parcels": parcels,
        "total_ha": format_decimal(total, 4),
    }


def wypis_html(data: dict[str, Any], title: TitleBlock) -> str:
    return render_html("documents/wypis.html", wypis_context(data, title))


def wypis_pdf(data: dict[str, Any], title: TitleBlock) -> bytes:
    """The extract as an A4 tagged PDF, in Polish: "Wypis z rejestru gruntów" (the public variant
    marked "bez danych osobowych"), per parcel its location, area, land-use classes, JRG and
    buildings, and in the full variant the KW numbers and the owners with their shares."""
    return pdf_bytes(wypis_html(data, title))
