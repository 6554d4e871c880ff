"""Basic WFS on the harmonised INSPIRE types (ogc/wfs/inspire.py): projection (PROPERTYNAME, wfs:PropertyName),
GetPropertyValue and XML POST GetFeature, which the capabilities promise with ImplementsBasicWFS and
XMLEncoding TRUE (TG Requirement 61 of the INSPIRE direct download services; the ETS ds-wfs-direct relies on
Basic WFS). Projected features are validated against the official cp/4.0 schema; the XML POST answers are
compared with the KVP ones; OWSLib posts against the live server."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils.translation import override
from lxml import etree

from layers.models import AddressPoint, Building, CadastralUnit, Parcel, Precinct
from ogc.inspire.cp import CADASTRAL_PARCEL, CADASTRAL_ZONING
from ogc.metadata import DATASET_NAMESPACE

from .test_inspire_cp import cp_schema, valid  # noqa: F401 - fixture
from .test_inspire_direct_download import FES_NS, LOCAL_ID, NS, eq, fes, fids, get, gf, refs

pytestmark = pytest.mark.django_db
WFS = NS["wfs"]
CP = NS["cp"]
DATASET = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"
BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
LIKE_1 = (
    '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
    "<fes:ValueReference>cp:label</fes:ValueReference><fes:Literal>1*</fes:Literal></fes:PropertyIsLike>"
)


def error(body: bytes) -> tuple[str, str | None, str]:
    el = next(etree.fromstring(body).iter("{*}Exception"))
    return el.get("exceptionCode"), el.get("locator"), "".join(el.itertext()).strip()


def children(feature) -> list[str]:
    return [etree.QName(c).localname for c in feature]


def mandatory(t) -> list[str]:
    return [p.name for p in t.properties if p.min >= 1]


def features(doc, name: str = "CadastralParcel") -> list:
    return doc.findall(f"wfs:member/cp:{name}", NS)


# ---- projection -----------------------------------------------------------------------------------
def test_propertyname_keeps_requested_and_mandatory_properties(client, demo_data, cp_schema):  # noqa: F811
    whole = gf(client, COUNT="10")
    doc = gf(client, COUNT="10", PROPERTYNAME="cp:areaValue,cp:zoning")
    order = [p.name for p in CADASTRAL_PARCEL.properties]
    keep = set(mandatory(CADASTRAL_PARCEL)) | {"areaValue", "zoning"}
    assert {"geometry", "inspireId", "label", "nationalCadastralReference"} <= keep
    assert fids(doc) == fids(whole) and len(fids(doc)) == 10
    for full, part in zip(features(whole), features(doc), strict=True):
        assert children(part) == [n for n in children(full) if n in keep]
        assert set(children(full)) - keep  # something was dropped: validTo/referencePoint/validFrom…
        assert sorted(children(part), key=order.index) == children(part)
        # what stays is written exactly as in the whole feature
        for el in part:
            same = full.find(el.tag)
            assert etree.tostring(el) == etree.tostring(same)
    valid(cp_schema, doc)
    # only the mandatory ones: a bare label is still a valid feature
    only = gf(client, COUNT="3", PROPERTYNAME="cp:label")
    for f in features(only):
        assert children(f) == mandatory(CADASTRAL_PARCEL)
    valid(cp_schema, only)


@pytest.mark.parametrize("name", ("./cp:validFrom", "cp:CadastralParcel/cp:validFrom", "validFrom"))
def test_propertyname_minimum_xpath_forms(client, demo_data, name):
    doc = gf(client, COUNT="2", PROPERTYNAME=name)
    for f in features(doc):
        assert children(f) == [
            p
            for p in (p.name for p in CADASTRAL_PARCEL.properties)
            if p in {*mandatory(CADASTRAL_PARCEL), "validFrom"}
        ]


def test_propertyname_zoning_both_sources_and_per_type_lists(client, demo_data, cp_schema):  # noqa: F811
    n = CadastralUnit.objects.current().count() + Precinct.objects.current().count()
    doc = gf(client, "cp:CadastralZoning", COUNT="1000", PROPERTYNAME="cp:name")
    zonings = features(doc, "CadastralZoning")
    assert len(zonings) == n
    keep = set(mandatory(CADASTRAL_ZONING)) | {"name"}
    assert all(set(children(z)) <= keep for z in zonings)
    assert any("name" in children(z) for z in zonings)
    valid(cp_schema, doc)
    # one parenthesised list per type of TYPENAMES
    both = gf(
        client,
        "(cp:CadastralParcel)(cp:CadastralZoning)",
        COUNT="1000",
        PROPERTYNAME="(cp:areaValue)(cp:nationalCadastalZoningReference)",
    )
    parcels = features(both)
    assert parcels and all("areaValue" in children(p) for p in parcels)
    assert all("validFrom" not in children(p) for p in parcels)
    assert all(
        set(children(z)) <= set(mandatory(CADASTRAL_ZONING)) for z in features(both, "CadastralZoning")
    )
    valid(cp_schema, both)
    # `*`: everything
    assert [children(f) for f in features(gf(client, COUNT="3", PROPERTYNAME="*"))] == [
        children(f) for f in features(gf(client, COUNT="3"))
    ]


def test_propertyname_with_filter_resourceid_and_hits(client, demo_data):
    p = Parcel.objects.current().order_by("pk")[3]
    doc = gf(client, FILTER=fes(eq("cp:nationalCadastralReference", p.parcel_id)), PROPERTYNAME="cp:label")
    assert refs(doc) == [p.parcel_id] and "areaValue" not in children(features(doc)[0])
    doc = gf(client, "", RESOURCEID=f"CadastralParcel.{p.pk}", PROPERTYNAME="cp:areaValue")
    assert children(features(doc)[0]) == [
        n
        for n in (q.name for q in CADASTRAL_PARCEL.properties)
        if n in {*mandatory(CADASTRAL_PARCEL), "areaValue"}
    ]
    hits = gf(client, FILTER=fes(LIKE_1), PROPERTYNAME="cp:label", RESULTTYPE="hits")
    assert int(hits.get("numberMatched")) == Parcel.objects.current().filter(number__startswith="1").count()


@pytest.mark.parametrize(
    ("typename", "names"),
    (
        ("cp:CadastralParcel", "cp:nothing"),
        ("cp:CadastralParcel", "cp:label,cp:nothing"),
        ("cp:CadastralParcel", "cp:inspireId/base:Identifier"),  # not a top-level property
        ("cp:CadastralParcel", "cp:label[1]"),
        ("cp:CadastralParcel", "@gml:id"),
        ("cp:CadastralParcel", "bu-base:name"),  # another namespace's property of the same name
        ("cp:CadastralParcel", "cp:level"),  # a property of another cp type
        ("cp:CadastralParcel", "cp:label/text()"),
        ("cp:CadastralParcel", "(cp:label)(cp:label)"),  # two lists for one type
        ("cp:CadastralZoning", "cp:areaValue"),
    ),
)
def test_propertyname_refused(client, demo_data, typename, names):
    r, body = get(
        client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=typename, PROPERTYNAME=names
    )
    assert r.status_code == 400, body[:300]
    assert error(body)[:2] == ("InvalidParameterValue", "propertyName")


@pytest.mark.parametrize("typename", ("ad:Address", "ad:ThoroughfareName", "bu-core2d:Building"))
def test_propertyname_refused_without_content_model(client, demo_data, typename):
    with override("en"):
        r, body = get(
            client,
            SERVICE="WFS",
            VERSION="2.0.0",
            REQUEST="GetFeature",
            TYPENAMES=typename,
            PROPERTYNAME="ad:inspireId",
            LANGUAGE="eng",
        )
    assert r.status_code == 400
    code, locator, message = error(body)
    assert (code, locator) == ("InvalidParameterValue", "propertyName")
    assert f"PROPERTYNAME is not offered for {typename}" in message and "whole" in message
    # without PROPERTYNAME (or with `*`) the type is served
    assert gf(client, typename, COUNT="1", PROPERTYNAME="*").get("numberReturned") == "1"


# ---- GetPropertyValue -----------------------------------------------------------------------------
def gpv(client, ref: str, typename: str = "cp:CadastralParcel", status: int = 200, **params):
    r, body = get(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetPropertyValue",
        TYPENAMES=typename,
        VALUEREFERENCE=ref,
        **params,
    )
    assert r.status_code == status, body[:600]
    return etree.fromstring(body) if status == 200 else error(body)


def values(doc) -> list[str]:
    assert etree.QName(doc).localname == "ValueCollection"
    assert int(doc.get("numberReturned")) == len(doc.findall("wfs:member", NS))
    return [m.text for m in doc.findall("wfs:member", NS)]


def test_get_property_value_simple_values(client, demo_data):
    doc = gf(client, COUNT="10")
    parcels = features(doc)
    labels = [f.find("cp:label", NS).text for f in parcels]
    local_ids = [f.find("cp:inspireId/base:Identifier/base:localId", NS).text for f in parcels]
    assert values(gpv(client, "cp:label", COUNT="10")) == labels
    for ref in (
        LOCAL_ID,
        "cp:inspireId[1]/base:Identifier/base:localId",
        "./cp:inspireId/base:Identifier/base:localId[1]",
        "cp:CadastralParcel/cp:inspireId/base:Identifier/base:localId",
        "inspireId/Identifier/localId",  # unprefixed: by local name
    ):
        assert values(gpv(client, ref, COUNT="10")) == local_ids, ref
    assert values(gpv(client, "@gml:id", COUNT="10")) == fids(doc)
    # an index past the values selects nothing; the matched features are still counted
    none = gpv(client, "cp:label[2]", COUNT="10")
    assert values(none) == [] and none.get("numberMatched") == doc.get("numberMatched")
    # the cadastral reference of one parcel, with a namespace prefix of the request's own
    p = Parcel.objects.current().order_by("pk")[2]
    one = gpv(
        client,
        "x:nationalCadastralReference",
        "x:CadastralParcel",
        RESOURCEID=f"CadastralParcel.{p.pk}",
        NAMESPACES=f"xmlns(x,{CP})",
    )
    assert values(one) == [p.parcel_id]


def test_get_property_value_complex_values(client, demo_data, cp_schema):  # noqa: F811
    geoms = gpv(client, "cp:geometry", COUNT="5")
    members = geoms.findall("wfs:member", NS)
    assert len(members) == 5
    assert all(etree.QName(m[0]).localname == "MultiSurface" and m[0].get("srsName") for m in members)
    idents = gpv(client, "cp:inspireId", COUNT="5").findall("wfs:member/base:Identifier", NS)
    assert len(idents) == 5 and all(i.find("base:namespace", NS).text for i in idents)
    # a reference: the property element itself, with its link
    zoning = gpv(client, "cp:zoning", COUNT="5").findall("wfs:member/cp:zoning", NS)
    hrefs = [z.get(f"{{{NS['xlink']}}}href") for z in zoning]
    assert len(hrefs) == 5 and all("GetFeatureById" in h for h in hrefs)
    assert values(gpv(client, "cp:zoning/@xlink:href", COUNT="5")) == hrefs
    # the whole collection is schema-valid (wfs:member holds any content)
    assert cp_schema.validate(geoms), cp_schema.error_log


def test_get_property_value_filter_paging_hits(client, demo_data):
    n = Parcel.objects.current().filter(number__startswith="1").count()
    assert n > 4
    hits = gpv(client, "cp:label", FILTER=fes(LIKE_1), RESULTTYPE="hits")
    assert int(hits.get("numberMatched")) == n and values(hits) == []
    page = gpv(client, "cp:label", FILTER=fes(LIKE_1), SORTBY="cp:label DESC", COUNT="2", STARTINDEX="2")
    expected = [
        x.number
        for x in Parcel.objects.current().filter(number__startswith="1").order_by("-number", "pk")[2:4]
    ]
    assert values(page) == expected
    assert int(page.get("numberMatched")) == n
    # next / previous follow the same query
    nxt = dict(parse_qsl(urlsplit(page.get("next")).query))
    assert (
        nxt["REQUEST"] == "GetPropertyValue"
        and nxt["STARTINDEX"] == "4"
        and nxt["VALUEREFERENCE"] == "cp:label"
    )
    assert dict(parse_qsl(urlsplit(page.get("previous")).query))["STARTINDEX"] == "0"
    r = client.get(urlsplit(page.get("next")).path + "?" + urlsplit(page.get("next")).query)
    assert values(etree.fromstring(r.content)) == [
        x.number
        for x in Parcel.objects.current().filter(number__startswith="1").order_by("-number", "pk")[4:6]
    ]
    bbox_doc = gpv(client, "@gml:id", BBOX="0,0,1,1")  # a box far from the data
    assert values(bbox_doc) == [] and bbox_doc.get("numberMatched") == "0"


def test_get_property_value_other_types(client, demo_data):
    n = CadastralUnit.objects.current().count() + Precinct.objects.current().count()
    assert len(values(gpv(client, "cp:label", "cp:CadastralZoning", COUNT="1000"))) == n
    a = AddressPoint.objects.current().order_by("pk").first()
    number = "ad:locator/ad:AddressLocator/ad:designator/ad:LocatorDesignator/ad:designator"
    got = gpv(
        client, number, "ad:Address", FILTER=fes(eq("ad:inspireId/base:Identifier/base:localId", a.local_id))
    )
    assert values(got) == [a.number]
    b = Building.objects.current().filter(geom__isnull=False).order_by("pk").first()
    got = gpv(
        client, "bu-base:numberOfFloorsAboveGround", "bu-core2d:Building", RESOURCEID=f"Building.{b.pk}"
    )
    assert values(got) == [str(b.storeys_above)]
    pos = gpv(client, "ad:position/ad:GeographicPosition/ad:geometry", "ad:Address", COUNT="3")
    assert [etree.QName(m[0]).localname for m in pos.findall("wfs:member", NS)] == ["Point"] * 3
    assert len(values(gpv(client, "@gml:id", "ad:ThoroughfareName", COUNT="3"))) == 3


@pytest.mark.parametrize(
    ("typename", "ref"),
    (
        ("cp:CadastralParcel", "cp:nothing"),
        ("cp:CadastralParcel", "cp:level"),  # a property of another cp type
        ("cp:CadastralParcel", "cp:label/text()"),
        ("cp:CadastralParcel", "cp:inspireId//base:localId"),
        ("cp:CadastralParcel", "cp:label[last()]"),
        ("cp:CadastralParcel", "@gml:nothing"),
        ("cp:CadastralParcel", "@xlink:href/cp:label"),
        ("cp:CadastralParcel", "x:label"),  # an unbound prefix
        ("cp:CadastralParcel", "cp:CadastralZoning/cp:label"),
        ("ad:Address", "bu-base:numberOfFloorsAboveGround"),  # another theme's namespace
        ("bu-core2d:Building", "cp:label"),
    ),
)
def test_get_property_value_unknown_paths(client, demo_data, typename, ref):
    assert gpv(client, ref, typename, status=400)[:2] == ("InvalidParameterValue", "valueReference")


def test_get_property_value_missing_reference(client, demo_data):
    r, body = get(
        client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetPropertyValue", TYPENAMES="cp:CadastralParcel"
    )
    assert r.status_code == 400 and error(body)[:2] == ("MissingParameterValue", "valueReference")


# ---- XML POST -------------------------------------------------------------------------------------
def post(client, xml: str, status: int = 200):
    r = client.post("/ows", xml.encode(), content_type="text/xml")
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert r.status_code == status, body[:600]
    return etree.fromstring(body) if status == 200 else error(body)


def members(doc) -> list[bytes]:
    """The members as written, for comparing answers (the collection's time stamp and links differ)."""
    return [etree.tostring(m) for m in doc.findall("wfs:member", NS)]


def query(body: str, root: str = "", query_attrs: str = 'typeNames="cp:CadastralParcel"') -> str:
    return (
        f'<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="{WFS}" {FES_NS} {root}>'
        f"<wfs:Query {query_attrs}>{body}</wfs:Query></wfs:GetFeature>"
    )


def test_xml_post_getfeature_matches_kvp(client, demo_data, cp_schema):  # noqa: F811
    sort = (
        "<fes:SortBy><fes:SortProperty><fes:ValueReference>cp:label</fes:ValueReference>"
        "<fes:SortOrder>DESC</fes:SortOrder></fes:SortProperty></fes:SortBy>"
    )
    xml = query(
        f"<wfs:PropertyName>cp:areaValue</wfs:PropertyName>{fes(LIKE_1)}{sort}",
        'count="4" startIndex="2"',
        'typeNames="cp:CadastralParcel" srsName="urn:ogc:def:crs:EPSG::4326"',
    )
    got = post(client, xml)
    kvp = gf(
        client,
        FILTER=fes(LIKE_1),
        SORTBY="cp:label DESC",
        PROPERTYNAME="cp:areaValue",
        COUNT="4",
        STARTINDEX="2",
        SRSNAME="urn:ogc:def:crs:EPSG::4326",
    )
    assert len(members(got)) == 4 and members(got) == members(kvp)
    assert got.get("numberMatched") == kvp.get("numberMatched")
    assert "validFrom" not in children(features(got)[0]) and "areaValue" in children(features(got)[0])
    valid(cp_schema, got)
    hits = post(client, query(fes(LIKE_1), 'resultType="hits"'))
    assert hits.get("numberMatched") == kvp.get("numberMatched") and hits.get("numberReturned") == "0"
    # two queries, a prefix of the document's own, the zonings of both sources
    two = (
        f'<wfs:GetFeature service="WFS" version="2.0.0" count="1000" xmlns:wfs="{WFS}" xmlns:k="{CP}">'
        '<wfs:Query typeNames="k:CadastralZoning"/><wfs:Query typeNames="k:CadastralParcel">'
        f"{fes(eq(LOCAL_ID, Parcel.objects.current().order_by('pk')[0].local_id))}</wfs:Query></wfs:GetFeature>"
    )
    assert members(post(client, two)) == members(gf(client, "cp:CadastralZoning", COUNT="1000")) + members(
        gf(client, FILTER=fes(eq(LOCAL_ID, Parcel.objects.current().order_by("pk")[0].local_id)))
    )


def test_xml_post_stored_queries_match_kvp(client, demo_data):
    p = Parcel.objects.current().order_by("pk")[1]
    by_id = (
        f'<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="{WFS}"><wfs:StoredQuery id="{BY_ID}">'
        f'<wfs:Parameter name="ID">CadastralParcel.{p.pk}</wfs:Parameter></wfs:StoredQuery></wfs:GetFeature>'
    )
    got = post(client, by_id)
    _r, kvp = get(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        STOREDQUERY_ID=BY_ID,
        ID=f"CadastralParcel.{p.pk}",
    )
    assert etree.tostring(got) == etree.tostring(etree.fromstring(kvp))
    params = {
        "CRS": "http://www.opengis.net/def/crs/EPSG/0/2180",
        "DataSetIdCode": "CP",
        "DataSetIdNamespace": DATASET_NAMESPACE,
        "Language": "pol",
    }
    dataset = (
        f'<wfs:GetFeature service="WFS" version="2.0.0" count="5" xmlns:wfs="{WFS}">'
        f'<wfs:StoredQuery id="{DATASET}">'
        + "".join(f'<wfs:Parameter name="{k}">{v}</wfs:Parameter>' for k, v in params.items())
        + "</wfs:StoredQuery></wfs:GetFeature>"
    )
    got = post(client, dataset)
    _r, kvp = get(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        STOREDQUERY_ID=DATASET,
        COUNT="5",
        **params,
    )
    assert len(members(got)) == 5 and members(got) == members(etree.fromstring(kvp))
    missing = post(client, by_id.replace(f"CadastralParcel.{p.pk}", "CadastralParcel.999999999"), status=404)
    assert missing[0] == "NotFound"


def test_xml_post_get_property_value(client, demo_data):
    xml = (
        f'<wfs:GetPropertyValue service="WFS" version="2.0.0" count="6" valueReference="cp:nationalCadastralReference" '
        f'xmlns:wfs="{WFS}" {FES_NS}><wfs:Query typeNames="cp:CadastralParcel">{fes(LIKE_1)}</wfs:Query>'
        "</wfs:GetPropertyValue>"
    )
    got = values(post(client, xml))
    assert got == values(gpv(client, "cp:nationalCadastralReference", FILTER=fes(LIKE_1), COUNT="6"))
    assert len(got) == 6 and all(v.split(".")[-1].startswith("1") for v in got)
    bad = xml.replace('valueReference="cp:nationalCadastralReference"', 'valueReference="cp:nothing"')
    assert post(client, bad, status=400)[:2] == ("InvalidParameterValue", "valueReference")


@pytest.mark.parametrize(
    ("xml", "locator"),
    (
        (query("", query_attrs='typeNames="cp:Nothing"'), "typeNames"),
        (query(fes(eq("cp:nothing", "1"))), "FILTER"),
        (query("<wfs:PropertyName>cp:nothing</wfs:PropertyName>"), "propertyName"),
        (
            query(
                "<fes:SortBy><fes:SortProperty><fes:ValueReference>cp:geometry</fes:ValueReference>"
                "</fes:SortProperty></fes:SortBy>"
            ),
            "sortBy",
        ),
        (query("", query_attrs='typeNames="cp:CadastralParcel" srsName="EPSG:9999"'), "srsName"),
        (query("", query_attrs='typeNames="cp:CadastralParcel gisportal:dzialki"'), "typeNames"),
        (query("", 'outputFormat="application/json"'), "outputFormat"),
        (
            f'<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="{WFS}" xmlns:cp="{CP}">'
            '<wfs:Query typeNames="cp:CadastralParcel"/><wfs:Query typeNames="gisportal:dzialki"/></wfs:GetFeature>',
            "typeNames",
        ),
        (
            '<wfs:GetFeature service="WFS" version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" '
            f'xmlns:cp="{CP}"><wfs:Query typeName="cp:CadastralParcel"/></wfs:GetFeature>',
            "typeNames",
        ),
    ),
)
def test_xml_post_refusals(client, demo_data, xml, locator):
    code, got, _message = post(client, xml, status=400)
    assert (code, got) == ("InvalidParameterValue", locator)


def test_owslib_post_getfeature(live_url):
    """OWSLib's WFS 2.0 getfeature(method="Post") (its XML: Query, fes:Filter, an unqualified PropertyName,
    count) against the live server: the answer of the KVP GET."""
    from owslib.wfs import WebFeatureService

    wfs = WebFeatureService(f"{live_url}/ows", version="2.0.0", timeout=60)
    f = fes(LIKE_1)
    posted = etree.fromstring(
        wfs.getfeature(
            typename=["cp:CadastralParcel"], filter=f, propertyname=["cp:label"], maxfeatures=3, method="Post"
        ).read()
    )
    got = etree.fromstring(
        wfs.getfeature(
            typename=["cp:CadastralParcel"], filter=f, propertyname=["cp:label"], maxfeatures=3
        ).read()
    )
    # (OWSLib's GET sends the filter as QUERY)
    assert len(fids(got)) == 3 and members(posted) == members(got)
    assert all(x.find("cp:label", NS).text.startswith("1") for x in features(posted))
    assert all(children(x) == mandatory(CADASTRAL_PARCEL) for x in features(posted))
    by_id = fids(posted)[0]
    one = etree.fromstring(
        wfs.getfeature(storedQueryID=BY_ID, storedQueryParams={"ID": by_id}, method="Post").read()
    )
    assert one.get(f"{{{NS['gml']}}}id") == by_id
