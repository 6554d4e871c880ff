"""The EGiB export limited to a work area (issue 26): what intersects the area and what it refers to,
counted against SQL of our own, xlinks closed, schema checks as for the full export, a re-import into
an empty registry holding exactly those objects, a whole-registry area giving the full export."""

# ruff: noqa: S608 (the SQL is put together from constants; the area is a bound parameter)
from __future__ import annotations

import io
from collections import Counter

import pytest
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connection
from lxml import etree

from gisportal.core.errors import InvalidInput
from layers.actions import registry_import
from layers.exporting import egib
from layers.exporting.egib import export_egib
from layers.models import (
    AddressPoint,
    Building,
    CadastralUnit,
    LandUseContour,
    Parcel,
    ParcelLandUse,
    Precinct,
    RestrictedLandRegisterEntry,
    RestrictedShare,
    SoilClassContour,
)

from .test_export_egib import KNOWN_GAPS, NS, _alone, _local, egib_schema  # noqa: F401 (a fixture)
from .test_roundtrip import empty_registry

pytestmark = pytest.mark.django_db
GML = "http://www.opengis.net/gml/3.2"
XLINK = "http://www.w3.org/1999/xlink"
GML_ID = f"{{{GML}}}id"
HREF = f"{{{XLINK}}}href"

# Our own selection, written independently of the exporter: parcels intersecting the area or built on
# by a building that does; precincts intersecting it or holding such a parcel; units likewise.
AREA = "ST_GeomFromEWKT(%(area)s)"
PARCELS = f"""
    SELECT id FROM layers_parcel WHERE ST_Intersects(geom, {AREA})
    UNION SELECT bp.parcel_id FROM layers_building_parcels bp JOIN layers_building b ON b.id = bp.building_id
    WHERE ST_Intersects(b.geom, {AREA})"""
PRECINCTS = f"""
    SELECT id FROM layers_precinct WHERE ST_Intersects(geom, {AREA})
    OR id IN (SELECT precinct_id FROM layers_parcel WHERE id IN ({PARCELS}))"""
UNITS = f"""
    SELECT id FROM layers_cadastralunit WHERE ST_Intersects(geom, {AREA})
    OR id IN (SELECT unit_id FROM layers_precinct WHERE id IN ({PRECINCTS}))"""
UNITS_OF_PARCELS = f"SELECT registration_unit FROM layers_parcel WHERE id IN ({PARCELS})"
EXPECTED_SQL = {
    "EGB_JednostkaEwidencyjna": f"SELECT count(*) FROM ({UNITS}) x",
    "EGB_ObrebEwidencyjny": f"SELECT count(*) FROM ({PRECINCTS}) x",
    "EGB_JednostkaRejestrowaGruntow": f"""SELECT count(DISTINCT (registration_unit, namespace)) FROM layers_parcel
        WHERE id IN ({PARCELS}) AND registration_unit <> ''""",
    "EGB_DzialkaEwidencyjna": f"SELECT count(*) FROM ({PARCELS}) x",
    "EGB_Budynek": f"SELECT count(*) FROM layers_building WHERE ST_Intersects(geom, {AREA})",
    "EGB_KonturUzytkuGruntowego": f"SELECT count(*) FROM layers_landusecontour WHERE ST_Intersects(geom, {AREA})",
    "EGB_KonturKlasyfikacyjny": f"SELECT count(*) FROM layers_soilclasscontour WHERE ST_Intersects(geom, {AREA})",
    "EGB_AdresNieruchomosci": f"SELECT count(*) FROM layers_addresspoint WHERE ST_Intersects(geom, {AREA})",
    "EGB_OsobaFizyczna": f"""SELECT count(DISTINCT s.id) FROM layers_restrictedsubject s
        JOIN layers_restrictedshare sh ON sh.subject_id = s.id
        WHERE s.kind = 'person' AND sh.registration_unit IN ({UNITS_OF_PARCELS})""",
    "EGB_UdzialWeWlasnosci": f"""SELECT count(*) FROM layers_restrictedshare sh
        JOIN layers_restrictedsubject s ON s.id = sh.subject_id
        WHERE s.kind = 'person' AND sh.kind = 'ownership' AND sh.registration_unit IN ({UNITS_OF_PARCELS})""",
    "EGB_UdzialWeWladaniu": f"""SELECT count(*) FROM layers_restrictedshare sh
        JOIN layers_restrictedsubject s ON s.id = sh.subject_id
        WHERE s.kind = 'person' AND sh.kind = 'possession' AND sh.registration_unit IN ({UNITS_OF_PARCELS})""",
}


def _sql(query: str, area: GEOSGeometry) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(query, {"area": area.ewkt})
        return cur.fetchall()


def _expected(area: GEOSGeometry) -> dict[str, int]:
    return {name: _sql(query, area)[0][0] for name, query in EXPECTED_SQL.items()}


def _area_parcels(area: GEOSGeometry) -> set[tuple[str, str, str]]:
    return set(
        _sql(f"SELECT parcel_id, local_id, version_id FROM layers_parcel WHERE id IN ({PARCELS})", area)
    )


def _work_area() -> GEOSGeometry:
    """A parcel with a building, KW numbers and owners, buffered by 2 m: it and its neighbours."""
    parcel = (
        Parcel.objects.filter(
            buildings__isnull=False,
            pk__in=RestrictedLandRegisterEntry.objects.values("parcel"),
            registration_unit__in=RestrictedShare.objects.values("registration_unit"),
        )
        .order_by("parcel_id")
        .first()
    )
    return parcel.geom.buffer(2.0)


@pytest.fixture(scope="module")
def area_export(demo_data, django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("egib-area") / "area.gml"
    with django_db_blocker.unblock():
        area = _work_area()
        counts = export_egib(path, area=area)
    return area, counts, etree.parse(str(path)), path


def _members(doc) -> list:
    return [m for m in doc.getroot() if isinstance(m.tag, str)]


def test_counts_are_the_objects_intersecting_the_area_and_what_they_refer_to(area_export):
    area, counts, doc, _ = area_export
    expected = _expected(area)
    assert counts == expected
    assert 2 <= expected["EGB_DzialkaEwidencyjna"] <= 30  # a few parcels, not the registry
    assert expected["EGB_DzialkaEwidencyjna"] < Parcel.objects.count()
    for name in ("EGB_Budynek", "EGB_OsobaFizyczna", "EGB_UdzialWeWlasnosci", "EGB_KonturUzytkuGruntowego"):
        assert expected[name] > 0, name
    assert 1 <= expected["EGB_ObrebEwidencyjny"] < Precinct.objects.count()
    assert 1 <= expected["EGB_JednostkaEwidencyjna"] <= CadastralUnit.objects.count()
    in_file = Counter(_local(m[0]) for m in _members(doc))
    assert dict(in_file) == {k: v for k, v in expected.items() if v}
    order = [_local(m[0]) for m in _members(doc)]
    assert order == sorted(order, key=list(egib.FEATURE_TYPES).index)
    # exactly those parcels
    written = {
        (
            el.findtext("egb:idDzialki", namespaces=NS),
            el.findtext("egb:idIIP/egb:EGB_IdentyfikatorIIP/egb:lokalnyId", namespaces=NS),
            el.findtext("egb:idIIP/egb:EGB_IdentyfikatorIIP/egb:wersjaId", namespaces=NS),
        )
        for el in doc.getroot().findall("gml:featureMember/egb:EGB_DzialkaEwidencyjna", NS)
    }
    assert written == _area_parcels(area)


def test_xlinks_resolve_inside_the_file_and_ids_are_unique(area_export):
    _, _, doc, _ = area_export
    ids = [el.get(GML_ID) for el in doc.getroot().iter() if el.get(GML_ID)]
    assert len(ids) == len(set(ids))
    features = {m[0].get(GML_ID) for m in _members(doc)}
    hrefs = [el.get(HREF) for el in doc.getroot().iter() if el.get(HREF) is not None]
    assert hrefs and set(hrefs) <= features
    # a building's parcels are all in the file, and its links are complete
    building = Building.objects.filter(geom__intersects=area_export[0], parcels__isnull=False).first()
    assert building is not None
    by_id = {m[0].get(GML_ID): m[0] for m in _members(doc)}
    el = by_id[egib.gml_id(building.namespace, building.local_id, building.version_id)]
    linked = sorted(
        by_id[h.get(HREF)].findtext("egb:idDzialki", namespaces=NS)
        for h in el.findall("egb:dzialkaZabudowana", NS)
    )
    assert linked == sorted(building.parcels.values_list("parcel_id", flat=True))


def test_land_uses_and_kw_of_the_included_parcels(area_export):
    area, _, doc, _ = area_export
    ids = [r[0] for r in _sql(PARCELS, area)]
    uses = doc.getroot().findall(
        "gml:featureMember/egb:EGB_DzialkaEwidencyjna/egb:klasouzytek/egb:EGB_Klasouzytek", NS
    )
    assert len(uses) == ParcelLandUse.objects.filter(parcel_id__in=ids).count() > 0
    kw = doc.getroot().findall("gml:featureMember/egb:EGB_DzialkaEwidencyjna/egb:numerKW", NS)
    assert len(kw) == RestrictedLandRegisterEntry.objects.filter(parcel_id__in=ids).count() > 0


def test_features_are_schema_valid_as_in_the_full_export(area_export, egib_schema):  # noqa: F811
    _, _, doc, _ = area_export
    for member in _members(doc):
        name = _local(member[0])
        alone = _alone(doc, member)
        if name in KNOWN_GAPS:
            assert not egib_schema.validate(alone)
            errors = [e.message for e in egib_schema.error_log]
            assert len(errors) == 1 and KNOWN_GAPS[name] in errors[0], errors
        else:
            assert egib_schema.validate(alone), [e.message for e in egib_schema.error_log]


def test_reimport_into_an_empty_registry_holds_exactly_those_objects(area_export):
    area, counts, _, path = area_export
    parcels = _area_parcels(area)
    buildings = set(
        _sql(f"SELECT building_id, local_id FROM layers_building WHERE ST_Intersects(geom, {AREA})", area)
    )
    addresses = AddressPoint.objects.filter(geom__intersects=area).count()
    contours = LandUseContour.objects.filter(geom__intersects=area).count()
    soil = SoilClassContour.objects.filter(geom__intersects=area).count()
    empty_registry()
    assert Parcel.objects.count() == 0
    report = registry_import(path)
    assert report.total_rejected == 0, report.problems[:5]
    assert set(Parcel.objects.values_list("parcel_id", "local_id", "version_id")) == parcels
    assert set(Building.objects.values_list("building_id", "local_id")) == buildings
    assert AddressPoint.objects.count() == addresses
    assert LandUseContour.objects.count() == contours
    assert SoilClassContour.objects.count() == soil
    assert CadastralUnit.objects.count() == counts["EGB_JednostkaEwidencyjna"]
    assert RestrictedShare.objects.count() == counts["EGB_UdzialWeWlasnosci"] + counts["EGB_UdzialWeWladaniu"]
    assert ParcelLandUse.objects.count() > 0
    # the same file again changes nothing
    assert registry_import(path).written == {}


def test_an_area_covering_everything_gives_the_full_export(demo_data):
    extent = CadastralUnit.objects.all()
    xmin, ymin, xmax, ymax = (None,) * 4
    for unit in extent:
        a, b, c, d = unit.geom.extent
        xmin, ymin = min(a, xmin or a), min(b, ymin or b)
        xmax, ymax = max(c, xmax or c), max(d, ymax or d)
    everything = Polygon.from_bbox((xmin - 1000, ymin - 1000, xmax + 1000, ymax + 1000))
    everything.srid = 2180
    full, part = io.BytesIO(), io.BytesIO()
    assert export_egib(full) == export_egib(part, area=everything)
    assert full.getvalue() == part.getvalue()


def test_area_in_another_crs_is_transformed_and_without_srid_taken_as_2180(area_export):
    area, counts, _, _ = area_export
    assert export_egib(io.BytesIO(), area=area.transform(2178, clone=True)) == counts
    bare = GEOSGeometry(area.wkt)
    assert bare.srid is None
    assert export_egib(io.BytesIO(), area=bare) == counts


def test_area_without_personal_data_and_only_current(area_export):
    area, counts, _, _ = area_export
    buf = io.BytesIO()
    public = export_egib(buf, area=area, personal_data=False, only_current=True)
    assert public["EGB_OsobaFizyczna"] == public["EGB_UdzialWeWlasnosci"] == 0
    assert public["EGB_DzialkaEwidencyjna"] == len(_area_parcels(area))  # the demo has no retired parcels
    assert b"pesel" not in buf.getvalue() and b"numerKW" not in buf.getvalue()


@pytest.mark.parametrize(
    "bad",
    ["POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", Polygon(srid=2180), "not a geometry"],
    ids=["bow-tie", "empty", "string"],
)
def test_bad_area_is_invalid_input(demo_data, tmp_path, bad):
    area = GEOSGeometry(bad, srid=2180) if isinstance(bad, str) and bad.startswith("POLYGON") else bad
    with pytest.raises(InvalidInput) as err:
        export_egib(tmp_path / "x.gml", area=area)
    assert err.value.code == "invalid_area"
    assert list(tmp_path.iterdir()) == []


def test_area_queries_do_not_grow_with_the_registry(area_export, django_assert_max_num_queries):
    area = area_export[0]
    with django_assert_max_num_queries(30):
        export_egib(io.BytesIO(), area=area)
