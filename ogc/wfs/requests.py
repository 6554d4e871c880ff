"""WFS requests (KVP GET/POST and XML POST) → typed, checked requests. Nothing is evaluated before
every type name, property name, sort key, CRS and number has been checked here (OGC.md §6)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.gis.geos import Polygon
from django.db.models import Q
from django.utils.translation import gettext as _
from lxml import etree

from gisportal.core import identifiers
from gisportal.core.errors import InvalidInput

from ..common.crs import CrsRef, InvalidCRS, Protocol, parse_crs, to_xy
from ..common.exceptions import OGCException
from ..common.kvp import Params
from ..features.featuretypes import GEOMETRY, PREFIX, FeatureType, feature_types
from ..features.query import Query
from ..filters.compile import to_q
from ..filters.fes_xml import parse_filter
from ..metadata import DATASET_NAMESPACE
from . import featuretypes as fts
from . import inspire

VERSIONS = ("2.0.0", "1.1.0")
ACCEPTED = {"2.0.0": "2.0.0", "2.0.2": "2.0.0", "1.1.0": "1.1.0", "1.1": "1.1.0", "2.0": "2.0.0"}
COUNT_DEFAULT = 1000  # WFS 2.0: a page, with a `next` link (CountDefault in the capabilities)
MAX_COUNT = 100_000  # the server maximum of one response (MaximumCount; WFS 1.1 DefaultMaxFeatures)
MAX_START = 10_000_000
MAX_XML = 5 * 1024 * 1024
DEFAULT_CRS = "urn:ogc:def:crs:EPSG::2180"
OTHER_CRS = (2178, 4326, 4258, 3857, 3035)  # 3035: ETRS89-LAEA, an INSPIRE CRS
WFS20 = "http://www.opengis.net/wfs/2.0"
WFS11 = "http://www.opengis.net/wfs"
FES20 = "http://www.opengis.net/fes/2.0"
OGC = "http://www.opengis.net/ogc"
FORMATS = {
    "2.0.0": {
        "application/gml+xml; version=3.2": "gml",
        "text/xml; subtype=gml/3.2": "gml",
        "gml32": "gml",
        "text/xml; subtype=gml/3.2.1": "gml",
        "application/gml+xml": "gml",
    },
    "1.1.0": {"text/xml; subtype=gml/3.1.1": "gml", "gml3": "gml", "text/xml": "gml"},
}
JSON_FORMATS = {
    "application/json": "geojson",
    "application/geo+json": "geojson",
    "json": "geojson",
    "geojson": "geojson",
}
GET_FEATURE_BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
GET_PARCEL_BY_ID = "urn:gisportal:query:GetParcelById"
INSPIRE_DATASET = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"
LANGUAGES = {"pol": "pl", "eng": "en"}
_SORT = re.compile(r"^\s*(\S+?)(?:\s+(ASC|DESC|A|D))?\s*$", re.I)


def invalid(message: str, locator: str | None = None, code: str = "InvalidParameterValue") -> OGCException:
    return OGCException(code, message, locator)


def normalise_version(value: str | None) -> str | None:
    return ACCEPTED.get((value or "").strip())


def negotiate(params: Params) -> str:
    """GetCapabilities: AcceptVersions in the client's order, else VERSION, else the highest."""
    accept = params.get("ACCEPTVERSIONS")
    if accept:
        for v in accept.split(","):
            if normalise_version(v):
                return normalise_version(v)
        raise invalid(
            _("None of the requested versions is supported (2.0.0, 1.1.0)."),
            "AcceptVersions",
            "VersionNegotiationFailed",
        )
    return normalise_version(params.get("VERSION")) or "2.0.0"


def version_of(params: Params) -> str:
    raw = params.get("VERSION")
    if not raw:
        raise invalid(_("Parameter %(p)s is missing.") % {"p": "VERSION"}, "version", "MissingParameterValue")
    v = normalise_version(raw)
    if v is None:
        raise invalid(_("Version %(v)s is not supported (2.0.0, 1.1.0).") % {"v": raw[:20]}, "version")
    return v


def language(params: Params) -> str:
    return LANGUAGES.get((params.get("LANGUAGE") or "pol").lower(), "pl")


def parse_srs(value: str | None, locator: str = "srsName") -> CrsRef:
    try:
        return parse_crs(value or DEFAULT_CRS, Protocol.WFS, (2180, *OTHER_CRS))
    except InvalidCRS:
        raise invalid(
            _("CRS %(crs)s is not offered by this service.") % {"crs": (value or "")[:60]}, locator
        ) from None


def parse_bbox(value: str) -> Polygon:
    """KVP BBOX `a1,b1,a2,b2[,crs]`: axis order by the CRS suffix's form; no suffix → DefaultCRS (N,E)."""
    parts = [p.strip() for p in value.split(",")]
    crs_text = ",".join(parts[4:]) if len(parts) > 4 else None
    try:
        nums = [float(p) for p in parts[:4]]
    except ValueError:
        raise invalid(_("BBOX needs four numbers and an optional CRS."), "BBOX") from None
    if len(parts) < 4 or any(n != n or n in (float("inf"), float("-inf")) for n in nums):
        raise invalid(_("BBOX needs four numbers and an optional CRS."), "BBOX")
    crs = parse_srs(crs_text, "BBOX")
    x0, y0, x1, y1 = to_xy(tuple(nums), crs, Protocol.WFS)
    if x0 > x1 or y0 > y1:
        raise invalid(_("BBOX minimum is greater than its maximum."), "BBOX")
    box = Polygon.from_bbox((x0, y0, x1, y1))
    box.srid = crs.srid
    if crs.srid != 2180:
        try:
            box.transform(2180)
        except Exception:
            raise invalid(_("BBOX lies outside the CRS's area of use."), "BBOX") from None
    return box


def parse_sort(value: str | None, ft: FeatureType) -> tuple[tuple[str, bool], ...]:
    out = []
    for item in (value or "").split(","):
        if not item.strip():
            continue
        m = _SORT.match(item)
        attr = ft.attribute(m.group(1)) if m else None
        if attr is None:
            raise invalid(
                _("Cannot sort by %(p)s: not a property of %(t)s.")
                % {"p": item.strip()[:40], "t": ft.typename},
                "sortBy",
            )
        out.append((attr.name, (m.group(2) or "ASC").upper() in ("DESC", "D")))
    return tuple(out)


def parse_properties(names: list[str], ft: FeatureType) -> tuple[str, ...] | None:
    if not names or [n.strip() for n in names] == ["*"]:
        return None
    out = []
    for name in names:
        name = name.strip()
        bare = name.split(":", 1)[1] if name.startswith(PREFIX + ":") else name
        if bare == GEOMETRY:
            out.append(GEOMETRY)
            continue
        attr = ft.attribute(name)
        if attr is None:
            raise invalid(
                _("%(p)s is not a property of %(t)s.") % {"p": name[:40], "t": ft.typename}, "propertyName"
            )
        out.append(attr.name)
    return tuple(out)


def _fid_query(values: list[str], user, version: str, locator: str = "RESOURCEID") -> list[Query]:
    """RESOURCEID / FEATUREID: ids of our feature types; ids of another type than the query's → 400."""
    by_type: dict[str, tuple[FeatureType, list[int]]] = {}
    for raw in values:
        parsed = fts.parse_fid(raw, user)
        if parsed is None:
            if raw.strip().split(".", 1)[0] in {ft.name for ft in feature_types(user)}:
                continue  # well-formed type, impossible key: matches nothing
            raise invalid(
                _("%(id)s is not a feature identifier of this service.") % {"id": raw[:60]}, locator
            )
        ft, pk = parsed
        by_type.setdefault(ft.name, (ft, []))[1].append(pk)
    return [Query(ft, Q(pk__in=pks)) for ft, pks in by_type.values()]


@dataclass
class GetFeature:
    version: str
    queries: list[Query]
    srs: CrsRef
    count: int
    start: int = 0
    hits: bool = False
    fmt: str = "gml"
    by_id: bool = False  # GetFeatureById: a bare feature, 404 when missing
    language: str = "pl"
    kvp: dict[str, str] = field(default_factory=dict)  # for next/previous links (GET only)


def output_format(value: str | None, version: str) -> str:
    if not value:
        return "gml"
    key = " ".join(value.strip().split()).lower()
    for table in (FORMATS[version], JSON_FORMATS):
        for name, fmt in table.items():
            if name.lower() == key:
                return fmt
    raise invalid(_("Output format %(f)s is not offered.") % {"f": value[:60]}, "outputFormat")


def _paging(params: Params, version: str) -> tuple[int, int]:
    """COUNT (2.0) or MAXFEATURES, capped at MAX_COUNT. Without one, WFS 2.0 pages by COUNT_DEFAULT
    (and says so with `next`); WFS 1.1 has no paging links, so it returns every match up to the
    advertised DefaultMaxFeatures rather than a silent first page."""
    names = ("COUNT", "MAXFEATURES") if version.startswith("2") else ("MAXFEATURES",)
    count = COUNT_DEFAULT if version.startswith("2") else MAX_COUNT
    for name in names:
        if params.get(name):
            count = params.integer(name, lo=0, hi=10**12)
            break
    start = params.integer("STARTINDEX", required=False, default=0, lo=0, hi=MAX_START)
    return min(count, MAX_COUNT), start


def _namespaces(value: str | None) -> dict[str, str]:
    """2.0 KVP NAMESPACES=xmlns(p,uri),xmlns(q,uri2); 1.1 NAMESPACE the same."""
    return dict(re.findall(r"xmlns\(\s*([\w-]+)\s*[,=]\s*([^)\s]+)\s*\)", value or ""))


def _split_list(value: str | None) -> list[str]:
    """`(a)(b)` → [a, b]; `a,b` → [a, b]."""
    value = (value or "").strip()
    if value.startswith("("):
        return [v for v in re.findall(r"\(([^()]*)\)", value)]
    return [v for v in value.split(",") if v.strip()]


def parse_getfeature_kvp(params: Params, user, *, value_reference: bool = False) -> GetFeature:
    version = version_of(params)
    count, start = _paging(params, version)
    srs = parse_srs(params.get("SRSNAME"))
    hits = (params.get("RESULTTYPE") or "results").lower() == "hits"
    if (params.get("RESULTTYPE") or "results").lower() not in ("results", "hits"):
        raise invalid(_("resultType must be results or hits."), "resultType")
    fmt = output_format(params.get("OUTPUTFORMAT"), version)
    namespaces = _namespaces(params.get("NAMESPACES") or params.get("NAMESPACE"))
    common = dict(
        version=version, srs=srs, count=count, start=start, hits=hits, fmt=fmt, language=language(params)
    )
    stored = params.get("STOREDQUERY_ID")
    if stored:
        return stored_query(stored, params, user, common)
    if inspire.wants(params, namespaces):
        return inspire.parse_kvp(params, user, common, namespaces, projection=not value_reference)
    rid = params.get("RESOURCEID") or params.get("FEATUREID")
    typenames = params.get("TYPENAMES") or params.get("TYPENAME")
    filt = params.get("FILTER") or params.get("QUERY")
    bbox = params.get("BBOX")
    if sum(1 for x in (rid, filt, bbox) if x) > 1:
        raise invalid(_("FILTER, BBOX and RESOURCEID exclude one another."), "FILTER")
    if filt and (params.get("FILTER_LANGUAGE") or "").strip() not in (
        "",
        "urn:ogc:def:queryLanguage:OGC-FES:Filter",
    ):
        raise invalid(_("Only FES filters are supported."), "FILTER_LANGUAGE")
    names = _split_list(typenames)
    types = [fts.resolve(n, user, locator="typeNames", namespaces=namespaces) for n in names]
    if rid:
        queries = _fid_query(rid.split(","), user, version)
        if types:
            allowed = {t.name for t in types}
            if any(q.ftype.name not in allowed for q in queries):
                raise invalid(_("A resource id names a feature of another type."), "RESOURCEID")
    else:
        if not types:
            raise invalid(
                _("Parameter %(p)s is missing.") % {"p": "TYPENAMES"}, "typeNames", "MissingParameterValue"
            )
        filters = _split_list(filt) if filt and filt.strip().startswith("(") else [filt] * len(types)
        if len(filters) != len(types):
            raise invalid(_("Give one filter per feature type."), "FILTER")
        box = parse_bbox(bbox) if bbox else None
        fes = "2.0" if version.startswith("2") else "1.1"
        queries = []
        for ft, f in zip(types, filters, strict=True):
            where = Q()
            if f:
                where &= to_q(parse_filter(f, version=fes), ft.layer)
            if box is not None:
                where &= Q(geom__intersects=box)
            queries.append(Query(ft, where))
    props = _split_list(params.get("PROPERTYNAME"))
    for q in queries:
        if props and not value_reference:
            q.properties = parse_properties(props, q.ftype)
        q.sort = parse_sort(params.get("SORTBY"), q.ftype)
    return GetFeature(queries=queries, kvp=params.as_dict(), **common)


def stored_query(sq_id: str, params: Params, user, common: dict) -> GetFeature:
    sq_id = sq_id.strip()
    if sq_id in (GET_FEATURE_BY_ID, "GetFeatureById"):
        ident = params.require("ID")
        harmonised = inspire.feature_by_id(ident, user, common)
        if harmonised is not None:
            return harmonised
        parsed = fts.parse_fid(ident, user)
        if parsed is None:
            raise OGCException(
                "NotFound", _("Feature %(id)s does not exist.") % {"id": ident[:60]}, "ID", status=404
            )
        ft, pk = parsed
        return GetFeature(queries=[Query(ft, Q(pk=pk))], by_id=True, **{**common, "count": 1, "start": 0})
    if sq_id in (GET_PARCEL_BY_ID, "GetParcelById"):
        ident = params.require("ID").strip()
        try:
            identifiers.parse_parcel_id(ident)
        except InvalidInput as e:
            raise invalid(str(e.message), "ID") from None
        ft = fts.resolve("dzialki", user)
        return GetFeature(
            queries=[Query(ft, Q(**{ft.attribute(ft.layer.id_attribute).source: ident}))],
            kvp=params.as_dict(),
            **common,
        )
    if sq_id == INSPIRE_DATASET:
        values = {
            name: params.require(name) for name in ("CRS", "DataSetIdCode", "DataSetIdNamespace", "Language")
        }
        if values["DataSetIdNamespace"].strip() != DATASET_NAMESPACE:
            raise invalid(
                _("Unknown data set namespace %(ns)s.") % {"ns": values["DataSetIdNamespace"][:60]},
                "DataSetIdNamespace",
            )
        if values["Language"].strip().lower() not in LANGUAGES:
            raise invalid(
                _("Language %(l)s is not offered (pol, eng).") % {"l": values["Language"][:10]}, "Language"
            )
        count = common["count"] if params.get("COUNT") or params.get("MAXFEATURES") else MAX_COUNT
        harmonised = inspire.dataset(
            values["DataSetIdCode"], user, common, parse_srs(values["CRS"], "CRS"), count, params.as_dict()
        )
        if harmonised is not None:
            return harmonised
        try:
            ft = fts.resolve(values["DataSetIdCode"].strip(), user, locator="DataSetIdCode")
        except OGCException:
            raise invalid(
                _("Unknown data set %(c)s.") % {"c": values["DataSetIdCode"][:60]}, "DataSetIdCode"
            ) from None
        if values["Language"].strip().lower() not in LANGUAGES:
            raise invalid(
                _("Language %(l)s is not offered (pol, eng).") % {"l": values["Language"][:10]}, "Language"
            )
        # the pre-defined data set is the whole data set: streamed up to MAX_COUNT unless COUNT asks for a page
        count = common["count"] if params.get("COUNT") or params.get("MAXFEATURES") else MAX_COUNT
        return GetFeature(
            queries=[Query(ft)],
            kvp=params.as_dict(),
            **{
                **common,
                "count": count,
                "srs": parse_srs(values["CRS"], "CRS"),
                "language": LANGUAGES[values["Language"].strip().lower()],
            },
        )
    raise invalid(_("Unknown stored query %(q)s.") % {"q": sq_id[:80]}, "STOREDQUERY_ID")


# ---- XML POST ------------------------------------------------------------------------------------
def parse_xml(body: bytes) -> etree._Element:
    if len(body) > MAX_XML:
        raise invalid(_("The request document is too large."), "request")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise invalid(_("The request is not well-formed XML."), "request") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise invalid(_("XML with a DOCTYPE is refused."), "request")
    if (
        etree.QName(root).namespace == "http://schemas.xmlsoap.org/soap/envelope/"
        or etree.QName(root).namespace == "http://www.w3.org/2003/05/soap-envelope"
    ):
        raise OGCException("OperationNotSupported", _("SOAP is not offered; use KVP or XML POST."), "request")
    return root


def xml_params(root) -> Params:
    """The KVP equivalent of an XML request's root attributes (service, version, request, …)."""
    data = {k.upper(): v for k, v in root.attrib.items() if "}" not in k}
    data["REQUEST"] = etree.QName(root).localname
    return Params(data)


def parse_getfeature_xml(root, user, *, value_reference: bool = False) -> GetFeature:
    params = xml_params(root)
    version = version_of(params)
    v2 = version.startswith("2")
    wfs_ns, fes_ns = (WFS20, FES20) if v2 else (WFS11, OGC)
    count, start = _paging(params, version)
    common = dict(
        version=version,
        count=count,
        start=start,
        hits=(params.get("RESULTTYPE") or "").lower() == "hits",
        fmt=output_format(params.get("OUTPUTFORMAT"), version),
        language="pl",
    )
    stored = root.find(f"{{{wfs_ns}}}StoredQuery")
    if stored is not None:
        args = {
            p.get("name", "").upper(): (p.text or "").strip()
            for p in stored.findall(f"{{{wfs_ns}}}Parameter")
        }
        args["STOREDQUERY_ID"] = stored.get("id", "")
        for name in ("COUNT", "MAXFEATURES"):  # paging is the root's (a stored query's page, as in KVP)
            if params.get(name) and name not in args:
                args[name] = params.get(name)
        return stored_query(stored.get("id", ""), Params(args), user, {**common, "srs": parse_srs(None)})
    if v2 and any(
        inspire.is_inspire_name(name, {k: v for k, v in qel.nsmap.items() if k})
        for qel in root.findall(f"{{{wfs_ns}}}Query")
        for name in (qel.get("typeNames") or qel.get("typeName") or "").split()
    ):
        return inspire.parse_xml(root, user, common, projection=not value_reference)
    queries, srs = [], None
    for qel in root.findall(f"{{{wfs_ns}}}Query"):
        names = (qel.get("typeNames") or qel.get("typeName") or "").split()
        if len(names) != 1:
            raise invalid(
                _("Each query names exactly one feature type (joins are not offered)."), "typeNames"
            )
        if inspire.is_inspire_name(names[0], {k: v for k, v in qel.nsmap.items() if k}):
            raise invalid(
                _("INSPIRE feature types are served by WFS 2.0.0 only (GML 3.2); ask for VERSION=2.0.0."),
                "typeNames",
            )
        ft = fts.resolve(names[0], user, namespaces={k: v for k, v in qel.nsmap.items() if k})
        srs = srs or parse_srs(qel.get("srsName"))
        where = Q()
        filt = qel.find(f"{{{fes_ns}}}Filter")
        if filt is not None:
            where = to_q(parse_filter(etree.tostring(filt), version="2.0" if v2 else "1.1"), ft.layer)
        props = [(p.text or "") for p in qel if etree.QName(p).localname in ("PropertyName",)]
        sort = []
        sort_el = qel.find(f"{{{fes_ns}}}SortBy")
        if sort_el is not None:
            for sp in sort_el:
                ref = sp.find(f"{{{fes_ns}}}ValueReference" if v2 else f"{{{fes_ns}}}PropertyName")
                order = sp.find(f"{{{fes_ns}}}SortOrder")
                sort.append(
                    f"{(ref.text or '') if ref is not None else ''} {(order.text or 'ASC') if order is not None else 'ASC'}"
                )
        queries.append(Query(ft, where, parse_properties(props, ft), parse_sort(",".join(sort), ft)))
    if not queries:
        raise invalid(_("The request holds no query."), "Query", "MissingParameterValue")
    return GetFeature(queries=queries, srs=srs or parse_srs(None), **common)
