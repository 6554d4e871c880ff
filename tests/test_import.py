"""Import of registry files: EGiB GML 2021/2015, GeoJSON/GeoPackage/Shapefile; versions, history,
retirement, validation policies and hostile inputs (each: a clear error, nothing written)."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from lxml import etree
from pyproj import Transformer
from shapely.geometry import Polygon

from layers.actions import registry_import
from layers.importing.base import ImportFailed
from layers.models import (
    Building,
    LandUseContour,
    Parcel,
    ParcelLandUse,
    Precinct,
    RegistryHistory,
    SoilClassContour,
)

from .conftest import SHARED_DATA
from .egib_files import document, parcel, precinct, square, write

pytestmark = pytest.mark.django_db
SHARED = SHARED_DATA / "egib"
TRAINING = SHARED / "training-2021-zone8.gml"
REAL_2015 = SHARED / "real-2015-parcel.gml"
EGB = "{ewidencjaGruntowIBudynkow:1.0}"
GMLNS = "{http://www.opengis.net/gml/3.2}"
NS = "PL.PZGiK.9999.EGiB"


def registry_rows() -> dict[str, int]:
    return {
        "parcels": Parcel.objects.count(),
        "land_uses": ParcelLandUse.objects.count(),
        "buildings": Building.objects.count(),
        "precincts": Precinct.objects.count(),
        "landuse": LandUseContour.objects.count(),
        "soil": SoilClassContour.objects.count(),
        "history": RegistryHistory.objects.count(),
    }


def expected_current_parcels(path: Path) -> dict[str, etree._Element]:
    """Independent reading of the file: per lokalnyId the version to keep (DOMAIN.md §4.1)."""
    versions: dict[str, list] = defaultdict(list)
    for el in etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).iter(
        f"{EGB}EGB_DzialkaEwidencyjna"
    ):
        lid = el.findtext(f"{EGB}idIIP/{EGB}EGB_IdentyfikatorIIP/{EGB}lokalnyId")
        versions[lid].append(el)
    keep = {}
    for lid, els in versions.items():
        open_ = [e for e in els if e.find(f"{EGB}koniecWersjaObiekt") is None]
        chosen = open_[0] if open_ else max(els, key=lambda e: e.findtext(f"{EGB}startWersjaObiekt"))
        if chosen.find(f"{EGB}koniecObiekt") is None:
            keep[lid] = chosen
    return keep


# ------------------------------------------------------------------------------------- EGiB GML
def test_training_file_counts_and_current_versions():
    report = registry_import(TRAINING)
    expected = expected_current_parcels(TRAINING)
    imported = {p.local_id: p for p in Parcel.objects.filter(namespace="PL.PZGiK.1004.EGiB")}
    assert set(imported) == set(expected)
    for lid, el in expected.items():
        assert imported[lid].version_id == el.findtext(f"{EGB}idIIP/{EGB}EGB_IdentyfikatorIIP/{EGB}wersjaId")
        assert imported[lid].parcel_id == el.findtext(f"{EGB}idDzialki")
    assert report.read["parcel"] == 47
    assert report.history["parcel"] == RegistryHistory.objects.filter(kind="parcel").count() > 0
    # the training file gives all 51 buildings the same idBudynku: one is kept, the others rejected and reported
    assert Building.objects.filter(namespace="PL.PZGiK.1004.EGiB").count() == 1
    assert any(p["code"] == "duplicate" and p["kind"] == "building" for p in report.problems)
    assert LandUseContour.objects.filter(namespace="PL.PZGiK.1004.EGiB").count() == 13
    assert SoilClassContour.objects.filter(namespace="PL.PZGiK.1004.EGiB").count() == 7
    # land-use classes attached to their parcels
    p = Parcel.objects.get(parcel_id="061304_5.0012.809/1", end_object__isnull=True)
    assert [(u.ofu, u.ozu, u.ozk) for u in p.land_uses.all()] == [("R", "R", "VI")]
    # the precinct missing from the file was created from its parcels, and said so
    assert Precinct.objects.filter(precinct_id="061304_5.0012").exists()
    assert any("061304_5.0012" in n for n in report.notes)
    assert report.source_crs == "urn:ogc:def:crs:EPSG::2179"


def test_training_parcel_lands_where_pyproj_puts_it():
    registry_import(TRAINING)
    el = expected_current_parcels(TRAINING)
    lid, chosen = next(
        (k, v) for k, v in el.items() if v.findtext(f"{EGB}idDzialki") == "061304_5.0012.809/1"
    )
    nums = [float(x) for x in chosen.find(f".//{GMLNS}posList").text.split()]
    # EPSG:2179 → 2180 in authority order (northing, easting) on both sides, independently of our code
    t = Transformer.from_crs(2179, 2180)
    ring = [t.transform(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
    expected = Polygon([(e, n) for n, e in ring]).centroid
    got = Parcel.objects.get(local_id=lid).geom.centroid
    assert abs(got.x - expected.x) < 0.01 and abs(got.y - expected.y) < 0.01
    assert 700_000 < got.x < 800_000 and 400_000 < got.y < 450_000  # Lubelskie, x = easting


def test_2015_schema_parcel():
    report = registry_import(REAL_2015)
    p = Parcel.objects.get(parcel_id="221101_1.0001.138/28")
    assert str(p.area_ha) == "0.0255"
    assert p.local_id == "df8079b0-4dee-4858-8283-b173c8d7dae8" and p.namespace == "PL.PZGiK.1385.EGiB"
    t = Transformer.from_crs(2177, 2180)
    n, e = t.transform(6053434.46, 6551924.66)
    assert min(abs(x - e) + abs(y - n) for x, y in p.geom.coords[0][0]) < 0.01
    assert report.read == {"parcel": 1}


def test_reimport_changes_nothing():
    registry_import(TRAINING)
    before = registry_rows()
    snapshot = list(Parcel.objects.order_by("id").values_list("id", "version_id", "area_ha", "end_object"))
    report = registry_import(TRAINING)
    assert registry_rows() == before
    assert (
        list(Parcel.objects.order_by("id").values_list("id", "version_id", "area_ha", "end_object"))
        == snapshot
    )
    assert report.written == {}
    assert report.unchanged["parcel"] == len(expected_current_parcels(TRAINING))


def test_newer_export_updates_retires_and_keeps_history(tmp_path):
    a, b, c = square(500_000, 500_000), square(500_100, 500_000), square(500_200, 500_000)
    v1 = write(
        tmp_path / "v1.gml",
        document(
            parcel("A", "149999_2.0001.1", a),
            parcel("B", "149999_2.0001.2", b),
            parcel("C", "149999_2.0001.3", c),
        ),
    )
    registry_import(v1)
    assert Parcel.objects.current().filter(namespace=NS).count() == 3
    a2 = square(500_000, 500_000, 60)
    v2 = write(
        tmp_path / "v2.gml",
        document(
            parcel("A", "149999_2.0001.1", a2, version="2026-06-01T10:00:00"),
            parcel("B", "149999_2.0001.2", b),
            parcel("D", "149999_2.0001.4", square(500_300, 500_000)),
        ),
    )
    report = registry_import(v2)
    current = {p.local_id: p for p in Parcel.objects.current().filter(namespace=NS)}
    assert set(current) == {"A", "B", "D"}
    assert current["A"].version_id == "2026-06-01T10:00:00" and abs(current["A"].geom.area - 3600) < 0.01
    retired = Parcel.objects.get(namespace=NS, local_id="C")
    assert retired.end_object is not None  # retired, not deleted
    old = RegistryHistory.objects.get(kind="parcel", namespace=NS, local_id="A")
    assert old.version_id == "2026-01-01T10:00:00" and abs(old.geom.area - 2500) < 0.01
    assert report.written["parcel"] == 2 and report.unchanged["parcel"] == 1 and report.retired["parcel"] == 1
    # the parcels of other namespaces (the demo data) are untouched
    assert not Parcel.objects.filter(end_object__isnull=False).exclude(namespace=NS).exists()


def test_several_versions_in_one_file(tmp_path):
    ring = square(500_000, 500_000)
    doc = document(
        parcel(
            "V", "149999_2.0001.7", ring, version="2024-01-01T00:00:00", end_version="2025-01-01T00:00:00"
        ),
        parcel("V", "149999_2.0001.7", square(500_000, 500_000, 55), version="2025-01-01T00:00:00"),
        parcel(
            "W",
            "149999_2.0001.8",
            square(500_100, 500_000),
            version="2025-01-01T00:00:00",
            end_object="2025-06-01T00:00:00",
        ),
    )
    report = registry_import(write(tmp_path / "v.gml", doc))
    v = Parcel.objects.get(namespace=NS, local_id="V")
    assert v.version_id == "2025-01-01T00:00:00"
    assert RegistryHistory.objects.filter(
        namespace=NS, local_id="V", version_id="2024-01-01T00:00:00"
    ).exists()
    assert not Parcel.objects.filter(namespace=NS, local_id="W").exists()  # an ended object is not brought in
    assert report.history["parcel"] == 1


def test_easting_first_srsname_form(tmp_path):
    ring = square(500_000, 500_000)
    doc = document(parcel("E", "149999_2.0001.9", ring, srs="EPSG:2180", north_first=False))
    registry_import(write(tmp_path / "e.gml", doc))
    c = Parcel.objects.get(namespace=NS, local_id="E").geom.centroid
    assert (round(c.x), round(c.y)) == (500_025, 500_025)


# ------------------------------------------------------------------------------------- validation
def test_invalid_geometry_rejected_or_repaired(tmp_path):
    bowtie = [
        (500_000, 500_000),
        (500_050, 500_050),
        (500_050, 500_000),
        (500_000, 500_050),
        (500_000, 500_000),
    ]
    doc = document(
        parcel("X", "149999_2.0001.10", bowtie, area_ha="0.1250"),
        parcel("Y", "149999_2.0001.11", square(500_100, 500_000)),
    )
    path = write(tmp_path / "bowtie.gml", doc)
    report = registry_import(path, policy="reject")
    assert not Parcel.objects.filter(namespace=NS, local_id="X").exists()
    assert Parcel.objects.filter(namespace=NS, local_id="Y").exists()
    bad = next(p for p in report.problems if p["code"] == "geometry_invalid")
    assert "Self-intersection" in bad["message"] and bad["action"] == "rejected"
    report = registry_import(path, policy="repair")
    x = Parcel.objects.get(namespace=NS, local_id="X")
    assert x.geom.valid and report.repaired["parcel"] == 1
    with pytest.raises(ImportFailed):
        registry_import(
            write(tmp_path / "strict.gml", doc.replace("149999_2.0001.11", "149999_2.0001.12")),
            policy="strict",
        )


def test_identifier_and_area_checks(tmp_path):
    doc = document(
        parcel("BAD", "149999_3.0001.1", square(500_000, 500_000)),  # _3 never in parcel ids
        parcel("AREA", "149999_2.0001.20", square(500_100, 500_000), area_ha="0.5000"),
        parcel("DUP1", "149999_2.0001.21", square(500_200, 500_000)),
        parcel("DUP2", "149999_2.0001.21", square(500_300, 500_000)),
    )
    report = registry_import(write(tmp_path / "checks.gml", doc))
    codes = {(p["id"], p["code"], p["action"]) for p in report.problems}
    assert ("149999_3.0001.1", "id_format", "rejected") in codes
    assert ("149999_2.0001.20", "area_mismatch", "kept") in codes
    assert ("149999_2.0001.21", "duplicate", "rejected") in codes
    assert set(Parcel.objects.filter(namespace=NS).values_list("local_id", flat=True)) == {"AREA", "DUP1"}


def test_parcel_outside_its_precinct_is_reported(tmp_path):
    doc = document(
        precinct("R1", "149999_2.0001", square(500_000, 500_000, 200)),
        parcel("P1", "149999_2.0001.1", square(500_000, 500_000)),
        parcel("P2", "149999_2.0001.2", square(500_180, 500_000)),  # sticks out by 30 m
    )
    report = registry_import(write(tmp_path / "o.gml", doc))
    assert Precinct.objects.get(precinct_id="149999_2.0001").name == "Testowo"
    outside = [p for p in report.problems if p["code"] == "outside_precinct"]
    assert [p["id"] for p in outside] == ["149999_2.0001.2"] and outside[0]["action"] == "kept"
    with pytest.raises(ImportFailed):
        registry_import(
            write(tmp_path / "o2.gml", doc.replace("2026-01-01T10:00:00", "2026-02-01T10:00:00")),
            policy="strict",
        )


# ------------------------------------------------------------------------------------- hostile inputs
HOSTILE = {
    "doctype_xxe": document(prolog='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
    "billion_laughs": document(
        prolog='<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    ),
    "unknown_namespace": document(
        parcel("U", "149999_2.0001.1", square(500_000, 500_000)), ns="ewidencjaGruntowIBudynkow:9.9"
    ),
    "nan": document(parcel("N", "149999_2.0001.1", square(500_000, 500_000))).replace("500050.00", "NaN", 1),
    "absurd": document(parcel("A", "149999_2.0001.1", square(5e9, 5e9))),
    "mixed_crs": document(
        parcel("M1", "149999_2.0001.1", square(500_000, 500_000)),
        parcel("M2", "149999_2.0001.2", square(500_100, 500_000), srs="urn:ogc:def:crs:EPSG::2178"),
    ),
    "unknown_crs": document(
        parcel("K", "149999_2.0001.1", square(500_000, 500_000), srs="urn:ogc:def:crs:EPSG::9999")
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_gml_writes_nothing(tmp_path, name):
    before = registry_rows()
    with pytest.raises(ImportFailed) as e:
        registry_import(write(tmp_path / f"{name}.gml", HOSTILE[name]))
    assert e.value.message and "Traceback" not in e.value.message
    assert registry_rows() == before


def test_truncated_file(tmp_path):
    text = document(
        *(parcel(f"T{i}", f"149999_2.0001.{i}", square(500_000 + 60 * i, 500_000)) for i in range(1, 30))
    )
    before = registry_rows()
    with pytest.raises(ImportFailed) as e:
        registry_import(write(tmp_path / "t.gml", text[: len(text) * 2 // 3]))
    assert "XML" in e.value.message and "157" in e.value.message  # where it broke
    assert registry_rows() == before


def test_million_vertices(tmp_path):
    import math

    n = 1_000_000
    ring = [
        (500_000 + 100 * math.cos(2 * math.pi * i / n), 500_000 + 100 * math.sin(2 * math.pi * i / n))
        for i in range(n)
    ]
    ring.append(ring[0])
    before = registry_rows()
    with pytest.raises(ImportFailed):
        registry_import(
            write(tmp_path / "big.gml", document(parcel("B", "149999_2.0001.1", ring, area_ha="3.1416")))
        )
    assert registry_rows() == before


def test_two_gigabytes_of_junk_fail_fast(tmp_path):
    junk = tmp_path / "junk.gml"
    with open(junk, "wb") as f:
        f.write(b"\x00\x13junk" * 100)
        f.truncate(2 * 1024**3)  # sparse: 2 GB on paper, nothing on disk
    with pytest.raises(ImportFailed) as e:
        registry_import(junk)
    assert "Nierozpoznany format pliku" in e.value.message


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(ImportFailed):
        registry_import(tmp_path / "nope.gml")
    with pytest.raises(ImportFailed):
        registry_import(write(tmp_path / "empty.gml", document()))


# ------------------------------------------------------------------------------------- OGR formats
def _geojson(tmp_path, features, name="p.geojson", crs=None) -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(props, ring):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
    }


def test_geojson_parcels_with_mapping(tmp_path):
    t = Transformer.from_crs(2180, 4326, always_xy=True)
    ring = [t.transform(e, n) for e, n in square(500_000, 500_000)]
    path = _geojson(tmp_path, [_feature({"nr": "149999_2.0001.31", "pole": 0.25}, ring)])
    with pytest.raises(ImportFailed):  # the layer must be named
        registry_import(path)
    registry_import(
        path,
        options={
            "layer": "dzialki",
            "namespace": NS,
            "mapping": {"ID_DZIALKI": "nr", "POLE_EWIDENCYJNE": "pole"},
        },
    )
    p = Parcel.objects.get(parcel_id="149999_2.0001.31")
    assert abs(p.geom.centroid.x - 500_025) < 0.01 and abs(p.geom.centroid.y - 500_025) < 0.01
    assert str(p.area_ha) == "0.2500"
    report = registry_import(
        path,
        options={
            "layer": "dzialki",
            "namespace": NS,
            "mapping": {"ID_DZIALKI": "nr", "POLE_EWIDENCYJNE": "pole"},
        },
    )
    assert report.unchanged == {"parcel": 1}
    with pytest.raises(ImportFailed):
        registry_import(path, options={"layer": "dzialki", "mapping": {"ID_DZIALKI": "no_such_field"}})


def test_shapefile_encoding_from_cpg_and_option(tmp_path):
    src = _geojson(
        tmp_path,
        [
            {
                "type": "Feature",
                "properties": {"MIEJSCOWOSC": "Żabieniec", "NUMER": "12", "ID_ADRESU": "addr-1"},
                "geometry": {"type": "Point", "coordinates": [500_000.0, 500_000.0]},
            }
        ],
        name="a.geojson",
        crs="EPSG:2180",
    )
    shp = tmp_path / "a.shp"
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(src), "-lco", "ENCODING=CP1250"], check=True
    )
    assert (tmp_path / "a.cpg").exists()
    registry_import(shp, options={"layer": "adresy", "namespace": NS})
    from layers.models import AddressPoint

    assert AddressPoint.objects.get(namespace=NS, local_id="addr-1").locality == "Żabieniec"
    # without .cpg, the encoding is given as an option
    (tmp_path / "a.cpg").unlink()
    (tmp_path / "a.shp").rename(tmp_path / "b.shp")
    for ext in ("dbf", "shx", "prj"):
        (tmp_path / f"a.{ext}").rename(tmp_path / f"b.{ext}")
    registry_import(
        tmp_path / "b.shp", options={"layer": "adresy", "namespace": NS + "2", "encoding": "cp1250"}
    )
    assert AddressPoint.objects.get(namespace=NS + "2", local_id="addr-1").locality == "Żabieniec"


def test_shapefile_without_prj(tmp_path):
    src = _geojson(
        tmp_path,
        [_feature({"ID_DZIALKI": "149999_2.0001.40", "POLE_EWID": 0.25}, square(500_000, 500_000))],
        crs="EPSG:2180",
    )
    shp = tmp_path / "n.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(src)], check=True)
    (tmp_path / "n.prj").unlink()
    before = registry_rows()
    with pytest.raises(ImportFailed) as e:
        registry_import(shp, options={"layer": "dzialki"})
    assert ".prj" in e.value.message
    assert registry_rows() == before
    registry_import(
        shp,
        options={
            "layer": "dzialki",
            "srs": "EPSG:2180",
            "namespace": NS,
            "mapping": {"POLE_EWIDENCYJNE": "POLE_EWID"},
        },
    )
    assert Parcel.objects.filter(parcel_id="149999_2.0001.40").exists()


def test_geopackage_buildings(tmp_path):
    registry_import(
        write(tmp_path / "p.gml", document(parcel("G1", "149999_2.0001.50", square(500_000, 500_000))))
    )
    src = _geojson(
        tmp_path,
        [
            _feature(
                {"id": "149999_2.0001.50.1_BUD", "f": "m", "k": 2, "pow": 100.5}, square(500_010, 500_010, 10)
            )
        ],
        crs="EPSG:2180",
    )
    gpkg = tmp_path / "b.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(src), "-nln", "budynki"], check=True)
    registry_import(
        gpkg,
        options={
            "layer": "budynki",
            "namespace": NS,
            "mapping": {
                "ID_BUDYNKU": "id",
                "FUNKCJA": "f",
                "KONDYGNACJE": "k",
                "POWIERZCHNIA_ZABUDOWY": "pow",
            },
        },
    )
    b = Building.objects.get(building_id="149999_2.0001.50.1_BUD")
    assert b.kst_type == "m" and b.storeys_above == 2 and str(b.built_up_area_m2) == "100.50"


@pytest.mark.parametrize("epsg", [2176, 2177, 2178, 2179, 2180])
def test_every_polish_crs_northing_first(tmp_path, epsg):
    """PL-2000 zones 5–8 and PUWG-1992 in URN form (northing first) land in the same place."""
    to_zone = Transformer.from_crs(2180, epsg, always_xy=True)
    ring = [to_zone.transform(e, n) for e, n in square(640_000, 470_000, 40)]
    doc = document(
        parcel(
            f"Z{epsg}", f"149999_2.0001.{epsg}", ring, srs=f"urn:ogc:def:crs:EPSG::{epsg}", area_ha="0.1600"
        )
    )
    registry_import(write(tmp_path / "z.gml", doc))
    c = Parcel.objects.get(local_id=f"Z{epsg}").geom.centroid
    assert abs(c.x - 640_020) < 0.02 and abs(c.y - 470_020) < 0.02


def test_strict_policy_refuses_duplicates_and_writes_nothing(tmp_path):
    doc = document(
        parcel("S1", "149999_2.0001.60", square(500_000, 500_000)),
        parcel("S2", "149999_2.0001.60", square(500_100, 500_000)),
    )
    before = registry_rows()
    with pytest.raises(ImportFailed) as e:
        registry_import(write(tmp_path / "dup.gml", doc), policy="strict")
    assert "149999_2.0001.60" in e.value.message
    assert registry_rows() == before
