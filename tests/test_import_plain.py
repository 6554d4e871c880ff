"""Import of the layers that are no IIP registry objects: `mpzp` (zoning plans and their areas) and
`granice` (administrative units) from GeoPackage, Shapefile and GeoJSON: identity, replacement of a
plan's areas, re-import without change, field mapping, CRS, validation policies, hostile values."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import call_command
from pyproj import Transformer

from layers.actions import import_job_run, registry_import
from layers.importing.base import ImportFailed
from layers.models import AdministrativeUnit, ImportJob, ZoningArea, ZoningPlan
from layers.selectors import data_version

from .egib_files import document, parcel, square, write

pytestmark = pytest.mark.django_db
# far from the demo data set (Piaseczno, N 455–475 km): nothing of the demo overlaps these tests
E0, N0 = 650_000.0, 300_000.0
PLAN_A = {
    "UCHWALA": "XLII/123/2021",
    "PLAN": "Miejscowy plan zagospodarowania przestrzennego „Zagórze Północ”",
    "DATA_UCHWALY": "2021-03-24",
}
PLAN_B = {"UCHWALA": "XLIII/130/2021", "PLAN": "Plan miejscowy „Łęgi”", "DATA_UCHWALY": "12.05.2021"}
MN = "teren zabudowy mieszkaniowej jednorodzinnej"


# ------------------------------------------------------------------------------------- helpers
def _feature(props: dict, ring) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
    }


def _geojson(path: Path, features: list[dict], crs: str | None = "EPSG:2180") -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _ogr(dst: Path, src: Path, driver: str, *extra: str) -> Path:
    subprocess.run(["ogr2ogr", "-f", driver, str(dst), str(src), *extra], check=True, capture_output=True)
    return dst


def _area(plan: dict, label: str, ring, symbol: str = "", description: str = MN, **more) -> dict:
    return _feature(
        {**plan, "OZNACZENIE": label, "SYMBOL": symbol, "PRZEZNACZENIE": description, **more}, ring
    )


def _mpzp(**options) -> dict:
    return {"layer": "mpzp", **options}


def _granice(**options) -> dict:
    return {"layer": "granice", **options}


def _unit(teryt: str, level: str, name: str, ring, parent=None) -> AdministrativeUnit:
    geom = GEOSGeometry(f"MULTIPOLYGON((({', '.join(f'{e} {n}' for e, n in ring)})))", srid=2180)
    return AdministrativeUnit.objects.create(teryt=teryt, level=level, name=name, geom=geom, parent=parent)


def _plans_elsewhere(exclude: set[str]) -> list[tuple]:
    """Everything about the plans not named in `exclude` (the demo's, ...), to show they are left alone."""
    return [
        (
            p.pk,
            p.name,
            p.resolution_no,
            p.resolution_date,
            p.geom.wkb.hex(),
            sorted(p.areas.values_list("pk", "label")),
        )
        for p in ZoningPlan.objects.exclude(resolution_no__in=exclude).order_by("pk")
    ]


def _vertices(geom) -> set[tuple[float, float]]:
    return {(round(x, 2), round(y, 2)) for poly in geom.coords for ring in poly for x, y in ring}


@pytest.fixture
def gmina():
    """A gmina of the register around the test plans (their gmina is derived from it)."""
    voiv = _unit("26", "voivodeship", "świętokrzyskie", square(E0 - 20_000, N0 - 20_000, 60_000))
    county = _unit("2604", "county", "powiat testowy", square(E0 - 10_000, N0 - 10_000, 30_000), voiv)
    return _unit("2604011", "gmina", "Gmina Testowa", square(E0 - 5_000, N0 - 5_000, 10_000), county)


def _plan_file(path: Path, *areas: dict) -> Path:
    return _geojson(path, list(areas))


def _v1(tmp_path: Path) -> Path:
    return _plan_file(
        tmp_path / "v1.geojson",
        _area(PLAN_A, "1MN", square(E0, N0, 100), "MN"),
        _area(PLAN_A, "2U", square(E0 + 100, N0, 100), "U", "teren zabudowy usługowej"),
        _area(
            PLAN_A,
            "3KDD",
            [(E0, N0 + 100), (E0 + 200, N0 + 100), (E0 + 200, N0 + 112), (E0, N0 + 112), (E0, N0 + 100)],
            "KDD",
            "teren drogi publicznej klasy dojazdowej",
        ),
        _area(PLAN_B, "1R", square(E0 + 1000, N0, 300), "", "teren rolniczy"),  # SYMBOL from the label
    )


# ------------------------------------------------------------------------------------- mpzp
def test_mpzp_geopackage_creates_plans_and_identical_reimport_changes_nothing(tmp_path, gmina):
    gpkg = _ogr(tmp_path / "mpzp.gpkg", _v1(tmp_path), "GPKG", "-nln", "tereny")
    elsewhere = _plans_elsewhere({PLAN_A["UCHWALA"], PLAN_B["UCHWALA"]})
    before = data_version()
    report = registry_import(gpkg, options=_mpzp())
    assert data_version() > before  # bumped in the import's transaction
    assert report.read == {"zoning": 4} and report.rejected == {}
    assert report.written == {"zoning": 4, "plan": 2}
    assert "CS92" in report.source_crs

    a = ZoningPlan.objects.get(resolution_no="XLII/123/2021")
    assert a.name == PLAN_A["PLAN"] and a.resolution_date == date(2021, 3, 24) and a.in_force_from is None
    assert a.teryt_gmina == "2604011"  # the gmina of the register the plan lies in
    assert a.plan_id == "MPZP-2604011-XLII/123/2021"
    assert abs(a.geom.area - (100 * 100 * 2 + 200 * 12)) < 0.01  # the union of its areas
    rows = {z.label: z for z in a.areas.all()}
    assert {(z.label, z.symbol, z.description) for z in rows.values()} == {
        ("1MN", "MN", MN),
        ("2U", "U", "teren zabudowy usługowej"),
        ("3KDD", "KDD", "teren drogi publicznej klasy dojazdowej"),
    }
    assert _vertices(rows["1MN"].geom) == {(E0, N0), (E0 + 100, N0), (E0 + 100, N0 + 100), (E0, N0 + 100)}
    assert rows["1MN"].geom.geom_type == "MultiPolygon"
    b = ZoningPlan.objects.get(resolution_no="XLIII/130/2021")
    assert b.resolution_date == date(2021, 5, 12) and b.name == "Plan miejscowy „Łęgi”"
    assert [(z.label, z.symbol) for z in b.areas.all()] == [("1R", "R")]
    assert any("1MN → MN" in n for n in report.notes)
    assert _plans_elsewhere({PLAN_A["UCHWALA"], PLAN_B["UCHWALA"]}) == elsewhere

    snapshot = sorted(
        ZoningArea.objects.filter(plan__in=[a, b]).values_list("pk", "label", "symbol", "description")
    )
    version = data_version()
    again = registry_import(gpkg, options=_mpzp())
    assert again.written == {} and again.retired == {}
    assert again.unchanged == {"zoning": 4, "plan": 2}
    assert data_version() == version  # nothing changed: the map caches stay
    assert (
        sorted(ZoningArea.objects.filter(plan__in=[a, b]).values_list("pk", "label", "symbol", "description"))
        == snapshot
    )

    # a dry run reports and writes nothing
    plans = ZoningPlan.objects.count()
    dry = registry_import(
        _plan_file(tmp_path / "dry.geojson", _area({**PLAN_A, "UCHWALA": "L/1/2022"}, "1MN", square(E0, N0))),
        options=_mpzp(),
        dry_run=True,
    )
    assert dry.written == {"zoning": 1, "plan": 1} and ZoningPlan.objects.count() == plans


def test_mpzp_changed_file_replaces_the_areas_of_its_plans_only(tmp_path, gmina):
    registry_import(_v1(tmp_path), options=_mpzp())
    a = ZoningPlan.objects.get(resolution_no="XLII/123/2021")
    b = ZoningPlan.objects.get(resolution_no="XLIII/130/2021")
    before = {z.label: z.pk for z in a.areas.all()}
    b_areas = sorted(b.areas.values_list("pk", "label", "symbol"))
    elsewhere = _plans_elsewhere({PLAN_A["UCHWALA"]})  # plan B (not in the new file) and the demo plans

    changed = {
        **PLAN_A,
        "PLAN": "Miejscowy plan „Zagórze Północ” – tekst jednolity",
        "DATA_UCHWALY": "2021-04-07",
    }
    v2 = _plan_file(
        tmp_path / "v2.geojson",
        _area(changed, "1MN", square(E0, N0, 150), "MN"),  # larger
        _area(changed, "2U", square(E0 + 150, N0, 100), "U", "teren zabudowy usługowej"),  # moved
        _area(changed, "4ZP", square(E0, N0 + 150, 50), "ZP", "teren zieleni urządzonej"),  # new; 3KDD gone
        _area(changed, "5U", square(E0 + 300, N0, 50), "U", "teren zabudowy usługowej"),
    )
    report = registry_import(v2, options=_mpzp())
    a.refresh_from_db()
    assert a.name == changed["PLAN"] and a.resolution_date == date(2021, 4, 7)
    after = {z.label: z for z in a.areas.all()}
    assert set(after) == {"1MN", "2U", "4ZP", "5U"}  # exactly the file's areas
    assert after["1MN"].pk == before["1MN"] and abs(after["1MN"].geom.area - 150 * 150) < 0.01
    assert abs(after["2U"].geom.centroid.x - (E0 + 200)) < 0.01
    assert not ZoningArea.objects.filter(pk=before["3KDD"]).exists()
    assert abs(a.geom.area - (150 * 150 + 100 * 100 + 50 * 50 + 50 * 50)) < 0.01
    assert report.written == {"zoning": 4, "plan": 1} and report.retired == {"zoning": 1}
    assert sorted(b.areas.values_list("pk", "label", "symbol")) == b_areas
    assert _plans_elsewhere({PLAN_A["UCHWALA"]}) == elsewhere

    # only one area changes: the others keep their identifiers (ID_TERENU)
    v3 = json.loads(v2.read_text())
    v3["features"][3]["properties"]["PRZEZNACZENIE"] = "teren usług publicznych"
    report = registry_import(_geojson(tmp_path / "v3.geojson", v3["features"]), options=_mpzp())
    assert report.written == {"zoning": 1, "plan": 1} and report.unchanged == {"zoning": 3}
    assert {z.label: z.pk for z in a.areas.all()} == {k: z.pk for k, z in after.items()}


def test_mpzp_shapefile_cp1250_in_cs2000_with_a_mapping_file(tmp_path):
    # the file's own coordinates in EPSG:2178 (E, N); expected in 2180 by pyproj in authority order (N, E)
    ring = [
        (7_510_000.0, 5_580_000.0),
        (7_510_080.0, 5_580_000.0),
        (7_510_080.0, 5_580_060.0),
        (7_510_000.0, 5_580_060.0),
        (7_510_000.0, 5_580_000.0),
    ]
    t = Transformer.from_crs(2178, 2180)
    expected = set()
    for e, n in ring:
        n2, e2 = t.transform(n, e)
        expected.add((round(e2, 2), round(n2, 2)))
    name = "Plan miejscowy „Łąki Żółte” w Ćmielowie"
    opis = "teren zabudowy usługowej – ślusarnia, źródło; zieleń"
    src = _geojson(
        tmp_path / "src.geojson",
        [
            _feature(
                {
                    "nr_uchw": "XV/88/2020",
                    "nazwa": name,
                    "data_uchw": "2020-11-30",
                    "oznacz": "1U",
                    "symbol_p": "U",
                    "opis": opis,
                    "teryt_gm": "2604011",
                },
                ring,
            )
        ],
        crs="EPSG:2178",
    )
    shp = _ogr(tmp_path / "plan.shp", src, "ESRI Shapefile", "-lco", "ENCODING=CP1250")
    assert (tmp_path / "plan.cpg").read_text().strip() in ("1250", "CP1250")
    assert "Ł".encode("cp1250") in (tmp_path / "plan.dbf").read_bytes()
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "UCHWALA": "nr_uchw",
                "PLAN": "nazwa",
                "DATA_UCHWALY": "data_uchw",
                "OZNACZENIE": "oznacz",
                "SYMBOL": "symbol_p",
                "PRZEZNACZENIE": "opis",
                "TERYT_GMINY": "teryt_gm",
            }
        ),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("import", str(shp), "--layer", "mpzp", "--mapping", str(mapping), stdout=out)
    assert "zoning" in out.getvalue() and "plan" in out.getvalue()
    plan = ZoningPlan.objects.get(resolution_no="XV/88/2020")
    assert plan.name == name and plan.teryt_gmina == "2604011" and plan.resolution_date == date(2020, 11, 30)
    z = plan.areas.get()
    assert (z.label, z.symbol, z.description) == ("1U", "U", opis)
    got = _vertices(z.geom)
    assert len(got) == 4
    for e, n in expected:
        assert min(abs(e - x) + abs(n - y) for x, y in got) < 0.01
    assert 600_000 < z.geom.centroid.x < 800_000  # x = easting

    # without the mapping the file's fields are unknown: a clear error, nothing written
    with pytest.raises(ImportFailed) as e:
        registry_import(shp, options=_mpzp())
    assert "UCHWALA" in e.value.message
    with pytest.raises(ImportFailed):
        registry_import(
            shp, options=_mpzp(mapping={"LOKALNY_ID": "nr_uchw"})
        )  # IIP fields have no meaning here


def test_mpzp_plan_rules(tmp_path, gmina):
    far = (200_000.0, 750_000.0)  # no gmina of the register there
    rows = [
        _area({**PLAN_A, "UCHWALA": "I/1/2020"}, "1MN", square(E0, N0), "MN"),
        _area(
            {**PLAN_A, "UCHWALA": "I/1/2020", "DATA_UCHWALY": "2020-02-02"}, "2MN", square(E0 + 50, N0), "MN"
        ),  # dates disagree
        _area({**PLAN_A, "UCHWALA": "I/2/2020"}, "1MN", square(E0, N0 + 100), "MN"),
        _area(
            {**PLAN_A, "UCHWALA": "I/2/2020"}, "1MN", square(E0 + 50, N0 + 100), "MW"
        ),  # same label, other designation
        _area({**PLAN_A, "UCHWALA": "I/3/2020"}, "1MN", square(E0, N0 + 200), "MN"),
        _area(
            {**PLAN_A, "UCHWALA": "I/3/2020"}, "1MN", square(E0 + 50, N0 + 200), "MN"
        ),  # a second part of 1MN
        _area(
            {**PLAN_A, "UCHWALA": "I/4/2020", "DATA_UCHWALY": ""}, "1MN", square(E0, N0 + 300), "MN"
        ),  # new plan, no date
        _area({**PLAN_A, "UCHWALA": "I/5/2020"}, "1MN", square(*far), "MN"),  # lies in no gmina
        _area(
            {"UCHWALA": "I/6/2020", "PLAN": "", "DATA_UCHWALY": "2020-06-06", "TERYT_GMINY": "2604011"},
            "12MN/U",
            square(*far),
            "",
        ),  # named after its resolution, symbol from the label
        _area(
            {**PLAN_A, "UCHWALA": "I/7/2020", "DATA_UCHWALY": "31.02.2020"}, "1MN", square(E0, N0 + 400), "MN"
        ),
        _area({**PLAN_A, "UCHWALA": "I/7/2020"}, "2MN", square(E0 + 50, N0 + 400), "MN"),
        _area({**PLAN_A, "UCHWALA": "I/8/2020", "TERYT_GMINY": "260401"}, "1MN", square(E0, N0 + 500), "MN"),
        _area({**PLAN_A, "UCHWALA": ""}, "1MN", square(E0, N0 + 600), "MN"),
    ]
    report = registry_import(_plan_file(tmp_path / "rules.geojson", *rows), options=_mpzp())
    codes = {
        (p["code"], p["id"].split()[0] if p["id"] else "")
        for p in report.problems
        if p["severity"] == "error"
    }
    assert ("plan_inconsistent", "I/1/2020") in codes
    assert ("label_duplicate", "I/2/2020") in codes
    assert ("date_missing", "I/4/2020") in codes
    assert ("gmina_unknown", "I/5/2020") in codes
    assert ("date_format", "I/7/2020") in codes and ("plan_incomplete", "I/7/2020") in codes
    assert ("teryt_format", "I/8/2020") in codes
    assert any(code == "resolution_missing" for code, _ident in codes)
    created = set(
        ZoningPlan.objects.filter(resolution_no__startswith="I/").values_list("resolution_no", flat=True)
    )
    assert created == {"I/3/2020", "I/6/2020"}
    merged = ZoningPlan.objects.get(resolution_no="I/3/2020").areas.get()
    assert merged.label == "1MN" and abs(merged.geom.area - 2 * 50 * 50) < 0.01
    named = ZoningPlan.objects.get(resolution_no="I/6/2020")
    assert "I/6/2020" in named.name and named.teryt_gmina == "2604011"
    assert [(z.label, z.symbol) for z in named.areas.all()] == [("12MN/U", "MN/U")]
    assert report.read == {"zoning": 13}
    assert report.rejected == {"zoning": 10}  # every row of a refused plan, and the row without a plan
    assert report.written == {"zoning": 2, "plan": 2}


def test_mpzp_invalid_geometry_reject_repair_strict(tmp_path, gmina):
    bowtie = [(E0, N0), (E0 + 50, N0 + 50), (E0 + 50, N0), (E0, N0 + 50), (E0, N0)]
    path = _plan_file(
        tmp_path / "bowtie.geojson",
        _area(PLAN_A, "1MN", bowtie, "MN"),
        _area(PLAN_A, "2U", square(E0 + 100, N0), "U"),
        _area(PLAN_B, "1R", square(E0 + 1000, N0), "R"),
    )
    report = registry_import(path, policy="reject", options=_mpzp())
    assert not ZoningPlan.objects.filter(
        resolution_no=PLAN_A["UCHWALA"]
    ).exists()  # the plan changes only as a whole
    assert ZoningPlan.objects.filter(resolution_no=PLAN_B["UCHWALA"]).exists()
    bad = next(p for p in report.problems if p["code"] == "geometry_invalid")
    assert "Self-intersection" in bad["message"] and bad["action"] == "rejected" and bad["line"] == 1
    assert any(p["code"] == "plan_incomplete" for p in report.problems)
    assert report.rejected == {"zoning": 2} and report.written == {"zoning": 1, "plan": 1}

    report = registry_import(path, policy="repair", options=_mpzp())
    mn = ZoningArea.objects.get(plan__resolution_no=PLAN_A["UCHWALA"], label="1MN")
    assert mn.geom.valid and mn.geom.geom_type == "MultiPolygon" and len(mn.geom) == 2
    assert report.repaired == {"zoning": 1} and any(p["code"] == "geometry_repaired" for p in report.problems)
    assert report.unchanged == {"zoning": 1, "plan": 1}  # plan B
    again = registry_import(path, policy="repair", options=_mpzp())
    assert again.written == {} and again.unchanged == {"zoning": 3, "plan": 2}

    strict = _plan_file(
        tmp_path / "strict.geojson",
        _area({**PLAN_A, "UCHWALA": "S/1/2024"}, "2U", square(E0 + 100, N0), "U"),
        _area({**PLAN_A, "UCHWALA": "S/1/2024"}, "1MN", bowtie, "MN"),
    )
    before = ZoningPlan.objects.count(), ZoningArea.objects.count()
    with pytest.raises(ImportFailed) as e:
        registry_import(strict, policy="strict", options=_mpzp())
    assert "Self-intersection" in e.value.message
    assert (ZoningPlan.objects.count(), ZoningArea.objects.count()) == before


# ------------------------------------------------------------------------------------- granice
G0 = (700_000.0, 650_000.0)  # warmińsko-mazurskie, far from the demo


def _granice_rows(county_name: str = "powiat bartoszycki") -> list[dict]:
    e, n = G0
    return [
        _feature(
            {"TERYT": "28", "POZIOM": "województwo", "NAZWA": "warmińsko-mazurskie"}, square(e, n, 40_000)
        ),
        _feature(
            {"TERYT": "2801", "NAZWA": county_name}, square(e, n, 20_000)
        ),  # POZIOM from the code's length
        _feature({"TERYT": "2801011", "POZIOM": "gmina", "NAZWA": "Bartoszyce"}, square(e, n, 5_000)),
        _feature(
            {"TERYT": "2801022", "POZIOM": "GMI", "NAZWA": "Górowo Iławeckie"}, square(e + 5_000, n, 5_000)
        ),
    ]


def test_granice_geojson_upsert_by_teryt_and_identical_reimport(tmp_path):
    e, n = G0
    old = _unit("2801", "county", "powiat stary", square(e, n, 1_000))
    other = _unit("2802", "county", "powiat braniewski", square(e + 20_000, n, 20_000))  # not in the file
    path = _geojson(tmp_path / "granice.geojson", _granice_rows())
    before = data_version()
    report = registry_import(path, options=_granice())
    assert data_version() > before
    assert report.read == {"admin": 4} and report.written == {"admin": 4} and report.rejected == {}
    units = {u.teryt: u for u in AdministrativeUnit.objects.filter(teryt__startswith="28")}
    assert {t: (u.level, u.name) for t, u in units.items()} == {
        "28": ("voivodeship", "warmińsko-mazurskie"),
        "2801": ("county", "powiat bartoszycki"),
        "2801011": ("gmina", "Bartoszyce"),
        "2801022": ("gmina", "Górowo Iławeckie"),
        "2802": ("county", "powiat braniewski"),
    }
    assert units["2801"].pk == old.pk and abs(units["2801"].geom.area - 20_000**2) < 1  # updated in place
    assert units["2801"].parent_id == units["28"].pk
    assert units["2801011"].parent_id == units["2801"].pk and units["2801022"].parent_id == units["2801"].pk
    assert units["2801011"].geom.geom_type == "MultiPolygon"
    assert _vertices(units["2801011"].geom) == {
        (e, n),
        (e + 5_000, n),
        (e + 5_000, n + 5_000),
        (e, n + 5_000),
    }
    other.refresh_from_db()
    assert (other.name, other.parent_id) == ("powiat braniewski", None)  # left alone

    version = data_version()
    again = registry_import(path, options=_granice())
    assert again.written == {} and again.unchanged == {"admin": 4} and data_version() == version


def test_granice_shapefiles_cp1250_from_cpg_and_from_option(tmp_path):
    """An import with --encoding must not disable the .cpg of the next Shapefile (a process-wide GDAL option)."""
    e, n = G0
    rows = _granice_rows()
    first = _ogr(
        tmp_path / "first.shp",
        _geojson(tmp_path / "first.geojson", rows[:2]),
        "ESRI Shapefile",
        "-lco",
        "ENCODING=CP1250",
    )
    (tmp_path / "first.cpg").unlink()
    registry_import(first, options=_granice(encoding="cp1250"))
    assert AdministrativeUnit.objects.get(teryt="28").name == "warmińsko-mazurskie"
    renamed = [
        *rows[:2],
        _feature(
            {"TERYT": "2801022", "NAZWA": "Górowo Iławeckie – gmina wiejska"}, square(e + 5_000, n, 5_000)
        ),
    ]
    second = _ogr(
        tmp_path / "second.shp",
        _geojson(tmp_path / "second.geojson", renamed),
        "ESRI Shapefile",
        "-lco",
        "ENCODING=CP1250",
    )
    assert (tmp_path / "second.cpg").exists()
    report = registry_import(second, options=_granice())
    assert AdministrativeUnit.objects.get(teryt="2801022").name == "Górowo Iławeckie – gmina wiejska"
    assert report.written == {"admin": 1} and report.unchanged == {"admin": 2}


def test_granice_bad_teryt_codes(tmp_path):
    e, n = G0
    bad = ["141804", "1418X43", "15", "1400", "1418006", "1418046", "14180431", ""]
    rows = [
        _feature({"TERYT": code, "NAZWA": f"zła {i}"}, square(e + 100 * i, n, 50))
        for i, code in enumerate(bad)
    ]
    rows.append(
        _feature({"TERYT": "2801", "POZIOM": "gmina", "NAZWA": "powiat"}, square(e, n + 500, 50))
    )  # level disagrees
    rows.append(
        _feature({"TERYT": "2801033", "POZIOM": "miasto", "NAZWA": "x"}, square(e, n + 600, 50))
    )  # unknown level
    rows.append(_feature({"TERYT": "2801044", "NAZWA": ""}, square(e, n + 700, 50)))  # no name
    rows.append(_feature({"TERYT": "2801055", "NAZWA": "Sępopol"}, square(e, n + 800, 50)))
    rows.append(
        _feature({"TERYT": "2801055", "NAZWA": "Sępopol"}, square(e + 50, n + 800, 50))
    )  # a second part: merged
    rows.append(
        _feature({"TERYT": "2801055", "NAZWA": "Sępopol II"}, square(e + 200, n + 800, 50))
    )  # a clash: rejected
    rows.append(
        {"type": "Feature", "properties": {"TERYT": "2801062", "NAZWA": "Bez granic"}, "geometry": None}
    )
    before = AdministrativeUnit.objects.count()
    report = registry_import(_geojson(tmp_path / "bad.geojson", rows), options=_granice())
    assert report.read == {"admin": len(rows)}
    assert report.rejected == {"admin": len(bad) + 5} and report.written == {"admin": 1}
    problems = {p["id"]: p for p in report.problems}
    assert "7" in problems["141804"]["message"]  # a gmina code needs the type digit
    assert {problems[c]["code"] for c in bad} == {"teryt_format"}
    assert problems["2801"]["code"] == "level_mismatch" and problems["2801033"]["code"] == "level_unknown"
    assert AdministrativeUnit.objects.count() == before + 1
    assert problems["2801062"]["code"] == "geometry_missing"
    assert [p["line"] for p in report.problems if p["code"] == "duplicate"] == [len(bad) + 6]
    sepopol = AdministrativeUnit.objects.get(teryt="2801055")
    assert sepopol.name == "Sępopol" and abs(sepopol.geom.area - 2 * 50 * 50) < 0.01
    assert sepopol.parent_id is None and len(report.notes) == 2  # parts merged; no parent unit 2801
    with pytest.raises(ImportFailed):
        registry_import(
            _geojson(tmp_path / "strict.geojson", rows[:1] + rows[-4:-3]), policy="strict", options=_granice()
        )
    assert AdministrativeUnit.objects.count() == before + 1

    # a numeric field has dropped the leading zero of voivodeship 02
    numeric = [
        _feature({"TERYT": 2, "NAZWA": "dolnośląskie"}, square(e, n, 5_000)),
        _feature({"TERYT": 201011, "NAZWA": "Bolesławiec"}, square(e, n, 1_000)),
    ]
    report = registry_import(_geojson(tmp_path / "numeric.geojson", numeric), options=_granice())
    assert report.written == {"admin": 2}
    assert AdministrativeUnit.objects.get(teryt="02").level == "voivodeship"
    assert AdministrativeUnit.objects.get(teryt="0201011").name == "Bolesławiec"
    assert {p["code"] for p in report.problems} == {"teryt_number"}


def test_granice_invalid_geometry_reject_repair_strict(tmp_path):
    e, n = G0
    bowtie = [(e, n), (e + 50, n + 50), (e + 50, n), (e, n + 50), (e, n)]
    rows = [
        _feature({"TERYT": "2801011", "NAZWA": "Bartoszyce"}, bowtie),
        _feature({"TERYT": "2801022", "NAZWA": "Górowo Iławeckie"}, square(e + 100, n)),
    ]
    path = _geojson(tmp_path / "bowtie.geojson", rows)
    report = registry_import(path, options=_granice())
    assert not AdministrativeUnit.objects.filter(teryt="2801011").exists()
    assert AdministrativeUnit.objects.filter(teryt="2801022").exists()
    assert report.rejected == {"admin": 1} and report.problems[0]["code"] == "geometry_invalid"
    report = registry_import(path, policy="repair", options=_granice())
    unit = AdministrativeUnit.objects.get(teryt="2801011")
    assert unit.geom.valid and report.repaired == {"admin": 1}
    before = AdministrativeUnit.objects.count()
    with pytest.raises(ImportFailed):
        registry_import(
            _geojson(tmp_path / "s.geojson", [rows[1], _feature({"TERYT": "2801033", "NAZWA": "x"}, bowtie)]),
            policy="strict",
            options=_granice(),
        )
    assert AdministrativeUnit.objects.count() == before


# ------------------------------------------------------------------------------------- files refused
def test_file_without_crs_and_without_srs_writes_nothing(tmp_path, gmina):
    src = _plan_file(tmp_path / "p.geojson", _area(PLAN_A, "1MN", square(E0, N0), "MN"))
    shp = _ogr(tmp_path / "p.shp", src, "ESRI Shapefile")
    (tmp_path / "p.prj").unlink()
    gpkg = _ogr(tmp_path / "p.gpkg", shp, "GPKG")  # from a Shapefile without .prj: no SRS at all
    _ogr(tmp_path / "u.shp", _geojson(tmp_path / "u.geojson", _granice_rows()[:1]), "ESRI Shapefile")
    (tmp_path / "u.prj").unlink()
    units = _ogr(tmp_path / "u.gpkg", tmp_path / "u.shp", "GPKG")
    plans, admin = ZoningPlan.objects.count(), AdministrativeUnit.objects.count()
    with pytest.raises(ImportFailed) as e:
        registry_import(shp, options=_mpzp())
    assert ".prj" in e.value.message
    with pytest.raises(ImportFailed) as e:
        registry_import(gpkg, options=_mpzp())
    assert "EPSG:2180" in e.value.message  # "give the CRS (e.g. EPSG:2180)", not "outside Poland"
    with pytest.raises(ImportFailed) as e:
        registry_import(tmp_path / "u.shp", options=_granice())
    assert ".prj" in e.value.message
    with pytest.raises(ImportFailed) as e:
        registry_import(units, options=_granice())
    assert "EPSG:2180" in e.value.message  # "give the CRS (e.g. EPSG:2180)", not "outside Poland"
    assert (ZoningPlan.objects.count(), AdministrativeUnit.objects.count()) == (plans, admin)
    # with --srs it is read
    registry_import(gpkg, options=_mpzp(srs="EPSG:2180"))
    assert ZoningPlan.objects.get(
        resolution_no=PLAN_A["UCHWALA"]
    ).areas.get().geom.centroid.x == pytest.approx(E0 + 25)
    registry_import(units, options=_granice(srs="EPSG:2180"))
    assert AdministrativeUnit.objects.get(teryt="28").level == "voivodeship"


def test_gml_holds_no_plain_layer_and_jobs_report_counts(tmp_path):
    gml = write(tmp_path / "p.gml", document(parcel("P1", "149999_2.0001.1", square(500_000, 500_000))))
    with pytest.raises(ImportFailed) as e:
        registry_import(gml, options=_mpzp())
    assert "mpzp" in e.value.message
    path = _geojson(tmp_path / "granice.geojson", _granice_rows())
    job = ImportJob.objects.create(source_name="granice.geojson", path=str(path), options=_granice())
    job = import_job_run(job.pk)
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.read, job.written, job.rejected) == (4, 4, 0)
    assert job.report["written"] == {"admin": 4}
