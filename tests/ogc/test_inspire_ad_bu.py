"""INSPIRE Addresses (ad:Address and its components) and Buildings (bu-core2d:Building), encoded directly
with the theme encoders of ogc/inspire/ad.py and bu.py into a WFS 2.0 wfs:FeatureCollection, validated
against the local INSPIRE schemas (every import resolved in ../shared/data/ogc-schemas) and checked against
the registry rows they come from.

The official schemas' imports are laid out for https://inspire.ec.europa.eu/schemas/ ("../../schemas/au/4.0/
…", "../../schemas/ogc/gml/3.2.1/gml.xsd"); `inspire_schema` maps them onto the local copies. The 2D core
profile of Buildings (bu-core2d/4.0/BuildingsCore2D.xsd) is not among the local copies: until it is, the
official schema (INSPIRE-MIF/application-schemas, schemas/bu-core2d/4.0, EUPL-1.2; annotations left out)
is written from `BU_CORE2D_XSD` below into the test's temporary directory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from lxml import etree

from layers.models import AddressPoint, AdministrativeUnit, Building
from ogc.inspire import ad, bu
from ogc.inspire.base import GML, XLINK, XSI, Context

from ..conftest import SHARED_DATA

pytestmark = pytest.mark.django_db

WFS = "http://www.opengis.net/wfs/2.0"
BASE = "http://inspire.ec.europa.eu/schemas/base/3.3"
GN = "http://inspire.ec.europa.eu/schemas/gn/4.0"
NS = {
    "wfs": WFS,
    "gml": GML,
    "xlink": XLINK,
    "base": BASE,
    "gn": GN,
    "ad": ad.AD,
    "bu-base": bu.BU_BASE,
    "bu-core2d": bu.BU_CORE2D,
}
OGC_SCHEMAS = SHARED_DATA / "ogc-schemas"
INSPIRE = OGC_SCHEMAS / "inspire"
HREF = f"{{{XLINK}}}href"
N = 20

BU_CORE2D_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://www.w3.org/2001/XMLSchema" xmlns:bu-base="http://inspire.ec.europa.eu/schemas/bu-base/4.0"
  xmlns:bu-core2d="http://inspire.ec.europa.eu/schemas/bu-core2d/4.0" xmlns:gml="http://www.opengis.net/gml/3.2"
  elementFormDefault="qualified" targetNamespace="http://inspire.ec.europa.eu/schemas/bu-core2d/4.0" version="4.0">
 <import namespace="http://inspire.ec.europa.eu/schemas/bu-base/4.0"
   schemaLocation="https://inspire.ec.europa.eu/schemas/bu-base/4.0/BuildingsBase.xsd"/>
 <import namespace="http://www.opengis.net/gml/3.2" schemaLocation="http://schemas.opengis.net/gml/3.2.1/gml.xsd"/>
 <element name="Building" substitutionGroup="bu-base:Building" type="bu-core2d:BuildingType"/>
 <complexType name="BuildingType">
  <complexContent>
   <extension base="bu-base:BuildingType">
    <sequence>
     <element name="geometry2D" type="bu-base:BuildingGeometry2DPropertyType"/>
    </sequence>
   </extension>
  </complexContent>
 </complexType>
 <complexType name="BuildingPropertyType">
  <sequence minOccurs="0">
   <element ref="bu-core2d:Building"/>
  </sequence>
  <attributeGroup ref="gml:AssociationAttributeGroup"/>
  <attributeGroup ref="gml:OwnershipAttributeGroup"/>
 </complexType>
 <element name="BuildingPart" substitutionGroup="bu-base:BuildingPart" type="bu-core2d:BuildingPartType"/>
 <complexType name="BuildingPartType">
  <complexContent>
   <extension base="bu-base:BuildingPartType">
    <sequence>
     <element maxOccurs="unbounded" name="geometry2D" type="bu-base:BuildingGeometry2DPropertyType"/>
    </sequence>
   </extension>
  </complexContent>
 </complexType>
 <complexType name="BuildingPartPropertyType">
  <sequence minOccurs="0">
   <element ref="bu-core2d:BuildingPart"/>
  </sequence>
  <attributeGroup ref="gml:AssociationAttributeGroup"/>
  <attributeGroup ref="gml:OwnershipAttributeGroup"/>
 </complexType>
</schema>
"""


# ------------------------------------------------------------------ schemas
def _local(tail: str, core2d: Path) -> Path | None:
    """A path under https://inspire.ec.europa.eu/schemas/ (or the official "../../schemas/" layout) → ours."""
    if tail.startswith("ogc/"):  # ../../schemas/ogc/gml/3.2.1/gml.xsd
        return OGC_SCHEMAS / tail[len("ogc/") :]
    if tail.startswith("iso/"):
        return OGC_SCHEMAS / tail
    if tail.startswith("bu-core2d/") and not (INSPIRE / tail).exists():
        return core2d
    return INSPIRE / tail


@pytest.fixture
def inspire_schema(tmp_path):
    """An XMLSchema over WFS 2.0, ad/4.0 and bu-core2d/4.0 with every import read from ../shared."""
    core2d = tmp_path / "BuildingsCore2D.xsd"
    core2d.write_text(BU_CORE2D_XSD)
    inspire_root = str(INSPIRE.resolve()) + "/schemas/"

    class Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            path = None
            for prefix in ("http://schemas.opengis.net/", "https://schemas.opengis.net/"):
                if url.startswith(prefix):
                    path = OGC_SCHEMAS / url[len(prefix) :]
            for prefix in ("http://inspire.ec.europa.eu/schemas/", "https://inspire.ec.europa.eu/schemas/"):
                if url.startswith(prefix):
                    path = _local(url[len(prefix) :], core2d)
            local = url.removeprefix("file://")
            if local.startswith(inspire_root):  # "../../schemas/x" read from inspire/<theme>/<version>/
                path = _local(local[len(inspire_root) :], core2d)
            if url.endswith("xlink.xsd"):
                path = OGC_SCHEMAS / "w3c" / "xlink.xsd"
            elif url.endswith("/xml.xsd"):
                path = OGC_SCHEMAS / "w3c" / "xml.xsd"
            if path is None:
                return None
            assert path.exists(), f"{url} has no local copy ({path})"
            return self.resolve_filename(str(path.resolve()), context)

    wrapper = tmp_path / "wrapper.xsd"
    wrapper.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        f'<xs:import namespace="{WFS}" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>'
        f'<xs:import namespace="{ad.AD}" schemaLocation="{(OGC_SCHEMAS / ad.LOCAL_SCHEMA).as_uri()}"/>'
        f'<xs:import namespace="{bu.BU_CORE2D}" schemaLocation="{bu.BUILDING.schema_location}"/>'
        "</xs:schema>"
    )
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Resolver())
    return etree.XMLSchema(etree.parse(str(wrapper), parser))


def collection(features, types) -> etree._Element:
    """A WFS 2.0 GetFeature answer holding `features`, one wfs:member each."""
    location = " ".join(f"{t.namespace} {t.schema_location}" for t in {t.typename: t for t in types}.values())
    fc = etree.Element(
        f"{{{WFS}}}FeatureCollection",
        {
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "numberMatched": "unknown",
            "numberReturned": str(len(features)),
            f"{{{XSI}}}schemaLocation": f"{WFS} http://schemas.opengis.net/wfs/2.0/wfs.xsd {location}",
        },
        nsmap=NS,
    )
    for f in features:
        etree.SubElement(fc, f"{{{WFS}}}member").append(f)
    return etree.fromstring(etree.tostring(fc))  # as a client reads it


def assert_valid(schema, doc):
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log[:10])


def _text(el, path: str) -> str:
    found = el.xpath(path, namespaces=NS)
    assert found, path
    return found[0] if isinstance(found[0], str) else found[0].text


# ------------------------------------------------------------------ addresses
def _addresses() -> list:
    """20 current address points (annotated as served): half with a street (town), half without (villages)."""
    qs = ad.addresses().order_by("pk")
    with_street = list(qs.exclude(street="")[: N // 2])
    without = list(qs.filter(street="")[: N - len(with_street)])
    rows = with_street + without
    assert len(rows) == N and with_street and without
    return rows


def _address_document(ctx: Context):
    """The 20 addresses and every component they link to, as one GetFeature answer would hold them."""
    rows = _addresses()
    features = [ad.encode_address(row, ctx) for row in rows]
    wanted: dict[str, set[int]] = {}
    for row in rows:
        for fid in ad.component_fids(row):
            key, _, pk = fid.rpartition(".")
            wanted.setdefault(key, set()).add(int(pk))
    for itype in ad.TYPES[1:]:
        for source in itype.sources:
            for row in source.queryset().filter(pk__in=wanted.get(source.key, ())).order_by("pk"):
                features.append(source.encode(row, ctx))
    return rows, collection(features, ad.TYPES)


def test_addresses_and_components_validate(demo_data, inspire_schema):
    rows, doc = _address_document(Context())
    assert_valid(inspire_schema, doc)
    members = doc.xpath("wfs:member/*", namespaces=NS)
    kinds = {etree.QName(m).localname for m in members}
    assert kinds == {"Address", "AdminUnitName", "AddressAreaName", "ThoroughfareName", "PostalDescriptor"}
    assert len(doc.xpath("wfs:member/ad:Address", namespaces=NS)) == N
    # every link points at a feature of the document; gml:ids are unique
    ids = doc.xpath("//@gml:id", namespaces=NS)
    assert len(ids) == len(set(ids))
    hrefs = doc.xpath("//ad:component/@xlink:href | //ad:situatedWithin/@xlink:href", namespaces=NS)
    assert hrefs and {h[1:] for h in hrefs} <= set(ids)
    # four administrative levels, country first
    levels = doc.xpath("wfs:member/ad:AdminUnitName/ad:level/@xlink:href", namespaces=NS)
    assert sorted(h.rsplit("/", 1)[1] for h in levels) == ["1stOrder", "2ndOrder", "3rdOrder", "4thOrder"]


def test_references_are_get_feature_by_id_urls(demo_data):
    row = _addresses()[0]
    ctx = Context(feature_href=lambda fid: f"https://example.org/ows?ID={fid}")
    f = ad.encode_address(row, ctx)
    hrefs = f.xpath("ad:component/@xlink:href", namespaces=NS)
    assert hrefs == [f"https://example.org/ows?ID={fid}" for fid in ad.component_fids(row)]


def test_schema_validation_is_real(demo_data, inspire_schema):
    """lax wfs:member content is checked too: an address without its inspireId is rejected."""
    _, doc = _address_document(Context())
    first = doc.xpath("wfs:member/ad:Address", namespaces=NS)[0]
    first.remove(first.find(f"{{{ad.AD}}}inspireId"))
    assert not inspire_schema.validate(doc)


def test_address_mapping_against_the_registry(demo_data, settings):
    rows, doc = _address_document(Context())
    by_id = {f.get(f"{{{GML}}}id"): f for f in doc.xpath("wfs:member/*", namespaces=NS)}
    gminas = dict(AdministrativeUnit.objects.values_list("teryt", "name"))
    for row in rows:
        f = by_id[f"Address.{row.pk}"]
        assert _text(f, "ad:inspireId/base:Identifier/base:localId") == row.local_id
        assert _text(f, "ad:inspireId/base:Identifier/base:namespace") == settings.GISPORTAL_INSPIRE_NAMESPACE
        if row.version_id:
            assert _text(f, "ad:inspireId/base:Identifier/base:versionId") == row.version_id
        number = "".join(
            f.xpath("ad:locator/ad:AddressLocator/ad:designator/*/ad:designator/text()", namespaces=NS)
        )
        assert number == row.number.replace(" ", "")
        assert f.xpath("ad:locator/ad:AddressLocator/ad:level/@xlink:href", namespaces=NS) == [
            "http://inspire.ec.europa.eu/codelist/LocatorLevelValue/siteLevel"
        ]
        n, e = map(float, _text(f, "ad:position/ad:GeographicPosition/ad:geometry/gml:Point/gml:pos").split())
        assert Point(e, n, srid=2180).distance(row.geom) < 0.01  # 2180 is written northing first
        assert _text(f, "ad:position/ad:GeographicPosition/ad:default") == "true"
        if row.start_version:
            begin = datetime.fromisoformat(_text(f, "ad:beginLifespanVersion"))
            assert begin == row.start_version
        components = {}
        for href in f.xpath("ad:component/@xlink:href", namespaces=NS):
            c = by_id[href[1:]]
            components.setdefault(etree.QName(c).localname, []).append(c)
        street = components.get("ThoroughfareName", [])
        assert [_text(c, "ad:name/ad:ThoroughfareNameValue/ad:name//gn:text") for c in street] == (
            [row.street] if row.street else []
        )
        if row.ulic:
            assert [_text(c, "ad:alternativeIdentifier") for c in street] == [row.ulic]
        (area,) = components["AddressAreaName"]
        assert _text(area, "ad:name//gn:text") == row.locality
        if row.simc:
            assert _text(area, "ad:alternativeIdentifier") == row.simc
        postal = components.get("PostalDescriptor", [])
        assert [_text(c, "ad:postCode") for c in postal] == ([row.postcode] if row.postcode else [])
        units = {
            _text(c, "ad:level/@xlink:href").rsplit("/", 1)[1]: _text(c, "ad:name//gn:text")
            for c in components["AdminUnitName"]
        }
        assert units == {
            "1stOrder": "Polska",
            "2ndOrder": gminas[row.teryt_gmina[:2]],
            "3rdOrder": gminas[row.teryt_gmina[:4]],
            "4thOrder": gminas[row.teryt_gmina],
        }


def test_components_are_the_distinct_values(demo_data):
    """One component per distinct value of the current address points, with a local id that depends on
    the value only."""
    current = AddressPoint.objects.current()
    streets = set(current.exclude(street="").values_list("teryt_gmina", "simc", "locality", "street"))
    served = list(ad.streets())
    assert {(r.teryt_gmina, r.simc, r.locality, r.street) for r in served} == streets
    assert len(served) == len(streets)
    assert {r.postcode for r in ad.postal_descriptors()} == set(
        current.exclude(postcode="").values_list("postcode", flat=True)
    )
    assert {r.locality for r in ad.areas()} == set(current.values_list("locality", flat=True))
    assert set(ad.admin_units().values_list("level", flat=True)) == {"voivodeship", "county", "gmina"}
    assert ad.country().count() == 1
    assert ad.component_id("PostalDescriptor", "05-500") == ad.component_id("PostalDescriptor", "05-500")
    assert ad.component_id("PostalDescriptor", "05-500") != ad.component_id("AddressAreaName", "05-500")
    row = served[0]
    first = ad.encode_thoroughfare_name(row, Context())
    again = ad.encode_thoroughfare_name(next(r for r in ad.streets() if r.pk == row.pk), Context())
    assert etree.tostring(first) == etree.tostring(again)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("12", [("12", "addressNumber")]),
        ("12A", [("12", "addressNumber"), ("A", "addressNumberExtension")]),
        ("12/14", [("12/14", "addressIdentifierGeneral")]),
    ],
)
def test_house_number_designators(number, expected):
    assert ad.designators(number) == expected


# ------------------------------------------------------------------ buildings
def _buildings() -> list[Building]:
    rows = list(bu.buildings().order_by("pk")[:N])
    assert len(rows) == N
    return rows


CONTEXTS = {
    "2180": Context(),
    "4258": Context(srid=4258, srs_name="http://www.opengis.net/def/crs/EPSG/0/4258", decimals=9),
}


def _polygons(geometry, srid: int, north_first: bool) -> MultiPolygon:
    polys = []
    for surface in geometry.xpath(".//gml:Polygon", namespaces=NS):
        rings = []
        for pos_list in surface.xpath(".//gml:posList", namespaces=NS):
            values = [float(v) for v in pos_list.text.split()]
            pairs = list(zip(values[::2], values[1::2], strict=True))
            rings.append([(b, a) if north_first else (a, b) for a, b in pairs])
        polys.append(Polygon(*rings))
    return MultiPolygon(*polys, srid=srid)


@pytest.mark.parametrize("crs", sorted(CONTEXTS))
def test_buildings_validate_and_match_the_registry(demo_data, inspire_schema, settings, crs):
    ctx = CONTEXTS[crs]
    rows = _buildings()
    doc = collection([bu.encode_building(row, ctx) for row in rows], bu.TYPES)
    assert_valid(inspire_schema, doc)
    members = doc.xpath("wfs:member/bu-core2d:Building", namespaces=NS)
    assert len(members) == N
    for row, f in zip(rows, members, strict=True):
        assert f.get(f"{{{GML}}}id") == f"Building.{row.pk}"
        assert _text(f, "bu-base:inspireId/base:Identifier/base:localId") == row.local_id
        assert (
            _text(f, "bu-base:inspireId/base:Identifier/base:namespace")
            == settings.GISPORTAL_INSPIRE_NAMESPACE
        )
        assert (
            _text(f, "bu-base:externalReference/bu-base:ExternalReference/bu-base:reference")
            == row.building_id
        )
        assert int(_text(f, "bu-base:numberOfFloorsAboveGround")) == row.storeys_above
        use = f.xpath("bu-base:currentUse/bu-base:CurrentUse/bu-base:currentUse/@xlink:href", namespaces=NS)
        expected = bu.CURRENT_USE.get(row.kst_type)
        assert use == (
            [f"http://inspire.ec.europa.eu/codelist/CurrentUseValue/{expected}"] if expected else []
        )
        g2d = f.find(f"{{{bu.BU_CORE2D}}}geometry2D/{{{bu.BU_BASE}}}BuildingGeometry2D")
        assert _text(g2d, "bu-base:referenceGeometry") == "true"
        assert _text(g2d, "bu-base:horizontalGeometryReference/@xlink:href").endswith("/footPrint")
        geometry = g2d.find(f"{{{bu.BU_BASE}}}geometry/{{{GML}}}MultiSurface")
        assert geometry.get("srsName") == ctx.srs_name
        footprint = _polygons(geometry, ctx.srid, ctx.north_first).transform(2180, clone=True)
        assert footprint.num_geom == row.geom.num_geom
        assert footprint.equals_exact(row.geom, tolerance=0.01)  # every vertex within 1 cm


def test_kst_table_covers_every_class():
    from layers.models import KstType

    assert set(bu.CURRENT_USE) | {"i"} == set(KstType.values)


def test_types_and_no_personal_data():
    """The feature types the WFS will serve, and no theme module touching a Restricted* model."""
    assert [t.typename for t in ad.TYPES] == [
        "ad:Address",
        "ad:AdminUnitName",
        "ad:AddressAreaName",
        "ad:ThoroughfareName",
        "ad:PostalDescriptor",
    ]
    assert [t.typename for t in bu.TYPES] == ["bu-core2d:Building"]
    assert (OGC_SCHEMAS / ad.ADDRESS.local_schema).exists()
    assert {t.layer for t in ad.TYPES} == {"adresy"} and bu.BUILDING.layer == "budynki"
    assert [s.key for t in (*ad.TYPES, *bu.TYPES) for s in t.sources] == [
        "Address",
        "AdminUnitName.country",
        "AdminUnitName",
        "AddressAreaName",
        "ThoroughfareName",
        "PostalDescriptor",
        "Building",
    ]
    for module in (ad, bu):
        assert "Restricted" not in Path(module.__file__).read_text()
