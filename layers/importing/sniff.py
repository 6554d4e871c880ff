"""What an uploaded file really is, decided from its bytes before any reader sees it, and GDAL opened
only through an allow-list of drivers.

GDAL opens far more than the four formats we import: a VRT (XML, under any name, or inside a ZIP) can
name `PG:` connection strings, SQL layers, `/vsicurl/` URLs and other files on the server. So the
format is chosen here from the file's leading bytes (never from its name), a ZIP may hold exactly one
Shapefile set and nothing else, a GeoPackage is inspected read-only with SQLite first (a layer must be a
plain table, no triggers but the GeoPackage standard's own), and GDAL is then opened with the one
driver of that format, read-only (`open_vector`). EGiB GML never goes to GDAL at all (our own
locked-down XML reader, `egib.py`).
"""

from __future__ import annotations

import ctypes
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

from gisportal.core.ziparchive import unsafe_member_name

from .base import ImportFailed

# format -> the only GDAL driver that may open it
DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml"}
MAX_ZIP_MEMBERS = 16
MAX_UNPACKED_BYTES = 8 * 1024**3
MAX_RATIO = 200  # a member that unpacks to more than 200× its packed size is a bomb, not a Shapefile
SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian (ESRI Shapefile Technical Description)
GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
# the triggers the GeoPackage standard itself defines (R-tree spatial index, metadata and schema checks)
GPKG_TRIGGER = re.compile(
    r"^(rtree_.+_(insert|update\d?|delete)|gpkg_.+|trigger_(insert|update|delete)_feature_count_.+)$"
)
# the key "crs", also spelt with JSON escapes ("\u0063rs" is "crs" to GDAL's parser too)
CRS_KEY = re.compile(rb'"(?:c|\\u0063)(?:r|\\u0072)(?:s|\\u0073)"\s*:', re.IGNORECASE)
CRS_NAME = re.compile(
    r"(urn:ogc:def:crs:(EPSG|OGC):[0-9.]*:[A-Za-z0-9]{1,12}|EPSG:\d{1,6}|"
    r"https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[0-9.]+/[A-Za-z0-9]{1,12})"
)


@dataclass(frozen=True)
class Sniffed:
    fmt: str  # egib | gpkg | shp | geojson
    gdal_path: str = ""  # what GDAL opens (OGR formats only)


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def sniff(path: Path) -> Sniffed:
    """The format of `path` from its bytes; raises ImportFailed for anything we do not import."""
    if not path.is_file():
        raise ImportFailed(_("Only a regular file can be imported."))
    head = _head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"OGRVRTDataSource" in head or b"<OGRWFSDataSource" in head:
            raise ImportFailed(_("GDAL virtual data sources (VRT) cannot be imported; send the data itself."))
        return Sniffed("egib")
    if text.startswith(b"{"):
        _check_geojson_crs(path)
        return Sniffed("geojson", str(path))
    if head.startswith(b"SQLite format 3\x00"):
        _check_geopackage(path, head)
        return Sniffed("gpkg", str(path))
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("shp", f"/vsizip/{path}/{_zip_shapefile(path)}")
    if head.startswith(SHP_MAGIC):
        for ext in (".shx", ".dbf"):
            if not (path.with_suffix(ext).exists() or path.with_suffix(ext.upper()).exists()):
                raise ImportFailed(
                    _("The Shapefile set is incomplete: the %(ext)s file is missing.") % {"ext": ext}
                )
        return Sniffed("shp", str(path))
    raise ImportFailed(_("Unrecognised file format; use EGiB GML, GeoPackage, Shapefile or GeoJSON."))


def _check_geojson_crs(path: Path) -> None:
    """GDAL's GeoJSON driver fetches a `"crs"` of type "link" from its URL and reads a named CRS through
    OSRSetFromUserInput (which opens files and URLs): only a named EPSG or OGC CRS is let through."""
    window = 4096  # a crs member is judged on the 4 KB after its key
    with open(path, "rb") as f:
        data, eof = b"", False
        while not eof:
            chunk = f.read(1 << 22)
            eof = len(chunk) < 1 << 22
            data += chunk
            cut = len(data) if eof else max(0, len(data) - window)
            for m in CRS_KEY.finditer(data):
                if m.start() >= cut:
                    break
                _check_crs_member(data[m.end() : m.end() + window])
            data = data[cut:]


def _check_crs_member(rest: bytes) -> None:
    value = rest.lstrip()
    if not value.startswith(b"{"):
        return  # null, or an attribute value that happens to be named crs
    depth, end = 0, None
    for i, c in enumerate(value):
        if c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                end = i + 1
                break
    try:
        crs = json.loads(value[:end]) if end else None
    except ValueError:
        crs = None
    name = (
        crs.get("properties", {}).get("name")
        if isinstance(crs, dict) and crs.get("type") == "name" and isinstance(crs.get("properties"), dict)
        else None
    )
    if not isinstance(name, str) or not CRS_NAME.fullmatch(name):
        raise ImportFailed(
            _(
                "The GeoJSON file names its coordinate reference system in a way we do not accept; "
                "use a named EPSG CRS (e.g. urn:ogc:def:crs:EPSG::2180) or give the CRS with the import."
            )
        )


def _check_geopackage(path: Path, head: bytes) -> None:
    if head[68:72] not in GPKG_APPLICATION_IDS:
        raise ImportFailed(_("The SQLite file is not a GeoPackage."))
    uri = f"file:{path}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        raise ImportFailed(_("The GeoPackage cannot be read.")) from None
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        objects = con.execute("SELECT type, name FROM sqlite_master").fetchall()
        kinds = {name: kind for kind, name in objects}
        contents = con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()
    except sqlite3.Error:
        raise ImportFailed(_("The GeoPackage cannot be read (no gpkg_contents table).")) from None
    finally:
        con.close()
    for kind, name in objects:
        if kind == "trigger" and not GPKG_TRIGGER.match(name):
            raise ImportFailed(
                _("The GeoPackage holds a trigger (%(name)s); only plain tables are imported.")
                % {"name": name[:60]}
            )
    for table, data_type in contents:
        if data_type == "features" and kinds.get(table) != "table":
            raise ImportFailed(
                _(
                    "The GeoPackage layer %(name)s is not a plain table (a view?); only plain tables are imported."
                )
                % {"name": str(table)[:60]}
            )


def _zip_shapefile(path: Path) -> str:
    """The .shp member of a ZIP that holds one Shapefile set and nothing else."""
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFailed(_("The ZIP archive is damaged.")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFailed(
            _("The ZIP archive holds more than %(n)s files; send one Shapefile set.") % {"n": MAX_ZIP_MEMBERS}
        )
    total, shp = 0, []
    for m in members:
        name = m.filename
        p = PurePosixPath(name)
        if unsafe_member_name(name):
            raise ImportFailed(
                _("The ZIP archive holds a file with a disallowed name: %(name)s") % {"name": name[:80]}
            )
        suffix = "".join(p.suffixes[-2:]).lower() if name.lower().endswith(".shp.xml") else p.suffix.lower()
        if suffix not in SHAPEFILE_PARTS:
            raise ImportFailed(
                _(
                    "The ZIP archive may hold only the files of one Shapefile (.shp, .shx, .dbf, .prj, .cpg); "
                    "found %(name)s."
                )
                % {"name": name[:80]}
            )
        if m.flag_bits & 0x1:
            raise ImportFailed(_("Encrypted ZIP archives cannot be imported."))
        total += m.file_size
        if m.file_size > MAX_RATIO * max(m.compress_size, 1024):
            raise ImportFailed(
                _("The ZIP archive unpacks to implausibly much data (%(name)s).") % {"name": name[:80]}
            )
        if suffix == ".shp":
            shp.append(name)
    if total > MAX_UNPACKED_BYTES:
        raise ImportFailed(
            _("The ZIP archive unpacks to more than %(n)s GB.") % {"n": MAX_UNPACKED_BYTES // 1024**3}
        )
    if len(shp) != 1:
        raise ImportFailed(
            _("The ZIP archive must hold exactly one Shapefile (.shp); it holds %(n)s.") % {"n": len(shp)}
        )
    with zipfile.ZipFile(path) as z, z.open(shp[0]) as f:
        if f.read(4) != SHP_MAGIC:
            raise ImportFailed(_("The .shp file in the ZIP archive is not a Shapefile."))
    return shp[0]


def open_vector(sniffed: Sniffed, *, encoding: str):
    """A GeoDjango DataSource opened read-only by the one GDAL driver allowed for the format."""
    from django.contrib.gis.gdal import DataSource, GDALException
    from django.contrib.gis.gdal.driver import Driver
    from django.contrib.gis.gdal.prototypes import ds as capi

    driver = DRIVERS.get(sniffed.fmt)
    if driver is None:
        raise ImportFailed(_("Unknown format %(f)s.") % {"f": sniffed.fmt[:20]})
    Driver.ensure_registered()
    allowed = (ctypes.c_char_p * 2)(driver.encode(), None)
    try:
        ptr = capi.open_ds(
            sniffed.gdal_path.encode(), capi.GDAL_OF_READONLY | capi.GDAL_OF_VECTOR, allowed, None, None
        )
    except GDALException:
        ptr = None
    if not ptr:
        raise ImportFailed(_("GDAL cannot open the file as %(fmt)s.") % {"fmt": sniffed.fmt}) from None
    return DataSource(ptr, capi.get_dataset_driver(ptr), encoding=encoding)
