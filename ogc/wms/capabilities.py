"""WMS GetCapabilities 1.3.0 and 1.1.1 from the layer catalogue (never a second configuration).

The document depends on the version, the language, the layers the user may read and the data
version (extents); it is cached per that key, so building it is O(layers) once per data change.
"""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from lxml import etree

from gisportal.core.crs import north_first
from layers import catalogue
from layers.selectors import data_version, layer_extents
from layers.sources import cascade

from .. import metadata
from ..common.contact import SERVICE_CONTACT
from ..common.crs import transform_extent
from ..render.legend import legend_size
from ..render.styles import style_for
from .requests import EXCEPTION_FORMATS, INFO_FORMATS, LAYER_LIMIT, MAP_FORMATS, MAX_SIZE, layer_extra_crs

WMS = "http://www.opengis.net/wms"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
INSPIRE_COMMON = "http://inspire.ec.europa.eu/schemas/common/1.0"
INSPIRE_VS = "http://inspire.ec.europa.eu/schemas/inspire_vs/1.0"
CRS_LIST = ("EPSG:2180", "EPSG:2178", "EPSG:4326", "EPSG:4258", "EPSG:3857", "CRS:84")
TEXTS = {
    "pl": {
        "title": "Usługa przeglądania (WMS) – rejestry przestrzenne gminy Piaseczno",
        "abstract": "Ewidencja gruntów i budynków, punkty adresowe, miejscowe plany zagospodarowania przestrzennego i granice "
        "administracyjne gminy Piaseczno, powiat piaseczyński, województwo mazowieckie.",
        "root": "Gmina Piaseczno – rejestry przestrzenne",
        "fees": "bezpłatnie",
        "access": "Brak ograniczeń dla danych publicznych. Dane osobowe (właściciele, numery ksiąg wieczystych) nie są udostępniane.",
    },
    "en": {
        "title": "View service (WMS) – spatial registries of gmina Piaseczno",
        "abstract": "Land and building register, address points, local zoning plans and administrative boundaries of gmina "
        "Piaseczno, Piaseczno county, Mazowieckie voivodeship.",
        "root": "Gmina Piaseczno – spatial registries",
        "fees": "no fees",
        "access": "No restrictions for public data. Personal data (owners, land register numbers) is not published.",
    },
}


# cascaded layers (layers.sources.cascade): their group, and the box used when a remote gave none
REMOTE_GROUP = {"pl": "Źródła zewnętrzne", "en": "External sources"}
REMOTE_ABSTRACT = {
    "pl": "Warstwa „%(layer)s” usługi WMS „%(source)s” (źródło zewnętrzne, udostępniane kaskadowo przez tę usługę).",
    "en": "Layer “%(layer)s” of the WMS “%(source)s” (an external source, cascaded through this service).",
}
POLAND_LONLAT = (14.07, 49.0, 24.15, 54.84)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def endpoint() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ows"


def update_sequence() -> str:
    return str(data_version())


def _el(parent, tag: str, text: str | None = None, ns: str | None = WMS, **attrs):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}" if ns else tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def _online(parent, href: str, ns: str | None = WMS):
    if ns is None:  # 1.1.1: the DTD fixes xmlns:xlink on OnlineResource itself
        el = etree.SubElement(parent, "OnlineResource", nsmap={"xlink": XLINK})
    else:
        el = _el(parent, "OnlineResource", ns=ns)
    el.set(f"{{{XLINK}}}type", "simple")
    el.set(f"{{{XLINK}}}href", href)
    return el


def _bbox_for(extent_2180, crs: str, version: str) -> tuple[float, float, float, float]:
    epsg = 4326 if crs == "CRS:84" else int(crs.split(":")[1])
    minx, miny, maxx, maxy = transform_extent(extent_2180, epsg)
    if version == "1.3.0" and crs != "CRS:84" and north_first(epsg):
        return miny, minx, maxy, maxx
    return minx, miny, maxx, maxy


def _fmt(v: float, crs: str) -> str:
    return f"{v:.6f}" if crs in ("EPSG:4326", "EPSG:4258", "CRS:84") else f"{v:.2f}"


def legend_url(layer: str, style: str, language: str) -> str:
    query = {
        "SERVICE": "WMS",
        "REQUEST": "GetLegendGraphic",
        "VERSION": "1.3.0",
        "FORMAT": "image/png",
        "LAYER": layer,
        "STYLE": style,
        "SLD_VERSION": "1.1.0",
        "LANGUAGE": "eng" if language == "en" else "pol",
    }
    return f"{endpoint()}?{urlencode(query)}"


def capabilities(version: str, language: str, user) -> bytes:
    layers = catalogue.layers_for(user)
    remote = tuple(cascade.cascaded_for(user).values())
    remote_key = hashlib.sha256(repr(remote).encode()).hexdigest()[:16] if remote else "-"
    names_key = hashlib.sha256(",".join(la.name for la in layers).encode()).hexdigest()[:16]
    endpoint_key = hashlib.sha256(endpoint().encode()).hexdigest()[:16]
    # hashed: the names of 15+ layers made the key longer than a memcached key may be (250)
    key = f"gisportal:wms-caps:{version}:{language}:{names_key}:{remote_key}:{data_version()}:{endpoint_key}"
    doc = cache.get(key)
    if doc is None:
        doc = (_caps_130 if version == "1.3.0" else _caps_111)(language, layers, remote)
        cache.set(key, doc, timeout=600)
    return doc


def _service(root, language: str, version: str):
    t = TEXTS[language]
    ns = WMS if version == "1.3.0" else None
    service = _el(root, "Service", ns=ns)
    _el(service, "Name", "WMS" if version == "1.3.0" else "OGC:WMS", ns=ns)
    _el(service, "Title", t["title"], ns=ns)
    _el(service, "Abstract", t["abstract"], ns=ns)
    kw = _el(service, "KeywordList", ns=ns)
    for word in ("EGiB", "KIEG", "MPZP", "PRG", "Piaseczno", "infoMapAccessService"):
        _el(kw, "Keyword", word, ns=ns)
    _online(service, endpoint(), ns=ns)
    c = SERVICE_CONTACT
    contact = _el(service, "ContactInformation", ns=ns)  # children in the schema's (and the DTD's) order
    primary = _el(contact, "ContactPersonPrimary", ns=ns)
    _el(primary, "ContactPerson", c.person, ns=ns)
    _el(primary, "ContactOrganization", c.organisation, ns=ns)
    _el(contact, "ContactPosition", c.position, ns=ns)
    address = _el(contact, "ContactAddress", ns=ns)
    for tag, value in (
        ("AddressType", "postal"),
        ("Address", c.address),
        ("City", c.city),
        ("StateOrProvince", c.region),
        ("PostCode", c.postcode),
        ("Country", c.country),
    ):
        _el(address, tag, value, ns=ns)
    _el(contact, "ContactVoiceTelephone", c.phone, ns=ns)
    _el(contact, "ContactElectronicMailAddress", c.email, ns=ns)
    _el(service, "Fees", t["fees"], ns=ns)
    _el(service, "AccessConstraints", t["access"], ns=ns)
    if version == "1.3.0":
        _el(service, "LayerLimit", LAYER_LIMIT)
        _el(service, "MaxWidth", MAX_SIZE)
        _el(service, "MaxHeight", MAX_SIZE)


def _operation(parent, name: str, formats, ns: str | None, post: bool = True):
    op = _el(parent, name, ns=ns)
    for f in formats:
        _el(op, "Format", f, ns=ns)
    http = _el(_el(op, "DCPType", ns=ns), "HTTP", ns=ns)
    _online(_el(http, "Get", ns=ns), f"{endpoint()}?", ns=ns)
    if post:
        _online(_el(http, "Post", ns=ns), endpoint(), ns=ns)
    return op


def _layer_body(
    el, layer, language: str, version: str, extent, ns: str | None, own_crs=(), inherited_extra=()
):
    """`own_crs`: CRSs the layer adds to those it inherits; `inherited_extra`: the CRSs beyond CRS_LIST it
    inherits from its group (a BoundingBox for each, as for every CRS it offers)."""
    _el(el, "Name", layer.name, ns=ns)
    _el(el, "Title", layer.title(language), ns=ns)
    _el(el, "Abstract", layer.abstract(language), ns=ns)
    kw = _el(el, "KeywordList", ns=ns)
    for word in layer.keywords:
        _el(kw, "Keyword", word, ns=ns)
    for crs in own_crs:
        _el(el, "CRS" if version == "1.3.0" else "SRS", crs, ns=ns)
    _geo_boxes(el, extent, version, ns, (*inherited_extra, *own_crs))
    # the data set's ISO 19139 record (INSPIRE TG: a MetadataURL per layer); a view layer's is the record of
    # the data set it portrays (labels have none); an INSPIRE view layer's is the record of its INSPIRE data
    # set (CP.* → Cadastral Parcels, AD.Address → Addresses, BU.Building → Buildings)
    described = catalogue.get_layer(layer.view_of) if layer.view_of else None if layer.labels_of else layer
    inspire_set = metadata.view_layer_dataset(layer.name) if layer.view_of else None
    if inspire_set is not None:
        record = metadata.dataset_record_url(inspire_set.code)
    else:
        record = metadata.record_url(described) if described is not None else None
    if record is not None:
        md = _el(el, "MetadataURL", ns=ns, type="ISO19115:2003" if version == "1.3.0" else "TC211")
        _el(md, "Format", "text/xml", ns=ns)
        _online(md, record, ns=ns)
    for style_name in layer.styles:
        style = style_for(layer.name, style_name)
        st = _el(el, "Style", ns=ns)
        _el(st, "Name", style_name, ns=ns)
        _el(st, "Title", style.title(language), ns=ns)
        w, h = legend_size(style, language)
        lg = _el(st, "LegendURL", ns=ns, width=w, height=h)
        _el(lg, "Format", "image/png", ns=ns)
        _online(lg, legend_url(layer.name, style_name, language), ns=ns)
    if version == "1.3.0":
        if layer.min_scale:
            _el(el, "MinScaleDenominator", layer.min_scale, ns=ns)
        if layer.max_scale:
            _el(el, "MaxScaleDenominator", layer.max_scale, ns=ns)
    elif layer.min_scale or layer.max_scale:
        # 1.1.1 ScaleHint is the diagonal size of a pixel in metres
        diag = 0.00028 * 2**0.5
        _el(
            el,
            "ScaleHint",
            ns=ns,
            min=f"{(layer.min_scale or 0) * diag:.4f}",
            max=f"{(layer.max_scale or 1e9) * diag:.4f}",
        )


def _geo_boxes(el, extent, version: str, ns: str | None, extra=()):
    """The geographic box and a BoundingBox per CRS of CRS_LIST and `extra` (CRSs only some layers offer)."""
    lon0, lat0, lon1, lat1 = transform_extent(extent, 4326)
    if version == "1.3.0":
        geo = _el(el, "EX_GeographicBoundingBox")
        _el(geo, "westBoundLongitude", f"{lon0:.6f}")
        _el(geo, "eastBoundLongitude", f"{lon1:.6f}")
        _el(geo, "southBoundLatitude", f"{lat0:.6f}")
        _el(geo, "northBoundLatitude", f"{lat1:.6f}")
        for crs in (*CRS_LIST, *extra):
            b = _bbox_for(extent, crs, version)
            _el(
                el,
                "BoundingBox",
                CRS=crs,
                minx=_fmt(b[0], crs),
                miny=_fmt(b[1], crs),
                maxx=_fmt(b[2], crs),
                maxy=_fmt(b[3], crs),
            )
    else:
        _el(
            el,
            "LatLonBoundingBox",
            ns=None,
            minx=f"{lon0:.6f}",
            miny=f"{lat0:.6f}",
            maxx=f"{lon1:.6f}",
            maxy=f"{lat1:.6f}",
        )
        for crs in (*CRS_LIST[:-1], *extra):
            b = _bbox_for(extent, crs, version)
            _el(
                el,
                "BoundingBox",
                ns=None,
                SRS=crs,
                minx=_fmt(b[0], crs),
                miny=_fmt(b[1], crs),
                maxx=_fmt(b[2], crs),
                maxy=_fmt(b[3], crs),
            )


def _union(extents) -> tuple[float, float, float, float]:
    boxes = list(extents)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


# ---------------------------------------------------------------- cascaded layers
@lru_cache(maxsize=16)
def _from_lonlat(epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(4326, epsg, always_xy=True)


def _bbox_from_lonlat(lonlat, crs: str, version: str) -> tuple[float, float, float, float] | None:
    """A WGS 84 lon/lat box in another CRS (written in that CRS's order for the version), or None."""
    lon0, lat0, lon1, lat1 = lonlat
    epsg = 4326 if crs == "CRS:84" else int(crs.split(":")[1])
    if epsg in (4326, 4258):
        box = (lon0, lat0, lon1, lat1)
    else:
        if epsg == 3857:
            lat0, lat1 = max(lat0, -85.0511), min(lat1, 85.0511)
        try:
            box = _from_lonlat(epsg).transform_bounds(lon0, lat0, lon1, lat1, densify_pts=21)
        except Exception:  # pyproj: outside the projection's domain
            return None
    if not all(math.isfinite(v) for v in box) or box[0] >= box[2] or box[1] >= box[3]:
        return None
    if version == "1.3.0" and crs != "CRS:84" and north_first(epsg):
        return box[1], box[0], box[3], box[2]
    return box


def _geo_boxes_lonlat(el, lonlat, version: str, ns: str | None, crs_list) -> None:
    """As _geo_boxes, from a WGS 84 lon/lat box (a remote's), a BoundingBox for each CRS of `crs_list`."""
    lon0, lat0, lon1, lat1 = lonlat
    if version == "1.3.0":
        geo = _el(el, "EX_GeographicBoundingBox")
        _el(geo, "westBoundLongitude", f"{lon0:.6f}")
        _el(geo, "eastBoundLongitude", f"{lon1:.6f}")
        _el(geo, "southBoundLatitude", f"{lat0:.6f}")
        _el(geo, "northBoundLatitude", f"{lat1:.6f}")
    else:
        _el(
            el,
            "LatLonBoundingBox",
            ns=None,
            minx=f"{lon0:.6f}",
            miny=f"{lat0:.6f}",
            maxx=f"{lon1:.6f}",
            maxy=f"{lat1:.6f}",
        )
    key = "CRS" if version == "1.3.0" else "SRS"
    for crs in crs_list:
        b = _bbox_from_lonlat(lonlat, crs, version)
        if b is not None:
            _el(
                el,
                "BoundingBox",
                ns=ns,
                **{key: crs},
                minx=_fmt(b[0], crs),
                miny=_fmt(b[1], crs),
                maxx=_fmt(b[2], crs),
                maxy=_fmt(b[3], crs),
            )


def _text(value: str, limit: int = 300) -> str:
    return _NOT_XML.sub("", str(value))[:limit]


def _remote_layer(g, c, offered, inherited, language: str, version: str, ns: str | None) -> None:
    """One cascaded layer: cascaded="1", the CRSs both sides offer (beyond those inherited), the remote's
    box, the source in Attribution."""
    el = _el(g, "Layer", ns=ns, queryable="1", opaque="0", cascaded="1")
    _el(el, "Name", c.name, ns=ns)
    _el(el, "Title", _text(c.title), ns=ns)
    _el(
        el,
        "Abstract",
        _text(REMOTE_ABSTRACT[language] % {"layer": c.remote_name, "source": c.source_title}, 1000),
        ns=ns,
    )
    for crs in offered:
        if crs not in inherited:
            _el(el, "CRS" if version == "1.3.0" else "SRS", crs, ns=ns)
    _geo_boxes_lonlat(el, c.bbox or POLAND_LONLAT, version, ns, offered)
    attribution = _el(el, "Attribution", ns=ns)
    _el(attribution, "Title", _text(c.source_title), ns=ns)


def _lonlat_union(boxes) -> tuple[float, float, float, float]:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _layer_tree(capability, language: str, version: str, layers, ns: str | None, remote=()):
    """The layer tree. With cascaded layers the root lists only the CRSs every child offers (a child
    inherits its parent's CRSs): our groups add the rest, each cascaded layer those of its own that both
    sides offer."""
    extents = layer_extents()
    readable = {la.name for la in layers}
    crs_all = CRS_LIST if version == "1.3.0" else CRS_LIST[:-1]
    offered = {c.name: [x for x in crs_all if c.offers(x)] for c in remote}
    remote = [c for c in remote if offered[c.name]]  # a remote sharing no CRS with us cannot be offered
    common = [x for x in crs_all if all(x in offered[c.name] for c in remote)]
    key = "CRS" if version == "1.3.0" else "SRS"
    root = _el(capability, "Layer", ns=ns)
    _el(root, "Title", TEXTS[language]["root"], ns=ns)
    for crs in common:
        _el(root, key, crs, ns=ns)
    local_extent = _union(extents[n] for n in readable) if readable else _union(extents.values())
    if remote:
        lonlat = _lonlat_union(
            [transform_extent(local_extent, 4326), *(c.bbox or POLAND_LONLAT for c in remote)]
        )
        _geo_boxes_lonlat(root, lonlat, version, ns, common)
    else:
        _geo_boxes(root, local_extent, version, ns)
    for group in catalogue.GROUPS:
        names = [n for n in group.layers if n in readable]
        if not names:
            continue
        members = [catalogue.get_layer(n) for n in names]
        # CRSs beyond CRS_LIST (EPSG:3035 of the INSPIRE view layers): on the group when all its layers offer
        # them, else on each layer that does
        group_extra = tuple(
            x for x in layer_extra_crs(members[0]) if all(x in layer_extra_crs(m) for m in members)
        )
        g = _el(root, "Layer", ns=ns)
        _el(g, "Title", group.title(language), ns=ns)
        for crs in (*crs_all, *group_extra):
            if crs not in common:
                _el(g, key, crs, ns=ns)
        _geo_boxes(g, _union(extents[n] for n in names), version, ns, group_extra)
        for layer in members:
            el = _el(g, "Layer", ns=ns, queryable="1" if layer.queryable else "0", opaque="0")
            own = tuple(x for x in layer_extra_crs(layer) if x not in group_extra)
            _layer_body(el, layer, language, version, extents[layer.name], ns, own, group_extra)
    if remote:
        g = _el(root, "Layer", ns=ns)
        _el(g, "Title", REMOTE_GROUP[language], ns=ns)
        _geo_boxes_lonlat(g, _lonlat_union(c.bbox or POLAND_LONLAT for c in remote), version, ns, common)
        for c in remote:
            _remote_layer(g, c, offered[c.name], common, language, version, ns)


def _inspire(capability, language: str):
    ext = _el(capability, "ExtendedCapabilities", ns=INSPIRE_VS)
    _el(
        _el(ext, "ResourceLocator", ns=INSPIRE_COMMON),
        "URL",
        f"{endpoint()}?SERVICE=WMS&REQUEST=GetCapabilities",
        ns=INSPIRE_COMMON,
    )
    _el(ext, "ResourceType", "service", ns=INSPIRE_COMMON)
    tr = _el(ext, "TemporalReference", ns=INSPIRE_COMMON)
    _el(tr, "DateOfLastRevision", "2026-11-26", ns=INSPIRE_COMMON)
    conf = _el(ext, "Conformity", ns=INSPIRE_COMMON)
    spec = _el(conf, "Specification", ns=INSPIRE_COMMON)
    _el(
        spec,
        "Title",
        "Rozporządzenie Komisji (UE) nr 1089/2010 w sprawie interoperacyjności zbiorów i usług danych przestrzennych",
        ns=INSPIRE_COMMON,
    )
    _el(spec, "DateOfPublication", "2010-12-08", ns=INSPIRE_COMMON)
    _el(conf, "Degree", "notEvaluated", ns=INSPIRE_COMMON)
    poc = _el(ext, "MetadataPointOfContact", ns=INSPIRE_COMMON)
    _el(poc, "OrganisationName", SERVICE_CONTACT.organisation, ns=INSPIRE_COMMON)
    _el(poc, "EmailAddress", SERVICE_CONTACT.email, ns=INSPIRE_COMMON)
    _el(ext, "MetadataDate", "2026-11-26", ns=INSPIRE_COMMON)
    _el(ext, "SpatialDataServiceType", "view", ns=INSPIRE_COMMON)
    mk = _el(ext, "MandatoryKeyword", ns=INSPIRE_COMMON)
    _el(mk, "KeywordValue", "infoMapAccessService", ns=INSPIRE_COMMON)
    langs = _el(ext, "SupportedLanguages", ns=INSPIRE_COMMON)
    _el(_el(langs, "DefaultLanguage", ns=INSPIRE_COMMON), "Language", "pol", ns=INSPIRE_COMMON)
    _el(_el(langs, "SupportedLanguage", ns=INSPIRE_COMMON), "Language", "eng", ns=INSPIRE_COMMON)
    _el(
        _el(ext, "ResponseLanguage", ns=INSPIRE_COMMON),
        "Language",
        "eng" if language == "en" else "pol",
        ns=INSPIRE_COMMON,
    )
    # scenario 2 (the metadata elements above) with the optional link to the service's own record
    locator = _el(ext, "MetadataUrl", ns=INSPIRE_COMMON)
    _el(locator, "URL", metadata.service_record_url("WMS"), ns=INSPIRE_COMMON)
    _el(locator, "MediaType", "application/xml", ns=INSPIRE_COMMON)


def _caps_130(language: str, layers, remote=()) -> bytes:
    nsmap = {
        None: WMS,
        "xlink": XLINK,
        "xsi": XSI,
        "inspire_common": INSPIRE_COMMON,
        "inspire_vs": INSPIRE_VS,
    }
    root = etree.Element(
        f"{{{WMS}}}WMS_Capabilities", nsmap=nsmap, version="1.3.0", updateSequence=update_sequence()
    )
    root.set(
        f"{{{XSI}}}schemaLocation",
        "http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd "
        "http://inspire.ec.europa.eu/schemas/inspire_vs/1.0 https://inspire.ec.europa.eu/schemas/inspire_vs/1.0/inspire_vs.xsd",
    )
    _service(root, language, "1.3.0")
    cap = _el(root, "Capability")
    req = _el(cap, "Request")
    _operation(req, "GetCapabilities", ["text/xml"], WMS)
    _operation(req, "GetMap", [f for f in MAP_FORMATS if f != "image/png8"], WMS)
    _operation(req, "GetFeatureInfo", INFO_FORMATS, WMS)
    exc = _el(cap, "Exception")
    for f in ("XML", "INIMAGE", "BLANK"):
        _el(exc, "Format", f)
    _inspire(cap, language)
    _layer_tree(cap, language, "1.3.0", layers, WMS, remote)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _caps_111(language: str, layers, remote=()) -> bytes:
    root = etree.Element("WMT_MS_Capabilities", version="1.1.1", updateSequence=update_sequence())
    _service(root, language, "1.1.1")
    cap = _el(root, "Capability", ns=None)
    req = _el(cap, "Request", ns=None)
    _operation(req, "GetCapabilities", ["application/vnd.ogc.wms_xml"], None)
    _operation(req, "GetMap", [f for f in MAP_FORMATS if f != "image/png8"], None)
    _operation(req, "GetFeatureInfo", INFO_FORMATS, None)
    _operation(req, "GetLegendGraphic", ["image/png"], None)
    exc = _el(cap, "Exception", ns=None)
    for f in [k for k in EXCEPTION_FORMATS if k.startswith("application/vnd.ogc.se")]:
        _el(exc, "Format", f, ns=None)
    _layer_tree(cap, language, "1.1.1", layers, None, remote)
    return etree.tostring(
        root,
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
        doctype='<!DOCTYPE WMT_MS_Capabilities SYSTEM "http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd">',
    )
