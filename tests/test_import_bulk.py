"""A large import into empty registry tables builds their indexes and constraints after the rows
(layers/importing/bulk.py): the same content as with the indexes in place, the same indexes and
constraints afterwards, everything back as it was when the import fails, and no bulk load of a
table that holds rows or that another session is using."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

from layers.actions import registry_import
from layers.exporting.egib import export_egib
from layers.importing import bulk, load
from layers.importing.base import ImportFailed

from .test_roundtrip import content, empty_registry

pytestmark = pytest.mark.django_db
TABLES = (
    "layers_cadastralunit",
    "layers_precinct",
    "layers_parcel",
    "layers_parcellanduse",
    "layers_building",
    "layers_building_parcels",
    "layers_landusecontour",
    "layers_soilclasscontour",
    "layers_addresspoint",
    "layers_restrictedsubject",
    "layers_restrictedshare",
    "layers_restrictedlandregisterentry",
)


def schema(cur=None) -> set[tuple]:
    """Every index and constraint of the registry tables, by name and definition."""
    sql = """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%(t)s)
        UNION ALL
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid::regclass::text = ANY(%(t)s)"""
    if cur is not None:
        cur.execute(sql, {"t": list(TABLES)})
        return set(cur.fetchall())
    with connection.cursor() as c:
        c.execute(sql, {"t": list(TABLES)})
        return set(c.fetchall())


@pytest.fixture
def bulk_loads(monkeypatch):
    """Bulk loading for imports of any size; the tables it dropped indexes of, in order."""
    loaded = []
    real = bulk.Bulk._drop

    def spy(self, table):
        dropped = real(self, table)
        if dropped is not None:
            loaded.append((table, len(dropped[0]) + len(dropped[1])))
        return dropped

    monkeypatch.setattr(load, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(bulk.Bulk, "_drop", spy)
    return loaded


def test_export_into_empty_tables_loads_them_in_bulk_identically(demo_data, tmp_path, bulk_loads):
    before, indexes = content(), schema()
    path = tmp_path / "egib.gml"
    export_egib(path)
    empty_registry()
    registry_import(path)
    assert content() == before
    assert schema() == indexes  # the same indexes and constraints, by the same names
    tables = dict(bulk_loads)
    assert {
        "layers_parcel",
        "layers_parcellanduse",
        "layers_building",
        "layers_building_parcels",
        "layers_landusecontour",
        "layers_soilclasscontour",
        "layers_addresspoint",
        "layers_restrictedsubject",
        "layers_restrictedshare",
    } <= set(tables)
    assert all(n > 0 for n in tables.values())

    bulk_loads.clear()
    report = registry_import(path)  # the tables hold rows now: no bulk load, nothing changes
    assert bulk_loads == []
    assert not report.written and content() == before


def test_failed_bulk_import_leaves_tables_and_indexes_as_they_were(
    demo_data, tmp_path, bulk_loads, monkeypatch
):
    indexes = schema()
    path = tmp_path / "egib.gml"
    export_egib(path)
    empty_registry()

    def fail(self):
        raise ImportFailed("stop")

    monkeypatch.setattr(load.Loader, "_shares", fail)  # the last step: every other table was loaded in bulk
    with pytest.raises(ImportFailed):
        registry_import(path)
    assert len(bulk_loads) >= 8
    assert schema() == indexes
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM layers_parcel")
        assert cur.fetchone()[0] == 0


def _raw():
    """A connection of its own to the test database (the test's one is inside a transaction), not
    from Django's pool."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    )


def test_bulk_only_for_an_empty_table_nobody_else_is_using():
    admin, reader, loader = _raw(), _raw(), _raw()
    try:
        with admin.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS imp_bulk_probe, imp_bulk_parent")
            cur.execute("CREATE TABLE imp_bulk_parent (id int PRIMARY KEY)")
            cur.execute("""CREATE TABLE imp_bulk_probe (id int PRIMARY KEY, code text CONSTRAINT probe_code UNIQUE,
                           parent int CONSTRAINT probe_parent REFERENCES imp_bulk_parent DEFERRABLE INITIALLY DEFERRED,
                           note text)""")
            cur.execute("CREATE INDEX probe_note ON imp_bulk_probe (note) WHERE note LIKE '%%x'")
            cur.execute("INSERT INTO imp_bulk_parent VALUES (1)")

        def definitions(cur):
            cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'imp_bulk_probe'
                           UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                           WHERE conrelid = 'imp_bulk_probe'::regclass""")
            return set(cur.fetchall())

        with loader.cursor() as cur:
            before = definitions(cur)
            assert (
                len(before) == 6
            )  # primary key and unique constraint with their indexes, foreign key, partial index
            b = bulk.Bulk(cur, cur.execute)
            b.enabled = True

            # another session reads the table: no waiting for it, the rows go in with the indexes
            with reader.cursor() as rc:
                rc.execute("BEGIN")
                rc.execute("SELECT count(*) FROM imp_bulk_probe")
                cur.execute("BEGIN")
                assert b._drop("imp_bulk_probe") is None
                cur.execute("ROLLBACK")
                rc.execute("ROLLBACK")

            # nobody else: indexes and the unique constraint go, the foreign key stays (its table is not locked)
            cur.execute("BEGIN")
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as the loader does
            with b.into("imp_bulk_probe"):
                assert {name for name, _d in definitions(cur)} == {"imp_bulk_probe_pkey", "probe_parent"}
                cur.execute(
                    "INSERT INTO imp_bulk_probe SELECT g, 'c' || g, 1, g || 'x' FROM generate_series(1, 1000) g"
                )
            assert definitions(cur) == before
            assert b.locked == {"imp_bulk_probe"}
            cur.execute("COMMIT")
            b.locked.clear()

            # the table holds rows now: left alone, and not kept locked
            cur.execute("BEGIN")
            assert b._drop("imp_bulk_probe") is None
            with reader.cursor() as rc:
                rc.execute("SET lock_timeout = '2s'")
                rc.execute("SELECT count(*) FROM imp_bulk_probe")
                assert rc.fetchone()[0] == 1000
            cur.execute("ROLLBACK")
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS imp_bulk_probe, imp_bulk_parent")
        for c in (admin, reader, loader):
            c.close()


def test_readers_of_a_table_held_by_an_import_get_a_503_soon(demo_data):
    """The first import into an empty table holds it until it commits: a map or a feature request of
    that layer meanwhile gets a 503 "try again" after the lock timeout (5 s), not a hang or a 500."""
    from django.test import Client

    holder = _raw()
    try:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE layers_parcel IN ACCESS EXCLUSIVE MODE")
        client = Client(raise_request_exception=False)
        t0 = time.monotonic()
        r = client.get(
            "/wms",
            {
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetMap",
                "LAYERS": "dzialki",
                "STYLES": "",
                "CRS": "EPSG:2180",
                "BBOX": "638400,469300,639000,469800",
                "WIDTH": "64",
                "HEIGHT": "64",
                "FORMAT": "image/png",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert r.status_code == 503 and r["Retry-After"] == "10", r.content[:300]
        assert b"ServiceExceptionReport" in r.content and b"try again" in r.content
        r = client.get(
            "/wfs",
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": "gisportal:dzialki",
                "COUNT": "2",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert r.status_code == 503 and b"ExceptionReport" in r.content, r.content[:300]
        assert time.monotonic() - t0 < 30
    finally:
        holder.execute("ROLLBACK")
        holder.close()
