"""The public map portal and its text path: the map page, search (a plain page; JSON: layers/api.py)
and the parcel page. Every map task can be done without the map: search results and parcel pages are plain
HTML with the same data and actions."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from gisportal.core.errors import GisportalError
from layers import catalogue
from layers.selectors import parcel_public, parcel_zoning, search_registry
from layers.sources import cascade

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
        if layer.view_of:  # INSPIRE view layers repeat ours under INSPIRE names, for INSPIRE clients
            continue
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


MAP_CRS = "EPSG:2180"  # the map's CRS (js/map.js): WMS layers are asked for in it


def _remote_layers(user) -> list[dict]:
    """Cascaded layers of external WMS sources (layers.sources.cascade) the user may see and the map can
    draw (the remote offers the map's CRS), drawn through our WMS like ours, never by the browser calling
    the remote. Not queried on click (the map's feature info is ours), off until ticked."""
    return [
        {"name": c.name, "title": c.title, "source": c.source_title}
        for c in cascade.cascaded_for(user).values()
        if c.offers(MAP_CRS)
    ]


DEFAULT_VISIBLE = {"granice", "obreby", "dzialki", "budynki", "numery_dzialek"}
# the light base image under the cadastral layers: existing public WMS layers, drawn faded by the client
# (no layer name of its own: the WMS/WFS/OGC API layer list is a public contract)
BASE_LAYERS = ("uzytki", "adresy")


def _value_labels() -> dict[str, dict[str, dict[str, str]]]:
    """Human words for the coded values the feature info shows ("voivodeship", "R", "m"), in the current
    language, by layer and public attribute: the registry's own choices (layers.models)."""
    from layers.models import AdministrativeUnit, KstType, LandUseCode, SoilUseCode

    def coded(choices, with_code: bool) -> dict[str, str]:
        return {v: f"{v} – {label}" if with_code else str(label) for v, label in choices}

    return {
        "granice": {"POZIOM": coded(AdministrativeUnit.Level.choices, False)},
        "budynki": {"FUNKCJA": {v: str(label) for v, label in KstType.choices}},
        "uzytki": {"OFU": coded(LandUseCode.choices, True)},
        "kontury_klasyfikacyjne": {"OZU": coded(SoilUseCode.choices, True)},
    }


def _attribute_labels(user) -> dict:
    """What the map's feature info needs to show a layer's attributes to people: the layer's title and,
    per public attribute, its title without the unit, the unit ("ha", "m²") and the type, in the
    current language, for the layers the user may read (the catalogue is the one source)."""
    lang = _lang()
    values = _value_labels()
    out = {}
    for layer in catalogue.layers_for(user):
        if layer.view_of:
            continue
        attributes = {}
        for a in layer.public_attributes:
            title = (a.title_en if lang == "en" else a.title_pl) or a.name
            m = _UNIT.match(title)
            attributes[a.name] = {
                "label": m.group(1) if m else title,
                "unit": m.group(2) if m else "",
                "type": a.type,
            }
        out[layer.name] = {
            "title": layer.title(lang),
            "order": list(layer.attribute_names),
            "attributes": attributes,
            "values": values.get(layer.name, {}),
        }
    return out


_UNIT = re.compile(r"^(.*?)\s*\[([^\]]+)\]$")  # "Pole ewidencyjne [ha]" -> label, unit


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "pl").startswith("en") else "pl"


@require_GET
def map_page(request):
    readable = catalogue.layers_for(request.user)
    return render(
        request,
        "web/map.html",
        {
            "layers": _layers(request.user),
            "remote_layers": _remote_layers(request.user),
            "orthophoto_url": settings.GISPORTAL_ORTHOPHOTO_WMS,
            "orthophoto_layer": settings.GISPORTAL_ORTHOPHOTO_LAYER,
            "vector_tiles": settings.GISPORTAL_MAP_VECTOR_TILES,
            "base_layers": ",".join(n for n in BASE_LAYERS if catalogue.get_layer(n) in readable),
            "labels": _attribute_labels(request.user),
            "texts": {
                "zoning": _("Zoning plan"),
                "actions": _("Actions"),
                "details": _("Parcel page (text version)"),
                "none": _("Nothing here."),
                "noresults": _("Nothing found."),
                "loading": _("Loading…"),
                "failed": _("The data could not be loaded. Try again."),
                "results": _("Suggestions: %(n)s. Use the up and down arrows to choose, Enter to show."),
                "address": _("Address"),
                "precinct": _("Cadastral precinct"),
                "parcel": _("Parcel"),
                "ofparcel": _("of the parcel"),
                "resolution": _("resolution"),
                "kinds": {"parcel": _("parcel"), "address": _("address"), "precinct": _("precinct")},
                "zoomin": _("Zoom in"),
                "zoomout": _("Zoom out"),
                "forms": [[code, _(label)] for code, label in PARCEL_ACTIONS],
            },
        },
    )


@require_GET
def search_page(request):
    """The text path of the map's search: every hit a link (a parcel's page, or the map at a precinct)."""
    q = " ".join(request.GET.get("q", "").split())[:100]
    hits = search_registry(q) if q else []
    return render(request, "web/search.html", {"q": q, "hits": hits, "asked": bool(q)})


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
        title = (a.title_en if _lang() == "en" else a.title_pl) or a.name
        m = _UNIT.match(title)
        label, unit = (m.group(1), m.group(2)) if m else (title, "")
        square_metres = value * 10000 if unit == "ha" and value is not None else None
        values.append({"label": label, "value": value, "unit": unit, "m2": square_metres})
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
