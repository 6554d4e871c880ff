"""The `bbox` and `bbox-crs` parameters of /items (OGC API – Features Part 1 and Part 2) as one
spatial filter in the storage CRS, parsed by the view before pygeoapi runs.

A box is a rectangle in its own CRS (CRS84 unless `bbox-crs` names another; an EPSG URI is in
the EPSG axis order, northing first for 2180/2178, OGC.md §2). It is clipped to the area where
EPSG:2180 is defined (its EPSG area of use) before being transformed: far boxes — the ETS's
equator, antimeridian and polar boxes — would otherwise become infinite coordinates. What is left
is densified and transformed edge by edge, so a lon/lat rectangle selects exactly what lies in it,
not the box of its transformed corners. A lon/lat box whose west edge is east of its east edge
crosses the antimeridian (Part 1, /req/core/fc-bbox-definition); a 6-number box has heights, which
two-dimensional data ignore.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _

from gisportal.core.crs import STORAGE_SRID

from ..common.crs import CrsRef, InvalidCRS, Protocol, parse_crs, to_xy

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SEGMENTS = 64  # each side of a box is transformed as this many straight pieces
_CURRENT: ContextVar = ContextVar("gisportal_ogcapi_bbox", default=None)


class BBoxError(ValueError):
    """A bbox or bbox-crs the client must correct (a 400)."""


@dataclass(frozen=True)
class BBoxFilter:
    """What a bbox selects, in EPSG:2180 with x = easting; `geometry` is None when the box lies
    wholly outside the area of EPSG:2180, where no feature can be: it selects nothing."""

    geometry: GEOSGeometry | None


@lru_cache(maxsize=16)
def _is_geographic(epsg: int | None) -> bool:
    from pyproj import CRS

    return epsg is None or CRS.from_epsg(epsg).is_geographic


@lru_cache(maxsize=32)
def _transformer(from_epsg: int | None, to_epsg: int | None):
    from pyproj import Transformer

    return Transformer.from_crs(from_epsg or "OGC:CRS84", to_epsg or "OGC:CRS84", always_xy=True)


def _transform(geom, from_epsg: int | None, to_epsg: int | None):
    if from_epsg == to_epsg:
        return geom
    transform = _transformer(from_epsg, to_epsg).transform
    return shapely.transform(geom, lambda xy: np.column_stack(transform(xy[:, 0], xy[:, 1])))


def _densified(geom):
    x0, y0, x1, y1 = geom.bounds
    step = max(x1 - x0, y1 - y0) / SEGMENTS
    return shapely.segmentize(geom, step) if step > 0 else geom


@lru_cache(maxsize=16)
def _storage_area(epsg: int | None):
    """The area of use of EPSG:2180 (Poland, on- and offshore) in the box's CRS, x/y order."""
    from pyproj import CRS

    lon0, lat0, lon1, lat1 = CRS.from_epsg(STORAGE_SRID).area_of_use.bounds
    return _transform(_densified(shapely.box(lon0, lat0, lon1, lat1)), None, epsg)


def _box(x0: float, y0: float, x1: float, y1: float):
    """A rectangle, or the line or point a degenerate box is."""
    return shapely.envelope(shapely.MultiPoint([(x0, y0), (x1, y1)]))


def _numbers(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise BBoxError(_("bbox takes four numbers (or six with heights), separated by commas."))
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BBoxError(_("bbox takes four numbers (or six with heights), separated by commas.")) from None
    if not all(math.isfinite(v) for v in values):
        raise BBoxError(_("The bounding box holds a value that is not a number."))
    if len(values) == 6:
        if values[2] > values[5]:
            raise BBoxError(_("The lowest height of the bounding box is above its highest."))
        values = [values[0], values[1], values[3], values[4]]  # the data have no heights
    return values[0], values[1], values[2], values[3]


def _crs(uri: str | None) -> CrsRef:
    try:
        return parse_crs(uri or CRS84_URI, Protocol.OGCAPI)
    except InvalidCRS as e:
        raise BBoxError(str(e.message)) from None


def box_filter(values: tuple[float, ...] | list[float], crs: CrsRef) -> BBoxFilter:
    """The filter of a box given as minA,minB,maxA,maxB in `crs`'s order for OGC API."""
    x0, y0, x1, y1 = to_xy(tuple(values), crs, Protocol.OGCAPI)
    if y0 > y1:
        raise BBoxError(_("The bounding box's lower corner is above its upper corner."))
    if _is_geographic(crs.epsg):
        if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
            raise BBoxError(
                _("Longitudes of a bounding box lie from -180 to 180 and latitudes from -90 to 90.")
            )
        boxes = [_box(x0, y0, x1, y1)] if x0 <= x1 else [_box(x0, y0, 180, y1), _box(-180, y0, x1, y1)]
    elif x0 > x1:
        raise BBoxError(_("The bounding box's lower corner is east of its upper corner."))
    else:
        boxes = [_box(x0, y0, x1, y1)]
    geom = to_storage(shapely.union_all(boxes), crs.epsg)
    if geom.is_empty:
        return BBoxFilter(None)
    return BBoxFilter(GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=STORAGE_SRID))


def to_storage(geom, epsg: int | None):
    """A shapely geometry in x/y order of `epsg` (None: CRS84) as its part inside the area of EPSG:2180,
    densified and transformed to EPSG:2180 (x = easting); empty when no part of it lies there."""
    clipped = shapely.intersection(geom, _storage_area(epsg))
    if clipped.is_empty:
        return clipped
    return _transform(_densified(clipped), epsg, STORAGE_SRID)


def within_storage_area(geom, epsg: int | None) -> bool:
    return bool(shapely.covered_by(geom, _storage_area(epsg)))


def parse_bbox(text: str | None, crs_uri: str | None) -> BBoxFilter | None:
    """The `bbox` (and `bbox-crs`) of a request; None without a bbox. BBoxError on a bad one."""
    if text is None:
        return None
    return box_filter(_numbers(text), _crs(crs_uri))


@contextmanager
def using(bbox: BBoxFilter | None) -> Iterator[None]:
    """`with using(bbox):` pygeoapi's transformation of this request's bbox returns `bbox`."""
    token = _CURRENT.set(bbox)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def for_pygeoapi(bbox: list, from_crs: str, to_crs: str) -> BBoxFilter:
    """Stands in for pygeoapi's `transform_bbox` (to the storage CRS, the only target it asks
    for): the filter the view parsed, else one made from the numbers pygeoapi checked."""
    current = _CURRENT.get()
    if current is not None:
        return current
    from pyproj.exceptions import CRSError

    try:
        return box_filter(_numbers(",".join(str(v) for v in bbox)), _crs(from_crs))
    except BBoxError as e:
        raise CRSError(str(e)) from None  # pygeoapi answers a CRSError here with a 400
