"""GML 3.2 geometry → shapely in EPSG:2180 (x = easting).

The common EGiB shapes (Polygon, MultiSurface of Polygons, Surface of PolygonPatches, Point) are
read straight from `gml:posList` / `gml:pos` with numpy; anything else (curves, arcs, composite
rings) goes through OGR's GML parser. The axis order comes from the srsName form and the EPSG
registry (gisportal.core.crs), never from a list.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from django.utils.translation import gettext as _
from lxml import etree
from shapely.geometry import MultiPolygon, Point, Polygon

from gisportal.core.crs import STORAGE_SRID, north_first, srsname_epsg

from .base import ImportFailed

GML = "http://www.opengis.net/gml/3.2"
MAX_VERTICES = 200_000  # per geometry; a boundary of a parcel never needs more
# EPSG:2180 bounds of Poland with a margin (E, N)
BOUNDS_2180 = (100_000.0, 100_000.0, 900_000.0, 900_000.0)
SUPPORTED_SOURCE_EPSG = {2180, 2176, 2177, 2178, 2179, 4326, 4258, 3857}


def _q(tag: str) -> str:
    return f"{{{GML}}}{tag}"


_EXTERIOR, _LINEAR_RING = _q("exterior"), _q("LinearRing")
_POS_LIST, _POS, _POINT, _POLYGON = _q("posList"), _q("pos"), _q("Point"), _q("Polygon")
_MULTI = {_q("MultiSurface"), _q("MultiPolygon")}
_SURFACE, _PATCHES = _q("Surface"), _q("patches")
_BOUNDARIES = {_EXTERIOR, _q("interior")}


@lru_cache(maxsize=16)
def _transformer(epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(epsg, STORAGE_SRID, always_xy=True)


_GML_PREFIX = f"{{{GML}}}"


def first_child(el):
    if len(el) and isinstance(el[0].tag, str):  # (the usual case: no comment before it)
        return el[0]
    for c in el:
        if isinstance(c.tag, str):
            return c
    return None


class Pending:
    """A geometry as the file wrote it (coordinate text per ring), built later together with the other
    geometries of its batch by `GeometryReader.build`: one numpy parse and one shapely call for the
    batch instead of a dozen Python-level calls per geometry."""

    __slots__ = ("epsg", "polygons", "shape", "swap")

    def __init__(self, shape: str, polygons: list, epsg: int, swap: bool):
        self.shape = shape  # "point", "polygon" (one) or "multi"
        self.polygons = polygons  # [[(text, srsDimension, line), ...] per polygon]; a point: one ring of one
        self.epsg = epsg
        self.swap = swap


class GeometryReader:
    """Reads geometries of one file; remembers the file's CRS and refuses a second one."""

    def __init__(self, default_srs: str | None = None, line_offset: int = 0):
        self.default_srs = default_srs
        self.line_offset = line_offset  # when reading one part of a file (importing/parallel.py)
        self.epsg: int | None = None
        self.srs_text = ""
        self._seen: dict[str, tuple[int, bool]] = {}  # srsName -> (EPSG code, northing first)

    def _crs(self, el) -> tuple[int, bool]:
        srs = el.get("srsName")
        node = el
        while srs is None and node is not None:
            node = node.getparent()
            srs = node.get("srsName") if node is not None else None
        srs = srs or self.default_srs
        known = self._seen.get(srs)
        if known is not None:
            return known
        if not srs:
            raise ImportFailed(_("A geometry has no srsName and the file declares no CRS."))
        parsed = srsname_epsg(srs)
        if parsed is None or parsed[0] not in SUPPORTED_SOURCE_EPSG:
            raise ImportFailed(_("Unsupported coordinate reference system: %(srs)s") % {"srs": srs[:80]})
        epsg, authority = parsed
        self.use_crs(epsg, srs)
        self._seen[srs] = answer = (epsg, bool(authority and north_first(epsg)))
        return answer

    def use_crs(self, epsg: int, srs: str) -> None:
        """The file's CRS is `epsg` (as `srs` names it); a second one refuses the file."""
        if self.epsg is None:
            self.epsg, self.srs_text = epsg, srs
        elif self.epsg != epsg:
            raise ImportFailed(
                _("The file mixes coordinate reference systems (%(a)s and %(b)s); export it in one CRS.")
                % {"a": f"EPSG:{self.epsg}", "b": f"EPSG:{epsg}"}
            )

    def _coords(self, text: str | None, dim: int, swap: bool, epsg: int, line: int | None) -> np.ndarray:
        parts = (text or "").split()
        if line is not None:
            line += self.line_offset
        if len(parts) > MAX_VERTICES * dim:
            raise ImportFailed(
                _(
                    "A geometry has more than %(n)s vertices (line %(line)s); such a file is not a registry export."
                )
                % {"n": MAX_VERTICES, "line": line}
            )
        try:
            arr = np.array(parts, dtype=float)
        except ValueError:
            raise ImportFailed(_("Non-numeric coordinates at line %(line)s.") % {"line": line}) from None
        if arr.size == 0 or arr.size % dim:
            raise ImportFailed(_("A coordinate list of the wrong length at line %(line)s.") % {"line": line})
        pts = arr.reshape(-1, dim)
        if dim != 2:
            pts = pts[:, :2]
        if swap:
            pts = pts[:, ::-1]
        transformed = epsg != STORAGE_SRID
        if transformed:
            if not np.isfinite(pts).all():
                raise ImportFailed(_("NaN or infinite coordinates at line %(line)s.") % {"line": line})
            x, y = _transformer(epsg).transform(pts[:, 0], pts[:, 1])
            pts = np.column_stack([x, y])
        xmin, ymin = pts.min(axis=0)  # NaN propagates here and fails the comparisons below
        xmax, ymax = pts.max(axis=0)
        bx0, by0, bx1, by1 = BOUNDS_2180
        if not (xmin >= bx0 and ymin >= by0 and xmax <= bx1 and ymax <= by1):
            if not np.isfinite(pts).all():
                if transformed:
                    raise ImportFailed(
                        _("Coordinates outside the CRS's area at line %(line)s.") % {"line": line}
                    )
                raise ImportFailed(_("NaN or infinite coordinates at line %(line)s.") % {"line": line})
            raise ImportFailed(
                _("Coordinates outside Poland at line %(line)s (wrong CRS or axis order?).") % {"line": line}
            )
        # a transformation leaves float noise: keep millimetres, as written by the registry
        return np.round(pts, 3) if transformed else pts

    def read(self, holder) -> object | None:
        """Geometry of a property element (e.g. egb:geometria) or None when it has none."""
        geom = self.read_later(holder)
        return self._build_one(geom) if type(geom) is Pending else geom

    # ---- the text now (the element is about to be cleared), the geometry later with its batch
    def _ring_texts(self, poly_el) -> list | None:
        """(coordinate text, srsDimension, line) of each ring of a polygon, or None when a ring is not plain."""
        rings = []
        for boundary in poly_el:
            if boundary.tag not in _BOUNDARIES:
                continue
            ring = first_child(boundary)
            if ring is None or ring.tag != _LINEAR_RING:
                return None
            pos_list = first_child(ring)
            if pos_list is not None and pos_list.tag != _POS_LIST:
                pos_list = ring.find(_POS_LIST)
            if pos_list is not None:
                rings.append(
                    (
                        pos_list.text,
                        int(pos_list.get("srsDimension") or ring.get("srsDimension") or 2),
                        pos_list.sourceline,
                    )
                )
                continue
            poses = ring.findall(_POS)
            if not poses:
                return None
            rings.append((" ".join(p.text or "" for p in poses), 2, ring.sourceline))
        if not rings or poly_el[0].tag != _EXTERIOR:
            return None
        return rings

    def read_later(self, holder) -> object | None:
        """Like `read`, but the common shapes (points, polygons, multi-surfaces and surfaces of plain
        rings) come back as a `Pending` for `build`; curves, arcs and the rest are read by OGR now."""
        el = None
        for c in holder:
            tag = c.tag
            if isinstance(tag, str) and tag.startswith(_GML_PREFIX):
                el = c
                break
        if el is None:
            return None
        epsg, swap = self._crs(el)
        tag = el.tag
        if tag == _POINT:
            pos = el.find(_POS)
            if pos is not None:
                dim = int(pos.get("srsDimension") or el.get("srsDimension") or 2)
                return Pending("point", [[(pos.text, dim, pos.sourceline)]], epsg, swap)
        elif tag == _POLYGON:
            rings = self._ring_texts(el)
            if rings is not None:
                return Pending("polygon", [rings], epsg, swap)
        elif tag in _MULTI:
            polygons = []
            for member in el:  # surfaceMember (one polygon each) or surfaceMembers (several)
                if not isinstance(member.tag, str):
                    continue
                for poly_el in member:
                    if not isinstance(poly_el.tag, str):
                        continue
                    rings = self._ring_texts(poly_el) if poly_el.tag == _POLYGON else None
                    if rings is None:
                        return self._via_ogr(el, swap, epsg)
                    polygons.append(rings)
            if polygons:
                return Pending("multi", polygons, epsg, swap)
        elif tag == _SURFACE:
            patches = el.find(_PATCHES)
            polygons = [self._ring_texts(patch) for patch in (patches if patches is not None else [])]
            if polygons and all(rings is not None for rings in polygons):
                return Pending("polygon" if len(polygons) == 1 else "multi", polygons, epsg, swap)
        return self._via_ogr(el, swap, epsg)

    def build(self, records) -> None:
        """Replace each record's `Pending` geometry by a shapely geometry, and give it `wkb` (hex) and
        `valid` computed for the whole batch at once. Anything unusual in the batch (a coordinate that
        is not a number, a ring too short, a point outside Poland) sends the batch through the
        per-geometry path, which raises the precise error with its line."""
        todo = [r for r in records if type(r.geom) is Pending]
        if not todo:
            return
        try:
            geoms = self._build_batch([r.geom for r in todo])
        except (ValueError, shapely.errors.GEOSException):
            geoms = None
        if geoms is None:
            geoms = np.array([self._build_one(r.geom) for r in todo], dtype=object)
        valid = shapely.is_valid(geoms)
        wkb = shapely.to_wkb(geoms, hex=True)
        for rec, g, ok, w in zip(todo, geoms.tolist(), valid.tolist(), wkb.tolist(), strict=True):
            rec.geom, rec.valid, rec.wkb = g, ok, w

    def _build_one(self, p: Pending):
        polys = []
        for rings in p.polygons:
            arrays = [self._coords(text, dim, p.swap, p.epsg, line) for text, dim, line in rings]
            if p.shape == "point":
                return Point(arrays[0][0])
            polys.append(shapely.polygons(arrays[0]) if len(arrays) == 1 else Polygon(arrays[0], arrays[1:]))
        return polys[0] if p.shape == "polygon" else MultiPolygon(polys)

    def _build_batch(self, pendings: list[Pending]):
        """All geometries of the batch with a few numpy/shapely calls, or None to go one by one."""
        epsg, swap = pendings[0].epsg, pendings[0].swap
        if any(p.epsg != epsg or p.swap != swap for p in pendings):
            return None
        geoms = np.empty(len(pendings), dtype=object)
        point_ix = [i for i, p in enumerate(pendings) if p.shape == "point"]
        if point_ix:
            got = self._batch_coords([pendings[i].polygons[0][0] for i in point_ix], epsg, swap)
            if got is None:
                return None
            coords, sizes = got
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            geoms[point_ix] = shapely.points(coords[starts])  # a point's first position, as `read` takes it
        if len(point_ix) == len(pendings):
            return geoms
        ring_list, ring_poly, poly_geom = (
            [],
            [],
            [],
        )  # rings; the polygon of each ring; the geometry of each polygon
        for gi, p in enumerate(pendings):
            if p.shape == "point":
                continue
            for rings in p.polygons:
                for ring in rings:
                    ring_list.append(ring)
                    ring_poly.append(len(poly_geom))
                poly_geom.append(gi)
        got = self._batch_coords(ring_list, epsg, swap)
        if got is None:
            return None
        coords, sizes = got
        rings = shapely.linearrings(coords, indices=np.repeat(np.arange(len(sizes)), sizes))
        polys = shapely.polygons(rings, indices=np.asarray(ring_poly))  # the first ring of each is its shell
        owner = np.asarray(poly_geom)
        single = np.array([pendings[gi].shape == "polygon" for gi in poly_geom])
        if single.any():
            geoms[owner[single]] = polys[single]
        if not single.all():
            multi, members = np.unique(owner[~single], return_inverse=True)
            geoms[multi] = shapely.multipolygons(polys[~single], indices=members)
        return geoms

    def _batch_coords(self, rings: list, epsg: int, swap: bool):
        """(coordinates in EPSG:2180 as an N×2 array, vertices per ring), or None when a ring is not plain."""
        arrays, sizes = [], []
        for text, dim, _line in rings:
            a = np.fromstring(text or "", sep=" ")  # C parse; raises ValueError on anything not a number
            n = a.size
            if n == 0 or n % dim or n > MAX_VERTICES * dim:
                return None
            if dim != 2:
                a = a.reshape(-1, dim)[:, :2].ravel()
            arrays.append(a)
            sizes.append(n // dim)
        coords = np.concatenate(arrays).reshape(-1, 2)
        if swap:
            coords = coords[:, ::-1]
        if epsg != STORAGE_SRID:
            if not np.isfinite(coords).all():
                return None
            x, y = _transformer(epsg).transform(coords[:, 0], coords[:, 1])
            coords = np.round(np.column_stack([x, y]), 3)
        xmin, ymin = coords.min(axis=0)  # NaN fails the comparisons below
        xmax, ymax = coords.max(axis=0)
        bx0, by0, bx1, by1 = BOUNDS_2180
        if not (xmin >= bx0 and ymin >= by0 and xmax <= bx1 and ymax <= by1):
            return None
        return coords, np.asarray(sizes)

    def _via_ogr(self, el, swap: bool, epsg: int):
        """Curves, arcs and other GML that the fast path does not cover: OGR parses, we orient."""
        line = (el.sourceline or 0) + self.line_offset
        from django.contrib.gis.gdal import GDALException, OGRGeometry

        try:
            ogr = OGRGeometry.from_gml(etree.tostring(el).decode())
        except (GDALException, ValueError):
            raise ImportFailed(_("A geometry at line %(line)s cannot be read.") % {"line": line}) from None
        if ogr.point_count > MAX_VERTICES:
            raise ImportFailed(
                _("A geometry has more than %(n)s vertices (line %(line)s).")
                % {"n": MAX_VERTICES, "line": line}
            )
        geom = shapely.from_wkb(bytes(ogr.wkb))
        geom = shapely.force_2d(geom)

        def fix(coords):
            return self._coords(
                " ".join(f"{a} {b}" for a, b in coords), 2, swap, epsg, el.sourceline
            )  # _coords adds the offset

        return shapely.transform(geom, lambda xy: fix(xy))
