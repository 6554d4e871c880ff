"""Dataset metadata (issue 27): staff edit it at /urzad/metadane/, the ISO 19139 records carry the edits
and validate against gmd.xsd, the CSW 2.0.2 at /csw (pycsw) serves them to OWSLib's CatalogueServiceWeb,
OGC API – Records lists them (collection `metadane`), and hostile CSW requests get exception reports."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from lxml import etree

from layers import metadata as edits
from layers.models import DatasetMetadata

pytestmark = pytest.mark.django_db

GMD = "{http://www.isotc211.org/2005/gmd}"
GCO = "{http://www.isotc211.org/2005/gco}"
OWS = "{http://www.opengis.net/ows}"
CSW = "{http://www.opengis.net/cat/csw/2.0.2}"
EDITED_TITLE = "Działki ewidencyjne gminy Piaseczno (EGiB, edycja 2026)"
EDIT = {
    "title": EDITED_TITLE,
    "abstract": "Granice i numery działek ewidencyjnych, aktualizowane co tydzień.",
    "keywords": "EGiB, działki, Piaseczno, EGiB",
    "lineage": "Operat ewidencyjny starosty piaseczyńskiego; modernizacja 2024.",
    "licence": "CC BY 4.0",
    "contact_name": "Wydział Geodezji",
    "contact_email": "geodezja@piaseczno.eu",
    "update_frequency": "weekly",
    "inspire_theme": "cp",
}


@pytest.fixture(scope="module")
def edited(demo_data, django_db_blocker):
    """The parcels' metadata edited and committed (the live server sees committed data only)."""
    with django_db_blocker.unblock():
        md = edits.metadata_save("dzialki", EDIT)
    yield md
    with django_db_blocker.unblock():
        DatasetMetadata.objects.filter(layer_name="dzialki").delete()


def _xml(response):
    return etree.fromstring(response.content)


def _published_ids() -> dict[str, str]:
    from ogc.metadata import file_identifier

    return {layer.name: file_identifier(layer) for layer in edits.published_layers()}


# ---------------------------------------------------------------- the action
def test_metadata_save_normalises_and_refuses(demo_data, make_user):
    clerk = make_user("urzednik_md", "clerk")
    md = edits.metadata_save("adresy", {**EDIT, "keywords": " a , b,,A, c "}, clerk)
    assert md.keywords == ["a", "b", "c"] and md.updated_by == clerk and md.updated_at
    for bad, field in (
        ({"inspire_theme": "xx"}, "inspire_theme"),
        ({"update_frequency": "hourly"}, "update_frequency"),
        ({"contact_email": "nie-email"}, "contact_email"),
        ({"title": "a\x01b"}, "title"),
        ({"keywords": ",".join(f"k{i}" for i in range(40))}, "keywords"),
        ({"keywords": "x" * 101}, "keywords"),
    ):
        with pytest.raises(edits.InvalidInput) as e:
            edits.metadata_save("adresy", {**EDIT, **bad}, clerk)
        assert e.value.field == field
    assert DatasetMetadata.objects.get(layer_name="adresy").keywords == ["a", "b", "c"]  # unchanged
    with pytest.raises(edits.NotFound):
        edits.metadata_save("numery_dzialek", EDIT)  # label-only layers have no data set
    with pytest.raises(edits.NotFound):
        edits.metadata_save("nie_ma", EDIT)
    assert len(edits.INSPIRE_THEMES) == 34 and len(edits.THEMES_BY_CODE) == 34
    assert edits.THEMES_BY_CODE["cp"].label("pl") == "Działki katastralne"


# ---------------------------------------------------------------- ISO 19139
def test_iso_records_validate_and_carry_the_edits(client, edited, ogc_schemas):
    schema = ogc_schemas("iso/19139/20070417/gmd/gmd.xsd")
    docs = {}
    for name in ("dzialki", "budynki"):
        r = client.get(f"/metadane/{name}.xml")
        assert r.status_code == 200
        docs[name] = _xml(r)
        assert schema.validate(docs[name]), (name, schema.error_log)
    doc = docs["dzialki"]
    ident = doc.find(f"{GMD}identificationInfo/{GMD}MD_DataIdentification")
    assert ident.findtext(f"{GMD}citation/{GMD}CI_Citation/{GMD}title/{GCO}CharacterString") == EDITED_TITLE
    assert ident.findtext(f"{GMD}abstract/{GCO}CharacterString") == EDIT["abstract"]
    freq = ident.find(f".//{GMD}MD_MaintenanceFrequencyCode")
    assert freq.get("codeListValue") == "weekly"
    theme, free = ident.findall(f"{GMD}descriptiveKeywords/{GMD}MD_Keywords")
    assert theme.findtext(f"{GMD}keyword/{GCO}CharacterString") == "Działki katastralne"
    assert (
        theme.findtext(f"{GMD}thesaurusName/{GMD}CI_Citation/{GMD}title/{GCO}CharacterString")
        == "GEMET - INSPIRE themes, version 1.0"
    )
    assert [k.text for k in free.iter(f"{GCO}CharacterString")] == ["EGiB", "działki", "Piaseczno"]
    legal = ident.find(f"{GMD}resourceConstraints/{GMD}MD_LegalConstraints")
    assert legal.findtext(f"{GMD}useLimitation/{GCO}CharacterString") == "CC BY 4.0"
    contact = ident.find(f"{GMD}pointOfContact/{GMD}CI_ResponsibleParty")
    assert contact.findtext(f"{GMD}organisationName/{GCO}CharacterString") == "Wydział Geodezji"
    assert contact.findtext(f".//{GMD}electronicMailAddress/{GCO}CharacterString") == "geodezja@piaseczno.eu"
    assert doc.findtext(f".//{GMD}LI_Lineage/{GMD}statement/{GCO}CharacterString") == EDIT["lineage"]
    # the other layer keeps the catalogue's words
    other = docs["budynki"].find(f".//{GMD}MD_DataIdentification")
    assert other.findtext(f"{GMD}citation/{GMD}CI_Citation/{GMD}title/{GCO}CharacterString") == "Budynki"
    assert len(other.findall(f"{GMD}descriptiveKeywords")) == 1  # no INSPIRE theme chosen


# ---------------------------------------------------------------- CSW with OWSLib against a live server
def test_csw_with_owslib(live_url, edited, ogc_schemas):
    from owslib.csw import CatalogueServiceWeb
    from owslib.fes import PropertyIsLike

    from ogc.metadata import inspire_identifiers

    ids = {
        **_published_ids(),
        **inspire_identifiers(),
    }  # the layers' records and the INSPIRE data sets and services
    csw = CatalogueServiceWeb(f"{live_url}/csw", timeout=60)
    assert csw.identification.type == "CSW" and csw.version == "2.0.2"
    assert csw.provider.name == "Urząd Miasta i Gminy Piaseczno"
    assert {"GetCapabilities", "GetRecords", "GetRecordById", "DescribeRecord"} <= {
        op.name for op in csw.operations
    }
    assert not {"Transaction", "Harvest"} & {op.name for op in csw.operations}  # read-only
    caps = etree.fromstring(csw._exml if isinstance(csw._exml, bytes) else etree.tostring(csw._exml))
    ext = caps.find(".//{http://inspire.ec.europa.eu/schemas/inspire_ds/1.0}ExtendedCapabilities")
    assert ext is not None
    assert "pol" in etree.tostring(ext).decode()

    csw.getrecords2(maxrecords=100, esn="brief")
    assert csw.results["matches"] == len(ids) and set(csw.records) == set(ids.values())

    csw.getrecords2(constraints=[PropertyIsLike("csw:AnyText", "%działki%")], maxrecords=100, esn="full")
    assert ids["dzialki"] in csw.records and 0 < csw.results["matches"] < len(ids)
    assert csw.records[ids["dzialki"]].title == EDITED_TITLE

    csw.getrecordbyid(id=[ids["dzialki"]])
    assert csw.records[ids["dzialki"]].title == EDITED_TITLE
    csw.getrecordbyid(id=[ids["dzialki"]], outputschema="http://www.isotc211.org/2005/gmd")
    iso = csw.records[ids["dzialki"]]
    assert iso.identification[0].title == EDITED_TITLE
    schema = ogc_schemas("iso/19139/20070417/gmd/gmd.xsd")
    assert schema.validate(etree.fromstring(iso.xml)), schema.error_log


def test_csw_kvp_getrecords_constraint(client, edited):
    ids = _published_ids()
    r = client.get(
        "/csw",
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "elementsetname": "summary",
            "resulttype": "results",
            "constraintlanguage": "CQL_TEXT",
            "constraint": "csw:AnyText like '%działki%'",
        },
    )
    assert r.status_code == 200, r.content[:500]
    found = {e.text for e in _xml(r).iter("{http://purl.org/dc/elements/1.1/}identifier")}
    assert ids["dzialki"] in found and ids["budynki"] not in found
    bare = client.get("/csw")  # the bare address: the capabilities
    assert bare.status_code == 200 and _xml(bare).tag == f"{CSW}Capabilities"


# ---------------------------------------------------------------- hostile CSW requests
def _assert_exception(r, *, statuses=(200, 400, 405)):
    assert r.status_code in statuses, (r.status_code, r.content[:300])
    doc = _xml(r)
    assert doc.tag == f"{OWS}ExceptionReport", r.content[:300]
    return doc.find(f"{OWS}Exception").get("exceptionCode")


@pytest.mark.parametrize(
    "params",
    [
        {"service": "CSW", "version": "2.0.2", "request": "Nonsense"},
        {"service": "CSW", "version": "2.0.2", "request": "Transaction"},
        {"service": "CSW", "version": "2.0.2", "request": "Harvest", "source": "http://10.0.0.1/"},
        {"service": "WMS", "request": "GetCapabilities"},
        {"service": "CSW", "version": "9.9", "request": "GetRecords"},
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "maxrecords": "x",
        },
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "startposition": "-5",
        },
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "constraintlanguage": "CQL_TEXT",
            "constraint": "dc:title = 'x'); DROP TABLE records; --",
        },
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "constraintlanguage": "FILTER",
            "constraint": "<ogc:Filter xmlns:ogc='http://www.opengis.net/ogc'><oops/></ogc:Filter>",
        },
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "typenames": "csw:Record",
            "sortby": "1;x:A",
        },
        {"service": "CSW", "version": "2.0.2", "request": "GetRecordById"},
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecords",
            "responsehandler": "mailto:x@example.org",
        },
        {"service": "CSW", "version": "2.0.2", "request": "GetRecords", "mode": "oaipmh"},
    ],
)
def test_hostile_kvp_gets_an_exception_report(client, demo_data, params):
    _assert_exception(client.get("/csw", params))


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2">
<csw:Query typeNames="csw:Record"><csw:ElementSetName>&x;</csw:ElementSetName></csw:Query></csw:GetRecords>"""
BILLION = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<csw:GetCapabilities xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW">&lol2;</csw:GetCapabilities>"""
HANDLER = b"""<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2">
<csw:ResponseHandler>ftp://10.0.0.1/x</csw:ResponseHandler><csw:Query typeNames="csw:Record"/></csw:GetRecords>"""


@pytest.mark.parametrize(
    "body",
    [b"<csw:GetRecords not xml", b"<a>plain</a>", XXE, BILLION, HANDLER, b"", b"\x00\xff" * 10],
)
def test_hostile_post_gets_an_exception_report(client, demo_data, body):
    r = client.post("/csw", body, content_type="application/xml")
    _assert_exception(r)
    assert b"root:" not in r.content


def test_get_domain_of_an_unknown_property(client, demo_data):
    """pycsw passes an unknown property name through as a column: ours answers an empty domain."""
    r = client.get(
        "/csw",
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetDomain",
            "propertyname": "identifier) FROM x; --",
        },
    )
    assert r.status_code == 200 and b"identifier) FROM" in r.content and b"<csw:Value>" not in r.content


def test_other_methods(client, demo_data):
    assert (
        _assert_exception(client.put("/csw", b"<x/>", content_type="application/xml"))
        == "OperationNotSupported"
    )
    assert client.head("/csw?service=CSW&request=GetCapabilities").status_code == 200


# ---------------------------------------------------------------- OGC API – Records
def test_records_items(client, edited):
    ids = _published_ids()
    r = client.get("/ogcapi/collections/metadane/items", {"f": "json", "limit": 100})
    assert r.status_code == 200
    body = r.json()
    assert body["numberMatched"] == len(ids) and {f["id"] for f in body["features"]} == set(ids.values())
    rec = next(f for f in body["features"] if f["id"] == ids["dzialki"])
    assert rec["properties"]["title"] == EDITED_TITLE and "działki" in rec["properties"]["keywords"]
    assert rec["properties"]["themes"][0]["concepts"][0]["id"] == "cp"
    west, south = rec["geometry"]["coordinates"][0][0]
    assert 20 < west < 22 and 51 < south < 53
    links = {(link["rel"], link["type"]): link["href"] for link in rec["links"]}
    assert urlsplit(links[("describedby", "application/xml")]).path == "/metadane/dzialki.xml"
    assert urlsplit(links[("item", "application/json")]).path == "/ogcapi/collections/dzialki"

    found = client.get("/ogcapi/collections/metadane/items", {"f": "json", "q": "działki"}).json()
    assert ids["dzialki"] in {f["id"] for f in found["features"]}
    assert found["numberMatched"] < len(ids)
    one = client.get(f"/ogcapi/collections/metadane/items/{ids['dzialki']}", {"f": "json"})
    assert one.status_code == 200 and one.json()["properties"]["title"] == EDITED_TITLE
    assert client.get("/ogcapi/collections/metadane/items/nie-ma", {"f": "json"}).status_code == 404
    for path in (
        "/ogcapi/collections/metadane/items",
        f"/ogcapi/collections/metadane/items/{ids['dzialki']}",
    ):
        page = client.get(path, {"f": "html"})
        assert page.status_code == 200 and EDITED_TITLE in page.content.decode()
    bad = client.get("/ogcapi/collections/metadane/items", {"f": "json", "filter": "title = 'x'"})
    assert bad.status_code == 400


def test_feature_collections_link_their_iso_record(client, demo_data):
    doc = client.get("/ogcapi/collections/dzialki", {"f": "json"}).json()
    iso = [
        link for link in doc["links"] if link["rel"] == "describedby" and link["type"] == "application/xml"
    ]
    assert len(iso) == 1 and urlsplit(iso[0]["href"]).path == "/metadane/dzialki.xml"


# ---------------------------------------------------------------- the staff pages
def test_staff_edit_page(client, demo_data, make_user):
    assert client.get("/urzad/metadane/").status_code == 302  # to the login page
    client.force_login(make_user("obywatel_md", "citizen"))
    assert client.get("/urzad/metadane/").status_code == 403
    assert client.get("/urzad/metadane/adresy/").status_code == 403
    assert client.post("/urzad/metadane/adresy/", EDIT).status_code == 403
    assert not DatasetMetadata.objects.filter(layer_name="adresy").exists()

    clerk = make_user("urzednik_md2", "clerk")
    client.force_login(clerk)
    page = client.get("/urzad/metadane/").content.decode()
    assert "/urzad/metadane/adresy/" in page and "numery_dzialek" not in page
    form = client.get("/urzad/metadane/adresy/").content.decode()
    assert 'for="id_inspire_theme"' in form and "Działki katastralne / Cadastral parcels" in form
    assert client.get("/urzad/metadane/numery_dzialek/").status_code == 404
    assert client.get("/urzad/metadane/nie_ma/").status_code == 404

    r = client.post("/urzad/metadane/adresy/", {**EDIT, "title": "Adresy", "contact_email": "zly-adres"})
    assert r.status_code == 400
    html = r.content.decode()
    assert 'id="id_contact_email_error"' in html and 'aria-invalid="true"' in html
    assert 'aria-describedby="id_contact_email_error"' in html
    assert not DatasetMetadata.objects.filter(layer_name="adresy").exists()  # nothing changed

    r = client.post(
        "/urzad/metadane/adresy/", {**EDIT, "title": "Punkty adresowe gminy", "inspire_theme": "ad"}
    )
    assert r.status_code == 302 and r["Location"] == "/urzad/metadane/adresy/"
    md = DatasetMetadata.objects.get(layer_name="adresy")
    assert md.title == "Punkty adresowe gminy" and md.inspire_theme == "ad" and md.updated_by == clerk
    assert md.keywords == ["EGiB", "działki", "Piaseczno"]
    assert "Punkty adresowe gminy" in client.get("/urzad/metadane/").content.decode()
    assert "Punkty adresowe gminy" in client.get("/metadane/adresy.xml").content.decode()
