"""Importing Mapnik safely.

`import mapnik` points PROJ_LIB at its wheel's own data, which lacks the proj.db of the system PROJ
that GDAL (and so GeoDjango) uses: afterwards every GeoDjango transform fails (ARCHITECTURE §2).
Mapnik keeps its PROJ_LIB; GDAL is told where the system database is with OSRSetPROJSearchPaths,
which only changes GDAL's PROJ context. pyproj uses its own bundled data either way.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

_lock = threading.Lock()
_mapnik = None
PROJ_CANDIDATES = ("/usr/share/proj", "/usr/local/share/proj")


def system_proj_dir() -> str:
    for d in (os.environ.get("GISPORTAL_PROJ_DIR"), *PROJ_CANDIDATES):
        if d and (Path(d) / "proj.db").exists():
            return d
    raise RuntimeError("no proj.db of the system PROJ found (install proj-data or set GISPORTAL_PROJ_DIR)")


def _point_gdal_at(directory: str) -> None:
    from django.contrib.gis.gdal.libgdal import lgdal

    fn = lgdal.OSRSetPROJSearchPaths
    fn.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
    fn.restype = None
    paths = (ctypes.c_char_p * 2)(directory.encode(), None)
    fn(paths)


def mapnik():
    """The mapnik module, imported once per process with GDAL's PROJ search path restored."""
    global _mapnik
    if _mapnik is None:
        with _lock:
            if _mapnik is None:
                proj_dir = system_proj_dir()
                import mapnik as m  # noqa: PLC0415 - imported lazily on purpose

                _point_gdal_at(proj_dir)
                _mapnik = m
    return _mapnik
