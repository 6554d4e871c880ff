"""The client matrix (issue 19): OWSLib (WFS 2.0.0 and 1.1.0 in GML and GeoJSON, OGC API Features, WMS
1.1.1 and 1.3.0) and GDAL (ogr2ogr over WFS 1.1.0, WFS 2.0.0 and OAPIF; gdal_translate over WMS) against the
live server (tests/conftest.py: live_url) on the session's demo data (more than 1,000 parcels, so that a
default limit of 1,000 features shows).

On each layer (parcels, buildings, address points, precincts) and each filter (none, a box, an equality),
every client must return as many features as `RESULTTYPE=hits` with the same filter, each once, and the
same coordinates for the reference feature: the first vertex of a polygon, the address point, compared in
easting/northing after each client's own reading of the axis order (OGC.md §2, §4)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit
from urllib.request import urlopen

import pytest
from django.apps import apps
from django.contrib.gis.geos import Polygon
from lxml import etree
from owslib import fes, fes2
from owslib.ogcapi.features import Features
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService
from pyproj import Transformer

from layers.catalogue import get_layer

from .helpers import east_north, first_position, gdal_client_env, gml_first_points, pixel_of, rgba, size
from .test_wms import FILL

pytestmark = pytest.mark.django_db

URN_2180 = "urn:ogc:def:crs:EPSG::2180"
URI_2180 = "http://www.opengis.net/def/crs/EPSG/0/2180"
TO_LONLAT = Transformer.from_crs(2180, 4326, always_xy=True)
TO_2180 = Transformer.from_crs(4326, 2180, always_xy=True)
PAGE = 500  # what the paging clients ask for per request: below CountDefault (1,000)


@dataclass(frozen=True)
class Ref:
    """The reference feature of a layer and the filters built around it (all in EPSG:2180, E/N)."""

    layer: str
    id_attr: str
    eq_attr: str
    id: str
    first: tuple[float, float]  # first vertex of the exterior ring, or the point
    inner: tuple[float, float]  # a point on the feature's surface
    eq: str
    bbox: tuple[float, float, float, float]  # minE, minN, maxE, maxN


# layer: (id attribute, attribute of the equality filter)
LAYERS = {
    "dzialki": ("ID_DZIALKI", "NAZWA_OBREBU"),
    "budynki": ("ID_BUDYNKU", "FUNKCJA"),
    "adresy": ("ID_ADRESU", "ULICA"),
    "obreby": ("ID_OBREBU", "ID_JEDNOSTKI"),
}
SCENARIOS = ("all", "bbox", "eq")


def layer_queryset(layer_name: str):
    layer = get_layer(layer_name)
    objects = apps.get_model(layer.model).objects
    return objects.current() if layer.current_only else objects.all()


def _source(layer_name: str, attribute: str) -> str:
    return get_layer(layer_name).attribute(attribute).source


def _stable_box(qs, x: float, y: float, half: float = 150.0) -> tuple[float, float, float, float]:
    """A box around x/y whose edges cross no feature within 1 m: clients that test intersection in another
    CRS (GDAL's OAPIF in lon/lat) or with a reprojected box then agree with the server's count."""
    for shift in range(0, 400, 7):
        minx, miny, maxx, maxy = x - half + shift, y - half + shift, x + half + shift, y + half + shift
        inner = qs.filter(
            geom__intersects=Polygon.from_bbox((minx + 1, miny + 1, maxx - 1, maxy - 1))
        ).count()
        outer = qs.filter(
            geom__intersects=Polygon.from_bbox((minx - 1, miny - 1, maxx + 1, maxy + 1))
        ).count()
        if inner == outer and inner > 0:
            return minx, miny, maxx, maxy
    raise AssertionError("no stable box near the reference feature")


@pytest.fixture(scope="module")
def refs(demo_data, django_db_blocker) -> dict[str, Ref]:
    out = {}
    with django_db_blocker.unblock():
        assert layer_queryset("dzialki").count() > 1000  # the WFS 1.1.0 default limit must be able to show
        for name, (id_attr, eq_attr) in LAYERS.items():
            qs = layer_queryset(name)
            obj = qs.order_by("pk")[qs.count() // 3]
            geom = obj.geom
            first = geom.coords if geom.geom_type == "Point" else geom[0].exterior_ring.coords[0]
            inner = geom.point_on_surface
            value = qs.filter(pk=obj.pk).values_list(_source(name, eq_attr), flat=True)[0]
            ident = qs.filter(pk=obj.pk).values_list(_source(name, id_attr), flat=True)[0]
            box = _stable_box(qs, inner.x, inner.y)
            out[name] = Ref(
                name, id_attr, eq_attr, str(ident), tuple(first), (inner.x, inner.y), str(value), box
            )
    return out


def _filter_xml(expr, version: str) -> str:
    """An OWSLib fes2 (WFS 2.0) or fes (WFS 1.1, FE 1.1) expression as the XML text of its filter."""
    if version.startswith("2"):
        return etree.tostring(fes2.Filter(expr).toXML()).decode()
    return fes.FilterRequest().setConstraint(expr, tostring=True).decode()


def _get(url: str, params: dict) -> bytes:
    with urlopen(f"{url}?{urlencode(params)}", timeout=120) as r:  # noqa: S310 - loopback test server
        return r.read()


@pytest.fixture(scope="module")
def hits(live_url, refs):
    """numberMatched of a WFS 2.0.0 `RESULTTYPE=hits` request with the scenario's filter (cached)."""
    cache: dict[tuple[str, str, str], int] = {}

    def count(layer: str, scenario: str, version: str = "2.0.0") -> int:
        key = (layer, scenario, version)
        if key not in cache:
            ref = refs[layer]
            names = "TYPENAMES" if version.startswith("2") else "TYPENAME"
            params = {
                "SERVICE": "WFS",
                "VERSION": version,
                "REQUEST": "GetFeature",
                names: f"gisportal:{layer}",
                "RESULTTYPE": "hits",
            }
            if scenario == "bbox":
                params["BBOX"] = ",".join(map(str, ref.bbox)) + ",EPSG:2180"  # EPSG: form: east-first
            elif scenario == "eq":
                module = fes2 if version.startswith("2") else fes
                params["FILTER"] = _filter_xml(module.PropertyIsEqualTo(ref.eq_attr, ref.eq), version)
            root = etree.fromstring(_get(f"{live_url}/ows", params))
            cache[key] = int(root.get("numberMatched") or root.get("numberOfFeatures"))
        return cache[key]

    return count


def test_hits_agree_with_the_database(refs, hits, django_db_blocker):
    """The reference counts themselves: hits of both versions equal the database's count."""
    with django_db_blocker.unblock():
        for name, ref in refs.items():
            qs = layer_queryset(name)
            expected = {
                "all": qs.count(),
                "bbox": qs.filter(geom__intersects=Polygon.from_bbox(ref.bbox)).count(),
                "eq": qs.filter(**{_source(name, ref.eq_attr): ref.eq}).count(),
            }
            for scenario, n in expected.items():
                assert hits(name, scenario) == n, (name, scenario)
                assert hits(name, scenario, "1.1.0") == n, (name, scenario, "1.1.0")
                assert n > 0


# ------------------------------------------------------------------ the clients
FeatureList = list[tuple[str, tuple[float, float]]]  # (id attribute value, first point E/N) per feature read


def _geojson_points(doc: dict, id_attr: str, *, srs: str | None) -> FeatureList:
    """GeoJSON as read by a client that takes the axis order from the CRS it declares or was asked for."""
    return [
        (f["properties"][id_attr], east_north(first_position(f["geometry"]), srs)) for f in doc["features"]
    ]


def owslib_wfs(url: str, version: str, fmt: str, ref: Ref, scenario: str, tmp_path) -> FeatureList:
    """OWSLib's WebFeatureService with fes (1.1.0) or fes2 (2.0.0) filters; 2.0.0 pages with STARTINDEX,
    1.1.0 (no paging in the standard) asks once and must get every feature. GML asks for the URN form
    (north-first coordinates), GeoJSON for EPSG:2180 (east-first)."""
    wfs = WebFeatureService(f"{url}/ows", version=version, timeout=120)
    srs = URN_2180 if fmt == "gml" else "EPSG:2180"
    module = fes2 if version.startswith("2") else fes
    expr = None
    if scenario == "bbox":
        minx, miny, maxx, maxy = ref.bbox
        # the gml:Envelope's coordinates follow its srsName: the URN form is north-first for 2180
        box = (miny, minx, maxy, maxx) if srs == URN_2180 else ref.bbox
        expr = module.BBox(box, crs=srs)
    elif scenario == "eq":
        expr = module.PropertyIsEqualTo(propertyname=ref.eq_attr, literal=ref.eq)
    flt = _filter_xml(expr, version) if expr is not None else None
    kwargs = {
        "typename": [f"gisportal:{ref.layer}"],
        "filter": flt,
        "srsname": srs,
        "outputFormat": "application/json" if fmt == "json" else None,
    }
    out: FeatureList = []
    start = 0
    while True:
        paging = {"maxfeatures": PAGE, "startindex": start} if module is fes2 else {}
        data = wfs.getfeature(**kwargs, **paging).read()
        if fmt == "json":
            doc = json.loads(data)
            page = _geojson_points(
                doc, ref.id_attr, srs=(doc.get("crs") or {}).get("properties", {}).get("name")
            )
        else:
            page = gml_first_points(data, ref.id_attr)
        out += page
        if module is fes or len(page) < PAGE:
            return out
        start += PAGE


def owslib_ogcapi(url: str, ref: Ref, scenario: str, tmp_path) -> FeatureList:
    """owslib.ogcapi.features: items in EPSG:2180 (Part 2 `crs`, north-first), a box in `bbox-crs` 2180
    (north-first too), the equality as a property parameter; follows the `next` links."""
    api = Features(f"{url}/ogcapi", timeout=120)
    assert ref.layer in {c["id"] for c in api.collections()["collections"]}
    params: dict = {"limit": PAGE, "crs": URI_2180}
    if scenario == "bbox":
        minx, miny, maxx, maxy = ref.bbox
        params.update({"bbox": [miny, minx, maxy, maxx], "bbox-crs": URI_2180})
    elif scenario == "eq":
        params[ref.eq_attr] = ref.eq
    out: FeatureList = []
    for _ in range(100):
        page = api.collection_items(ref.layer, **params)
        assert page["numberReturned"] == len(page["features"])
        out += _geojson_points(page, ref.id_attr, srs=URI_2180)
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt or not page["features"]:
            return out
        params = dict(parse_qsl(urlsplit(nxt[0]).query))
    raise AssertionError("more than 100 pages")


def ogr2ogr(url: str, source: str, ref: Ref, scenario: str, tmp_path) -> FeatureList:
    """GDAL's WFS (1.1.0, 2.0.0) and OAPIF drivers through ogr2ogr to GeoJSON. `-spat` takes E,N for the
    2180 WFS layers; the OAPIF layer is in CRS84, so the 2180 box is given with `-spat_srs`. GDAL writes
    easting/longitude first, whatever the `crs` member of its GeoJSON says."""
    target = tmp_path / f"{source}-{ref.layer}-{scenario}.geojson"
    if source == "oapif":
        args = [f"OAPIF:{url}/ogcapi", ref.layer]
    else:
        args = [f"WFS:{url}/ows?SERVICE=WFS&VERSION={source.removeprefix('wfs-')}", f"gisportal:{ref.layer}"]
    if scenario == "bbox":
        args += ["-spat", *map(str, ref.bbox)] + (["-spat_srs", "EPSG:2180"] if source == "oapif" else [])
    elif scenario == "eq":
        args += ["-where", f"{ref.eq_attr} = '{ref.eq}'"]
    r = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(target), *args],
        capture_output=True,
        text=True,
        env=gdal_client_env(GDAL_HTTP_TIMEOUT="120", CPL_DEBUG="ON"),
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(target.read_text())
    feats = _geojson_points(doc, ref.id_attr, srs=None)
    if source == "oapif":
        feats = [(i, TO_2180.transform(*p)) for i, p in feats]
    return feats


CLIENTS = {
    "owslib-wfs-2.0.0-gml": lambda *a: owslib_wfs(a[0], "2.0.0", "gml", *a[1:]),
    "owslib-wfs-2.0.0-json": lambda *a: owslib_wfs(a[0], "2.0.0", "json", *a[1:]),
    "owslib-wfs-1.1.0-gml": lambda *a: owslib_wfs(a[0], "1.1.0", "gml", *a[1:]),
    "owslib-wfs-1.1.0-json": lambda *a: owslib_wfs(a[0], "1.1.0", "json", *a[1:]),
    "owslib-ogcapi": owslib_ogcapi,
    "ogr2ogr-wfs-1.1.0": lambda *a: ogr2ogr(a[0], "wfs-1.1.0", *a[1:]),
    "ogr2ogr-wfs-2.0.0": lambda *a: ogr2ogr(a[0], "wfs-2.0.0", *a[1:]),
    "ogr2ogr-oapif": lambda *a: ogr2ogr(a[0], "oapif", *a[1:]),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("client", list(CLIENTS))
def test_every_client_reads_what_hits_counts(live_url, refs, hits, client, layer, scenario, tmp_path):
    ref = refs[layer]
    feats = CLIENTS[client](live_url, ref, scenario, tmp_path)
    ids = [i for i, _ in feats]
    assert len(ids) == hits(layer, scenario), (
        f"{client} read {len(ids)} features, hits says {hits(layer, scenario)}"
    )
    assert len(set(ids)) == len(ids), "a feature came twice"
    points = dict(feats)
    assert ref.id in points, f"{ref.id} missing"
    # OGC API and GDAL's OAPIF go through lon/lat (7 decimals: about 1 cm); WFS is exact to the centimetre
    tol = 0.03 if "ogcapi" in client or "oapif" in client else 0.006
    assert points[ref.id] == pytest.approx(ref.first, abs=tol), (
        f"{client}: {points[ref.id]} is not E/N {ref.first}"
    )


# ------------------------------------------------------------------ WMS: OWSLib and gdal_translate
def map_box(ref: Ref, half: float = 60.0) -> tuple[float, float, float, float]:
    x, y = ref.inner
    return x - half, y - half, x + half, y + half


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_wms_capabilities_and_getmap(live_url, refs, version):
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    assert {"dzialki", "budynki", "adresy", "obreby"} <= set(wms.contents)
    ref = refs["dzialki"]
    lon, lat = TO_LONLAT.transform(*ref.inner)
    w, s, e, n = wms["dzialki"].boundingBoxWGS84
    assert w < lon < e and s < lat < n
    box = map_box(ref)
    # OWSLib takes the box east-first and swaps it itself for 2180 in 1.3.0 (OGC.md §4)
    data = wms.getmap(
        layers=["dzialki"],
        styles=["wypelnienie"],
        srs="EPSG:2180",
        bbox=box,
        size=(256, 256),
        format="image/png",
    ).read()
    assert size(data) == (256, 256)
    assert rgba(data, *pixel_of(*ref.inner, box, 256, 256))[:3] == FILL


@pytest.mark.parametrize(
    "info_format", ["application/json", "application/gml+xml; version=3.2", "application/vnd.ogc.gml"]
)
@pytest.mark.parametrize("layer", ["dzialki", "adresy"])
@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_wms_getfeatureinfo_coordinates(live_url, refs, version, layer, info_format):
    """The feature under the pixel, read from GetFeatureInfo, has the reference coordinates once its
    output is read by the CRS it declares."""
    ref = refs[layer]
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    box = map_box(ref)
    col, row = pixel_of(*ref.inner, box, 256, 256)
    data = wms.getfeatureinfo(
        layers=[layer],
        srs="EPSG:2180",
        bbox=box,
        size=(256, 256),
        format="image/png",
        query_layers=[layer],
        info_format=info_format,
        xy=(col, row),
        feature_count=10,
    ).read()
    if info_format == "application/json":
        doc = json.loads(data)
        feats = _geojson_points(
            doc, ref.id_attr, srs=(doc.get("crs") or {}).get("properties", {}).get("name")
        )
    else:
        feats = gml_first_points(data, ref.id_attr)
    points = dict(feats)
    assert ref.id in points, data[:500]
    assert points[ref.id] == pytest.approx(ref.first, abs=0.006), f"{points[ref.id]} is not E/N {ref.first}"


BUILDING_FILL = (0xE8, 0xCF, 0xA8)  # the default style of budynki


def _gdal_wms_xml(url: str, version: str, box: tuple[float, float, float, float], px: int) -> str:
    """A GDAL WMS service description. Its WMS mini-driver writes BBOX in <BBoxOrder> (default xyXY) and never
    swaps by itself: for 1.3.0 and north-first 2180 the description must say yxYX (GDAL's WMS driver docs)."""
    crs_tag, order = ("CRS", "yxYX") if version == "1.3.0" else ("SRS", "xyXY")
    minx, miny, maxx, maxy = box
    return f"""<GDAL_WMS>
  <Service name="WMS"><Version>{version}</Version><ServerUrl>{url}/ows?</ServerUrl><{crs_tag}>EPSG:2180</{crs_tag}>
    <ImageFormat>image/png</ImageFormat><Layers>dzialki</Layers><Styles>wypelnienie</Styles><Transparent>TRUE</Transparent>
    <BBoxOrder>{order}</BBoxOrder></Service>
  <DataWindow><UpperLeftX>{minx}</UpperLeftX><UpperLeftY>{maxy}</UpperLeftY><LowerRightX>{maxx}</LowerRightX>
    <LowerRightY>{miny}</LowerRightY><SizeX>{px}</SizeX><SizeY>{px}</SizeY></DataWindow>
  <BlockSizeX>{px}</BlockSizeX><BlockSizeY>{px}</BlockSizeY><BandsCount>4</BandsCount>
</GDAL_WMS>"""


@pytest.mark.parametrize(
    "how", ["xml-1.3.0", "xml-1.1.1", "connection-string-1.3.0", "connection-string-1.1.1"]
)
def test_gdal_translate_wms_to_geotiff(live_url, refs, tmp_path, how):
    """gdal_translate over our WMS gives a GeoTIFF of the asked extent and size, in 2180, with the reference
    feature's fill on its pixel: parcels (style wypelnienie) through a service description, buildings (default
    style: the `WMS:` connection string drops STYLES) through a connection string, whose 1.3.0 BBOX GDAL reads
    north-first for 2180 itself."""
    version = how.rsplit("-", 1)[1]
    layer, fill = ("dzialki", FILL) if how.startswith("xml") else ("budynki", BUILDING_FILL)
    ref = refs[layer]
    box, px = map_box(ref), 256
    minx, miny, maxx, maxy = box
    if how.startswith("xml"):
        source = str(tmp_path / "wms.xml")
        (tmp_path / "wms.xml").write_text(_gdal_wms_xml(live_url, version, box, px))
        extra: list[str] = []
    else:
        crs, bbox = (
            ("CRS", f"{miny},{minx},{maxy},{maxx}")
            if version == "1.3.0"
            else ("SRS", f"{minx},{miny},{maxx},{maxy}")
        )
        source = (
            f"WMS:{live_url}/ows?SERVICE=WMS&VERSION={version}&REQUEST=GetMap&LAYERS={layer}"
            f"&{crs}=EPSG:2180&FORMAT=image/png&TRANSPARENT=TRUE&BBOX={bbox}"
        )
        extra = ["-outsize", str(px), str(px), "-projwin", str(minx), str(maxy), str(maxx), str(miny)]
    out = tmp_path / "map.tif"
    env = gdal_client_env(GDAL_HTTP_TIMEOUT="60")
    r = subprocess.run(
        ["gdal_translate", "-of", "GTiff", *extra, source, str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads(
        subprocess.run(
            ["gdalinfo", "-json", str(out)], capture_output=True, text=True, env=env, timeout=60, check=True
        ).stdout
    )
    assert info["size"] == [px, px]
    assert info["geoTransform"] == pytest.approx(
        [minx, (maxx - minx) / px, 0, maxy, 0, -(maxy - miny) / px], abs=1e-6
    )
    assert 'ID["EPSG",2180]' in info["coordinateSystem"]["wkt"]
    r = subprocess.run(
        ["gdallocationinfo", "-valonly", "-geoloc", str(out), *map(str, ref.inner)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert tuple(int(v) for v in r.stdout.split()[:3]) == fill
