"""What every INSPIRE theme module shares: the description of a harmonised feature type (`InspireType`), the
context an encoder writes in (`Context`: the output CRS and its axis order, GML ids) and GML 3.2 geometry
writing with lxml. A theme module (cp.py, ad.py, bu.py) declares its types with one `encode(row, ctx)` each
that returns the feature element exactly in the order of the INSPIRE XSD; the WFS serves what `TYPES` lists.

Personal data never: a theme reads only public registry models (no Restricted* model is imported here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

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
    # the xlink:href of another harmonised feature by its gml:id (the service's GetFeatureById URL);
    # None: references are written as nil (other:unpopulated)
    feature_href: Callable[[str], str] | None = None

    def el(self, parent, ns: str, tag: str, text: str | None = None, **attrs):
        e = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})
        if text is not None:
            e.text = text
        return e

    def nil(self, parent, ns: str, tag: str, reason: str = "other:unpopulated"):
        """An element left empty on purpose: xsi:nil with its nilReason (INSPIRE voidable)."""
        return self.el(parent, ns, tag, **{f"{{{XSI}}}nil": "true", "nilReason": reason})

    def ref(self, parent, ns: str, tag: str, fid: str | None, title: str | None = None):
        """A feature reference (gml:ReferenceType) to the feature of gml:id `fid`; nil when unknown."""
        if not fid or self.feature_href is None:
            return self.nil(parent, ns, tag)
        attrs = {f"{{{XLINK}}}href": self.feature_href(fid)}
        if title:
            attrs[f"{{{XLINK}}}title"] = title
        return self.el(parent, ns, tag, **attrs)

    def code(self, parent, ns: str, tag: str, codelist: str, value: str):
        """A code list value (gml:ReferenceType) as the INSPIRE registry's URI."""
        return self.el(
            parent, ns, tag, **{f"{{{XLINK}}}href": f"{codelist}/{value}", f"{{{XLINK}}}title": value}
        )

    def date_time(self, parent, ns: str, tag: str, value, reason: str = "unknown"):
        """An xs:dateTime (UTC, `Z`), or nil with `reason` when the value is unknown."""
        if value is None:
            return self.nil(parent, ns, tag, reason)
        return self.el(parent, ns, tag, iso_datetime(value))

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


def with_geometries(queryset, srid: int):
    """The rows with their geometry (`inspire_geom`) and a point on their surface (`inspire_point`) in the
    output CRS, computed by PostGIS (every registry model's geometry is `geom`, EPSG:2180)."""
    from django.contrib.gis.db.models.functions import PointOnSurface, Transform

    if srid == STORAGE_SRID:
        return queryset.annotate(inspire_point=PointOnSurface("geom"))
    return queryset.annotate(
        inspire_geom=Transform("geom", srid), inspire_point=Transform(PointOnSurface("geom"), srid)
    )


def row_geometry(row) -> GEOSGeometry:
    return getattr(row, "inspire_geom", None) or row.geom


def row_point(row) -> GEOSGeometry | None:
    return getattr(row, "inspire_point", None)


def iso_datetime(value) -> str:
    """An aware or naive (UTC) datetime as xs:dateTime in UTC: 2024-05-01T10:00:00Z."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Filterable:
    """A property a FES filter (ValueReference) or SORTBY may name on a source: its XPath as steps of
    (namespace, local name), the Django field (or the name `expression` is annotated under) it compares, and
    its type as the filter compiler knows them (string, integer, decimal, date, datetime; `geometry` for
    the spatial operators' property, always the model's `geom`)."""

    path: tuple[tuple[str, str], ...]
    lookup: str
    type: str = "string"
    expression: object | None = None  # a Django expression annotated as `lookup` (e.g. the area in m²)


def filterable(
    path: str, lookup: str, kind: str = "string", expression=None, *, namespaces: dict[str, str]
) -> Filterable:
    """A Filterable from a prefixed path such as `cp:inspireId/base:Identifier/base:localId`."""
    steps = []
    for step in path.split("/"):
        prefix, _sep, local = step.rpartition(":")
        steps.append((namespaces[prefix], local))
    return Filterable(tuple(steps), lookup, kind, expression)


@dataclass(frozen=True)
class Source:
    """Where some features of a type come from: the rows (`queryset`), how one is written (`encode`) and
    the prefix of their gml:ids (`<key>.<primary key>`). A type whose features come from two models
    (cp:CadastralZoning: cadastral units and precincts) has two sources, served one after the other."""

    key: str
    queryset: Callable[[], object]
    encode: Callable[[object, Context], etree._Element]
    # what a FES filter and SORTBY may name (empty: no FILTER or SORTBY on this source)
    filterable: tuple[Filterable, ...] = ()

    def fid(self, pk: int) -> str:
        return f"{self.key}.{pk}"


@dataclass(frozen=True, eq=False)  # one object per type (hashable by identity: `extra` is a dict)
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
    # the sources in the order they are served; empty: one source, the `queryset` and `encode` above with
    # gml:ids `<local name>.<primary key>`
    parts: tuple[Source, ...] = ()
    # the catalogue layer whose readers may read this type, whose extent and metadata record it shares
    layer: str = ""
    # the content model as the official XSD declares it (ogc/inspire/xsd.py): DescribeFeatureType writes it
    # out; empty: DescribeFeatureType includes the official schema
    properties: tuple = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.parts or (Source(self.local_name, self.queryset, self.encode),)

    @property
    def prefix(self) -> str:
        return self.typename.split(":", 1)[0]

    @property
    def local_name(self) -> str:
        return self.typename.split(":", 1)[1]
