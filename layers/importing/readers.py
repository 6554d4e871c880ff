"""Choose the reader for a file: EGiB GML, or an OGR vector format with a field mapping."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from .base import ImportFailed
from .egib import EgibReader

OGR_SUFFIXES = {".gpkg": "gpkg", ".shp": "shp", ".geojson": "geojson", ".json": "geojson", ".zip": "shp"}
GML_SUFFIXES = {".gml", ".xml"}


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in GML_SUFFIXES:
        return "egib"
    if suffix in OGR_SUFFIXES:
        return OGR_SUFFIXES[suffix]
    with open(path, "rb") as f:
        head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "egib"
    if head.startswith(b"{"):
        return "geojson"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    raise ImportFailed(_("Unrecognised file format; use EGiB GML, GeoPackage, Shapefile or GeoJSON."))


class EgibFile:
    def __init__(self, path: Path):
        with open(path, "rb") as f:
            head = f.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"<"):
            raise ImportFailed(_("The file is not XML, so it cannot be an EGiB GML export."))
        self.path = path
        self.source = None  # a PartSource while reading one part
        self.reader = EgibReader(str(path))

    def __iter__(self):
        yield from self.reader

    def read_part(self, part, prefix: bytes, footer: bytes):
        """Read only the first part of a file cut for several processes (importing/parallel.py)."""
        from .parallel import PartSource

        self.source = PartSource(self.path, part, prefix, footer)
        self.reader = EgibReader(self.source)
        self.reader.require_features = False

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

    @property
    def notes(self) -> list[str]:
        return [_("%(n)s objects of type %(t)s are not part of the registry model; skipped.") % {"n": n, "t": name}
                for name, n in sorted(self.reader.skipped.items())]

    @property
    def crs_text(self) -> str:
        return self.reader.geometry.srs_text


def open_reader(path: Path, *, fmt: str = "auto", options: dict):
    fmt = detect_format(path) if fmt in ("auto", "", None) else fmt
    if fmt == "egib":
        return EgibFile(path)
    if fmt in ("gpkg", "shp", "geojson"):
        from .ogr import OgrReader

        return OgrReader(path, fmt=fmt, options=options)
    raise ImportFailed(_("Unknown format %(f)s.") % {"f": str(fmt)[:20]})
