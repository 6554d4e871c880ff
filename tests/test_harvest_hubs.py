"""Two hubs (issue 27): hub B — a second server process (gunicorn) on its own database with 1,000 demo parcels —
publishes its parcels; this hub harvests them over WFS 2.0 and over OGC API – Features and ends with the same
features (identifiers, attributes, geometries within 1 mm). B's register then changes (a parcel added, one
changed, one retired) and the next harvest applies exactly those differences, keeping the old versions."""

from __future__ import annotations

import time

import pytest
import shapely
from shapely import wkb as shapely_wkb

from layers.models import HarvestedFeature
from layers.sources import actions, harvest, harvested

from .exchange.hub import HubUnavailable, start_hub

pytestmark = pytest.mark.django_db
PARCELS = 1000


@pytest.fixture(scope="module")
def hub(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        db = dict(connection.settings_dict)
    started = time.monotonic()
    try:
        b = start_hub(
            db,
            tmp_path_factory.mktemp("hub_b_sharing"),
            trusted_pems=[],
            parcels=PARCELS,
            suffix="hub_sharing",
        )
    except HubUnavailable as e:
        pytest.skip(f"hub B cannot run here: {e}")
    print(f"\nhub B with {PARCELS} parcels up in {time.monotonic() - started:.1f} s ({b.timings})")
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.GISPORTAL_SOURCES_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_HARVEST_PAGE_SIZE = 400  # three pages
    harvested.forget()
    yield
    harvested.forget()


def _b_parcels(hub) -> dict[str, tuple]:
    rows = hub.query(
        "SELECT parcel_id, number, area_ha::text, ST_AsBinary(geom) FROM layers_parcel WHERE end_object IS NULL"
    )
    return {pid: (number, area, bytes(g)) for pid, number, area, g in rows}


def _ours(layer) -> dict[str, HarvestedFeature]:
    return {f.fid: f for f in HarvestedFeature.objects.filter(layer=layer, end_object__isnull=True)}


def _assert_same(hub, layer) -> None:
    theirs, ours = _b_parcels(hub), _ours(layer)
    assert set(ours) == set(theirs) and len(ours) >= PARCELS
    worst = 0.0
    for pid, (number, area, wkb) in theirs.items():
        f = ours[pid]
        assert f.properties["NUMER_DZIALKI"] == number
        assert abs(float(f.properties["POLE_EWIDENCYJNE"]) - float(area)) < 1e-9
        worst = max(
            worst, shapely.hausdorff_distance(shapely_wkb.loads(wkb), shapely_wkb.loads(bytes(f.geom.wkb)))
        )
    assert worst < 0.001, worst


def _harvest(hub, kind: str, path: str, remote: str):
    source = actions.source_add(f"{hub.url}{path}", kind)
    layer = harvest.layer_ensure(source.pk, remote)
    type(layer).objects.filter(pk=layer.pk).update(id_property="ID_DZIALKI")
    layer.refresh_from_db()
    return layer, harvest.harvest_now(layer.pk)


@pytest.mark.parametrize(
    ("kind", "path", "remote"), [("wfs", "/ows", "gisportal:dzialki"), ("ogcapi", "/ogcapi", "dzialki")]
)
def test_harvest_of_another_hub_gives_the_same_parcels(hub, kind, path, remote):
    started = time.monotonic()
    layer, run = _harvest(hub, kind, path, remote)
    assert run.status == "done", (run.error, run.report)
    assert run.new == run.read >= PARCELS and run.pages >= 3
    print(f"\n{kind}: {run.read} parcels in {run.pages} pages, {time.monotonic() - started:.1f} s")
    _assert_same(hub, layer)


def test_the_next_harvest_applies_exactly_the_changes(hub):
    layer, run = _harvest(hub, "wfs", "/ows", "gisportal:dzialki")
    assert run.status == "done", run.error
    ids = sorted(_b_parcels(hub))
    added, changed, retired = ids[0] + "9", ids[1], ids[2]
    columns = [
        c
        for (c,) in hub.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'layers_parcel' "
            "AND column_name <> 'id' ORDER BY ordinal_position"
        )
    ]
    values = [
        {"parcel_id": "%s", "local_id": "local_id || '-n'", "geom": "ST_Translate(geom, 0, -3000)"}.get(c, c)
        for c in columns
    ]
    hub.query(
        f"INSERT INTO layers_parcel ({', '.join(columns)}) SELECT {', '.join(values)} FROM layers_parcel "  # noqa: S608
        "WHERE parcel_id = %s AND end_object IS NULL RETURNING id",
        (added, ids[0]),
    )
    hub.query(
        "UPDATE layers_parcel SET area_ha = area_ha + 0.0100, geom = ST_Translate(geom, 0.5, 0) "
        "WHERE parcel_id = %s AND end_object IS NULL RETURNING id",
        (changed,),
    )
    hub.query("UPDATE layers_parcel SET end_object = now() WHERE parcel_id = %s RETURNING id", (retired,))
    hub.manage("shell", "-c", "from layers.selectors import data_version_bump; data_version_bump()")
    old = _ours(layer)[changed]
    run = harvest.harvest_now(layer.pk)
    assert run.status == "done", run.error
    assert (run.new, run.changed, run.retired) == (1, 1, 1), run.report
    ours = _ours(layer)
    assert added in ours and retired not in ours
    old.refresh_from_db()
    assert old.end_object is not None and HarvestedFeature.objects.filter(layer=layer, fid=retired).exists()
    _assert_same(hub, layer)
