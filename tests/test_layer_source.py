"""One layer source (issue 20): a layer is one catalogue entry. A throwaway layer added to the catalogue at
run time (a second parcels layer with fewer public attributes, no styles of its own, tiles) is served by
WMS (capabilities, GetMap in the default style of its geometry type, GetFeatureInfo), WFS
(DescribeFeatureType, GetFeature), OGC API (collections, items) and the tiles, each reading the rows
the catalogue describes: the current ones, the public attributes only.
OGC API: pygeoapi's configuration is rebuilt when the data version or the layer names change
(ogc/ogcapi/config.py), so a new layer is served without a restart."""

from __future__ import annotations

import math
from dataclasses import replace
from urllib.parse import urlencode

import mapbox_vector_tile
import pytest
from django.db import connection
from django.utils import timezone
from lxml import etree
from pyproj import Transformer

from layers import catalogue
from layers.catalogue import Attribute
from layers.models import Parcel
from ogc.render import maps, styles
from ogc.tiles import mvt

from .ogc.helpers import pixel_of, rgba

pytestmark = pytest.mark.django_db
NAME = "dzialki_proste"
WMS = "{http://www.opengis.net/wms}"
XSD = "{http://www.w3.org/2001/XMLSchema}"
A = Attribute
ATTRS = (
    A("ID_DZIALKI", "parcel_id", title_pl="Identyfikator działki", title_en="Parcel identifier"),
    A("NUMER", "number", title_pl="Numer działki", title_en="Parcel number"),
    A("OBREB", "precinct__name", title_pl="Obręb", title_en="Precinct"),
    A("POLE", "area_ha", "decimal", "Pole [ha]", "Area [ha]"),
)
GENERIC_FILL = tuple(
    round(255 - (255 - c) * 0.35) for c in (0x9E, 0xCA, 0xE1)
)  # GENERIC_STYLES' fill over white


def _throwaway() -> catalogue.Layer:
    return replace(
        catalogue.get_layer("dzialki"),
        name=NAME,
        title_pl="Działki (uproszczone)",
        title_en="Parcels (simplified)",
        abstract_pl="Działki z numerem, obrębem i polem.",
        abstract_en="Parcels with number, precinct and area.",
        public_attributes=ATTRS,
        restricted_attributes=(),
        styles=("default",),
        default_style="default",
        inspire_alias="",
        keywords=("test",),
        max_scale=None,
        tiles=True,
        tile_min_zoom=14,
        tile_detail_zoom=16,
        tile_attributes=("NUMER", "OBREB", "POLE"),
    )


@pytest.fixture
def layer(monkeypatch):
    """The throwaway layer in the catalogue for one test (tuple and by-name dict); the OGC API sees it
    without a restart (its configuration is keyed on the layer names)."""
    new = _throwaway()
    monkeypatch.setattr(catalogue, "LAYERS", (*catalogue.LAYERS, new))
    monkeypatch.setattr(catalogue, "_BY_NAME", {**catalogue._BY_NAME, NAME: new})
    assert catalogue.validate_catalogue() == []
    return new


@pytest.fixture(scope="module")
def parcels(demo_data, django_db_blocker):
    """A current parcel (its inner point and extent) and a retired copy of another one lying on it."""
    with django_db_blocker.unblock():
        p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[40]
        inner = p.geom.point_on_surface
        return {
            "pk": p.pk,
            "id": p.parcel_id,
            "number": p.number,
            "precinct": p.precinct.name,
            "area": float(p.area_ha),
            "x": inner.x,
            "y": inner.y,
            "extent": p.geom.extent,
        }


@pytest.fixture
def retired(parcels):
    """A retired parcel on the same place (in this test's transaction): never published."""
    p = Parcel.objects.get(pk=parcels["pk"])
    p.pk = None
    p.local_id, p.parcel_id, p.end_object = p.local_id + "-old", p.parcel_id[:-1] + "9", timezone.now()
    p.save()
    return p


def ows(client, **params):
    return client.get("/ows?" + urlencode(params))


# ------------------------------------------------------------------ the catalogue's SQL source
def test_sql_source_is_derived_from_the_catalogue(layer):
    src = catalogue.layer_sql_source(layer, [layer.attribute("OBREB"), layer.attribute("POLE")])
    assert (
        src.from_clause
        == '"layers_parcel" t JOIN "layers_precinct" "j_precinct" ON "j_precinct"."id" = t."precinct_id"'
    )
    assert src.where('t."geom" && x') == 't."geom" && x AND t."end_object" IS NULL'
    assert [expr for _a, expr in src.columns] == ['"j_precinct"."name"', 't."area_ha"']
    mpzp = catalogue.layer_sql_source(catalogue.get_layer("mpzp"))
    assert mpzp.where() == "true" and mpzp.joins == ""  # not a registry object: every row
    with pytest.raises(ValueError, match="not a public attribute"):  # nothing but the public attributes
        catalogue.layer_sql_source(layer, [A("KW", "registration_unit")])
    with pytest.raises(ValueError):
        catalogue.quote('x" OR 1=1 --')


def test_every_layer_and_style_draws(layer):
    """Every style a layer offers exists, and the Mapnik source has the columns its rules read."""
    for la in catalogue.LAYERS:
        for name in la.styles:
            style = styles.style_for(la.name, name)
            assert style is not None, (la.name, name)
            sql = maps.layer_subquery(la, style)
            assert all(f'AS "{c}"' in sql for c in style.columns)
    assert styles.style_for(NAME, "kieg") is None


def test_queryset_and_sql_agree_on_current_rows(layer, retired):
    ids = set(
        catalogue.layer_queryset(layer).filter(geom__intersects=retired.geom).values_list("pk", flat=True)
    )
    src = catalogue.layer_sql_source(layer)
    where = src.where(f"ST_Intersects({src.geometry}, %s::geometry)")
    with connection.cursor() as cur:
        cur.execute(f"SELECT {src.pk} FROM {src.from_clause} WHERE {where}", [retired.geom.ewkt])  # noqa: S608
        assert {r[0] for r in cur.fetchall()} == ids
    assert retired.pk not in ids and ids


# ------------------------------------------------------------------ WMS
def test_wms_capabilities_getmap_and_feature_info(client, layer, parcels, retired):
    caps = etree.fromstring(ows(client, SERVICE="WMS", REQUEST="GetCapabilities", VERSION="1.3.0").content)
    named = {el.findtext(f"{WMS}Name"): el for el in caps.iter(f"{WMS}Layer")}
    assert NAME in named and named[NAME].findtext(f"{WMS}Style/{WMS}Name") == "default"
    assert named[NAME].findtext(f"{WMS}Title") == layer.title_pl
    minx, miny, maxx, maxy = parcels["extent"]
    dx, dy = (maxx - minx) * 2, (maxy - miny) * 2
    box = (minx - dx, miny - dy, maxx + dx, maxy + dy)
    common = {
        "SERVICE": "WMS",
        "VERSION": "1.1.1",
        "SRS": "EPSG:2180",
        "BBOX": ",".join(f"{v:.3f}" for v in box),
        "WIDTH": "300",
        "HEIGHT": "300",
        "STYLES": "",
        "LAYERS": NAME,
    }
    r = ows(client, REQUEST="GetMap", FORMAT="image/png", BGCOLOR="0xFFFFFF", **common)
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    col, row = pixel_of(parcels["x"], parcels["y"], box, 300, 300)
    assert rgba(r.content, col, row)[:3] == pytest.approx(GENERIC_FILL, abs=3)  # filled where the parcel lies
    legend = ows(
        client, REQUEST="GetLegendGraphic", VERSION="1.3.0", FORMAT="image/png", LAYER=NAME, STYLE="default"
    )
    assert legend.status_code == 200 and legend["Content-Type"] == "image/png"
    info = ows(
        client,
        REQUEST="GetFeatureInfo",
        QUERY_LAYERS=NAME,
        INFO_FORMAT="application/json",
        X=str(col),
        Y=str(row),
        FEATURE_COUNT="10",
        **common,
    ).json()
    props = [f["properties"] for f in info["features"]]
    assert props and props[0] == {
        "ID_DZIALKI": parcels["id"],
        "NUMER": parcels["number"],
        "OBREB": parcels["precinct"],
        "POLE": parcels["area"],
    }
    assert retired.parcel_id not in {p["ID_DZIALKI"] for p in props}


# ------------------------------------------------------------------ WFS
def test_wfs_describe_and_get_feature(client, layer, parcels, retired):
    caps = ows(client, SERVICE="WFS", REQUEST="GetCapabilities", VERSION="2.0.0").content
    assert f"gisportal:{NAME}".encode() in caps
    xsd = etree.fromstring(
        ows(
            client,
            SERVICE="WFS",
            VERSION="2.0.0",
            REQUEST="DescribeFeatureType",
            TYPENAMES=f"gisportal:{NAME}",
        ).content
    )
    elements = {el.get("name"): el.get("type") for el in xsd.iter(f"{XSD}element") if el.get("type")}
    assert {k: v for k, v in elements.items() if k != NAME} == {
        "ID_DZIALKI": "xs:string",
        "NUMER": "xs:string",
        "OBREB": "xs:string",
        "POLE": "xs:decimal",
        "geometry": "gml:MultiSurfacePropertyType",
    }
    minx, miny, maxx, maxy = parcels["extent"]
    r = ows(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        TYPENAMES=f"gisportal:{NAME}",
        BBOX=f"{minx},{miny},{maxx},{maxy},EPSG:2180",
        OUTPUTFORMAT="application/json",
    )
    assert r.status_code == 200
    feats = {f["properties"]["ID_DZIALKI"]: f["properties"] for f in r.json()["features"]}
    assert feats[parcels["id"]] == {
        "ID_DZIALKI": parcels["id"],
        "NUMER": parcels["number"],
        "OBREB": parcels["precinct"],
        "POLE": parcels["area"],
    }
    assert retired.parcel_id not in feats


# ------------------------------------------------------------------ OGC API
def test_ogcapi_collection_and_items(client, layer, parcels, retired):
    ids = {c["id"] for c in client.get("/ogcapi/collections").json()["collections"]}
    assert NAME in ids
    assert client.get(f"/ogcapi/collections/{NAME}").json()["title"] == layer.title_pl
    r = client.get(f"/ogcapi/collections/{NAME}/items/{parcels['id']}")
    assert r.status_code == 200 and r.json()["properties"] == {
        "ID_DZIALKI": parcels["id"],
        "NUMER": parcels["number"],
        "OBREB": parcels["precinct"],
        "POLE": parcels["area"],
    }
    lon0, lat0, lon1, lat1 = Transformer.from_crs(2180, 4326, always_xy=True).transform_bounds(
        *parcels["extent"]
    )
    body = client.get(f"/ogcapi/collections/{NAME}/items", {"bbox": f"{lon0},{lat0},{lon1},{lat1}"}).json()
    found = {f["id"] for f in body["features"]}
    assert parcels["id"] in found and retired.parcel_id not in found
    assert client.get(f"/ogcapi/collections/{NAME}/items/{retired.parcel_id}").status_code == 404


# ------------------------------------------------------------------ tiles
def _tile_of(x2180: float, y2180: float, z: int) -> tuple[int, int]:
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(x2180, y2180)
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_tiles_with_the_layers_zooms_and_attributes(client, layer, parcels, retired, settings):
    settings.GISPORTAL_TILE_CACHE = False  # the retired row lives in this test's transaction only
    assert NAME in mvt.LAYERS and client.get(f"/ogcapi/collections/{NAME}/tiles").status_code == 200
    x, y = _tile_of(parcels["x"], parcels["y"], 17)
    r = client.get(f"/ogcapi/collections/{NAME}/tiles/WebMercatorQuad/17/{y}/{x}")
    assert r.status_code == 200
    feats = {f["properties"]["ID_DZIALKI"]: f for f in mapbox_vector_tile.decode(r.content)[NAME]["features"]}
    assert feats[parcels["id"]]["properties"] == {
        "ID_DZIALKI": parcels["id"],
        "NUMER": parcels["number"],
        "OBREB": parcels["precinct"],
        "POLE": pytest.approx(parcels["area"]),
    }
    assert feats[parcels["id"]]["id"] == parcels["pk"] and retired.parcel_id not in feats
    x, y = _tile_of(parcels["x"], parcels["y"], 15)  # below the detail zoom: the id only
    low = mapbox_vector_tile.decode(
        client.get(f"/ogcapi/collections/{NAME}/tiles/WebMercatorQuad/15/{y}/{x}").content
    )
    assert low[NAME]["features"] and all(
        set(f["properties"]) == {"ID_DZIALKI"} for f in low[NAME]["features"]
    )
    x, y = _tile_of(parcels["x"], parcels["y"], 13)  # below the layer's minimum zoom
    assert client.get(f"/ogcapi/collections/{NAME}/tiles/WebMercatorQuad/13/{y}/{x}").status_code == 204


def test_a_layer_leaves_with_its_entry(client, demo_data):
    """Without the entry, nothing of the throwaway layer is served (no second configuration kept it)."""
    assert catalogue.get_layer(NAME) is None and NAME not in mvt.LAYERS
    assert client.get(f"/ogcapi/collections/{NAME}/tiles").status_code == 404
    r = ows(
        client, SERVICE="WFS", VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES=f"gisportal:{NAME}"
    )
    assert r.status_code == 400
