"""The CSW 2.0.2 discovery service at /csw: pycsw (its `Csw` server object) used as a library, with a
configuration built here (never a hand-edited file), the ISO application profile (apiso) with its
INSPIRE discovery-service extended capabilities (languages pol/eng), the service contact of
ogc/common/contact.py, transactions and harvesting off, and our read-only repository (repository.py)
holding the ISO 19139 records of the published data sets."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from django.conf import settings
from lxml import etree

from layers import metadata as edits
from layers.catalogue import layer_names
from layers.selectors import data_version, layer_extents

from .. import metadata
from ..common.contact import SERVICE_CONTACT
from . import repository

MAX_RECORDS = 100
# pycsw logs its configuration at INFO and a client's bad request as a logged exception: what escapes it
# is logged by our view
logging.getLogger("pycsw").setLevel(logging.CRITICAL)
# the INSPIRE themes of what the catalogue describes (the discovery service's GEMET keywords, English names
# as inspire_common:inspireTheme_eng wants them)
SERVICE_THEMES = ("Cadastral parcels", "Buildings", "Addresses", "Administrative units", "Land use")


def url() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/csw"


def pycsw_config() -> dict:
    c = SERVICE_CONTACT
    return {
        "server": {
            "url": url(),
            "mimetype": "application/xml; charset=UTF-8",
            "encoding": "UTF-8",
            "maxrecords": str(MAX_RECORDS),
            "pretty_print": "false",
            "profiles": "apiso",
            "domainquerytype": "list",
            "domaincounts": "false",
            "spatial_ranking": "false",
        },
        "manager": {"transactions": "false", "allowed_ips": ""},
        "metadata:main": {
            "identification_title": "Katalog metadanych gminy Piaseczno (CSW)",
            "identification_abstract": (
                "Usługa wyszukiwania INSPIRE: metadane ISO 19139 zbiorów danych przestrzennych udostępnianych "
                "przez geoportal (ewidencja gruntów i budynków, adresy, plany miejscowe, granice)."
            ),
            "identification_keywords": "metadane,CSW,INSPIRE,EGiB,Piaseczno,infoCatalogueService",
            "identification_keywords_type": "theme",
            "identification_fees": "brak",
            "identification_accessconstraints": "brak",
            "provider_name": c.organisation,
            "provider_url": settings.GISPORTAL_PUBLIC_URL + "/",
            "contact_name": c.person,
            "contact_position": c.position,
            "contact_address": c.address,
            "contact_city": c.city,
            "contact_stateorprovince": c.region,
            "contact_postalcode": c.postcode,
            "contact_country": c.country,
            "contact_phone": c.phone,
            "contact_fax": c.phone,
            "contact_email": c.email,
            "contact_url": settings.GISPORTAL_PUBLIC_URL + "/",
            "contact_hours": "pon.–pt. 8:00–16:00",
            "contact_instructions": "Pytania o dane i metadane: poczta elektroniczna.",
            "contact_role": "pointOfContact",
        },
        "metadata:inspire": {
            "enabled": "true",
            "languages_supported": "pol,eng",
            "default_language": "pol",
            "date": metadata.REVISION,
            "gemet_keywords": ",".join(SERVICE_THEMES),
            "conformity_service": "notEvaluated",
            "contact_name": c.organisation,
            "contact_email": c.email,
            "temp_extent": f"{metadata.REVISION}/{metadata.REVISION}",
        },
        "repository": {"source": "ogc.csw.repository.Repository", "table": repository.TABLE},
    }


def _row(d: metadata.Description, xml: bytes) -> dict:
    from pycsw.core import util

    west, south, east, north = d.bbox
    keywords = [*([d.theme.label_pl] if d.theme else []), *d.keywords]
    base = settings.GISPORTAL_PUBLIC_URL
    links = [
        (d.layer.name, "WFS", "OGC:WFS", f"{base}/ows?SERVICE=WFS&REQUEST=GetCapabilities"),
        (d.layer.name, "WMS", "OGC:WMS", f"{base}/ows?SERVICE=WMS&REQUEST=GetCapabilities"),
        (d.layer.name, "OGC API - Features", "OGC:API-Features", f"{base}/ogcapi/collections/{d.layer.name}"),
        (d.layer.name, "ISO 19139", "WWW:LINK", metadata.record_url(d.layer)),
    ]
    return {
        "identifier": d.identifier,
        "typename": "gmd:MD_Metadata",
        "schema": metadata.GMD,
        "mdsource": "local",
        "insert_date": f"{d.date}T00:00:00Z",
        "xml": etree.tostring(etree.fromstring(xml), encoding="unicode"),  # pycsw parses text: no declaration
        "anytext": util.get_anytext(xml),
        "language": "pol",
        "type": "dataset",
        "title": d.title,
        "abstract": d.abstract,
        "keywords": ",".join(k.replace(",", " ") for k in keywords),
        "keywordstype": "theme",
        "topicategory": "planningCadastre",
        "resourcelanguage": "pol",
        "organization": d.contact_name,
        "accessconstraints": "otherRestrictions",
        "otherconstraints": metadata.ACCESS,
        "conditionapplyingtoaccessanduse": d.licence,
        "date": d.date,
        "date_revision": metadata.REVISION,
        "date_modified": d.date,
        "format": "GML",
        "source": metadata.record_url(d.layer),
        "crs": "urn:ogc:def:crs:EPSG::2180",
        "wkt_geometry": util.bbox2wktpolygon(f"{west},{south},{east},{north}"),
        "lineage": d.lineage,
        "responsiblepartyrole": "pointOfContact",
        "links": "^".join(",".join(part.replace(",", "%2C") for part in link) for link in links),
    }


def _inspire_row(entry, xml: bytes, extents, published) -> dict:
    """The row of an INSPIRE data set's or network service's record (ogc.metadata INSPIRE_*)."""
    from pycsw.core import util

    west, south, east, north = metadata.inspire_bbox(entry, extents)
    base = settings.GISPORTAL_PUBLIC_URL
    url = metadata.inspire_record_url(entry.name)
    row = {
        "identifier": metadata.inspire_file_identifier(entry.name),
        "typename": "gmd:MD_Metadata",
        "schema": metadata.GMD,
        "mdsource": "local",
        "insert_date": f"{metadata.REVISION}T00:00:00Z",
        "xml": etree.tostring(etree.fromstring(xml), encoding="unicode"),
        "anytext": util.get_anytext(xml),
        "language": "pol",
        "organization": SERVICE_CONTACT.organisation,
        "accessconstraints": "otherRestrictions",
        "otherconstraints": metadata.LIMITATIONS["pl"],
        "conditionapplyingtoaccessanduse": metadata.DEFAULT_LICENCE,
        "date": metadata.REVISION,
        "date_revision": metadata.REVISION,
        "date_modified": metadata.REVISION,
        "source": url,
        "crs": "urn:ogc:def:crs:EPSG::2180",
        "wkt_geometry": util.bbox2wktpolygon(f"{west},{south},{east},{north}"),
        "responsiblepartyrole": "pointOfContact",
        "specificationtitle": metadata.REGULATION_1089,
        "specificationdate": metadata.REGULATION_1089_DATE,
        "specificationdatetype": "publication",
    }
    if isinstance(entry, metadata.InspireDataset):
        title, abstract, lineage = entry.text("pl")
        theme = edits.THEMES_BY_CODE[entry.theme]
        links = [
            (entry.code, "WFS", "OGC:WFS", f"{base}/ows?SERVICE=WFS&REQUEST=GetCapabilities"),
            (entry.code, "WMS", "OGC:WMS", f"{base}/ows?SERVICE=WMS&REQUEST=GetCapabilities"),
            (entry.code, "ISO 19139", "WWW:LINK", url),
        ]
        row.update(
            type="dataset",
            title=title,
            abstract=abstract,
            keywords=",".join([theme.label_pl, "INSPIRE", *(t.typename for t in entry.types)]),
            keywordstype="theme",
            topicategory=entry.topic,
            resourcelanguage="pol",
            format="GML",
            lineage=lineage,
            degree="true" if entry.conformant else None,
        )
    else:
        title, abstract = entry.text("pl")
        operates = metadata.published_inspire_datasets(published)
        links = [
            (
                entry.service,
                entry.service,
                f"OGC:{entry.service}",
                f"{base}/ows?SERVICE={entry.service}&REQUEST=GetCapabilities",
            )
        ]
        row.update(
            type="service",
            title=title,
            abstract=abstract,
            keywords=",".join([entry.category, "INSPIRE"]),
            keywordstype="theme",
            servicetype=entry.kind,
            servicetypeversion=",".join(entry.versions),
            operation=",".join(entry.operations),
            couplingtype="tight",
            operateson=",".join(metadata.inspire_file_identifier(d.name) for d in operates),
            operatesonidentifier=",".join(d.code for d in operates),
            operatesoname=",".join(d.text("pl")[0] for d in operates),
        )
    row["links"] = "^".join(",".join(part.replace(",", "%2C") for part in link) for link in links)
    return row


def _rows() -> list[dict]:
    edited = edits.metadata_all()
    extents = layer_extents()
    published = edits.published_layers()
    rows = []
    for layer in published:
        md, extent = edited.get(layer.name), extents.get(layer.name)
        d = metadata.describe(layer, "pl", md, extent)
        rows.append(_row(d, metadata.record(layer, "pl", edited=md, extent=extent)))
    for d in metadata.published_inspire_datasets(published):
        rows.append(_inspire_row(d, metadata.dataset_record(d, "pl", extents), extents, published))
    for s in metadata.INSPIRE_SERVICES:
        xml = metadata.service_record(s, "pl", extents, published)
        rows.append(_inspire_row(s, xml, extents, published))
    return rows


def current_store() -> repository.Store:
    key = (url(), data_version(), layer_names(), edits.metadata_version())
    return repository.store_for(key, _rows)


def dispatch(method: str, query: str, body: bytes) -> tuple[int, str, bytes]:
    """Run one CSW request through pycsw: (HTTP status, content type, body)."""
    from pycsw.server import Csw

    repository.Repository.current.store = current_store()
    environ = {"QUERY_STRING": query, "REQUEST_METHOD": method, "HTTP_ACCEPT": "application/xml"}
    csw = Csw(pycsw_config(), environ, version="2.0.2")
    csw.orm = "sqlalchemy"  # pycsw's filters then bind :pvalueN (our repository's sqlite3 takes those)
    if method == "POST":
        csw.requesttype = "POST"
        csw.request = body
    else:
        csw.requesttype = "GET"
        csw.request = f"{url()}?{query}"
        csw.kvp = dict(parse_qsl(query, keep_blank_values=True))
    status, content = csw.dispatch()
    json = isinstance(csw.kvp, dict) and csw.kvp.get("outputformat") == "application/json"
    ctype = "application/json; charset=UTF-8" if json else "application/xml; charset=UTF-8"
    return int(str(status).split()[0]), ctype, content
