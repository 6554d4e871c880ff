"""Importing Mapnik safely.

`import mapnik` exports its wheel's data directories (PROJ_LIB, GDAL_DATA, ICU_DATA) into the process
environment; the PROJ one lacks the proj.db of the system PROJ that GDAL (and so GeoDjango) uses, and
afterwards every GeoDjango transform fails (ARCHITECTURE §2). The environment is put back right after
the import (Mapnik's own PROJ does not need it), and GDAL is pointed at the system database with
OSRSetPROJSearchPaths in case its PROJ context saw the change. pyproj uses its own data either way.
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
    from django.conf import settings

    for d in (settings.GISPORTAL_PROJ_DIR, *PROJ_CANDIDATES):
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
                saved = {k: os.environ.get(k) for k in ("PROJ_LIB", "PROJ_DATA", "GDAL_DATA", "ICU_DATA")}
                import mapnik as m

                # the wheel's settings file exported its own data dirs into the process environment,
                # where GDAL and every subprocess would find them: put the environment back
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                _point_gdal_at(proj_dir)
                _mapnik = m
    return _mapnik
