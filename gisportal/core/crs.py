"""Facts about coordinate reference systems read from the EPSG registry (pyproj), shared by the
importers (layers) and the OGC services (ogc). Storage is EPSG:2180 with x = easting."""

from __future__ import annotations

import re
from functools import lru_cache

STORAGE_SRID = 2180
SERVED_EPSG = (2180, 2178, 4326, 4258, 3857)  # the CRSs every service answers in (OGC.md §2)

_EPSG_IN_SRSNAME = re.compile(
    r"^(?:EPSG:|urn:(?:ogc|x-ogc):def:crs:EPSG:[\d.]*:|https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/"
    r"|https?://www\.opengis\.net/gml/srs/epsg\.xml#)(\d{1,6})$",
    re.I,
)


@lru_cache(maxsize=64)
def north_first(epsg: int) -> bool:
    """True when the CRS's first axis points north or south (EPSG:2180 'x' = northing, 4326 lat)."""
    from pyproj import CRS

    axis = CRS.from_epsg(epsg).axis_info
    return bool(axis) and axis[0].direction.lower() in ("north", "south")


def srsname_epsg(srs_name: str) -> tuple[int, bool] | None:
    """EPSG code of a GML srsName and whether coordinates are written in authority order.

    `EPSG:xxxx` and the `epsg.xml#` form mean x/y (easting first); URN and `def/crs` URI forms mean
    the CRS's own axis order (northing first for 2176–2180), as EGiB exports write them.
    """
    m = _EPSG_IN_SRSNAME.match((srs_name or "").strip())
    if not m:
        return None
    authority = srs_name.lower().startswith(
        ("urn:", "http://www.opengis.net/def", "https://www.opengis.net/def")
    )
    return int(m.group(1)), authority
