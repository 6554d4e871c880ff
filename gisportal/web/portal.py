"""The public map portal and its text path: the map page, search (a plain page; JSON: layers/api.py)
and the parcel page. Every map task can be done without the map: search results and parcel pages are plain
HTML with the same data and actions."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from gisportal.core.errors import GisportalError
from layers import catalogue
from layers.selectors import parcel_public, parcel_zoning, search_registry

PARCEL_ACTIONS = (  # (service code, label) offered for a parcel; the form opens prefilled; labels translated when shown
    ("wypis-wyrys-mpzp", gettext_noop("Order a zoning plan extract")),
    ("zaswiadczenie-mpzp", gettext_noop("Ask for a zoning certificate")),
    ("wypis-wyrys-egib", gettext_noop("Order a land register extract")),
    ("pismo-ogolne", gettext_noop("Write to the office")),
)


def _layers(user) -> list[dict]:
    """Layers the user may see (server-side check), with their legend, for the map's layer list."""
    out = []
    for layer in catalogue.layers_for(user):
        out.append(
            {
                "name": layer.name,
                "title": layer.title(_lang()),
                "visible": layer.name in DEFAULT_VISIBLE,
                "legend": f"/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER={layer.name}&FORMAT=image/png"
                f"&LANGUAGE={'eng' if _lang() == 'en' else 'pol'}",
                "queryable": layer.queryable and not layer.labels_of,
            }
        )
    return out


DEFAULT_VISIBLE = {"granice", "obreby", "dzialki", "budynki", "numery_dzialek"}


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "pl").startswith("en") else "pl"


@require_GET
def map_page(request):
    return render(
        request,
        "web/map.html",
        {
            "layers": _layers(request.user),
            "orthophoto_url": settings.GISPORTAL_ORTHOPHOTO_WMS,
            "orthophoto_layer": settings.GISPORTAL_ORTHOPHOTO_LAYER,
            "vector_tiles": settings.GISPORTAL_MAP_VECTOR_TILES,
            "texts": {
                "zoning": _("Zoning plan"),
                "actions": _("Actions"),
                "details": _("Parcel page (text version)"),
                "none": _("Nothing here."),
                "noresults": _("Nothing found."),
                "forms": [[code, _(label)] for code, label in PARCEL_ACTIONS],
            },
        },
    )


@require_GET
def search_page(request):
    q = request.GET.get("q", "")
    hits = search_registry(q) if q else []
    return render(request, "web/search.html", {"q": q[:100], "hits": hits, "asked": bool(q.strip())})


@require_GET
def parcel_page(request, parcel_id: str):
    try:
        parcel = parcel_public(parcel_id)
    except GisportalError:
        raise Http404(_("There is no current parcel with this identifier.")) from None
    layer = catalogue.get_layer("dzialki")
    values = []
    for a in layer.public_attributes:
        value = parcel
        for part in a.source.split("__"):
            value = getattr(value, part, None) if value is not None else None
        values.append((a.title_en if _lang() == "en" else a.title_pl, value))
    x0, y0, x1, y1 = parcel.geom.extent
    pad = max(x1 - x0, y1 - y0) * 0.35 + 20
    cx, cy, half_w = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2 + pad
    bbox = f"{cx - half_w * 1.5:.2f},{cy - half_w:.2f},{cx + half_w * 1.5:.2f},{cy + half_w:.2f}"
    return render(
        request,
        "web/parcel.html",
        {
            "parcel": parcel,
            "values": values,
            "zoning": parcel_zoning(parcel),
            "bbox": bbox,
            "actions": [(code, _(label)) for code, label in PARCEL_ACTIONS],
        },
    )
