"""Zoning-plan documents of the gmina: the extract from the local plan (wypis i wyrys z miejscowego planu
zagospodarowania przestrzennego) and the certificate of a parcel's designation (zaświadczenie,
art. 217 KPA), as PDFs.

`zoning_data` reads, per parcel, the designations of the plan areas that cover it with the share of
the parcel each covers (ST_Intersection areas against the parcel's own geometry), and the plans
involved; a parcel no plan covers is stated as such, since "no plan here" is itself the answer a
citizen asks for. The PDF builders take those plain values and a TitleBlock (no database I/O) and share
the layout helpers of `registers.py`.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.gis.db.models.functions import Area, Intersection
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput
from layers.models import Parcel, ZoningArea

from .kinds import TitleBlock
from .registers import (
    current_parcels,
    format_decimal,
    parcels_requested,
    pdf_bytes,
    png_data_uri,
    render_html,
    title_context,
)

MIN_SHARE = Decimal("0.1")  # % of the parcel: below it, an intersection is a boundary sliver, not a zone
MAX_FREE_TEXT = 20000
MAX_PURPOSE = 500


def _square_metres(value: Any) -> float:
    return float(value.sq_m) if hasattr(value, "sq_m") else float(value)


def _percent(part: float, whole: float) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _plan_entry(plan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "name": plan.name,
        "resolution_no": plan.resolution_no,
        "resolution_date": plan.resolution_date.isoformat() if plan.resolution_date else "",
        "in_force_from": plan.in_force_from.isoformat() if plan.in_force_from else "",
    }


def _designations(parcel: Parcel, plans: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan areas over the parcel, largest share first; registers each plan met in `plans`."""
    whole = parcel.geom.area or 1.0
    rows = (
        ZoningArea.objects.filter(geom__intersects=parcel.geom)
        .select_related("plan")
        .annotate(part=Area(Intersection("geom", parcel.geom)))
    )
    out = []
    for zone in rows:
        part = _square_metres(zone.part)
        share = _percent(part, whole)
        if share < MIN_SHARE:
            continue
        plans.setdefault(zone.plan.plan_id, _plan_entry(zone.plan))
        out.append(
            {
                "plan_id": zone.plan.plan_id,
                "label": zone.label,
                "symbol": zone.symbol,
                "name": zone.description,
                "text": "",  # the model holds the designation only, not the plan's provisions
                "share": str(min(share, Decimal(100))),
                "area_m2": round(part),
            }
        )
    out.sort(key=lambda d: (-Decimal(d["share"]), d["plan_id"], d["label"]))
    return out


def zoning_data(parcel_ids) -> dict[str, Any]:
    """The zoning of these parcels: `plans` (plan_id, name, resolution_no, resolution_date and
    in_force_from as ISO dates) and per parcel its location, its designations (plan_id, label, symbol,
    name, text, share in % as a string, area_m2) and `uncovered` — the share in % of the parcel no
    plan area covers ("100.0" for a parcel outside every plan). InvalidInput for a malformed, unknown or
    retired parcel."""
    parcels = current_parcels(parcels_requested(parcel_ids))
    plans: dict[str, dict[str, Any]] = {}
    entries = []
    for parcel in parcels:
        designations = _designations(parcel, plans)
        covered = sum((Decimal(d["share"]) for d in designations), Decimal(0))
        uncovered = max(Decimal(100) - covered, Decimal(0))
        entries.append(
            {
                "parcel_id": parcel.parcel_id,
                "number": parcel.number,
                "precinct": {
                    "id": parcel.precinct.precinct_id,
                    "number": parcel.precinct.number,
                    "name": parcel.precinct.name,
                },
                "unit": {"id": parcel.precinct.unit.unit_id, "name": parcel.precinct.unit.name},
                "designations": designations,
                "covered": bool(designations),
                "uncovered": str(
                    (uncovered if uncovered >= MIN_SHARE else Decimal(0)).quantize(Decimal("0.1"))
                ),
            }
        )
    return {"plans": sorted(plans.values(), key=lambda p: p["plan_id"]), "parcels": entries}


# ---------------------------------------------------------------- layout
def _clean_text(value: str, limit: int, too_long: str) -> str:
    """What a clerk typed, checked before it is printed on an official document."""
    value = (value or "").replace("\r\n", "\n").strip()
    if "\x00" in value:
        raise InvalidInput(_("The value holds a NUL character."), code="nul_character")
    if len(value) > limit:
        raise InvalidInput(too_long % {"max": limit}, code="text_too_long")
    return value


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _context(data: dict[str, Any], title: TitleBlock, free_text: str) -> dict[str, Any]:
    plans = {
        p["plan_id"]: {
            **p,
            "resolution_day": _day(p.get("resolution_date", "")),
            "in_force_day": _day(p.get("in_force_from", "")),
        }
        for p in data["plans"]
    }
    parcels = []
    for entry in data["parcels"]:
        rows = [
            {**d, "plan": plans.get(d["plan_id"], {}), "share_text": format_decimal(d["share"], 1)}
            for d in entry["designations"]
        ]
        uncovered = Decimal(entry["uncovered"])
        parcels.append(
            {
                **entry,
                "rows": rows,
                "partly_uncovered": entry["covered"] and uncovered > 0,
                "uncovered_text": format_decimal(uncovered, 1),
            }
        )
    return {
        **title_context(title),
        "plans": list(plans.values()),
        "parcels": parcels,
        "free_text": _clean_text(
            free_text, MAX_FREE_TEXT, _("The free text is too long (at most %(max)d characters).")
        ),
    }


def extract_html(
    data: dict[str, Any], title: TitleBlock, *, map_png: bytes | None = None, free_text: str = ""
) -> str:
    context = _context(data, title, free_text)
    context["map_uri"] = png_data_uri(map_png)
    return render_html("documents/zoning_extract.html", context)


def extract_pdf(
    data: dict[str, Any], title: TitleBlock, *, map_png: bytes | None = None, free_text: str = ""
) -> bytes:
    """The extract from the local plan as an A4 tagged PDF in Polish: the plans (name, resolution),
    per parcel its designations with their shares (wypis), the map of the plan over the parcels when
    the caller rendered one (wyrys, `map_png`), and the clerk's free text (e.g. the plan's provisions
    for the designations, which the register does not hold)."""
    return pdf_bytes(extract_html(data, title, map_png=map_png, free_text=free_text))


def certificate_html(data: dict[str, Any], title: TitleBlock, *, purpose: str, free_text: str = "") -> str:
    purpose = _clean_text(purpose, MAX_PURPOSE, _("The purpose is too long (at most %(max)d characters)."))
    if not purpose:
        raise InvalidInput(
            _("State the purpose for which the certificate is requested."), code="purpose_required"
        )
    context = _context(data, title, free_text)
    context["purpose"] = purpose
    return render_html("documents/zoning_certificate.html", context)


def certificate_pdf(data: dict[str, Any], title: TitleBlock, *, purpose: str, free_text: str = "") -> bytes:
    """The certificate of the parcels' designation in the local plan (zaświadczenie, art. 217 KPA and
    the act on spatial planning) as an A4 tagged PDF in Polish, naming the purpose it was requested
    for. InvalidInput when the purpose is empty."""
    return pdf_bytes(certificate_html(data, title, purpose=purpose, free_text=free_text))
