"""What every INSPIRE theme module shares: the description of a harmonised feature type (`InspireType`), the
context an encoder writes in (`Context`: the output CRS and its axis order, GML ids) and GML 3.2 geometry
writing with lxml. A theme module (cp.py, ad.py, bu.py) declares its types with one `encode(row, ctx)` each
that returns the feature element exactly in the order of the INSPIRE XSD; the WFS serves what `TYPES` lists.

Personal data never: a theme reads only public registry models (no Restricted* model is imported here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry
from lxml import etree

GML = "http://www.opengis.net/gml/3.2"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BASE = "http://inspire.ec.europa.eu/schemas/base/3.3"
STORAGE_SRID = 2180


@dataclass(frozen=True)
class Context:
    """How one response writes features: `srid` of the coordinates, `srs_name` as written in srsName,
    `north_first` (coordinates written in the CRS's authority order when it is northing/latitude first),
    `decimals` of the coordinates."""

    srid: int = STORAGE_SRID
    srs_name: str = "http://www.opengis.net/def/crs/EPSG/0/2180"
    north_first: bool = True
    decimals: int = 2

    def el(self, parent, ns: str, tag: str, text: str | None = None, **attrs):
        e = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})
        if text is not None:
            e.text = text
        return e

    def nil(self, parent, ns: str, tag: str, reason: str = "other:unpopulated"):
        """An element left empty on purpose: xsi:nil with its nilReason (INSPIRE voidable)."""
        return self.el(parent, ns, tag, **{f"{{{XSI}}}nil": "true", "nilReason": reason})

    def _coords(self, geom: GEOSGeometry) -> GEOSGeometry:
        if geom.srid != self.srid:
            geom = geom.transform(self.srid, clone=True)
        return geom

    def _pos(self, xy) -> str:
        x, y = xy[0], xy[1]
        a, b = (y, x) if self.north_first else (x, y)
        return f"{a:.{self.decimals}f} {b:.{self.decimals}f}"

    def _pos_list(self, ring) -> str:
        return " ".join(self._pos(c) for c in ring)

    def _polygon(self, parent, poly, gid: str):
        p = self.el(parent, GML, "Polygon", **{f"{{{GML}}}id": gid, "srsName": self.srs_name})
        for i, ring in enumerate(poly):
            wrap = self.el(p, GML, "exterior" if i == 0 else "interior")
            lr = self.el(wrap, GML, "LinearRing")
            self.el(lr, GML, "posList", self._pos_list(ring.coords), srsDimension="2")
        return p

    def geometry(self, parent, geom: GEOSGeometry, gid: str):
        """`geom` (stored, EPSG:2180) as GML 3.2 under `parent`: MultiSurface for (multi)polygons, Point,
        LineString, MultiCurve; every element with its gml:id."""
        g = self._coords(geom)
        kind = g.geom_type
        if kind in ("Polygon", "MultiPolygon"):
            ms = self.el(parent, GML, "MultiSurface", **{f"{{{GML}}}id": gid, "srsName": self.srs_name})
            polys = [g] if kind == "Polygon" else list(g)
            for i, poly in enumerate(polys, 1):
                self._polygon(self.el(ms, GML, "surfaceMember"), poly, f"{gid}.{i}")
            return ms
        if kind == "Point":
            pt = self.el(parent, GML, "Point", **{f"{{{GML}}}id": gid, "srsName": self.srs_name})
            self.el(pt, GML, "pos", self._pos(g.coords))
            return pt
        if kind == "LineString":
            ls = self.el(parent, GML, "LineString", **{f"{{{GML}}}id": gid, "srsName": self.srs_name})
            self.el(ls, GML, "posList", self._pos_list(g.coords), srsDimension="2")
            return ls
        if kind == "MultiLineString":
            mc = self.el(parent, GML, "MultiCurve", **{f"{{{GML}}}id": gid, "srsName": self.srs_name})
            for i, line in enumerate(g, 1):
                ls = self.el(
                    self.el(mc, GML, "curveMember"), GML, "LineString", **{f"{{{GML}}}id": f"{gid}.{i}"}
                )
                self.el(ls, GML, "posList", self._pos_list(line.coords), srsDimension="2")
            return mc
        raise ValueError(f"no GML for {kind}")

    def identifier(self, parent, ns: str, tag: str, local_id: str, namespace: str, version_id: str = ""):
        """An INSPIRE identifier (base:Identifier) under `tag` (inspireId)."""
        holder = self.el(parent, ns, tag)
        ident = self.el(holder, BASE, "Identifier")
        self.el(ident, BASE, "localId", local_id)
        self.el(ident, BASE, "namespace", namespace)
        if version_id:
            self.el(ident, BASE, "versionId", version_id)
        return holder


@dataclass(frozen=True)
class InspireType:
    """One harmonised feature type: its qualified name, namespace and official schema, the data set it
    belongs to (the spatial data set identifier of the INSPIRE stored query), where its rows come from and
    how one row is written."""

    typename: str  # e.g. "cp:CadastralParcel"
    namespace: str  # e.g. "http://inspire.ec.europa.eu/schemas/cp/4.0"
    schema_location: (
        str  # the official URL, e.g. "https://inspire.ec.europa.eu/schemas/cp/4.0/CadastralParcels.xsd"
    )
    local_schema: str  # the same schema in ../shared/data/ogc-schemas (tests validate against it)
    dataset: str  # the data set code (SpatialDataSetIdentifier), e.g. "CP"
    title_pl: str
    title_en: str
    queryset: Callable[[], object]  # the rows (a Django queryset of current public registry objects)
    encode: Callable[[object, Context], etree._Element]  # one row → the feature element (not attached)
    geometry_type: str = "MultiPolygon"
    extra: dict = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.typename.split(":", 1)[0]

    @property
    def local_name(self) -> str:
        return self.typename.split(":", 1)[1]
