"""The registry's public JSON API (django-ninja router, mounted at /api/ by gisportal/api.py): search and
one parcel with its public attributes (the catalogue's, never KW numbers or owners), zoning designations
and geometry. Public data only, no authentication."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import create_model

from gisportal.core.crs import SERVED_EPSG, STORAGE_SRID, srsname_epsg
from gisportal.core.problems import Problem

from . import catalogue
from .selectors import parcel_public, parcel_zoning, search_registry

router = Router(tags=["registry"])
PARCELS = catalogue.get_layer("dzialki")
_TYPES: dict[str, Any] = {"string": str, "integer": int, "decimal": float, "date": str, "datetime": str}
ParcelAttributes = create_model(  # the catalogue's public attributes of `dzialki`, by their public names
    "ParcelAttributes",
    **{
        a.name: (_TYPES.get(a.type, str) | None, Field(None, title=a.title_en, description=a.title_pl))
        for a in PARCELS.public_attributes
    },
)


class SearchHit(Schema):
    kind: Literal["parcel", "address", "precinct"]
    label: str
    id: str
    bbox: list[float] = Field(description="EPSG:2180, x = easting: [minx, miny, maxx, maxy]")
    geometry: dict[str, Any] = Field(description="GeoJSON geometry in EPSG:2180 (x = easting)")
    url: str = Field(
        description="where the hit leads: the parcel's page for a parcel and for an address (the page of the "
        "parcel its point stands on; empty if none), the map at the precinct's box for a precinct "
        "(`/?bbox=minx,miny,maxx,maxy`, EPSG:2180, x = easting)"
    )
    parcel_id: str | None = Field(
        None,
        description="the parcel: its own id for a parcel, the current parcel containing the point for an "
        "address; null for a precinct or an address on no parcel",
    )


class SearchResult(Schema):
    query: str
    results: list[SearchHit]


class Geometry(Schema):
    type: str
    coordinates: list[Any]


class Zoning(Schema):
    label: str
    symbol: str
    description: str
    plan: str
    resolution: str
    share: float = Field(description="per cent of the parcel's area")


class Parcel(Schema):
    type: Literal["Feature"]
    id: str
    crs: str = Field(
        description="the CRS of `geometry`; coordinates are x/y (easting/northing, lon/lat) as in GeoJSON"
    )
    geometry: Geometry
    properties: ParcelAttributes
    zoning: list[Zoning] = Field(description="zoning designations over the parcel, largest share first")


@router.get(
    "/search",
    response=SearchResult,
    auth=None,
    url_name="api_search",
    summary="Parcels (full or partial id, precinct name and number), addresses and precincts",
    description="Forgiving: case and Polish diacritics do not matter and a typo of a letter in a name is "
    "forgiven. Parcels by identifier in any spelling (`141804_5.0001.100/1`, `141804_5 0001 100/1`, "
    "`0001 100/1`, `obręb 0001 dz. 100/1`), by number alone (`100/1`, across precincts) or with a place "
    "(`Piaseczno 100/1`, `Józefosław I 12`); addresses by street and number with or without `ul.` and a "
    "locality before or after (`ul. Kościuszki 5 Piaseczno`, `Piaseczno, Kościuszki 5`) or by locality and "
    "number where there are no streets; precincts by name (`Jozefoslaw`). Best first, at most 10.",
)
def search(request, q: Annotated[str, Query(description="at least 2 characters; the first 100 count")] = ""):
    return {"query": q[:100], "results": search_registry(q)}


def _srid(crs: str) -> int:
    text = crs.strip()
    parsed = (int(text), False) if text.isdigit() and len(text) <= 6 else srsname_epsg(text)
    if parsed is None or parsed[0] not in SERVED_EPSG:
        raise Problem(
            400,
            _("crs must be one of EPSG %(list)s.") % {"list": ", ".join(map(str, SERVED_EPSG))},
            code="invalid_crs",
        )
    return parsed[0]


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rounded(coords, digits: int):
    if isinstance(coords, list):
        return [_rounded(c, digits) for c in coords]
    return round(coords, digits)


def parcel_json(parcel_id: str, srid: int) -> dict:
    """The parcel as a GeoJSON Feature with its public attributes and zoning (GisportalError when
    the id is malformed or not in the register)."""
    parcel = parcel_public(parcel_id)
    properties = {}
    for a in PARCELS.public_attributes:
        value = parcel
        for part in a.source.split("__"):
            value = getattr(value, part, None) if value is not None else None
        properties[a.name] = _value(value)
    geom = parcel.geom if srid == STORAGE_SRID else parcel.geom.transform(srid, clone=True)
    geometry = json.loads(geom.json)
    geometry["coordinates"] = _rounded(geometry["coordinates"], 7 if srid in (4326, 4258) else 2)
    return {
        "type": "Feature",
        "id": parcel.parcel_id,
        "crs": f"http://www.opengis.net/def/crs/EPSG/0/{srid}",
        "geometry": geometry,
        "properties": properties,
        "zoning": parcel_zoning(parcel),
    }


@router.get(
    "/parcels/{path:parcel_id}",
    response=Parcel,
    auth=None,
    url_name="api_parcel",
    summary="One current parcel: public attributes, zoning designations and geometry",
    description="`parcel_id` is the official identifier WWPPGG_R.XXXX[.AR_n].NDZ, its slash written as is "
    "(141804_4.0001.10/2). The answer carries an ETag; If-None-Match gives 304 while it holds.",
    openapi_extra={
        "responses": {
            304: {"description": "not modified (If-None-Match)"},
            400: {"description": "malformed identifier or unserved crs"},
            404: {"description": "no current parcel with this identifier"},
        }
    },
)
def parcel(
    request,
    response: HttpResponse,
    parcel_id: str,
    crs: Annotated[
        str,
        Query(
            max_length=100,
            description="EPSG code of the geometry: 2180 (default), 2178, 4326, 4258 "
            "or 3857, also as EPSG:n or an OGC CRS URI",
        ),
    ] = "2180",
):
    body = parcel_json(parcel_id, _srid(crs))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    etag = f'"{digest}"'
    asked = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in asked or etag in asked or f"W/{etag}" in asked:
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        return not_modified
    response["ETag"] = etag
    return body
