"""A surveyor's work area (zgłoszenie prac, art. 12 Pgik): what the applicant drew, typed or uploaded,
read into one valid polygon in EPSG:2180 (x = easting).

Only allow-listed readers ever see the bytes, chosen from the content (never from the file name):
- text typed or drawn on the map: WKT/EWKT (GEOS) or a GeoJSON geometry (json + shapely);
- GeoJSON upload: json + shapely (GDAL never sees it);
- GML 3.2 upload: lxml with entities, DTDs and the network switched off (a DOCTYPE refuses the file),
  geometries by the importers' locked-down reader (`layers.importing.gml.GeometryReader`);
- a zipped Shapefile: zipfile with limits on members, sizes and ratio, no paths; only the .shp,
  .shx, .dbf (and .cpg) go to GDAL, from memory (/vsimem/), opened with the one allowed driver
  "ESRI Shapefile"; the .prj is read by pyproj.
Pure: no database. Whether the area lies in the county is checked in validation.py."""

from __future__ import annotations

import ctypes
import io
import json
import re
import uuid
import zipfile
import zlib
from functools import lru_cache
from pathlib import PurePosixPath

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union
from shapely.validation import explain_validity

from gisportal.core.crs import STORAGE_SRID, srsname_epsg
from gisportal.core.errors import InvalidInput
from gisportal.core.ziparchive import unsafe_member_name

MAX_TEXT = 1_000_000  # characters of WKT / GeoJSON typed, pasted or drawn
MAX_UPLOAD = 5 * 1024**2  # bytes of an uploaded file
MAX_ZIP_MEMBERS = 8
MAX_UNPACKED = 20 * 1024**2
MAX_RATIO = 100  # a member unpacking to more than 100x its packed size is a bomb, not a Shapefile
MAX_FEATURES = 100
MAX_VERTICES = 10_000
MAX_AREA_M2 = 50_000_000  # 50 km²: larger works are notified in parts
MIN_AREA_M2 = 1.0
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
SUPPORTED_EPSG = {2180, 2176, 2177, 2178, 2179, 4326, 4258, 3857}
BOUNDS_2180 = (100_000.0, 100_000.0, 900_000.0, 900_000.0)  # Poland with a margin (E, N)
GML_NS = "http://www.opengis.net/gml/3.2"
GML_SURFACES = {f"{{{GML_NS}}}{t}" for t in ("Polygon", "MultiSurface", "MultiPolygon", "Surface")}
_WKT = re.compile(r"^\s*(?:SRID=(\d{1,6})\s*;)?\s*((?:MULTI)?POLYGON\s*(?:Z|M|ZM)?\s*\(.*)$", re.I | re.S)
_CRS84 = re.compile(
    r"^(urn:ogc:def:crs:OGC:[0-9.]*:CRS84|https?://www\.opengis\.net/def/crs/OGC/[0-9.]+/CRS84)$", re.I
)


class AreaInvalid(InvalidInput):
    code = "work_area_invalid"


# ------------------------------------------------------------------ entry points


def area_from_text(text: str) -> Polygon:
    """The polygon of typed, pasted or drawn text: WKT/EWKT (EPSG:2180 unless SRID=) or GeoJSON."""
    if not isinstance(text, str):
        raise AreaInvalid(_("Give the work area as text: WKT or GeoJSON."))
    if len(text) > MAX_TEXT:
        raise AreaInvalid(
            _("The work area text is longer than %(n)s characters; upload it as a file.") % {"n": MAX_TEXT}
        )
    stripped = text.strip()
    if stripped.startswith("{"):
        return _geojson(stripped)
    m = _WKT.match(stripped)
    if m is None:
        raise AreaInvalid(
            _(
                "Give the work area as a polygon in WKT (coordinates in EPSG:2180, e.g. "
                "POLYGON((638000 470000, 638200 470000, 638200 470200, 638000 470000))) or GeoJSON, "
                "draw it on the map, or upload a file."
            )
        )
    epsg = int(m.group(1)) if m.group(1) else STORAGE_SRID
    try:
        geom = shapely.from_wkt(m.group(2))
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        raise AreaInvalid(
            _("The WKT of the work area cannot be read; check its brackets and numbers.")
        ) from None
    return check_polygon(_to_storage(_force_2d(geom), epsg))


def area_from_upload(name: str, content: bytes) -> Polygon:
    """The polygon of an uploaded file: GeoJSON, GML 3.2 or a zipped Shapefile, told by its bytes."""
    if len(content) > MAX_UPLOAD:
        raise AreaInvalid(_("The work area file is larger than %(n)s MB.") % {"n": MAX_UPLOAD // 1024**2})
    if not content:
        raise AreaInvalid(_("The work area file is empty."))
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if content.startswith(b"PK\x03\x04"):
        return _shapefile_zip(content)
    if head.startswith(b"{"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise AreaInvalid(_("The GeoJSON file is not UTF-8 text.")) from None
        return _geojson(text)
    if head.startswith(b"<"):
        return _gml(content)
    raise AreaInvalid(
        _(
            "Upload the work area as GeoJSON, GML 3.2 or a zipped Shapefile (.zip with .shp, .shx, .dbf, .prj)."
        )
    )


def to_wkt(poly: Polygon) -> str:
    """The stored form: WKT in EPSG:2180, centimetres."""
    return shapely.to_wkt(poly, rounding_precision=2, trim=True)


def check_polygon(geom) -> Polygon:
    """One valid polygon within Poland's bounds, of at most MAX_VERTICES vertices and MAX_AREA_M2."""
    if geom is None or geom.is_empty:
        raise AreaInvalid(_("The work area is empty."))
    coords = shapely.get_coordinates(geom)
    if len(coords) > MAX_VERTICES:
        raise AreaInvalid(
            _("The work area has more than %(n)s vertices; simplify its boundary.") % {"n": MAX_VERTICES}
        )
    if not np.isfinite(coords).all():
        raise AreaInvalid(_("The work area has coordinates that are not numbers."))
    x0, y0, x1, y1 = BOUNDS_2180
    if not (
        (coords[:, 0] >= x0).all()
        and (coords[:, 0] <= x1).all()
        and (coords[:, 1] >= y0).all()
        and (coords[:, 1] <= y1).all()
    ):
        raise AreaInvalid(
            _(
                "The work area's coordinates lie outside Poland: a wrong coordinate system or axis order? "
                "Typed WKT is read in EPSG:2180 (x = easting)."
            )
        )
    parts = _polygons(geom)
    if not parts:
        raise AreaInvalid(_("The work area must be a polygon; lines and points have no area."))
    for p in parts:
        if not p.is_valid:
            raise AreaInvalid(_invalid_message(p))
    union = parts[0] if len(parts) == 1 else unary_union(parts)
    if isinstance(union, MultiPolygon):
        if len(union.geoms) != 1:
            raise AreaInvalid(
                _("The work area must be one contiguous polygon; it has %(n)s separate parts.")
                % {"n": len(union.geoms)}
            )
        union = union.geoms[0]
    if not isinstance(union, Polygon) or not union.is_valid:
        raise AreaInvalid(_("The work area must be one valid polygon."))
    if union.area > MAX_AREA_M2:
        raise AreaInvalid(
            _("The work area measures %(a)s km²; one notification may cover at most %(max)s km².")
            % {"a": f"{union.area / 1e6:.1f}", "max": MAX_AREA_M2 // 1_000_000}
        )
    if union.area < MIN_AREA_M2:
        raise AreaInvalid(_("The work area is smaller than 1 m²."))
    # what is stored is the WKT in centimetres: it must still be valid once rounded
    rounded = shapely.from_wkt(to_wkt(union))
    if not rounded.is_valid:
        raise AreaInvalid(_invalid_message(rounded))
    return rounded


# ------------------------------------------------------------------ helpers


def _polygons(geom) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if geom.geom_type == "GeometryCollection":
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


_REASONS = {
    "self-intersection": lambda: _("its boundary crosses itself"),
    "ring self-intersection": lambda: _("its boundary touches itself"),
    "too few points": lambda: _("a ring has too few points"),
    "hole lies outside shell": lambda: _("a hole lies outside the polygon"),
    "nested holes": lambda: _("holes are nested"),
    "interior is disconnected": lambda: _("its interior is cut in parts"),
    "nested shells": lambda: _("a polygon lies inside another"),
    "invalid coordinate": lambda: _("a coordinate is not a number"),
}


def _invalid_message(p) -> str:
    text = explain_validity(p)
    reason = text.split("[", 1)[0].strip().lower()
    where = re.search(r"\[\s*(-?[0-9.eE+]+)\s+(-?[0-9.eE+]+)", text)
    what = _REASONS.get(reason, lambda: _("the polygon is not valid"))()
    if where:
        try:
            x, y = float(where.group(1)), float(where.group(2))
        except ValueError:
            x = y = None
        if x is not None:
            return _("The work area is not a valid polygon: %(what)s near x=%(x)s, y=%(y)s.") % {
                "what": what,
                "x": f"{x:.2f}",
                "y": f"{y:.2f}",
            }
    return _("The work area is not a valid polygon: %(what)s.") % {"what": what}


def _force_2d(geom):
    return shapely.force_2d(geom) if shapely.has_z(geom) else geom


@lru_cache(maxsize=16)
def _transformer(source: str | int):
    from pyproj import CRS, Transformer

    crs = CRS.from_epsg(source) if isinstance(source, int) else CRS.from_wkt(source)
    return Transformer.from_crs(crs, STORAGE_SRID, always_xy=True)


def _to_storage(geom, source: str | int):
    """`geom` (x/y: easting or longitude first) from `source` (EPSG code or WKT) to EPSG:2180."""
    if isinstance(source, int) and source not in SUPPORTED_EPSG:
        raise AreaInvalid(
            _("Unsupported coordinate reference system EPSG:%(c)s; use EPSG:2180, 2176-2179 or 4326.")
            % {"c": source}
        )
    if source == STORAGE_SRID:
        return geom
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise AreaInvalid(_("The work area has coordinates that are not numbers."))
    try:
        transformer = _transformer(source)
    except Exception:  # pyproj.exceptions.CRSError and the like: a .prj we cannot read
        raise AreaInvalid(_("The coordinate reference system of the file cannot be read.")) from None

    def move(arr):
        x, y = transformer.transform(arr[:, 0], arr[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def _geojson(text: str):
    if len(text) > MAX_UPLOAD:
        raise AreaInvalid(_("The GeoJSON is too large."))
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise AreaInvalid(_("The GeoJSON cannot be read: it is not valid JSON.")) from None
    if not isinstance(doc, dict):
        raise AreaInvalid(_("The GeoJSON must be an object: a geometry, a Feature or a FeatureCollection."))
    epsg = _geojson_crs(doc.get("crs"))
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list) or not features:
            raise AreaInvalid(_("The GeoJSON FeatureCollection holds no features."))
        if len(features) > MAX_FEATURES:
            raise AreaInvalid(_("The file holds more than %(n)s features.") % {"n": MAX_FEATURES})
        geometries = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    elif kind == "Feature":
        geometries = [doc.get("geometry")]
    else:
        geometries = [doc]
    shapes = []
    for g in geometries:
        if not isinstance(g, dict):
            raise AreaInvalid(_("A GeoJSON feature has no geometry."))
        try:
            shapes.append(shape(g))
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, shapely.errors.ShapelyError):
            raise AreaInvalid(_("A GeoJSON geometry cannot be read (type or coordinates).")) from None
        except RecursionError:
            raise AreaInvalid(_("A GeoJSON geometry cannot be read (type or coordinates).")) from None
    geom = (
        shapely.GeometryCollection([_force_2d(s) for s in shapes])
        if len(shapes) > 1
        else _force_2d(shapes[0])
    )
    return check_polygon(_to_storage(geom, epsg))


def _geojson_crs(crs) -> int:
    """RFC 7946 GeoJSON is WGS 84 (lon, lat); the 2008 form may name a CRS (EPSG or CRS84) by name only."""
    if crs is None:
        return 4326
    props = crs.get("properties") if isinstance(crs, dict) and crs.get("type") == "name" else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise AreaInvalid(_("The GeoJSON names its coordinate reference system in a way we do not accept."))
    if _CRS84.match(name.strip()):
        return 4326
    parsed = srsname_epsg(name)
    if parsed is None:
        raise AreaInvalid(
            _("Unsupported coordinate reference system %(c)s; use EPSG:2180 or WGS 84.") % {"c": name[:60]}
        )
    return parsed[0]


def _gml(content: bytes):
    """GML 3.2: no DOCTYPE, no entities, no network; the first surfaces by the importers' reader."""
    from lxml import etree

    from layers.importing.base import ImportFailed
    from layers.importing.gml import GeometryReader

    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", content, re.I) or b"\x00" in content[:4]:
        raise AreaInvalid(
            _("The GML file declares a document type or entities (or is not UTF-8); such files are refused.")
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        raise AreaInvalid(_("The GML file is not well-formed XML.")) from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise AreaInvalid(_("The GML file declares a document type or entities; such files are refused."))
    found = [
        el for el in root.iter(*GML_SURFACES) if not any(a.tag in GML_SURFACES for a in el.iterancestors())
    ]
    if not found:
        if any(
            isinstance(el.tag, str) and el.tag.startswith("{http://www.opengis.net/gml}")
            for el in root.iter()
        ):
            raise AreaInvalid(_("Only GML 3.2 is read; export the area as GML 3.2, GeoJSON or a Shapefile."))
        raise AreaInvalid(_("The GML file holds no polygon."))
    if len(found) > MAX_FEATURES:
        raise AreaInvalid(_("The file holds more than %(n)s features.") % {"n": MAX_FEATURES})
    shapes = []
    try:
        for el in found:
            inherited = next((a.get("srsName") for a in el.iterancestors() if a.get("srsName")), None)
            holder = etree.Element("holder")
            copy = etree.fromstring(etree.tostring(el), parser)
            if copy.get("srsName") is None and inherited:
                copy.set("srsName", inherited)
            holder.append(copy)
            shapes.append(GeometryReader(default_srs=inherited).read(holder))
    except ImportFailed as e:
        raise AreaInvalid(str(e.message)) from None
    except (ValueError, shapely.errors.ShapelyError):
        raise AreaInvalid(_("A GML geometry cannot be read.")) from None
    geom = shapes[0] if len(shapes) == 1 else shapely.GeometryCollection(shapes)
    return check_polygon(geom)  # GeometryReader gives EPSG:2180 already


def _zip_members(content: bytes) -> dict[str, bytes]:
    """{suffix: bytes} of the one Shapefile set in the ZIP; refuses anything else."""
    try:
        z = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in z.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise AreaInvalid(_("The ZIP archive is damaged.")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise AreaInvalid(
            _("The ZIP archive holds more than %(n)s files; send one Shapefile set.") % {"n": MAX_ZIP_MEMBERS}
        )
    chosen: dict[str, zipfile.ZipInfo] = {}
    stems = set()
    total = 0
    for m in members:
        name = m.filename
        p = PurePosixPath(name)
        if unsafe_member_name(name):
            raise AreaInvalid(
                _("The ZIP archive holds a file with a disallowed name: %(name)s") % {"name": name[:80]}
            )
        suffix = p.suffix.lower()
        if suffix not in SHAPEFILE_PARTS:
            raise AreaInvalid(
                _(
                    "The ZIP archive may hold only the files of one Shapefile (.shp, .shx, .dbf, .prj, .cpg); "
                    "found %(name)s."
                )
                % {"name": name[:80]}
            )
        if suffix in chosen:
            raise AreaInvalid(_("The ZIP archive holds more than one Shapefile set."))
        if m.flag_bits & 0x1:
            raise AreaInvalid(_("Encrypted ZIP archives are not accepted."))
        if m.file_size > MAX_RATIO * max(m.compress_size, 1024) or m.file_size > MAX_UNPACKED:
            raise AreaInvalid(
                _("The ZIP archive unpacks to implausibly much data (%(name)s).") % {"name": name[:80]}
            )
        total += m.file_size
        chosen[suffix] = m
        stems.add(str(p.with_suffix("")).lower())
    if total > MAX_UNPACKED:
        raise AreaInvalid(
            _("The ZIP archive unpacks to more than %(n)s MB.") % {"n": MAX_UNPACKED // 1024**2}
        )
    if len(stems) > 1:
        raise AreaInvalid(_("The files in the ZIP archive must share one name (one Shapefile set)."))
    missing = [s for s in (".shp", ".shx", ".dbf") if s not in chosen]
    if missing:
        raise AreaInvalid(
            _("The Shapefile set is incomplete: %(ext)s missing.") % {"ext": ", ".join(missing)}
        )
    out = {}
    try:
        for suffix, m in chosen.items():
            with z.open(m) as f:
                data = f.read(m.file_size + 1)  # never more than declared (the CRC is checked at the end)
            if len(data) != m.file_size:
                raise AreaInvalid(_("The ZIP archive is damaged."))
            out[suffix] = data
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError):
        raise AreaInvalid(_("The ZIP archive is damaged.")) from None
    if not out[".shp"].startswith(b"\x00\x00\x27\x0a"):
        raise AreaInvalid(_("The .shp file in the ZIP archive is not a Shapefile."))
    return out


def _shapefile_zip(content: bytes):
    parts = _zip_members(content)
    source: str | int = STORAGE_SRID
    prj = parts.get(".prj")
    if prj:
        try:
            wkt = prj[:20_000].decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            wkt = prj[:20_000].decode("latin-1").strip()
        if not re.match(r"^(PROJCS|GEOGCS|PROJCRS|GEOGCRS|GEODCRS)\s*\[", wkt):
            raise AreaInvalid(_("The .prj file does not describe a coordinate reference system."))
        source = wkt
    geoms = _read_shapefile(parts)
    if not geoms:
        raise AreaInvalid(_("The Shapefile holds no geometry."))
    geom = geoms[0] if len(geoms) == 1 else shapely.GeometryCollection(geoms)
    if not prj:
        # without a .prj only EPSG:2180 is assumed, and only when the coordinates fit it
        coords = shapely.get_coordinates(geom)
        x0, y0, x1, y1 = BOUNDS_2180
        if not (
            np.isfinite(coords).all()
            and (coords[:, 0] >= x0).all()
            and (coords[:, 0] <= x1).all()
            and (coords[:, 1] >= y0).all()
            and (coords[:, 1] <= y1).all()
        ):
            raise AreaInvalid(
                _("The Shapefile has no .prj file, so its coordinate system is unknown; add the .prj.")
            )
    return check_polygon(_to_storage(_force_2d(geom), source))


def _read_shapefile(parts: dict[str, bytes]) -> list:
    """Geometries of the Shapefile held in memory (/vsimem/), read by GDAL's Shapefile driver only."""
    from django.contrib.gis.gdal import DataSource, GDALException
    from django.contrib.gis.gdal.driver import Driver
    from django.contrib.gis.gdal.libgdal import lgdal
    from django.contrib.gis.gdal.prototypes import ds as capi

    Driver.ensure_registered()
    folder = f"/vsimem/gisportal-area-{uuid.uuid4().hex}"
    paths, buffers = [], []
    from_mem = lgdal.VSIFileFromMemBuffer
    from_mem.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
    from_mem.restype = ctypes.c_void_p
    close = lgdal.VSIFCloseL
    close.argtypes = [ctypes.c_void_p]
    unlink = lgdal.VSIUnlink
    unlink.argtypes = [ctypes.c_char_p]
    try:
        for suffix in (".shp", ".shx", ".dbf", ".cpg"):
            if suffix not in parts:
                continue
            buf = ctypes.create_string_buffer(parts[suffix], len(parts[suffix]))
            path = f"{folder}/area{suffix}".encode()
            handle = from_mem(path, ctypes.addressof(buf), len(parts[suffix]), 0)
            if not handle:
                raise AreaInvalid(_("The Shapefile cannot be read."))
            close(handle)
            paths.append(path)
            buffers.append(buf)
        allowed = (ctypes.c_char_p * 2)(b"ESRI Shapefile", None)
        try:
            ptr = capi.open_ds(
                f"{folder}/area.shp".encode(),
                capi.GDAL_OF_READONLY | capi.GDAL_OF_VECTOR,
                allowed,
                None,
                None,
            )
        except GDALException:
            ptr = None
        if not ptr:
            raise AreaInvalid(_("The Shapefile cannot be read."))
        return _geometries(DataSource(ptr, capi.get_dataset_driver(ptr), encoding="utf-8"))
    finally:
        for path in paths:
            unlink(path)
        del buffers


def _geometries(ds) -> list:
    from django.contrib.gis.gdal import GDALException

    out = []
    try:
        if len(ds) != 1:
            raise AreaInvalid(_("The Shapefile must hold one layer."))
        layer = ds[0]
        if len(layer) > MAX_FEATURES:
            raise AreaInvalid(_("The file holds more than %(n)s features.") % {"n": MAX_FEATURES})
        for feat in layer:
            g = feat.geom
            if g is None:
                continue
            out.append(shapely.from_wkb(bytes(g.wkb)))
    except (GDALException, shapely.errors.ShapelyError, ValueError):
        raise AreaInvalid(_("The Shapefile cannot be read.")) from None
    return out
