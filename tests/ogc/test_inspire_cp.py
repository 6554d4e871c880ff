"""INSPIRE Cadastral Parcels download (issue 28): cp:CadastralParcel and cp:CadastralZoning through the WFS
(ogc/inspire/cp.py, ogc/wfs/inspire.py): schema validity against cp/4.0/CadastralParcels.xsd, the mapping
checked against the registry, axis order, paging, RESOURCEID, GetFeatureById, the INSPIRE stored query, no
personal data, and GDAL and QGIS as clients."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.conf import settings
from lxml import etree
from pyproj import Transformer

from layers.models import CadastralUnit, Parcel, Precinct

from ..conftest import SHARED_DATA
from .helpers import gdal_client_env
from .test_qgis import PROBE, _env, qgis_python  # noqa: F401 - fixture (skips without QGIS)
from .test_wms import schema_from

pytestmark = pytest.mark.django_db
NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "gml": "http://www.opengis.net/gml/3.2",
    "cp": "http://inspire.ec.europa.eu/schemas/cp/4.0",
    "base": "http://inspire.ec.europa.eu/schemas/base/3.3",
    "gn": "http://inspire.ec.europa.eu/schemas/gn/4.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "ows": "http://www.opengis.net/ows/1.1",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
CP = NS["cp"]
BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
STORED_QUERY = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"
LEVELS = "http://inspire.ec.europa.eu/codelist/CadastralZoningLevelValue/"


def get(client, **params):
    r = client.get("/ows?" + urlencode({"SERVICE": "WFS", **params}))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body


def gf(client, **params):
    r, body = get(client, VERSION="2.0.0", REQUEST="GetFeature", **params)
    assert r.status_code == 200, body[:500]
    return etree.fromstring(body)


def exc(body: bytes) -> tuple[str, str | None]:
    el = next(etree.fromstring(body).iter("{*}Exception"))
    return el.get("exceptionCode"), el.get("locator")


def members(doc, name: str = "CadastralParcel"):
    return doc.findall(f"wfs:member/cp:{name}", NS)


def text(el, path: str) -> str:
    return el.find(path, NS).text


@pytest.fixture(scope="module")
def cp_schema():
    """WFS 2.0 and the official cp/4.0 schema (all imports from ../shared/data/ogc-schemas)."""
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        '<xs:import namespace="http://www.opengis.net/wfs/2.0" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>'
        f'<xs:import namespace="{CP}" schemaLocation="http://inspire.ec.europa.eu/schemas/cp/4.0/CadastralParcels.xsd"/>'
        "</xs:schema>"
    )
    return schema_from(wrapper.encode())


def valid(schema, doc) -> None:
    assert schema.validate(doc), schema.error_log
    location = doc.get(f"{{{NS['xsi']}}}schemaLocation").split()
    assert dict(zip(location[::2], location[1::2], strict=True))[CP].endswith(
        "/schemas/cp/4.0/CadastralParcels.xsd"
    )


def test_capabilities_list_inspire_types(client, demo_data):
    for version in ("2.0.0", "1.1.0"):
        r, body = get(client, REQUEST="GetCapabilities", VERSION=version)
        doc = etree.fromstring(body)
        names = doc.xpath("//*[local-name()='FeatureType']/*[local-name()='Name']/text()")
        assert {"cp:CadastralParcel", "cp:CadastralZoning", "gisportal:dzialki"} <= set(names)
        assert doc.nsmap["cp"] == CP


def test_getfeature_parcels_validate(client, demo_data, cp_schema):
    doc = gf(client, TYPENAMES="cp:CadastralParcel", COUNT="20")
    assert len(members(doc)) == 20 == int(doc.get("numberReturned"))
    assert doc.get("next")
    valid(cp_schema, doc)


def test_getfeature_zonings_validate(client, demo_data, cp_schema):
    n_units, n_precincts = CadastralUnit.objects.current().count(), Precinct.objects.current().count()
    doc = gf(client, TYPENAMES="cp:CadastralZoning", COUNT="1000")
    zonings = members(doc, "CadastralZoning")
    assert len(zonings) == n_units + n_precincts == int(doc.get("numberMatched"))
    levels = [z.find("cp:level", NS).get(f"{{{NS['xlink']}}}href") for z in zonings]
    assert levels.count(LEVELS + "1stOrder") == n_units and levels.count(LEVELS + "2ndOrder") == n_precincts
    valid(cp_schema, doc)


def _by_id(client, href: str):
    """Follow a feature reference (a GetFeatureById URL of this service)."""
    parts = urlsplit(href)
    assert parts.path == "/ows"
    r = client.get("/ows?" + parts.query)
    assert r.status_code == 200, r.content[:300]
    return etree.fromstring(r.content)


def test_mapping_against_the_registry(client, demo_data):
    parcels = list(Parcel.objects.current().order_by("pk")[5:8])
    doc = gf(client, RESOURCEID=",".join(f"CadastralParcel.{p.pk}" for p in parcels))
    found = {text(f, "cp:nationalCadastralReference"): f for f in members(doc)}
    assert set(found) == {p.parcel_id for p in parcels}
    for p in parcels:
        f = found[p.parcel_id]
        assert f.get(f"{{{NS['gml']}}}id") == f"CadastralParcel.{p.pk}"
        assert text(f, "cp:inspireId/base:Identifier/base:localId") == p.local_id
        assert text(f, "cp:inspireId/base:Identifier/base:namespace") == settings.GISPORTAL_INSPIRE_NAMESPACE
        area = f.find("cp:areaValue", NS)
        assert area.get("uom") == "m2" and Decimal(area.text) == p.area_ha * 10_000
        assert text(f, "cp:label") == p.number
        if p.start_version:
            assert text(f, "cp:beginLifespanVersion").startswith(p.start_version.strftime("%Y-%m-%dT"))
        assert f.find("cp:endLifespanVersion", NS) is None  # current parcels
        assert f.find("cp:basicPropertyUnit", NS).get(f"{{{NS['xsi']}}}nil") == "true"
        zone = _by_id(client, f.find("cp:zoning", NS).get(f"{{{NS['xlink']}}}href"))
        assert etree.QName(zone).localname == "CadastralZoning"
        assert text(zone, "cp:nationalCadastalZoningReference") == p.precinct.precinct_id
        assert zone.find("cp:level", NS).get(f"{{{NS['xlink']}}}href") == LEVELS + "2ndOrder"
        assert (
            text(zone, "cp:name/gn:GeographicalName/gn:spelling/gn:SpellingOfName/gn:text") == p.precinct.name
        )
        unit = _by_id(client, zone.find("cp:upperLevelUnit", NS).get(f"{{{NS['xlink']}}}href"))
        assert text(unit, "cp:nationalCadastalZoningReference") == p.precinct.unit.unit_id
        assert unit.find("cp:level", NS).get(f"{{{NS['xlink']}}}href") == LEVELS + "1stOrder"


def _first_position(doc) -> tuple[float, float]:
    pos = doc.find(".//cp:geometry//gml:posList", NS).text.split()
    return float(pos[0]), float(pos[1])


@pytest.mark.parametrize(
    ("srs", "epsg", "north_first"),
    [
        (None, 2180, True),  # DefaultCRS, URN form
        ("urn:ogc:def:crs:EPSG::2180", 2180, True),
        ("http://www.opengis.net/def/crs/EPSG/0/2180", 2180, True),
        ("EPSG:2180", 2180, False),
        ("urn:ogc:def:crs:EPSG::4258", 4258, True),
        ("http://www.opengis.net/def/crs/EPSG/0/4258", 4258, True),
        ("EPSG:4258", 4258, False),
        ("urn:ogc:def:crs:EPSG::4326", 4326, True),
        ("http://www.opengis.net/def/crs/EPSG/0/3035", 3035, True),
    ],
)
def test_axis_order(client, demo_data, srs, epsg, north_first):
    p = Parcel.objects.current().order_by("pk").first()
    x, y = p.geom[0][0][0]
    if epsg != 2180:
        x, y = Transformer.from_crs(2180, epsg, always_xy=True).transform(x, y)
    doc = gf(client, RESOURCEID=f"CadastralParcel.{p.pk}", **({"SRSNAME": srs} if srs else {}))
    surface = doc.find(".//cp:geometry/gml:MultiSurface", NS)
    # INSPIRE data carry the http URI of their CRS when the URN form (or nothing) was asked for
    written = f"http://www.opengis.net/def/crs/EPSG/0/{epsg}" if not srs or srs.startswith("urn:") else srs
    assert surface.get("srsName") == written
    a, b = _first_position(doc)
    expected = (y, x) if north_first else (x, y)
    tolerance = 1e-6 if epsg in (4258, 4326) else 0.01
    assert a == pytest.approx(expected[0], abs=tolerance) and b == pytest.approx(expected[1], abs=tolerance)


def test_bbox_paging_and_hits(client, demo_data):
    hits = gf(client, TYPENAMES="cp:CadastralParcel", RESULTTYPE="hits")
    assert (
        int(hits.get("numberMatched")) == Parcel.objects.current().count()
        and hits.get("numberReturned") == "0"
    )
    total = CadastralUnit.objects.current().count() + Precinct.objects.current().count()
    seen, params = [], {"TYPENAMES": "cp:CadastralZoning", "COUNT": "7"}
    for _page in range(50):
        doc = gf(client, **params)
        assert int(doc.get("numberMatched")) == total
        seen += [z.get(f"{{{NS['gml']}}}id") for z in members(doc, "CadastralZoning")]
        if not doc.get("next"):
            break
        params = dict(parse_qsl(urlsplit(doc.get("next")).query))
        params.pop("SERVICE"), params.pop("VERSION"), params.pop("REQUEST")
    assert len(seen) == len(set(seen)) == total
    # BBOX (URN form: N,E) around one parcel's reference point finds it
    p = Parcel.objects.current().order_by("pk")[3]
    pt = p.geom.point_on_surface
    bbox = f"{pt.y - 1},{pt.x - 1},{pt.y + 1},{pt.x + 1},urn:ogc:def:crs:EPSG::2180"
    doc = gf(client, TYPENAMES="cp:CadastralParcel", BBOX=bbox)
    assert p.parcel_id in [text(f, "cp:nationalCadastralReference") for f in members(doc)]
    assert len(members(doc)) < 10


def test_resource_ids(client, demo_data):
    a, b = Parcel.objects.current().order_by("pk")[:2]
    doc = gf(client, RESOURCEID=f"CadastralParcel.{a.pk},CadastralParcel.{b.pk}")
    assert len(members(doc)) == 2
    assert members(gf(client, RESOURCEID="CadastralParcel.999999999")) == []
    r, body = get(
        client,
        VERSION="2.0.0",
        REQUEST="GetFeature",
        TYPENAMES="cp:CadastralZoning",
        RESOURCEID=f"CadastralParcel.{a.pk}",
    )
    assert r.status_code == 400 and exc(body) == ("InvalidParameterValue", "RESOURCEID")
    r, body = get(
        client, VERSION="2.0.0", REQUEST="GetFeature", STOREDQUERY_ID=BY_ID, ID="CadastralParcel.999999999"
    )
    assert r.status_code == 404


def test_refusals_are_clear(client, demo_data):
    for params, locator in (
        ({"VERSION": "1.1.0", "TYPENAME": "cp:CadastralParcel"}, "typeNames"),
        (
            {"VERSION": "2.0.0", "TYPENAMES": "cp:CadastralParcel", "OUTPUTFORMAT": "application/json"},
            "outputFormat",
        ),
        ({"VERSION": "2.0.0", "TYPENAMES": "cp:CadastralParcel", "FILTER": "<fes:Filter/>"}, "FILTER"),
        ({"VERSION": "2.0.0", "TYPENAMES": "cp:CadastralParcel,gisportal:dzialki"}, "typeNames"),
        ({"VERSION": "2.0.0", "TYPENAMES": "cp:BasicPropertyUnit"}, "typeNames"),
    ):
        r, body = get(client, REQUEST="GetFeature", **params)
        assert r.status_code == 400, params
        assert exc(body)[1] == locator, (params, body[:300])


def _content_model(complex_type) -> list[tuple]:
    """A feature type's properties as (name, type, minOccurs, maxOccurs, nillable): the type from `type`, a
    simple-content extension's base, or the element a wrapper holds."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    out = []
    for el in complex_type.find(f"{xs}complexContent/{xs}extension/{xs}sequence").findall(f"{xs}element"):
        base = el.find(f"{xs}complexType/{xs}simpleContent/{xs}extension")
        ref = el.find(f"{xs}complexType/{xs}sequence/{xs}element")
        kind = el.get("type") or (base.get("base") if base is not None else f"ref {ref.get('ref')}")
        out.append(
            (
                el.get("name"),
                kind,
                el.get("minOccurs", "1"),
                el.get("maxOccurs", "1"),
                el.get("nillable", "false"),
            )
        )
    return out


def test_describe_feature_type_writes_out_the_official_content_model(client, demo_data):
    """DescribeFeatureType of the cp types declares their elements and complexTypes (QGIS reads them from the
    answer), property by property as the official cp/4.0 schema does, and loads with the imports resolved."""
    official = etree.parse(str(SHARED_DATA / "ogc-schemas/inspire/cp/4.0/CadastralParcels.xsd")).getroot()
    names = ("CadastralParcel", "CadastralZoning", "CadastralBoundary")
    for typenames in [f"cp:{n}" for n in names] + [",".join(f"cp:{n}" for n in names)]:
        r, body = get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES=typenames)
        assert r.status_code == 200, body[:300]
        schema = etree.fromstring(body)
        assert schema.get("targetNamespace") == CP
        assert not schema.xpath("xs:include", namespaces=NS)
        described = schema.xpath("xs:element/@name", namespaces=NS)
        assert described == [t.split(":")[1] for t in typenames.split(",")]
        for name in described:
            element = schema.find(f"xs:element[@name='{name}']", NS)
            assert (element.get("type"), element.get("substitutionGroup")) == (
                f"cp:{name}Type",
                "gml:AbstractFeature",
            )
            ours = schema.find(f"xs:complexType[@name='{name}Type']", NS)
            theirs = official.find(f"xs:complexType[@name='{name}Type']", NS)
            assert _content_model(ours) == _content_model(theirs), name
        schema_from(body)  # a valid schema once GML, base, gn and gmd resolve (locally here)
    # a type repeated is described once
    r, body = get(
        client,
        VERSION="2.0.0",
        REQUEST="DescribeFeatureType",
        TYPENAMES="cp:CadastralParcel,cp:CadastralParcel",
    )
    assert etree.fromstring(body).xpath("xs:element/@name", namespaces=NS) == ["CadastralParcel"]


def test_features_validate_against_the_describe_feature_type_answer(client, demo_data, tmp_path):
    """What the service writes validates against what it describes (as well as the official schema)."""
    r, body = get(
        client,
        VERSION="2.0.0",
        REQUEST="DescribeFeatureType",
        TYPENAMES="cp:CadastralParcel,cp:CadastralZoning,cp:CadastralBoundary",
    )
    described = tmp_path / "described.xsd"
    described.write_bytes(body)
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        '<xs:import namespace="http://www.opengis.net/wfs/2.0" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>'
        f'<xs:import namespace="{CP}" schemaLocation="{described.as_uri()}"/>'
        "</xs:schema>"
    )
    schema = schema_from(wrapper.encode())
    for name in ("CadastralParcel", "CadastralZoning", "CadastralBoundary"):
        doc = gf(client, TYPENAMES=f"cp:{name}", COUNT="30")
        assert members(doc, name)
        assert schema.validate(doc), (name, schema.error_log)


def test_inspire_stored_query_returns_the_cp_data_set(client, demo_data, cp_schema):
    from ogc.metadata import DATASET_NAMESPACE

    r, body = get(
        client,
        VERSION="2.0.0",
        REQUEST="GetFeature",
        STOREDQUERY_ID=STORED_QUERY,
        CRS="http://www.opengis.net/def/crs/EPSG/0/4258",
        DataSetIdCode="CP",
        DataSetIdNamespace=DATASET_NAMESPACE,
        Language="eng",
    )
    assert r.status_code == 200, body[:300]
    doc = etree.fromstring(body)
    assert doc.get("next") is None
    assert len(members(doc)) == Parcel.objects.current().count()
    zonings = CadastralUnit.objects.current().count() + Precinct.objects.current().count()
    assert len(members(doc, "CadastralZoning")) == zonings
    assert {g.get("srsName") for g in doc.iterfind(".//gml:MultiSurface", NS)} == {
        "http://www.opengis.net/def/crs/EPSG/0/4258"
    }
    valid(cp_schema, doc)


def test_no_personal_data(client, demo_data):
    doc = gf(client, TYPENAMES="cp:CadastralParcel", COUNT="200")
    body = etree.tostring(doc).decode().lower()
    for word in (
        "pesel",
        "regon",
        "surname",
        "first_name",
        "owner",
        "kw_number",
        "share",
        "restricted",
        "subject",
    ):
        assert word not in body, word
    names = {etree.QName(el).localname for el in doc.iter() if isinstance(el.tag, str)}
    assert names <= {
        "FeatureCollection",
        "member",
        "CadastralParcel",
        "areaValue",
        "beginLifespanVersion",
        "geometry",
        "MultiSurface",
        "surfaceMember",
        "Polygon",
        "exterior",
        "interior",
        "LinearRing",
        "posList",
        "inspireId",
        "Identifier",
        "localId",
        "namespace",
        "versionId",
        "label",
        "nationalCadastralReference",
        "referencePoint",
        "Point",
        "pos",
        "validFrom",
        "validTo",
        "basicPropertyUnit",
        "administrativeUnit",
        "zoning",
    }, names
    registration_units = {
        p.registration_unit.lower() for p in Parcel.objects.current()[:200] if p.registration_unit
    }
    assert not any(f">{ru}<" in body for ru in registration_units)


# ---- real clients against the live server
def _gdal(*args: str) -> subprocess.CompletedProcess:
    env = gdal_client_env(OGR_WFS_PAGE_SIZE="500", CPL_DEBUG="ON", GDAL_HTTP_TIMEOUT="60")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


def test_gdal_reads_cadastral_parcels(live_url, tmp_path):
    p = Parcel.objects.current().order_by("pk").first()
    out = tmp_path / "cp.geojson"
    r = _gdal(
        "ogr2ogr",
        "-f",
        "GeoJSON",
        "-t_srs",
        "EPSG:2180",
        str(out),
        f"WFS:{live_url}/ows?SERVICE=WFS&VERSION=2.0.0",
        "cp:CadastralParcel",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    feats = json.loads(out.read_text())["features"]
    assert len(feats) == Parcel.objects.current().count()
    match = [f for f in feats if f["properties"].get("nationalCadastralReference") == p.parcel_id]
    assert len(match) == 1, feats[0]["properties"]
    assert match[0]["properties"]["label"] == p.number
    ring = match[0]["geometry"]["coordinates"][0][0]
    x, y = p.geom[0][0][0]
    assert ring[0][0] == pytest.approx(x, abs=0.02) and ring[0][1] == pytest.approx(y, abs=0.02)


@pytest.mark.qgis
def test_qgis_loads_cadastral_parcels(qgis_python, live_url, tmp_path, django_db_blocker):  # noqa: F811
    """QGIS's WFS provider on cp:CadastralParcel over WFS 2.0 (tests/ogc/qgis_probe.py): count and extent."""
    from django.contrib.gis.db.models import Extent

    p = Parcel.objects.current().order_by("pk").first()
    uri = (
        f"url='{live_url}/ows' typename='cp:CadastralParcel' version='2.0.0' srsname='EPSG:2180' "
        "restrictToRequestBBOX='0' pagingEnabled='true'"
    )
    spec = {
        "layers": [
            {
                "key": "cp",
                "provider": "WFS",
                "uri": uri,
                "id_field": "nationalCadastralReference",
                "id": p.parcel_id,
            }
        ]
    }
    out = tmp_path / "result.json"
    with django_db_blocker.unblock():
        r = subprocess.run(
            [qgis_python, "-X", "faulthandler", str(PROBE), str(out)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=900,
        )
    layer = json.loads(out.read_text())["layers"].get("cp", {}) if out.exists() else {}
    # QGIS 3.22 reads the feature type from the DescribeFeatureType answer (ogc/inspire/xsd.py)
    assert layer.get("valid"), (r.returncode, r.stderr[-2000:], layer)
    assert {"nationalCadastralReference", "label", "areaValue", "inspireId", "validFrom"} <= set(
        layer["fields"]
    )
    assert "geometry" not in layer["fields"]  # the geometry property is the layer's geometry
    attrs = layer["attributes"]
    assert attrs["label"] == p.number and attrs["nationalCadastralReference"] == p.parcel_id
    assert Decimal(attrs["areaValue"]) == p.area_ha * 10_000
    n = Parcel.objects.current().count()
    assert layer["provider_count"] == n and layer["iterated"] == n
    x0, y0, x1, y1 = Parcel.objects.current().aggregate(e=Extent("geom"))["e"]
    e = layer["extent"]
    assert e == pytest.approx([x0, y0, x1, y1], abs=0.05)
    vx, vy = p.geom[0][0][0]
    assert layer["matches"] == 1 and layer["vertex"] == pytest.approx([vx, vy], abs=0.02)
