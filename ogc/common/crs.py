"""CRS identifiers and axis order for every OGC protocol we speak (OGC.md §2), in one place.

Storage and SQL are always x = easting/longitude. Coordinates are swapped only while parsing a
request and writing a response, and only when the identifier's form says "authority order" and the
CRS's first axis (read from the EPSG registry through pyproj, never from a hand-kept list) points
north.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from django.utils.translation import gettext as _

from gisportal.core.crs import SERVED_EPSG, north_first
from gisportal.core.errors import InvalidInput

SUPPORTED_EPSG = SERVED_EPSG
# ETRS89 / LAEA Europe, the pan-European INSPIRE projection (north-first, like 2180): offered by the WMS for its
# INSPIRE view layers only (ogc.wms.requests.layer_extra_crs) and by the WFS for every type (its OTHER_CRS);
# the OGC API answers in SUPPORTED_EPSG
ETRS89_LAEA = 3035
WMS_EPSG = (*SUPPORTED_EPSG, ETRS89_LAEA)
__all__ = ["CrsRef", "Form", "InvalidCRS", "Protocol", "north_first", "parse_crs", "to_xy", "from_xy"]
CRS84 = "CRS84"


class Protocol(Enum):
    WMS111 = "wms111"
    WMS130 = "wms130"
    WFS = "wfs"  # 1.1 and 2.0 follow the same convention (GeoServer, QGIS Server PR #41242)
    OGCAPI = "ogcapi"


class Form(Enum):
    EPSG = "EPSG:xxxx"
    EPSG_XML = "http://www.opengis.net/gml/srs/epsg.xml#xxxx"
    URN = "urn:ogc:def:crs:EPSG::xxxx"
    URI = "http://www.opengis.net/def/crs/EPSG/0/xxxx"
    CRS84 = "CRS:84 / CRS84 URI"


class InvalidCRS(InvalidInput):
    code = "InvalidCRS"


@dataclass(frozen=True)
class CrsRef:
    """A parsed CRS identifier: which CRS (EPSG code, or None for CRS84) and in which written form."""

    epsg: int | None
    form: Form
    text: str

    @property
    def srid(self) -> int:
        return self.epsg or 4326

    def authority_order(self, protocol: Protocol) -> bool:
        """True when coordinates in this form follow the CRS's own axis order (OGC.md §2 table)."""
        if self.form is Form.CRS84 or protocol is Protocol.WMS111:
            return False
        if protocol is Protocol.WMS130:
            return self.form is Form.EPSG
        if protocol is Protocol.WFS:
            return self.form in (Form.URN, Form.URI)
        return self.form is Form.URI  # OGC API

    def swap(self, protocol: Protocol) -> bool:
        """True when coordinates must be swapped between this request/response and storage (x,y)."""
        return self.epsg is not None and self.authority_order(protocol) and north_first(self.epsg)

    def as_form(self, form: Form) -> str:
        if self.epsg is None:
            return {Form.URI: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}.get(form, "CRS:84")
        return {
            Form.EPSG: f"EPSG:{self.epsg}",
            Form.EPSG_XML: f"http://www.opengis.net/gml/srs/epsg.xml#{self.epsg}",
            Form.URN: f"urn:ogc:def:crs:EPSG::{self.epsg}",
            Form.URI: f"http://www.opengis.net/def/crs/EPSG/0/{self.epsg}",
        }[form]


_PATTERNS = (
    (Form.EPSG, re.compile(r"^EPSG:(\d{1,6})$", re.I)),
    (Form.EPSG_XML, re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d{1,6})$", re.I)),
    (Form.URN, re.compile(r"^urn:(?:ogc|x-ogc):def:crs:EPSG:[\d.]*:(\d{1,6})$", re.I)),
    (Form.URI, re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/(\d{1,6})$", re.I)),
)
_CRS84 = re.compile(
    r"^(CRS:84|urn:ogc:def:crs:OGC:(1\.3|2)?:CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$", re.I
)


def parse_crs(value: str | None, protocol: Protocol, supported: tuple[int, ...] = SUPPORTED_EPSG) -> CrsRef:
    """Parse a CRS identifier as the protocol allows it; raise InvalidCRS (a 400) otherwise."""
    text = (value or "").strip()
    if not text or len(text) > 120:
        raise InvalidCRS(_("A coordinate reference system is required."))
    if _CRS84.match(text):
        if protocol is Protocol.WFS or (protocol is Protocol.WMS111):
            raise InvalidCRS(_("CRS %(crs)s is not offered by this service.") % {"crs": text[:60]})
        if protocol is Protocol.OGCAPI and not text.lower().startswith("http"):
            raise InvalidCRS(_("OGC API takes CRS identifiers as URIs (%(crs)s).") % {"crs": text[:60]})
        return CrsRef(None, Form.CRS84, text)
    for form, pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            epsg = int(m.group(1))
            allowed = {
                Protocol.WMS111: (Form.EPSG,),
                Protocol.WMS130: (Form.EPSG,),
                Protocol.WFS: (Form.EPSG, Form.EPSG_XML, Form.URN, Form.URI),
                Protocol.OGCAPI: (Form.URI,),
            }[protocol]
            if form not in allowed or epsg not in supported:
                raise InvalidCRS(_("CRS %(crs)s is not offered by this service.") % {"crs": text[:60]})
            return CrsRef(epsg, form, text)
    raise InvalidCRS(_("CRS %(crs)s is not offered by this service.") % {"crs": text[:60]})


def to_xy(coords: tuple[float, ...], crs: CrsRef, protocol: Protocol) -> tuple[float, ...]:
    """Request coordinates (pairs, e.g. a BBOX minA,minB,maxA,maxB) → storage order x,y."""
    if not crs.swap(protocol):
        return tuple(coords)
    out: list[float] = []
    for i in range(0, len(coords), 2):
        out += [coords[i + 1], coords[i]]
    return tuple(out)


from_xy = to_xy  # the swap is its own inverse


@lru_cache(maxsize=16)
def _to(epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(2180, epsg, always_xy=True)


def transform_extent(
    bbox_2180: tuple[float, float, float, float], epsg: int
) -> tuple[float, float, float, float]:
    """An EPSG:2180 box (x = easting) in another CRS, x/y order, edges densified."""
    if epsg == 2180:
        return bbox_2180
    return _to(epsg).transform_bounds(*bbox_2180, densify_pts=21)
