"""Round trip: the registry exported as EGiB GML imports back to the same content; importing it again
changes nothing; a modified export updates and retires by IIP identity."""

from __future__ import annotations

import pytest
from django.db import connection
from lxml import etree

from layers.actions import registry_import
from layers.demo.loader import REGISTRY_TABLES
from layers.exporting.egib import export_egib
from layers.models import Parcel, RegistryHistory

pytestmark = pytest.mark.django_db
EGB = "{ewidencjaGruntowIBudynkow:1.0}"
GML = "{http://www.opengis.net/gml/3.2}"

# what EGiB carries (address postcodes, TERC and subjects' addresses have no EGiB element)
CONTENT = {
    "units": "SELECT unit_id, name, local_id, namespace, version_id, ST_AsText(geom) FROM layers_cadastralunit WHERE end_object IS NULL ORDER BY 1",
    "precincts": "SELECT p.precinct_id, p.name, p.local_id, p.version_id, u.unit_id, ST_AsText(p.geom) FROM layers_precinct p JOIN layers_cadastralunit u ON u.id = p.unit_id ORDER BY 1",
    "parcels": """SELECT p.parcel_id, p.number, p.sheet, p.local_id, p.namespace, p.version_id, p.start_object, p.start_version,
                  p.area_ha, p.area_accuracy, p.registration_unit, p.registration_group, r.precinct_id, ST_AsText(p.geom)
                  FROM layers_parcel p JOIN layers_precinct r ON r.id = p.precinct_id WHERE p.end_object IS NULL ORDER BY 1""",
    "land_uses": """SELECT p.parcel_id, l.ofu, l.ozu, l.ozk, l.area_ha FROM layers_parcellanduse l JOIN layers_parcel p ON p.id = l.parcel_id
                    ORDER BY 1, 2, 3, 4, 5""",
    "kw": """SELECT coalesce(p.parcel_id, b.building_id), k.kw_number FROM layers_restrictedlandregisterentry k
             LEFT JOIN layers_parcel p ON p.id = k.parcel_id LEFT JOIN layers_building b ON b.id = k.building_id ORDER BY 1, 2""",
    "buildings": """SELECT b.building_id, b.local_id, b.kst_type, b.storeys_above, b.storeys_below, b.built_up_area_m2, ST_AsText(b.geom),
                    array_agg(p.parcel_id ORDER BY p.parcel_id) FROM layers_building b
                    LEFT JOIN layers_building_parcels bp ON bp.building_id = b.id LEFT JOIN layers_parcel p ON p.id = bp.parcel_id
                    GROUP BY b.id ORDER BY 1""",
    "landuse": "SELECT contour_id, ofu, local_id, ST_AsText(geom) FROM layers_landusecontour ORDER BY 1",
    "soil": "SELECT contour_id, ozu, ozk, local_id, ST_AsText(geom) FROM layers_soilclasscontour ORDER BY 1",
    "addresses": "SELECT local_id, simc, locality, ulic, street, number, ST_AsText(geom) FROM layers_addresspoint ORDER BY 1",
    "subjects": "SELECT local_id, kind, first_name, surname, pesel FROM layers_restrictedsubject ORDER BY 1",
    "shares": """SELECT s.local_id, sh.registration_unit, sh.kind, sh.numerator, sh.denominator FROM layers_restrictedshare sh
                 JOIN layers_restrictedsubject s ON s.id = sh.subject_id ORDER BY 1, 2""",
}


def content() -> dict[str, list]:
    out = {}
    with connection.cursor() as cur:
        for name, sql in CONTENT.items():
            cur.execute(sql)
            out[name] = cur.fetchall()
    return out


def empty_registry() -> None:
    tables = [
        t
        for t in REGISTRY_TABLES
        if t != "layers_administrativeunit" and t not in ("layers_zoningarea", "layers_zoningplan")
    ]
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")


def test_export_imports_back_identically(demo_data, tmp_path):
    before = content()
    assert len(before["parcels"]) == demo_data["parcels"]
    path = tmp_path / "egib.gml"
    export_egib(path)
    empty_registry()
    assert Parcel.objects.count() == 0
    report = registry_import(path)
    assert report.total_rejected == 0, report.problems[:5]
    after = content()
    for name in CONTENT:
        assert after[name] == before[name], name
    # importing the same file again changes nothing
    history = RegistryHistory.objects.count()
    again = registry_import(path)
    assert again.written == {} and content() == before and RegistryHistory.objects.count() == history


def test_modified_export_updates_and_retires(demo_data, tmp_path):
    path = tmp_path / "egib.gml"
    export_egib(path)
    tree = etree.parse(str(path))
    root = tree.getroot()
    parcels = [m for m in root if m[0].tag == f"{EGB}EGB_DzialkaEwidencyjna"]
    dropped = parcels[5][0].findtext(f"{EGB}idDzialki")
    changed_el = parcels[6][0]
    changed = changed_el.findtext(f"{EGB}idDzialki")
    root.remove(parcels[5])
    changed_el.find(f"{EGB}idIIP/{EGB}EGB_IdentyfikatorIIP/{EGB}wersjaId").text = "2026-11-01T12:00:00"
    changed_el.find(f"{EGB}startWersjaObiekt").text = "2026-11-01T12:00:00"
    old_area = changed_el.findtext(f"{EGB}poleEwidencyjne")
    modified = tmp_path / "egib-2.gml"
    tree.write(str(modified), xml_declaration=True, encoding="UTF-8")
    report = registry_import(modified)
    assert report.written.get("parcel") == 1
    assert report.retired.get("parcel") == 1
    assert Parcel.objects.get(parcel_id=dropped).end_object is not None
    cur = Parcel.objects.get(parcel_id=changed, end_object__isnull=True)
    assert cur.version_id == "2026-11-01T12:00:00" and str(cur.area_ha) == old_area
    hist = RegistryHistory.objects.get(kind="parcel", official_id=changed)
    assert hist.version_id != "2026-11-01T12:00:00" and hist.geom is not None
