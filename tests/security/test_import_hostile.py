"""Hostile import files: GDAL must never open anything but the four formats, through their own driver,
and an upload must never make the server connect anywhere (a canary listener counts connections)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from layers.actions import registry_import
from layers.importing.base import ImportFailed
from layers.models import ZoningArea

from .canary import Canary

pytestmark = pytest.mark.django_db
E0, N0 = 650_000.0, 300_000.0


@pytest.fixture
def canary():
    c = Canary()
    yield c
    c.close()


def _square(e=E0, n=N0, size=20.0):
    return [[e, n], [e + size, n], [e + size, n + size], [e, n + size], [e, n]]


def _zoning_geojson(path: Path, crs: dict | None = None) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"UCHWALA": "I/1/2026", "OZNACZENIE": "1MN"},
                "geometry": {"type": "Polygon", "coordinates": [_square()]},
            }
        ],
    }
    doc["crs"] = crs if crs is not None else {"type": "name", "properties": {"name": "EPSG:2180"}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _vrt(source: str, sql: str = "") -> str:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{source}</SrcDataSource>'
        f"{f'<SrcSQL>{sql}</SrcSQL>' if sql else ''}</OGRVRTLayer></OGRVRTDataSource>"
    )


def _refused(path: Path, **options) -> str:
    before = ZoningArea.objects.count()
    with pytest.raises(ImportFailed) as e:
        registry_import(path, options={"layer": "mpzp", **options})
    assert ZoningArea.objects.count() == before
    return e.value.message


def test_vrt_named_geojson_with_a_postgresql_sql_layer_is_refused(tmp_path, settings):
    db = settings.DATABASES["default"]
    poc = tmp_path / "poc.geojson"
    poc.write_text(
        _vrt(
            f"PG:host=127.0.0.1 user=postgres dbname={db['NAME']}",
            "select owner_name as UCHWALA, pesel as OZNACZENIE, geom from layers_restrictedsubject",
        )
    )
    assert "VRT" in _refused(poc)


def test_vrt_with_a_remote_source_makes_no_connection(tmp_path, canary):
    for name in ("remote.geojson", "remote.gpkg", "remote.json", "remote.gml"):
        path = tmp_path / name
        path.write_text(_vrt(f"/vsicurl/{canary.url}/data.geojson"))
        _refused(path)
    assert canary.hits == 0


def test_a_vrt_inside_a_zip_is_refused(tmp_path, canary):
    z = tmp_path / "layer.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("layer.vrt", _vrt(f"/vsicurl/{canary.url}/x.shp"))
    assert ".vrt" in _refused(z)
    assert canary.hits == 0


def _shapefile(tmp_path: Path) -> list[Path]:
    src = _zoning_geojson(tmp_path / "src.geojson")
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", str(tmp_path / "plan.shp"), str(src)],
        check=True,
        capture_output=True,
    )
    return sorted(tmp_path.glob("plan.*"))


@pytest.mark.parametrize("extra", ["nested.zip", "../evil.shp", "/abs.dbf", "second/plan.shp", "readme.txt"])
def test_zip_members_are_checked(tmp_path, extra):
    parts = _shapefile(tmp_path)
    z = tmp_path / "upload.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in parts:
            f.write(p, p.name)
        f.writestr(extra, b"\x00\x00\x27\x0a" + b"x" * 100)
    _refused(z)


def test_a_zip_with_the_shapefile_alone_is_read(tmp_path):
    parts = _shapefile(tmp_path)
    z = tmp_path / "upload.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in parts:
            f.write(p, p.name)
    report = registry_import(z, options={"layer": "mpzp"})
    assert report.total_read == 1


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    parts = _shapefile(tmp_path)
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as f:
        for p in parts:
            f.write(p, p.name)
        f.writestr("plan.cpg", b"\x00" * (64 * 1024 * 1024))  # 64 MB of zeros pack to ~64 kB
    assert "implausibly" in _refused(z) or "nieprawdopodobnie" in _refused(z)


@pytest.mark.parametrize(
    "crs",
    [
        lambda url: {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}},
        lambda url: {"type": "name", "properties": {"name": f"{url}/def/crs/EPSG/0/2180"}},
        lambda url: {"type": "link", "properties": {"href": "/etc/passwd", "type": "proj4"}},
    ],
)
def test_geojson_crs_that_would_make_gdal_fetch_or_read_is_refused(tmp_path, canary, crs):
    assert "urn:ogc:def:crs:EPSG::2180" in _refused(_zoning_geojson(tmp_path / "z.geojson", crs(canary.url)))
    escaped = tmp_path / "esc.geojson"
    escaped.write_text(
        _zoning_geojson(tmp_path / "z2.geojson", crs(canary.url)).read_text().replace('"crs"', '"\\u0063rs"')
    )
    assert "urn:ogc:def:crs:EPSG::2180" in _refused(escaped)
    assert canary.hits == 0


def test_gdal_itself_makes_no_connection_for_a_crs_link(tmp_path, canary):
    """The second wall: even what slips past the checks above cannot reach the network (GDAL's HTTP client
    goes to a closed loopback proxy, set in settings for the web and worker processes)."""
    from django.contrib.gis.gdal import DataSource

    path = _zoning_geojson(
        tmp_path / "z.geojson", {"type": "link", "properties": {"href": f"{canary.url}/c", "type": "ogcwkt"}}
    )
    DataSource(str(path))  # GDAL opens it (without the CRS it could not fetch)
    assert canary.hits == 0


def _gpkg(tmp_path: Path) -> Path:
    gpkg = tmp_path / "plan.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(gpkg), str(_zoning_geojson(tmp_path / "s.geojson")), "-nln", "plan"],
        check=True,
        capture_output=True,
    )
    return gpkg


def test_a_geopackage_is_read(tmp_path):
    assert registry_import(_gpkg(tmp_path), options={"layer": "mpzp"}).total_read == 1


def test_a_geopackage_view_is_not_a_layer(tmp_path):
    gpkg = _gpkg(tmp_path)
    con = sqlite3.connect(gpkg)
    con.execute("CREATE VIEW plan_v AS SELECT * FROM plan")
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('plan_v', 'features', 'v', 2180)"
    )
    con.commit()
    con.close()
    assert "plan_v" in _refused(gpkg, source_layer="plan_v")


def test_a_geopackage_with_a_trigger_of_its_own_is_refused(tmp_path):
    gpkg = _gpkg(tmp_path)
    con = sqlite3.connect(gpkg)
    con.execute("CREATE TRIGGER evil AFTER INSERT ON plan BEGIN DELETE FROM plan; END")
    con.commit()
    con.close()
    assert "evil" in _refused(gpkg)


def test_sqlite_that_is_no_geopackage_is_refused(tmp_path):
    db = tmp_path / "x.gpkg"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    _refused(db)


@pytest.mark.parametrize(
    "srs", ["+proj=longlat +nadgrids=http://127.0.0.1:9/x.tif", "/etc/passwd", "EPSG:2180\n"]
)
def test_a_crs_option_is_an_epsg_code_only(tmp_path, srs):
    path = _zoning_geojson(tmp_path / "z.geojson")
    data = json.loads(path.read_text())
    del data["crs"]
    path.write_text(json.dumps(data))
    assert "EPSG" in _refused(path, srs=srs)


@pytest.mark.parametrize("content", [b"PG:host=127.0.0.1 user=postgres", b"\x89PNG\r\n\x1a\n....", b"GIF89a"])
def test_other_bytes_are_refused_whatever_the_name(tmp_path, content):
    for name in ("x.geojson", "x.shp", "x.gpkg"):
        path = tmp_path / name
        path.write_bytes(content)
        _refused(path)


def test_a_gml_with_external_entities_makes_no_connection(tmp_path, canary):
    path = tmp_path / "x.gml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{canary.url}/e">]>'
        f'<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">&e;</gml:FeatureCollection>'
    )
    with pytest.raises(ImportFailed):
        registry_import(path)
    xi = tmp_path / "xi.gml"
    xi.write_text(
        f'<?xml version="1.0"?><gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" '
        f'xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{canary.url}/x"/></gml:FeatureCollection>'
    )
    with pytest.raises(ImportFailed):
        registry_import(xi)
    assert canary.hits == 0
