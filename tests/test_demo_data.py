"""The synthetic data set: deterministic for a seed, valid, and all-or-nothing to load."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from gisportal.core.identifiers import is_building_id, is_kw_number, is_parcel_id
from layers.demo.generator import DemoGenerator
from layers.models import AddressPoint, Building, Parcel, Precinct, RestrictedLandRegisterEntry

from .conftest import DEMO_PARCELS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def _snapshot(parcels: int, seed: int) -> list:
    gen = DemoGenerator(parcels, seed)
    out = []
    for batch in gen.cells({"141804_4": 1, "141804_5": 2}):
        out.extend((p.parcel_id, p.area_ha, tuple(p.ring), tuple(p.land_uses)) for p in batch.parcels)
        out.extend((b.building_id, tuple(b.ring)) for b in batch.buildings)
        out.extend((a.street, a.number, a.point) for a in batch.addresses)
    return out


def test_same_seed_same_data():
    assert _snapshot(1000, 3) == _snapshot(1000, 3)


def test_other_seed_other_data_same_outline():
    a, b = _snapshot(1000, 3), _snapshot(1000, 4)
    assert a != b
    # the outlines do not depend on the seed (only vertices on straight edges, rounded to 1 cm, differ)
    ua = {u.teryt: u.polygons for u in DemoGenerator(1000, 3).admin_units()[0]}
    ub = {u.teryt: u.polygons for u in DemoGenerator(1000, 4).admin_units()[0]}
    assert ua.keys() == ub.keys()
    for teryt in ua:
        assert ua[teryt].symmetric_difference(ub[teryt]).area < 1e-6 * ua[teryt].area, teryt


@pytest.mark.parametrize("n", [1000, 1234, 5000])
def test_exact_parcel_count(n):
    gen = DemoGenerator(n, 1)
    assert sum(len(b.parcels) for b in gen.cells({"141804_4": 1, "141804_5": 2})) == n


def sql(q: str):
    with connection.cursor() as cur:
        cur.execute(q)
        return cur.fetchall()


def test_loaded_counts(demo_data):
    assert Parcel.objects.count() == DEMO_PARCELS == demo_data["parcels"]
    assert Precinct.objects.filter(unit__unit_id="141804_4").count() == 20
    assert Precinct.objects.filter(unit__unit_id="141804_5").count() == 36
    assert Building.objects.count() > DEMO_PARCELS // 10
    assert AddressPoint.objects.count() > 0
    assert sql("SELECT count(*) FROM layers_zoningplan")[0][0] == 6


def test_geometries_valid(demo_data):
    for table in (
        "layers_parcel",
        "layers_precinct",
        "layers_building",
        "layers_administrativeunit",
        "layers_landusecontour",
        "layers_soilclasscontour",
        "layers_zoningarea",
        "layers_zoningplan",
    ):
        assert sql(f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)")[0][0] == 0, table  # noqa: S608


def test_parcels_tile_precincts_without_overlaps_or_gaps(demo_data):
    assert (
        sql("""SELECT count(*) FROM layers_parcel p JOIN layers_precinct r ON r.id = p.precinct_id
                  WHERE NOT ST_CoveredBy(p.geom, r.geom)""")[0][0]
        == 0
    )
    assert (
        sql("""SELECT count(*) FROM layers_parcel a JOIN layers_parcel b ON a.id < b.id AND a.geom && b.geom
                  AND ST_Relate(a.geom, b.geom, '2********')""")[0][0]
        == 0
    )
    # no gaps: the parcels of each precinct add up to its area (to a square millimetre)
    worst = sql("""SELECT max(abs(r.a - p.a)) FROM (SELECT id, ST_Area(geom) a FROM layers_precinct) r
                   JOIN (SELECT precinct_id, sum(ST_Area(geom)) a FROM layers_parcel GROUP BY 1) p ON p.precinct_id = r.id""")[
        0
    ][0]
    assert worst < 1e-3
    # precincts tile the gmina
    diff = sql("""SELECT abs(ST_Area(g.geom) - (SELECT sum(ST_Area(geom)) FROM layers_precinct))
                  FROM layers_administrativeunit g WHERE teryt = '1418043'""")[0][0]
    assert diff < 1e-2
    assert (
        sql("""SELECT count(*) FROM layers_precinct a JOIN layers_precinct b ON a.id < b.id AND a.geom && b.geom
                  AND ST_Relate(a.geom, b.geom, '2********')""")[0][0]
        == 0
    )


def test_inside_the_real_extent_of_the_gmina(demo_data):
    lon0, lat0, lon1, lat1 = sql("""SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM
        (SELECT ST_Extent(ST_Transform(geom, 4326))::geometry e FROM layers_parcel) s""")[0]
    # DOMAIN.md §12: lon 20.88–21.13, lat 51.95–52.12 (estimate ±2–3 km)
    assert 20.85 < lon0 < lon1 < 21.16 and 51.93 < lat0 < lat1 < 52.15


def test_buildings_inside_their_parcels(demo_data):
    assert (
        sql("""SELECT count(*) FROM layers_building b JOIN layers_building_parcels bp ON bp.building_id = b.id
                  JOIN layers_parcel p ON p.id = bp.parcel_id WHERE NOT ST_Within(b.geom, p.geom)""")[0][0]
        == 0
    )
    for bid, pid in Building.objects.values_list("building_id", "parcels__parcel_id")[:500]:
        assert is_building_id(bid) and bid.startswith(pid + ".")


def test_areas_consistent(demo_data):
    assert sql("SELECT count(*) FROM layers_parcel WHERE abs(area_ha * 10000 - ST_Area(geom)) > 1")[0][0] == 0
    assert (
        sql("""SELECT count(*) FROM layers_parcel p JOIN (SELECT parcel_id, sum(area_ha) s FROM layers_parcellanduse GROUP BY 1) l
                  ON l.parcel_id = p.id WHERE l.s <> p.area_ha""")[0][0]
        == 0
    )
    assert (
        sql(
            "SELECT count(*) FROM layers_parcel p WHERE NOT EXISTS (SELECT 1 FROM layers_parcellanduse l WHERE l.parcel_id = p.id)"
        )[0][0]
        == 0
    )
    # land-use contours cover the parcels (split points are rounded to 1 cm: a few m² over the gmina)
    diff, total = sql("""SELECT abs(sum(ST_Area(geom)) - (SELECT sum(ST_Area(geom)) FROM layers_parcel)),
                                (SELECT sum(ST_Area(geom)) FROM layers_parcel) FROM layers_landusecontour""")[
        0
    ]
    assert diff < 1e-7 * total


def test_identifiers_well_formed_and_unique(demo_data):
    ids = list(Parcel.objects.values_list("parcel_id", flat=True))
    assert len(ids) == len(set(ids))
    assert all(is_parcel_id(i) for i in ids)
    assert any("/" in i for i in ids)
    assert any(".AR_" in i for i in ids)
    assert all(i.startswith(("141804_4.", "141804_5.")) for i in ids)
    assert all(
        is_kw_number(k)
        for k in RestrictedLandRegisterEntry.objects.values_list("kw_number", flat=True)[:2000]
    )
    postcodes = set(AddressPoint.objects.values_list("postcode", flat=True))
    assert postcodes and all("05-500" <= p <= "05-509" for p in postcodes)
    assert (
        AddressPoint.objects.exclude(street="").exists() and AddressPoint.objects.filter(street="").exists()
    )


def test_precinct_names_from_domain(demo_data):
    names = set(Precinct.objects.filter(unit__unit_id="141804_5").values_list("name", flat=True))
    assert {"Józefosław I", "Zalesie Górne", "Chylice", "Głosków"} <= names
    assert all(len(n) == 4 and n.isdigit() for n in Precinct.objects.values_list("number", flat=True))


@pytest.mark.parametrize("n", ["-5", "0", "999", "999999999"])
def test_bad_sizes_rejected(n, demo_data):
    before = Parcel.objects.count()
    with pytest.raises(CommandError) as e:
        call_command("demo_data", "--parcels", n, "--replace", verbosity=0)
    assert "1000" in str(e.value)
    assert Parcel.objects.count() == before


def test_refuses_to_load_twice(demo_data):
    with pytest.raises(CommandError):
        call_command("demo_data", "--parcels", "1000", verbosity=0)
    call_command("demo_data", "--parcels", "1000", "--if-empty", verbosity=0)  # a no-op
    assert Parcel.objects.count() == DEMO_PARCELS


def _run_cli(args, database_url):
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "gisportal.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_negative_size_exits_non_zero():
    r = _run_cli(
        ["demo-data", "--parcels", "-1"],
        os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/gisportal"),
    )
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "100" in r.stderr


def test_cli_database_without_postgis():
    import psycopg

    name = "gisportal_test_nopostgis"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        try:
            r = _run_cli(["demo-data", "--parcels", "1000"], f"postgis://postgres@127.0.0.1:5432/{name}")
            assert r.returncode != 0
            assert "PostGIS" in r.stderr
            assert "Traceback" not in r.stderr
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
