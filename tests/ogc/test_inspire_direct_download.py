"""The INSPIRE validator's direct access WFS download service suite, ported, and FES filters / SORTBY on
the harmonised INSPIRE types (ogc/wfs/inspire.py, the `filterable` paths of ogc/inspire/{cp,ad,bu}.py).

Source: inspire-eu-validation/ets-repository, service/ds-wfs-direct-soapui-project.xml (SoapUI project;
test suites "Initialization and basic checks" and "Capabilities"). Its one Capabilities test case,
"Conformance Classes", checks the WFS/FES conformance constraints of TG Requirements 61-68 (Basic WFS, KVP,
Ad hoc Query, Resource Identification, Minimum Standard/Spatial/Temporal Filter, Minimum XPath); the tests
named `test_tg_*` exercise each of those classes on the INSPIRE types themselves (the SoapUI project only
reads the constraints). The rest are filters on each type checked against the database.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

import pytest
from lxml import etree

from layers.models import AddressPoint, Building, Parcel, Precinct

from .test_inspire_download_service import validating  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "ows": "http://www.opengis.net/ows/1.1",
    "fes": "http://www.opengis.net/fes/2.0",
    "gml": "http://www.opengis.net/gml/3.2",
    "cp": "http://inspire.ec.europa.eu/schemas/cp/4.0",
    "ad": "http://inspire.ec.europa.eu/schemas/ad/4.0",
    "bu-base": "http://inspire.ec.europa.eu/schemas/bu-base/4.0",
    "bu-core2d": "http://inspire.ec.europa.eu/schemas/bu-core2d/4.0",
    "base": "http://inspire.ec.europa.eu/schemas/base/3.3",
    "xlink": "http://www.w3.org/1999/xlink",
}
FES_NS = (
    'xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
    'xmlns:cp="http://inspire.ec.europa.eu/schemas/cp/4.0" '
    'xmlns:base="http://inspire.ec.europa.eu/schemas/base/3.3" '
    'xmlns:ad="http://inspire.ec.europa.eu/schemas/ad/4.0" '
    'xmlns:bu-base="http://inspire.ec.europa.eu/schemas/bu-base/4.0" '
    'xmlns:bu-core2d="http://inspire.ec.europa.eu/schemas/bu-core2d/4.0"'
)
LOCAL_ID = "cp:inspireId/base:Identifier/base:localId"


def get(client, **params):
    r = client.get("/ows?" + urlencode(params))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body


def gf(client, typename: str = "cp:CadastralParcel", **params):
    r, body = get(client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=typename, **params)
    assert r.status_code == 200, body[:600]
    return etree.fromstring(body)


def refused(client, typename: str = "cp:CadastralParcel", **params) -> tuple[str, str | None]:
    r, body = get(client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=typename, **params)
    assert r.status_code == 400, body[:600]
    el = next(etree.fromstring(body).iter("{*}Exception"))
    return el.get("exceptionCode"), el.get("locator")


def fes(body: str) -> str:
    return f"<fes:Filter {FES_NS}>{body}</fes:Filter>"


def eq(path: str, value: str) -> str:
    return (
        f"<fes:PropertyIsEqualTo><fes:ValueReference>{path}</fes:ValueReference>"
        f"<fes:Literal>{value}</fes:Literal></fes:PropertyIsEqualTo>"
    )


def refs(doc) -> list[str]:
    return [e.text for e in doc.iterfind("wfs:member/cp:CadastralParcel/cp:nationalCadastralReference", NS)]


def fids(doc) -> list[str]:
    return [m[0].get(f"{{{NS['gml']}}}id") for m in doc.iterfind("wfs:member", NS)]


def caps(client):
    r, body = get(client, SERVICE="WFS", REQUEST="GetCapabilities", ACCEPTVERSIONS="2.0.0", VERSION="2.0.0")
    assert r.status_code == 200
    return etree.fromstring(body)


# ---- suite "Initialization and basic checks" (shared with the pre-defined suite: see that file), on the
# INSPIRE types
def test_service_is_available(client, demo_data):
    """TC "Service is available": WFS_Capabilities 2.0.0 listing the harmonised types."""
    doc = caps(client)
    assert etree.QName(doc).localname == "WFS_Capabilities" and doc.get("version") == "2.0.0"
    names = doc.xpath("//wfs:FeatureType/wfs:Name/text()", namespaces=NS)
    assert {"cp:CadastralParcel", "ad:Address", "bu-core2d:Building"} <= set(names)


def test_get_capabilities_is_schema_valid(client, demo_data, validating):  # noqa: F811
    """TC "GetCapabilities is schema valid"."""
    validating(caps(client))


def test_operation_endpoints_are_available(client, demo_data, validating):  # noqa: F811
    """TC "Operation endpoints are available", for an INSPIRE type: GetFeature (here with a FES filter on
    an INSPIRE property, the direct download's point) and DescribeFeatureType at the advertised endpoint."""
    doc = caps(client)
    href = doc.xpath(
        "//ows:Operation[@name='GetFeature']/ows:DCP/ows:HTTP/ows:Get/@xlink:href", namespaces=NS
    )[0]
    assert urlsplit(href).path == "/ows"
    p = Parcel.objects.current().order_by("pk").first()
    out = gf(client, FILTER=fes(eq("cp:nationalCadastralReference", p.parcel_id)))
    assert refs(out) == [p.parcel_id]
    validating(out)
    r, body = get(
        client, SERVICE="WFS", VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES="cp:CadastralParcel"
    )
    assert r.status_code == 200 and etree.QName(etree.fromstring(body)).localname == "schema"


def test_basic_checks_passed_and_capabilities_still_accessible(client, demo_data):
    """TC "Basic checks passed and Capabilities still accessible"."""
    assert caps(client).get("version") == "2.0.0"


# ---- suite "Capabilities", TC "Conformance Classes"
CONSTRAINTS = {  # the ETS's XPaths: ows:Constraint under OperationsMetadata, fes:Constraint under Conformance
    "/wfs:WFS_Capabilities/ows:OperationsMetadata/ows:Constraint": ("ImplementsBasicWFS", "KVPEncoding"),
    "/wfs:WFS_Capabilities/fes:Filter_Capabilities/fes:Conformance/fes:Constraint": (
        "ImplementsAdHocQuery",
        "ImplementsResourceId",
        "ImplementsMinStandardFilter",
        "ImplementsMinSpatialFilter",
        "ImplementsMinTemporalFilter",
    ),
}


def test_conformance_classes(client, demo_data):
    """TC "Conformance Classes" (TG Requirements 61-67): each constraint's DefaultValue is TRUE."""
    doc = caps(client)
    for parent, names in CONSTRAINTS.items():
        for name in names:
            value = doc.xpath(f"{parent}[@name='{name}']/ows:DefaultValue/text()", namespaces=NS)
            assert value == ["TRUE"], name


def test_conformance_classes_minimum_xpath(client, demo_data):
    """TC "Conformance Classes", TG Requirement 68: ImplementsMinimumXPath TRUE."""
    doc = caps(client)
    value = doc.xpath(
        "/wfs:WFS_Capabilities/fes:Filter_Capabilities/fes:Conformance"
        "/fes:Constraint[@name='ImplementsMinimumXPath']/ows:DefaultValue/text()",
        namespaces=NS,
    )
    assert value == ["TRUE"]


# ---- the conformance classes, exercised on the INSPIRE types
def test_tg63_ad_hoc_query(client, demo_data):
    """TG Requirement 63 (Ad hoc Query): a query by type name with a filter, paging and hits."""
    n = Parcel.objects.current().filter(number__startswith="1").count()
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        "<fes:ValueReference>cp:label</fes:ValueReference><fes:Literal>1*</fes:Literal></fes:PropertyIsLike>"
    )
    hits = gf(client, FILTER=fes(like), RESULTTYPE="hits")
    assert int(hits.get("numberMatched")) == n > 0
    page = gf(client, FILTER=fes(like), COUNT="2")
    assert len(fids(page)) == min(2, n)


def test_tg64_resource_identification(client, demo_data):
    """TG Requirement 64 (Resource Identification): fes:ResourceId in a filter and RESOURCEID."""
    a, b = Parcel.objects.current().order_by("pk")[:2]
    rid = f'<fes:ResourceId rid="CadastralParcel.{a.pk}"/><fes:ResourceId rid="CadastralParcel.{b.pk}"/>'
    assert sorted(refs(gf(client, FILTER=fes(rid)))) == sorted([a.parcel_id, b.parcel_id])
    assert refs(gf(client, RESOURCEID=f"CadastralParcel.{a.pk}")) == [a.parcel_id]
    # an id of another type (or of nothing) matches nothing
    assert refs(gf(client, FILTER=fes('<fes:ResourceId rid="Building.1"/>'))) == []
    # the spatial object identifier (inspireId localId): the query the validator's data suites use
    assert refs(gf(client, FILTER=fes(eq(LOCAL_ID, a.local_id)))) == [a.parcel_id]


def test_tg65_minimum_standard_filter(client, demo_data):
    """TG Requirement 65: the comparison operators and And/Or/Not on INSPIRE properties."""
    current = Parcel.objects.current()
    p = current.order_by("pk")[2]
    for op, lookup in (
        ("PropertyIsLessThan", "lt"),
        ("PropertyIsGreaterThanOrEqualTo", "gte"),
        ("PropertyIsNotEqualTo", "ne"),
    ):
        body = (
            f"<fes:{op}><fes:ValueReference>cp:nationalCadastralReference</fes:ValueReference>"
            f"<fes:Literal>{p.parcel_id}</fes:Literal></fes:{op}>"
        )
        expected = (
            current.exclude(parcel_id=p.parcel_id)
            if lookup == "ne"
            else current.filter(**{f"parcel_id__{lookup}": p.parcel_id})
        )
        got = gf(client, FILTER=fes(body), RESULTTYPE="hits")
        assert int(got.get("numberMatched")) == expected.count(), op


def test_tg66_minimum_spatial_filter(client, demo_data):
    """TG Requirement 66: BBOX on the INSPIRE geometry property (urn CRS, north first)."""
    p = Parcel.objects.current().order_by("pk")[3]
    pt = p.geom.point_on_surface
    box = (
        "<fes:BBOX><fes:ValueReference>cp:geometry</fes:ValueReference>"
        '<gml:Envelope srsName="urn:ogc:def:crs:EPSG::2180">'
        f"<gml:lowerCorner>{pt.y - 0.5} {pt.x - 0.5}</gml:lowerCorner>"
        f"<gml:upperCorner>{pt.y + 0.5} {pt.x + 0.5}</gml:upperCorner></gml:Envelope></fes:BBOX>"
    )
    assert p.parcel_id in refs(gf(client, FILTER=fes(box)))
    # OWSLib's BBox names ows:BoundingBox: the default geometry
    owslib = box.replace(
        "<fes:ValueReference>cp:geometry</fes:ValueReference>",
        '<fes:ValueReference xmlns:ows="http://www.opengis.net/ows/1.1">ows:BoundingBox</fes:ValueReference>',
    )
    assert p.parcel_id in refs(gf(client, FILTER=fes(owslib)))


def test_tg67_minimum_temporal_filter(client, demo_data):
    """TG Requirement 67: comparisons on the lifespan dates (xs:dateTime)."""
    p = Parcel.objects.current().exclude(start_version=None).order_by("start_version", "pk").first()
    later = (p.start_version + timedelta(seconds=1)).isoformat()
    body = (
        "<fes:PropertyIsLessThan><fes:ValueReference>cp:beginLifespanVersion</fes:ValueReference>"
        f"<fes:Literal>{later}</fes:Literal></fes:PropertyIsLessThan>"
    )
    n = Parcel.objects.current().filter(start_version__lt=p.start_version + timedelta(seconds=1)).count()
    assert int(gf(client, FILTER=fes(body), RESULTTYPE="hits").get("numberMatched")) == n >= 1


def test_tg68_minimum_xpath(client, demo_data):
    """TG Requirement 68: child paths through the identifier, with the prefixes bound in the filter, in
    NAMESPACES only, or not at all (INSPIRE defaults)."""
    p = Parcel.objects.current().order_by("pk")[1]
    assert refs(gf(client, FILTER=fes(eq(LOCAL_ID, p.local_id)))) == [p.parcel_id]
    other = (
        '<f:Filter xmlns:f="http://www.opengis.net/fes/2.0" xmlns:x="http://inspire.ec.europa.eu/schemas/cp/4.0" '
        'xmlns:y="http://inspire.ec.europa.eu/schemas/base/3.3"><f:PropertyIsEqualTo>'
        "<f:ValueReference>x:inspireId/y:Identifier/y:localId</f:ValueReference>"
        f"<f:Literal>{p.local_id}</f:Literal></f:PropertyIsEqualTo></f:Filter>"
    )
    assert refs(gf(client, FILTER=other)) == [p.parcel_id]
    # a prefix bound to another namespace is another property
    wrong = other.replace('xmlns:y="http://inspire.ec.europa.eu/schemas/base/3.3"', 'xmlns:y="urn:x"')
    assert refused(client, FILTER=wrong) == ("InvalidParameterValue", "FILTER")


MINIMUM_XPATH_FORMS = (  # (path, the path it stands for): `.` steps, `[1]`, the type's own step
    ("./cp:label", "cp:label"),
    ("cp:inspireId[1]/base:Identifier/base:localId", LOCAL_ID),
    ("cp:inspireId/base:Identifier[1]/./base:localId[1]", LOCAL_ID),
    ("cp:CadastralParcel/cp:nationalCadastralReference", "cp:nationalCadastralReference"),
    ("cp:CadastralParcel/./cp:inspireId[1]/base:Identifier/base:localId", LOCAL_ID),
)


@pytest.mark.parametrize(("path", "plain"), MINIMUM_XPATH_FORMS)
def test_tg68_minimum_xpath_forms(client, demo_data, path, plain):
    """TG Requirement 68, the rest of the minimum XPath subset (FES 2.0, 7.4.4) in FILTER and SORTBY: the
    context step `.`, the positional predicate `[1]` and a first step naming the queried type select what
    the plain path does."""
    p = Parcel.objects.current().order_by("pk")[4]
    value = {"cp:label": p.number, LOCAL_ID: p.local_id, "cp:nationalCadastralReference": p.parcel_id}[plain]
    expected = refs(gf(client, FILTER=fes(eq(plain, value))))
    assert p.parcel_id in expected
    assert refs(gf(client, FILTER=fes(eq(path, value)))) == expected
    if plain != LOCAL_ID:
        assert refs(gf(client, SORTBY=f"{path} DESC", COUNT="7")) == refs(
            gf(client, SORTBY=f"{plain} DESC", COUNT="7")
        )


@pytest.mark.parametrize(
    "path",
    (
        f"{LOCAL_ID}[last()]",  # a function
        "cp:inspireId[2]/base:Identifier/base:localId",  # an index past the one value a property holds
        "cp:inspireId[0]/base:Identifier/base:localId",
        "cp:inspireId[base:Identifier]/base:Identifier/base:localId",  # a predicate other than a position
        "cp:label[.='1']",
        "cp:inspireId//base:localId",  # the descendant axis
        "child::cp:label",
        "../cp:label",
        "/cp:CadastralParcel/cp:label",  # an absolute path
        "cp:CadastralZoning/cp:label",  # another type's step
        "cp:CadastralParcel",  # the type itself is no property
        "@gml:id",  # an attribute
        "cp:label/text()",
        "cp:label/.[1]",
        ".",
        "",
    ),
)
def test_tg68_outside_minimum_xpath_refused(client, demo_data, path):
    assert refused(client, FILTER=fes(eq(path, "1"))) == ("InvalidParameterValue", "FILTER"), path
    if path:
        assert refused(client, SORTBY=path) == ("InvalidParameterValue", "sortBy"), path


# ---- filters on each type, against the database
def test_parcel_equality_like_between(client, demo_data):
    current = Parcel.objects.current()
    p = current.order_by("pk")[5]
    assert refs(gf(client, FILTER=fes(eq("cp:nationalCadastralReference", p.parcel_id)))) == [p.parcel_id]
    like = (
        '<fes:PropertyIsLike wildCard="%" singleChar="_" escapeChar="!">'
        f"<fes:ValueReference>cp:label</fes:ValueReference><fes:Literal>{p.number[:-1]}_</fes:Literal>"
        "</fes:PropertyIsLike>"
    )
    expected = {
        x.parcel_id for x in current if x.number.startswith(p.number[:-1]) and len(x.number) == len(p.number)
    }
    assert set(refs(gf(client, FILTER=fes(like)))) == expected and p.parcel_id in expected
    # areaValue is in m²: the registry's hectares × 10 000
    m2 = p.area_ha * 10_000
    between = (
        "<fes:PropertyIsBetween><fes:ValueReference>cp:areaValue</fes:ValueReference>"
        f"<fes:LowerBoundary><fes:Literal>{m2 - 1}</fes:Literal></fes:LowerBoundary>"
        f"<fes:UpperBoundary><fes:Literal>{m2 + 1}</fes:Literal></fes:UpperBoundary></fes:PropertyIsBetween>"
    )
    lo, hi = (m2 - 1) / 10_000, (m2 + 1) / 10_000
    expected = {x.parcel_id for x in current.filter(area_ha__gte=lo, area_ha__lte=hi)}
    got = gf(client, FILTER=fes(between))
    assert set(refs(got)) == expected and p.parcel_id in expected
    # and the value written is the one compared
    area = got.xpath(
        f"//cp:CadastralParcel[cp:nationalCadastralReference='{p.parcel_id}']/cp:areaValue", namespaces=NS
    )
    assert Decimal(area[0].text) == m2


def test_parcel_intersects_and_or(client, demo_data):
    current = Parcel.objects.current().order_by("pk")
    a, b = current[0], current[7]
    c = a.geom.point_on_surface
    intersects = (
        "<fes:Intersects><fes:ValueReference>cp:geometry</fes:ValueReference>"
        f'<gml:Point srsName="http://www.opengis.net/def/crs/EPSG/0/2180"><gml:pos>{c.y} {c.x}</gml:pos></gml:Point>'
        "</fes:Intersects>"
    )
    expected = {x.parcel_id for x in Parcel.objects.current().filter(geom__intersects=c)}
    assert set(refs(gf(client, FILTER=fes(intersects)))) == expected and a.parcel_id in expected
    both = fes(
        f"<fes:Or>{eq('cp:nationalCadastralReference', a.parcel_id)}{eq('cp:label', b.number)}</fes:Or>"
    )
    expected = {x.parcel_id for x in Parcel.objects.current().filter(number=b.number)} | {a.parcel_id}
    assert set(refs(gf(client, FILTER=both))) == expected
    neither = fes(
        f"<fes:And>{intersects}<fes:Not>{eq('cp:nationalCadastralReference', a.parcel_id)}</fes:Not></fes:And>"
    )
    assert a.parcel_id not in refs(gf(client, FILTER=neither))


def test_zoning_filters_reach_both_sources(client, demo_data):
    pr = Precinct.objects.current().order_by("pk").first()
    doc = gf(
        client, "cp:CadastralZoning", FILTER=fes(eq("cp:nationalCadastalZoningReference", pr.precinct_id))
    )
    assert fids(doc) == [f"CadastralZoning.precinct.{pr.pk}"]
    name = (
        "<fes:PropertyIsEqualTo><fes:ValueReference>"
        "cp:name/gn:GeographicalName/gn:spelling/gn:SpellingOfName/gn:text</fes:ValueReference>"
        f"<fes:Literal>{pr.name}</fes:Literal></fes:PropertyIsEqualTo>"
    )
    filt = fes(name).replace(
        "<fes:Filter ", '<fes:Filter xmlns:gn="http://inspire.ec.europa.eu/schemas/gn/4.0" '
    )
    assert f"CadastralZoning.precinct.{pr.pk}" in fids(gf(client, "cp:CadastralZoning", FILTER=filt))


def test_address_filters(client, demo_data):
    a = AddressPoint.objects.current().order_by("pk").first()
    number = "ad:locator/ad:AddressLocator/ad:designator/ad:LocatorDesignator/ad:designator"
    doc = gf(client, "ad:Address", FILTER=fes(eq(number, a.number)), COUNT="1000")
    expected = {f"Address.{x.pk}" for x in AddressPoint.objects.current().filter(number=a.number)}
    assert set(fids(doc)) == expected
    doc = gf(client, "ad:Address", FILTER=fes(eq("ad:inspireId/base:Identifier/base:localId", a.local_id)))
    assert fids(doc) == [f"Address.{a.pk}"]
    box = (
        "<fes:BBOX><fes:ValueReference>ad:position/ad:GeographicPosition/ad:geometry</fes:ValueReference>"
        '<gml:Envelope srsName="urn:ogc:def:crs:EPSG::2180">'
        f"<gml:lowerCorner>{a.geom.y - 0.1} {a.geom.x - 0.1}</gml:lowerCorner>"
        f"<gml:upperCorner>{a.geom.y + 0.1} {a.geom.x + 0.1}</gml:upperCorner></gml:Envelope></fes:BBOX>"
    )
    assert f"Address.{a.pk}" in fids(gf(client, "ad:Address", FILTER=fes(box)))


def test_building_filters(client, demo_data):
    current = Building.objects.current().filter(geom__isnull=False)
    b = current.order_by("pk").first()
    doc = gf(
        client,
        "bu-core2d:Building",
        FILTER=fes(eq("bu-base:inspireId/base:Identifier/base:localId", b.local_id)),
    )
    assert fids(doc) == [f"Building.{b.pk}"]
    floors = (
        "<fes:PropertyIsGreaterThanOrEqualTo><fes:ValueReference>bu-base:numberOfFloorsAboveGround"
        "</fes:ValueReference><fes:Literal>2</fes:Literal></fes:PropertyIsGreaterThanOrEqualTo>"
    )
    hits = gf(client, "bu-core2d:Building", FILTER=fes(floors), RESULTTYPE="hits")
    assert int(hits.get("numberMatched")) == current.filter(storeys_above__gte=2).count()
    c = b.geom.point_on_surface
    inter = (
        "<fes:Intersects><fes:ValueReference>bu-core2d:geometry2D/bu-base:BuildingGeometry2D/bu-base:geometry"
        f'</fes:ValueReference><gml:Point srsName="urn:ogc:def:crs:EPSG::2180"><gml:pos>{c.y} {c.x}</gml:pos>'
        "</gml:Point></fes:Intersects>"
    )
    assert f"Building.{b.pk}" in fids(gf(client, "bu-core2d:Building", FILTER=fes(inter)))


def test_sortby(client, demo_data):
    current = Parcel.objects.current()
    doc = gf(client, SORTBY="cp:areaValue DESC", COUNT="5")
    expected = [x.parcel_id for x in current.order_by("-area_ha", "pk")[:5]]
    assert refs(doc) == expected
    doc = gf(client, SORTBY="cp:label,cp:nationalCadastralReference DESC", COUNT="5")
    assert refs(doc) == [x.parcel_id for x in current.order_by("number", "-parcel_id", "pk")[:5]]
    # with a filter, and paging keeps the order
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        "<fes:ValueReference>cp:nationalCadastralReference</fes:ValueReference><fes:Literal>*</fes:Literal>"
        "</fes:PropertyIsLike>"
    )
    page2 = gf(client, FILTER=fes(like), SORTBY="cp:label D", COUNT="3", STARTINDEX="3")
    assert refs(page2) == [x.parcel_id for x in current.order_by("-number", "pk")[3:6]]
    zoning = gf(client, "cp:CadastralZoning", SORTBY="cp:label DESC", COUNT="1000")
    assert fids(zoning)  # each source sorted on its own field
    assert refused(client, SORTBY="cp:geometry") == ("InvalidParameterValue", "sortBy")
    assert refused(client, SORTBY="cp:nothing") == ("InvalidParameterValue", "sortBy")


def test_refusals(client, demo_data):
    unknown = fes(eq("cp:nothing", "1"))
    assert refused(client, FILTER=unknown) == ("InvalidParameterValue", "FILTER")
    # a path with a predicate or an axis is not a property (more in test_tg68_outside_minimum_xpath_refused)
    for path in (f"{LOCAL_ID}[@x]", "cp:inspireId//base:localId", "@gml:id", "cp:label/text()"):
        assert refused(client, FILTER=fes(eq(path, "1"))) == ("InvalidParameterValue", "FILTER"), path
    # a property of another INSPIRE type
    assert refused(client, FILTER=fes(eq("bu-base:numberOfFloorsAboveGround", "1"))) == (
        "InvalidParameterValue",
        "FILTER",
    )
    # a value of the wrong type, FILTER with BBOX, not XML, a DOCTYPE
    bad = fes(eq("cp:areaValue", "big"))
    assert refused(client, FILTER=bad)[0] == "InvalidParameterValue"
    assert refused(client, FILTER=fes(eq("cp:label", "1")), BBOX="0,0,1,1")[1] == "FILTER"
    assert refused(client, FILTER="<fes:Filter/>") == ("InvalidParameterValue", "FILTER")
    doctype = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + fes(eq("cp:label", "&e;"))
    assert refused(client, FILTER=doctype) == ("InvalidParameterValue", "FILTER")
    # types served without filters
    assert refused(client, "cp:CadastralBoundary", FILTER=fes(eq("cp:label", "1")))[1] == "FILTER"
    assert refused(client, "ad:ThoroughfareName", SORTBY="ad:name")[1] == "sortBy"
    # PROPERTYNAME: an unknown property, or a type without a declared content model (test_inspire_wfs_basic)
    assert refused(client, PROPERTYNAME="cp:nothing") == ("InvalidParameterValue", "propertyName")
    assert refused(client, "ad:Address", PROPERTYNAME="ad:locator")[1] == "propertyName"


def test_injection_like_values_change_nothing(client, demo_data):
    before = Parcel.objects.count()
    for value in ("' OR '1'='1", "1; DROP TABLE layers_parcel; --", "%", "\\' OR 1=1 --"):
        assert refs(gf(client, FILTER=fes(eq("cp:nationalCadastralReference", value)))) == []
        assert refs(gf(client, FILTER=fes(eq(LOCAL_ID, value)))) == []
    # a Like pattern's SQL wildcards are literal characters
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        "<fes:ValueReference>cp:label</fes:ValueReference><fes:Literal>%</fes:Literal></fes:PropertyIsLike>"
    )
    assert refs(gf(client, FILTER=fes(like))) == []
    assert Parcel.objects.count() == before
